# Allocation 10 fails while alloc marks its map leaf dirty (shared
# wrapper): MP_ENOMEM, pager unavailable, the file reopens sound.
#! page_size 1024
#! fuzz.ctl 0x60
#! fuzz.alloc_fail 0x9
alloc_bulk 6
palloc_bulk 3
pwrite $7 0x77
grow 48
