# A file created in one-flush mode and reopened (no commit between, then
# one): the create took the one-flush commit path and wrote no commit
# record, so every reopen reported MP_RECOVERY_TORN_RECORD with fallback
# set after a clean close (golden run, rule "run", in every one-flush
# cell). Found by the harness (briefs/to-core.md item 1); fixed in the core
# by 6dfec21 (create is the two-barrier create protocol in either mode).
#! page_size 1024
reopen
alloc                 # -> $1
reopen
free $1
