# protected: copy-on-write pages. Commits in flight must recover the old
# or the new bytes, never a mix; staged writes that never commit (abort,
# reopen, a crash) leave the committed bytes alone.
#! page_size 1024
palloc                # -> $1
palloc_bulk 2         # -> $2 $3
pwrite $1 0x10
pwrite $2 0x20
pwrite $3 0x30 abort
pbegin $1
pfill $1 0x11 0 100
pfill $1 0x12 900 124
alloc                 # -> $4  another commit while $1 is staged
pcommit $1
pbegin $2
pfill $2 0x21
pabort $2
pcommit $2            # nothing staged: MP_ENOTSTAGED
pbegin $3
pbegin $3             # already staged: MP_ESTAGED
pfill $3 0x31 512 512
reopen                # the staged write is gone
pcommit $3            # MP_ENOTSTAGED
pwrite $3 0x32
pfree $2
pbegin $2             # freed: MP_EDOUBLEFREE
palloc                # -> $5  reuses slot of $2
pwrite $5 0x50
pfree_bulk $1 $1      # duplicate: nothing freed
pfree $4              # a regular page: MP_EWRONGKIND
free $4
pfree_bulk $1 $3 $5
