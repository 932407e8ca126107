# growth: allocations that cross growth after growth (8 -> 16 -> 32 ->
# 64 pages), an explicit grow, a bulk call that grows in the same commit,
# then everything freed again. Every growth is a sync_file (FORMAT.md
# section 8, step 1) whose crash points matter.
#! page_size 1024
alloc                 # -> $1
alloc                 # -> $2
alloc                 # -> $3
alloc                 # -> $4   crosses 8 pages
write $4 0x44
alloc_bulk 6          # -> $5..$10
sync
alloc_bulk 12         # -> $11..$22  crosses 16 and 32
grow 60
palloc                # -> $23
pwrite $23 0x77
alloc_bulk 8          # -> $24..$31  crosses 64
free_bulk $1 $2 $3 $4 $5 $6 $7 $8 $9 $10
reopen
free_bulk $11 $12 $13 $14 $15 $16 $17 $18 $19 $20 $21 $22
alloc                 # -> $32  reuses a low page
free_bulk $24 $25 $26 $27 $28 $29 $30 $31 $32
pfree $23
