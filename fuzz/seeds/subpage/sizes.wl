# One allocator per valid slot size (16 .. 512 bytes on 1024-byte pages),
# and the sizes that are refused.
#! page_size 1024
#! fuzz.header 00
salloc 16             # -> $1
salloc 32             # -> $2
salloc 64             # -> $3
salloc 128            # -> $4
salloc 256            # -> $5
salloc 512            # -> $6
salloc 1024           # the page size: refused
salloc 100            # not a power of two
salloc 8              # 128 slots per page: refused
salloc 0
sfree $3
sfree $3              # double free
