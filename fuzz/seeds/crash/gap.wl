# A crash between two operations (after op 5), 64-byte sectors with
# garbage, 1024-byte write-back unit: the state must be exactly S_5.
#! page_size 1024
#! fuzz.header 1e 05 00 09
#! fuzz.tail 02 00 01 02 01 00 02 02 01 00 01 02
alloc_bulk 4          # -> $1..$4
write $1 0x01
write $2 0x02
sync
palloc                # -> $5
write $1 0x0f         # not synced
free $3
