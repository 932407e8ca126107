# A grown file with protected pages, the short workload run through the
# thread-safe wrapper (control bit 5).
#! page_size 1024
#! fuzz.ctl 0x20
alloc_bulk 20
palloc_bulk 2
pwrite $21 0x21
free_bulk $1 $3 $5
