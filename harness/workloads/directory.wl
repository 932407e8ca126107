# directory: the protected-page directory outgrows the metadata's root
# references (19 blocks of 42 entries with 1 KiB pages) and gains an index
# level in one commit; then shrinks in use (slots are never given back).
# 1 KiB only (page_sizes): the root holds more references and a block
# more entries at larger pages, so the index level comes much later.
#! page_size 1024
#! page_sizes 1024
palloc_bulk 797       # -> $1..$797
palloc                # -> $798  the last slot at depth 0
palloc                # -> $799  depth 1
pwrite $799 0x99
pwrite $1 0x01
pfree $798
palloc                # -> $800  reuses slot 797
reopen
pwrite $800 0x80
pfree_bulk $1 $799 $800
