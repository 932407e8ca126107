# modeswitch: a file written in one commit mode and reopened in the other,
# both ways (the cell picks the first). After one-flush commits the commit
# record names an older copy (one-flush commits leave page 0 alone), so
# the first commits after each switch - a protected commit, an allocation,
# a free - are where a stale record and the newer copy meet; every crash
# point in them must recover the old or the new state.
#! page_size 1024
alloc                 # -> $1
palloc                # -> $2
pwrite $2 0x21
alloc_bulk 2          # -> $3 $4
switch                # the other mode: the record may be stale
pwrite $2 0x22        # first commit after the switch: protected
free $3
palloc                # -> $5
switch                # back
pwrite $5 0x51        # first commit after the second switch
alloc                 # -> $6
pwrite $2 0x23
reopen                # same mode: recovery finds what the switch left
free_bulk $1 $4 $6
pfree $5
