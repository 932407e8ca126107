# The third allocation of the pager fails while open recovers a grown
# file: open returns MP_ENOMEM, nothing leaks.
#! page_size 1024
#! fuzz.ctl 0
#! fuzz.alloc_fail 2
alloc_bulk 12
palloc_bulk 3
pwrite $13 0x13
