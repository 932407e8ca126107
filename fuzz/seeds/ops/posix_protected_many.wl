# The POSIX backend (flags bit 1): protected_many.wl on a real file.
# Enough protected pages for a second directory block (42 entries per
# 1024-byte block), commits interleaved with growth and frees.
#! page_size 1024
#! fuzz.header 02
palloc_bulk 24        # -> $1..$24
palloc_bulk 24        # -> $25..$48
pwrite $1 0x01
pwrite $48 0x48
pbegin $47
pfill $47 0x47 0 512
alloc_bulk 10         # -> $49..$58  a commit while $47 is staged
pcommit $47
pfree_bulk $2 $3 $4 $5 $6 $7 $8 $9 $10 $11 $12 $13 $14 $15 $16 $17 $18 $19 $20 $21 $22 $23 $24 $25
palloc                # -> $59  reuses the lowest slot
pwrite $59 0x59
reopen
pfree_bulk $26 $27 $28 $29 $30 $31 $32 $33 $34 $35 $36 $37 $38 $39 $40 $41 $42 $43 $44 $45 $46 $47 $48 $59
pfree $1
free_bulk $49 $50 $51 $52 $53 $54 $55 $56 $57 $58
