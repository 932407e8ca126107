# Tight reservation, the wrapper workload, allocations failing from the
# 7th on.
#! page_size 1024
#! fuzz.ctl 0xa0
#! fuzz.alloc_fail 0x86
alloc_bulk 5
palloc_bulk 2
pwrite $6 0x66
