# Sub-page calls that must fail: empty lists, duplicates, other kinds,
# another allocator's tag, a slot past the parent.
#! page_size 1024
#! fuzz.header 00
salloc_bulk 64 0      # MP_ECOUNT
sfree_bulk
salloc 64             # -> $1
salloc 256            # -> $2
sfree_bulk $1 $1      # duplicate
sfree 0x8000000000000000
sfree 0x81ffc000000000c0   # a tag no allocator has
sfree 0x80c00000000000c0   # 64-byte tag, parent 3
alloc                 # -> $3
sfree $3              # a regular id: wrong kind
free $2               # a sub-page id to the pager: wrong kind
sfree_bulk $2 $1
iterate
