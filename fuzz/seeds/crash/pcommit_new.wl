# The same protected commit crashed after barrier 1: every dirty page new.
#! page_size 1024
#! fuzz.header 00 03 02 01
#! fuzz.tail 01 01 01 01 01 01 01 01
alloc                 # -> $1
palloc                # -> $2
pwrite $2 0x11
pwrite $2 0x22
free $1
