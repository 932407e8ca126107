# A crash inside the file sync of a growth (alloc_bulk past the end):
# the size may be the old or the new one.
#! page_size 1024
#! fuzz.header 00 01 05 03
#! fuzz.tail 01 00 01 02 01 00
alloc_bulk 3          # -> $1..$3
alloc_bulk 20         # -> $4..$23  grows 8 -> 32: op 1, point 5
write $4 0x44
sync
