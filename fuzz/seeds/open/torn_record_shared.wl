# A torn record (CRC byte flipped) and the wrapper workload: after the
# fallback, a commit makes the record whole again.
#! page_size 1024
#! fuzz.ctl 0x30
#! fuzz.poke 532 ff
alloc
palloc
pwrite $2 0x22
