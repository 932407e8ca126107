# One-flush (flag bit 6): a protected commit crashed DURING its one
# barrier (point 1 of op 3). The real core falls back to the older copy
# (MP_RECOVERY_ONE_FLUSH_FALLBACK) and serves the old bytes; a recovery
# without the generation check (mutant 12) or one that trusts the newest
# one-flush copy (mutant 13) serves a page that is neither.
#! page_size 1024
#! fuzz.header 40 03 01 00
#! fuzz.tail 00
alloc                 # -> $1
palloc                # -> $2
pwrite $2 0x11
pwrite $2 0x22        # op 3: the crash
free $1
