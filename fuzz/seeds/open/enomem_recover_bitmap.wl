# Allocation 2 fails while recovery sizes the free-space bitmap of a
# grown file (shared wrapper): open returns MP_ENOMEM, nothing leaks.
#! page_size 1024
#! fuzz.ctl 0x60
#! fuzz.alloc_fail 0x1
alloc_bulk 6
palloc_bulk 3
pwrite $7 0x77
grow 48
