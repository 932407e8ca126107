# One-flush (flag bit 7): EIO on the one barrier of the first protected
# commit, all of its range persisted; close and reopen must show the state
# before the call (the core invalidates the new copy after the failed
# barrier; without that, mutant 14, the reopen shows the commit).
#! page_size 1024
#! fuzz.header 80 00 03 02 00 00 00 00
#! fuzz.tail 01 01 01 01 01 01
alloc                 # -> $1
palloc                # -> $2
pwrite $2 0x11
alloc                 # -> $3
free $1
