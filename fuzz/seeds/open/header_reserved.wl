# Reserved header bytes 20-59 not zero under a recomputed header CRC:
# MP_ECORRUPT_SUPER for open and the checker alike (issue 12 item 7a).
#! page_size 1024
#! fuzz.ctl 0x01
#! fuzz.poke 30 be ef
