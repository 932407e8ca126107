# allocation 7 fails: the directory growing inside palloc, after a growth 8 -> 16; the pager stays usable (grown), palloc is retried
#! page_size 1024
#! fuzz.header 40 00 06 00 00 00 00 05
palloc
pwrite $1 0x11
palloc_bulk 3
pbegin $2
pfill $2 0x22
pcommit $2
pwrite $3 0x33
pfree $4
pwrite $1 0x12
