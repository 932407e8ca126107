# sub-page: slots of 16, 64 and 256 bytes carved from regular pages.
# Taking and returning a parent page is a pager commit; slot state is in
# memory and rebuilt after reopen from the ids the executor remembers.
#! page_size 1024
salloc 64             # -> $1  takes a parent
salloc 64             # -> $2  same parent
salloc_bulk 64 20     # -> $3..$22  fills it and takes another
salloc 16             # -> $23  another allocator, another parent
salloc 256            # -> $24
salloc_bulk 256 5     # -> $25..$29
sfree $1
sfree_bulk $2 $3 $4
reopen
sfree $1              # already free: MP_EDOUBLEFREE
salloc 100            # not a power of two: MP_EPAGESIZE
sfree_bulk $24 $25 $26 $27 $28 $29   # returns both 256-byte parents
sfree $23             # returns the 16-byte parent
sfree_bulk $5 $6 $7 $8 $9 $10 $11 $12 $13 $14 $15 $16 $17 $18 $19 $20 $21 $22
alloc                 # -> $30
free $30
