# Fill parents exactly (64 slots of 16 bytes), spill into new ones, free
# whole parents and reopen with the ids rebuilt.
#! page_size 1024
#! fuzz.header 00
salloc_bulk 16 24     # -> $1..$24
salloc_bulk 16 24     # -> $25..$48
salloc_bulk 16 24     # -> $49..$72  a second parent
salloc_bulk 512 3     # -> $73..$75
sfree_bulk $1 $2 $3 $4 $5 $6 $7 $8 $9 $10 $11 $12 $13 $14 $15 $16 $17 $18 $19 $20 $21 $22 $23 $24
reopen
sfree_bulk $25 $26 $27 $28 $29 $30 $31 $32 $33 $34 $35 $36 $37 $38 $39 $40 $41 $42 $43 $44 $45 $46 $47 $48
sfree_bulk $73 $74
salloc_bulk 16 2      # -> $76 $77  reuses free slots first
alloc                 # -> $78
write $78 0x78
sync
sfree $75
