# 1 KiB pages on a 4 KiB power-fail unit that may hold garbage (flags bit
# 7 with the 4096-byte write-back unit, bit 1 garbage): the format cannot
# keep the metadata copies apart, so create must refuse with MP_EDEVICE
# and leave no file (FORMAT.md 2.3).
#! page_size 1024
#! fuzz.header 82 00 00 07
#! fuzz.tail 02 02 02 02
alloc
