# A freshly created file opened read-only, expecting 1024-byte pages.
#! page_size 1024
#! fuzz.ctl 0x18
