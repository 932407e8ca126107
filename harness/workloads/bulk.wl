# bulk: alloc_bulk and free_bulk commit once however many pages they
# touch; invalid lists (duplicates, reserved, out of range, empty) fail
# as a whole with nothing freed.
#! page_size 1024
alloc_bulk 4          # -> $1..$4
alloc_bulk 0          # MP_ECOUNT
free_bulk             # MP_ECOUNT
free_bulk $1 $2 $1    # duplicate: MP_EDUPLICATE, nothing freed
free_bulk $3 0        # reserved after a valid id: nothing freed
free_bulk $4 4398046511104
free_bulk $1 $3
alloc_bulk 9          # -> $5..$13  grows in the same commit
free_bulk $1          # already freed: nothing freed
free_bulk $2 $5 $7 $9 $11 $13
alloc_bulk 3          # -> $14..$16  reuses the holes, lowest first
sync
reopen
free_bulk $4 $6 $8 $10 $12 $14 $15 $16
alloc_bulk 20         # -> $17..$36
free_bulk $17 $18 $19 $20 $21 $22 $23 $24 $25 $26 $27 $28 $29 $30 $31 $32 $33 $34 $35 $36
