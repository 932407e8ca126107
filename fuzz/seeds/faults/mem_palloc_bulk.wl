# allocation 11 fails: inside palloc_bulk (op 2), in its commit; the pager refuses writes after
#! page_size 1024
#! fuzz.header 40 00 0a 00 00 00 00 05
palloc
pwrite $1 0x11
palloc_bulk 3
pbegin $2
pfill $2 0x22
pcommit $2
pwrite $3 0x33
pfree $4
pwrite $1 0x12
