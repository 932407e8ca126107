# A crash while a sub-page allocator returns its last parent.
#! page_size 1024
#! fuzz.header 01 03 01 05
#! fuzz.tail 02 01 02 01 02 01
salloc 256            # -> $1
salloc_bulk 256 4     # -> $2..$5  a second parent
sfree_bulk $2 $3 $4 $5
sfree $1              # op 3: the last slot, its parent goes back
