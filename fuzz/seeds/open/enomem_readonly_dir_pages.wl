# Read-only open; allocation 6 fails while recovery records the pages
# of a directory entry: open returns MP_ENOMEM.
#! page_size 1024
#! fuzz.ctl 0x48
#! fuzz.alloc_fail 0x5
alloc_bulk 6
palloc_bulk 3
pwrite $7 0x77
grow 48
