# A crash in barrier 1 of a large bulk free, map leaf and metadata torn.
#! page_size 1024
#! fuzz.header 06 02 01 11
#! fuzz.tail 02 01 02 00 02 01 02 02 01 01 00 02 01 00
alloc_bulk 24         # -> $1..$24
palloc_bulk 3         # -> $25..$27
free_bulk $1 $3 $5 $7 $9 $11 $13 $15 $17 $19 $21 $23 $2 $4 $6
pwrite $26 0x26
