# small: the shortest tour of every kind of commit on an 8-page file.
# Standard suite (harness/workloads/README.md). Ids: $k is the k-th id
# an operation produced, so nothing here depends on page numbers.
#! page_size 1024
alloc                 # -> $1
alloc                 # -> $2
write $1 0x11
sync
free $2
palloc                # -> $3
pwrite $3 0xa5
reopen
pwrite $3 0x5a
free $1
