# allocation 3 and every later one fail: create
#! page_size 1024
#! fuzz.header 40 00 02 04 00 00 00 05
alloc_bulk 3
free $1
alloc
grow 40
alloc_bulk 4
free_bulk $2 $3
write $4 0x44
sync
alloc
