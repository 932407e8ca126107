# Format major 1 (header CRC recomputed): format 1 files are refused with
# MP_EVERSION, not upgraded (FORMAT.md 2.1).
#! page_size 1024
#! fuzz.ctl 0x01
#! fuzz.poke 8 01 00
