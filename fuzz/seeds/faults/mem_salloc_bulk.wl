# allocation 13 fails: inside salloc_bulk of a new 16-byte allocator; retried
#! page_size 1024
#! fuzz.header 41 00 0c 00 00 00 00 05
salloc 64
salloc_bulk 64 20
salloc 128
salloc_bulk 16 24
sfree $2
salloc 256
salloc_bulk 512 3
sfree_bulk $3 $4
