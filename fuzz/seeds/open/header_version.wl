# Format major 3 (header CRC recomputed): MP_EVERSION.
#! page_size 1024
#! fuzz.ctl 0x01
#! fuzz.poke 8 03 00
