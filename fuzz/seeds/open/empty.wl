# A freshly created file (8 pages), opened read-write.
#! page_size 1024
#! fuzz.ctl 0
