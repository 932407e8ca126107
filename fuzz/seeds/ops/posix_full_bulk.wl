# The POSIX backend (flags bit 1): full_bulk.wl on a real file.
# Bulk calls that fill the file exactly, then one more page (growth),
# the largest bulk counts, and bulk frees of everything.
#! page_size 1024
#! fuzz.header 02
alloc_bulk 3          # -> $1..$3  the three free pages of a new file
alloc                 # -> $4  grows 8 -> 16
alloc_bulk 24         # -> $5..$28  grows again
write $28 0x28
sync
free_bulk $1 $2 $3 $4 $5 $6 $7 $8 $9 $10 $11 $12 $13 $14 $15 $16 $17 $18 $19 $20 $21 $22 $23 $24
alloc_bulk 24         # -> $29..$52  fills the holes, lowest first
palloc_bulk 12        # -> $53..$64
pwrite $53 0x53
pwrite $64 0x64
free_bulk $29 $30 $31 $32 $33 $34 $35 $36 $37 $38 $39 $40 $41 $42 $43 $44 $45 $46 $47 $48 $49 $50 $51 $52
pfree_bulk $53 $54 $55 $56 $57 $58 $59 $60 $61 $62 $63 $64
reopen
free_bulk $25 $26 $27 $28
