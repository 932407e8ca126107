# Allocation 13 fails while a protected alloc makes room in the
# directory, before it grows the file (shared wrapper): the pager stays
# usable with the state before the call.
#! page_size 1024
#! fuzz.ctl 0x60
#! fuzz.alloc_fail 0xc
alloc_bulk 6
palloc_bulk 3
pwrite $7 0x77
grow 48
