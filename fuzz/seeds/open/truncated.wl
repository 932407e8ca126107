# A file cut to two and a half pages: MP_ECORRUPT_SUPER.
#! page_size 1024
#! fuzz.ctl 0
#! fuzz.truncate 2560
alloc
