# regular: single-page alloc and free, the caller's bytes made durable by
# sync, reopen, iteration, and the calls that must fail without changing
# anything (reserved ids, double frees, wrong kinds, out of range).
#! page_size 1024
alloc                 # -> $1
alloc                 # -> $2
alloc                 # -> $3
write $1 0x01
write $2 0x02
sync
write $1 0x03         # not synced: after a crash old, new or torn
iterate
free $2
free $2               # double free: MP_EDOUBLEFREE, nothing changes
free 0                # reserved: MP_ERESERVED
free 2
free 1099511627776    # out of range
free P0               # a protected id: MP_EWRONGKIND
write $2 0x09         # freed page: refused
alloc                 # -> $4  takes the freed page again
write $4 0x04
sync
reopen
iterate
free $1
free $3
alloc                 # -> $5
alloc                 # -> $6
free $5
free $4
free $6
