# A crash during create: no file, or an empty complete one.
#! page_size 1024
#! fuzz.header 20 00 06 00
#! fuzz.tail 01 01 01 01
alloc
