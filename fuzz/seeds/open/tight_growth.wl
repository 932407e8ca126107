# No address space beyond the file (control bit 7): the workload's growth
# fails with MP_ELIMIT and the pager stays usable.
#! page_size 1024
#! fuzz.ctl 0x80
alloc_bulk 3
palloc
pwrite $4 0x44
