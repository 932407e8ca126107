# Torn commit record, allocation 9 fails while a bulk alloc marks a map
# leaf dirty: MP_ENOMEM, pager unavailable, the file reopens sound.
#! page_size 1024
#! fuzz.ctl 0x40
#! fuzz.alloc_fail 0x8
#! fuzz.poke 532 ff
alloc_bulk 3
palloc_bulk 2
pwrite $5 0x55
