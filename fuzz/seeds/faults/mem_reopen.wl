# allocation 14 fails: inside reopen's recovery (no pager left); the open is retried
#! page_size 1024
#! fuzz.header 40 00 0d 00 00 00 00 05
alloc_bulk 12
palloc_bulk 3
pwrite $13 0x13
alloc_bulk 24
free_bulk $1 $2
reopen
alloc
