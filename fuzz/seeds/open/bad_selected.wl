# The record is intact but the copy it names is damaged (a byte of its
# root references): recovery takes the other copy (BAD_SELECTED).
#! page_size 1024
#! fuzz.ctl 0
#! fuzz.poke 1160 ff
alloc_bulk 4
palloc
pwrite $5 0x55
free $1
