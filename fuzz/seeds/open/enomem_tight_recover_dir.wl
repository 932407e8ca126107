# No spare reservation; allocation 4 fails while recovery sizes the
# protected-page directory: open returns MP_ENOMEM.
#! page_size 1024
#! fuzz.ctl 0xc0
#! fuzz.alloc_fail 0x3
alloc_bulk 6
palloc_bulk 3
pwrite $7 0x77
grow 48
