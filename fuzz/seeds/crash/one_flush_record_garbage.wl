# One-flush, torn sectors may hold garbage: a crash DURING the barrier of
# an allocation's commit (its metadata copy and map leaf torn), then rule
# 6's one-flush commits on the recovered file.
#! page_size 1024
#! fuzz.header 42 03 01 07
#! fuzz.tail 02 02 02 02 02 02 02 02 02 02 02 02
alloc                 # -> $1
palloc                # -> $2
pwrite $2 0x11
alloc_bulk 3          # -> $3..$5  op 3: the crash
free $1
