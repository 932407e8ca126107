# Torn commit record, allocation 14 fails in the sub-page part of the
# workload (parent table): the call fails cleanly, the file reopens sound.
#! page_size 1024
#! fuzz.ctl 0x40
#! fuzz.alloc_fail 0xd
#! fuzz.poke 532 ff
alloc_bulk 3
palloc_bulk 2
pwrite $5 0x55
