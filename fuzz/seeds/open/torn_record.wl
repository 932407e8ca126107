# The commit record's magic broken: recovery takes the newest valid copy
# (reason TORN_RECORD).
#! page_size 1024
#! fuzz.ctl 0
#! fuzz.poke 512 00 00 00 00
alloc_bulk 4
palloc
pwrite $5 0x55
