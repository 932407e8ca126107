# Reserved bytes 88-127 of copy A not zero under recomputed metadata and
# record checksums: the copy fails, recovery takes the other one (issue 12
# item 7b).
#! page_size 1024
#! fuzz.ctl 0x06
#! fuzz.poke 1124 5a
alloc
