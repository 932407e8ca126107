# The power-fail unit is the whole 1 KiB write-back unit (flags bit 7) and
# torn units may be garbage: a crash while the record of a protected
# commit is written (op 3, point 4: barrier 2, DURING) leaves page 0 all
# garbage, header included. Open takes the header from a metadata copy
# and the newest valid copy (FORMAT.md 9.1, 9.4); the next commit rewrites
# page 0 (I4), so the checker finds the file clean after life goes on.
#! page_size 1024
#! fuzz.header 8a 03 04 07
#! fuzz.tail 02 02 02 02 02 02 02 02 02 02 02 02 02 02 02 02
alloc                 # -> $1
palloc                # -> $2
pwrite $2 0x11
pwrite $2 0x22        # op 3: the crash
free $1
