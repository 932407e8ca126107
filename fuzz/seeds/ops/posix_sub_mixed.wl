# The POSIX backend (flags bit 1): sub_mixed.wl on a real file.
# Sub-page slots among regular and protected pages.
#! page_size 1024
#! fuzz.header 03
alloc                 # -> $1
salloc 16             # -> $2
salloc_bulk 512 5     # -> $3..$7  three parents of two slots
palloc                # -> $8
pwrite $8 0x08
sfree $2              # returns the 16-byte parent
sfree_bulk $3 $4 $5 $6 $7
salloc 1024           # too big: MP_EPAGESIZE
salloc 8              # 128 slots: MP_EPAGESIZE
reopen
salloc_bulk 32 24     # -> $9..$32
free $1
sfree_bulk $9 $10 $11
iterate
