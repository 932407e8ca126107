# A file grown to 32 pages with regular, protected and sub-page pages;
# every checksum recomputed (a no-op on a sound file).
#! page_size 1024
#! fuzz.ctl 0x07
alloc_bulk 12
palloc_bulk 3
pwrite $13 0x13
pwrite $15 0x15
salloc 64
salloc_bulk 256 6
free_bulk $2 $4 $6
write $1 0x01
sync
