# two faults: allocation 7 (palloc, usable, retried) and the 5th sync with EIO; the first to fire is judged, then both are gone
#! page_size 1024
#! fuzz.header 44 00 06 00 01 04 08 05
palloc
pwrite $1 0x11
palloc_bulk 3
pbegin $2
pfill $2 0x22
pcommit $2
pwrite $3 0x33
pfree $4
pwrite $1 0x12
