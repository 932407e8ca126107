# Header says 2048-byte pages (CRC recomputed), the caller expects 1024:
# MP_EPAGESIZE from the comparison with the expected size.
#! page_size 1024
#! fuzz.ctl 0x11
#! fuzz.poke 12 0b
