# A grown file with regular, protected and sub-page pages opened
# read-only: reads work, every change is refused with MP_EREADONLY.
#! page_size 1024
#! fuzz.ctl 0x08
alloc_bulk 10
palloc_bulk 2
pwrite $11 0x11
salloc 128
