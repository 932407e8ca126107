# The 9th allocation fails during the wrapper workload on a torn-record
# file.
#! page_size 1024
#! fuzz.ctl 0x20
#! fuzz.alloc_fail 8
#! fuzz.poke 532 ff
alloc_bulk 3
palloc
