# groups: growth across a free-space-map group boundary. With 1 KiB pages
# a map leaf covers 8192 pages; growing past it brings leaf 1 (two pages
# at 8192 and 8193) into the tree, in one commit with the growth.
# 1 KiB only (page_sizes): a leaf covers 8 x P pages, so the boundary
# lies at 128 MiB of file for 4 KiB pages, far past a quick sweep.
#! page_size 1024
#! page_sizes 1024
alloc                 # -> $1
grow 8190
alloc_bulk 4          # -> $2..$5
grow 8200             # crosses the group boundary: a second map leaf
write $1 0x61
sync
alloc                 # -> $6
free_bulk $2 $3 $4 $5
reopen
free $6
free $1
