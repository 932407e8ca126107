#!/usr/bin/env bash
# extern_toy_check.sh IMAGE_DIR: the records of an extern_toy image must
# be "rec 1" .. "rec m" in order, nothing else, except that the last one
# may be cut short (an append the crash interrupted; zeros past the end
# read as empty lines). Prints 1..m, one per line.
set -u
f=$1/toy.log
[ -f "$f" ] || { echo "no toy.log" >&2; exit 1; }
tr '\0' '\n' <"$f" | awk '
{ l[NR] = $0 }
END {
    n = NR
    while (n > 0 && l[n] == "") n--
    m = 0
    for (i = 1; i <= n; i++) {
        if (l[i] == "rec " (m + 1)) { m++; continue }
        if (i == n && index("rec " (m + 1), l[i]) == 1) continue
        print "bad line " i ": " l[i] > "/dev/stderr"
        exit 1
    }
    for (i = 1; i <= m; i++) print i
}'
