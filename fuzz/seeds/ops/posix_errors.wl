# The POSIX backend (flags bit 1): errors.wl on a real file.
# Calls that must fail, one of each kind, between calls that work.
#! page_size 1024
#! fuzz.header 02
alloc_bulk 0          # MP_ECOUNT
free_bulk             # MP_ECOUNT
palloc_bulk 0
pfree_bulk
alloc                 # -> $1
palloc                # -> $2
free 0                # reserved
free 1
free 2
free 3                # a map-leaf copy: internal
free 4
free 0x10000000000    # MP_MAX_PAGES: out of range
free 549755813888     # 2^39
free 0xffffffffffffffff
free P0               # a protected id: wrong kind
write 3 0x33          # internal page
write 7 0x77          # free page
pfree $1              # a regular id: wrong kind
pbegin P7             # no such slot
pcommit $2            # nothing staged
pabort $2
pbegin $2
pbegin $2             # already staged
pfill $2 0x22 1020 8
pcommit $2
free $1
free $1               # double free
pfree $2
pfree $2
grow 4                # already bigger: nothing to do
grow 100
iterate
reopen
free_bulk $1 3 5
