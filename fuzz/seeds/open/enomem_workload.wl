# Every allocation from the 12th on fails: open succeeds, the workload's
# calls fail with MP_ENOMEM, and the file still reopens sound.
#! page_size 1024
#! fuzz.ctl 0
#! fuzz.alloc_fail 0x8b
alloc_bulk 6
palloc
pwrite $7 0x77
