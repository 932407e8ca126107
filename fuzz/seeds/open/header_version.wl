# Format major 2 (header CRC recomputed): MP_EVERSION.
#! page_size 1024
#! fuzz.ctl 0x01
#! fuzz.poke 8 02 00
