# allocation 13 and every later one fail: reopen's recovery; then a crash
#! page_size 1024
#! fuzz.header 42 00 0c 04 00 00 00 05
#! fuzz.tail 02 01 00 02 01 02 00 01
alloc_bulk 12
palloc_bulk 3
pwrite $13 0x13
alloc_bulk 24
free_bulk $1 $2
reopen
alloc
