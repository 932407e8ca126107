# Page 0's header damaged (magic, CRC not recomputed): open takes the
# static header from a metadata copy (FORMAT.md 9.1) and the workload's
# first commit rewrites page 0.
#! page_size 1024
#! fuzz.ctl 0
#! fuzz.poke 0 00 00 00 00
alloc
