# create: the directory sync fails, then a crash
#! page_size 1024
#! fuzz.header 02 08 00 00 00 00 00 0e
#! fuzz.tail 02 01 00 02 01 02 00 01
alloc_bulk 3          # -> $1..$3
palloc                # -> $4  grows 8 -> 16
pwrite $4 0x44
alloc_bulk 12         # -> $5..$16  grows again
write $5 0x55
sync
reopen
free_bulk $1 $2 $3
pwrite $4 0x45
