#!/usr/bin/env bash
# lmdb_check.sh IMAGE_DIR - the check command mp-extern runs on each crash
# image of lmdb_driver's environment. Opens it with Debian's mdb_stat and
# mdb_dump (lmdb-utils), recomputes from the key "last" = m what
# transactions 1..m put and deleted (see lmdb_driver.c) and demands
# exactly that: every key, every value, nothing else. On success prints
# 1..m, one per line (the ids mp-extern compares with the acks) and exits
# 0; otherwise says why on stderr and exits 1.
set -u
d=$1
[ -f "$d/data.mdb" ] || { echo "no data.mdb in the image" >&2; exit 1; }
# Open the environment read-only; the lock file lands in the image dir.
# Status 135 is SIGBUS: LMDB read past the end of a file shorter than
# its meta page says.
mdb_stat -ef "$d" >"$d.stat" 2>&1
rc=$?
[ $rc -eq 0 ] || { echo "mdb_stat failed (status $rc):" >&2; cat "$d.stat" >&2; exit 1; }
dump=$(mdb_dump -p "$d" 2>&1)
rc=$?
[ $rc -eq 0 ] || { echo "mdb_dump failed (status $rc): $dump" >&2; exit 1; }
printf '%s\n' "$dump" | awk '
function val(t, j,   u, s) {
    u = sprintf("%05d.%d-", t, j); s = ""
    while (length(s) < 200) s = s u
    return substr(s, 1, 200)
}
/^HEADER=END$/ { body = 1; next }
/^DATA=END$/ { body = 0; next }
body && !havek { k = substr($0, 2); havek = 1; next }
body && havek { kv[k] = substr($0, 2); havek = 0; n++; next }
END {
    m = 0
    if ("last" in kv) {
        if (kv["last"] !~ /^[0-9]+$/) { print "bad last: " kv["last"] > "/dev/stderr"; exit 1 }
        m = kv["last"] + 0
    }
    want = ("last" in kv) ? 1 : 0
    for (t = 1; t <= m; t++)
        for (j = 0; j < 4; j++) {
            key = sprintf("k%05d.%d", t, j)
            if (j == 0 && t <= m - 3) {
                if (key in kv) { print "deleted key present: " key > "/dev/stderr"; exit 1 }
                continue
            }
            want++
            if (!(key in kv)) { print "last=" m " but " key " is missing" > "/dev/stderr"; exit 1 }
            if (kv[key] != val(t, j)) { print "wrong value for " key > "/dev/stderr"; exit 1 }
        }
    if (n != want) { print n " keys, expected " want " for last=" m > "/dev/stderr"; exit 1 }
    for (t = 1; t <= m; t++) print t
}'
