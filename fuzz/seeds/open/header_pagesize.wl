# log2(page size) 9, header CRC recomputed: MP_EPAGESIZE.
#! page_size 1024
#! fuzz.ctl 0x01
#! fuzz.poke 12 09
