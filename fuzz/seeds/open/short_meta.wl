# A file shorter than its page count says (metadata checksums
# recomputed): neither copy validates, MP_ECORRUPT_META.
#! page_size 1024
#! fuzz.ctl 0x07
#! fuzz.truncate 7168
