# Metadata counters changed and every checksum recomputed: the checks
# behind the CRCs must refuse it (free count no longer matches the map).
#! page_size 1024
#! fuzz.ctl 0x07
#! fuzz.poke 1056 7f
#! fuzz.poke2 2080 7f
alloc_bulk 2
palloc
