# A crash while the commit record of a protected commit is being written
# (point 4 of the op: barrier 2, DURING), torn sectors may be garbage:
# recovery falls back to the newer copy or keeps the old one.
#! page_size 1024
#! fuzz.header 02 03 04 07
#! fuzz.tail 02 02 02 02 02 02 02 02 02 02 02 02 02 02 02 02
alloc                 # -> $1
palloc                # -> $2
pwrite $2 0x11
pwrite $2 0x22        # op 3: the crash
free $1
