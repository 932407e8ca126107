#!/usr/bin/env bash
# mp-extern on a program whose promise we know (extern_toy.c): an honest
# appender has no violation; one that acks before its fdatasync loses
# exactly its last ack at the sync's crash points, which the tool must
# report with a reproducer that rebuilds the same image, and which
# --may-lose 1 allows; a check that fails (garbage sectors) is reported;
# --help and progress lines work.
# Usage: extern_oracle.sh BUILD_DIR_OF_EXTERN (holding mp-extern, extern_toy)
set -u
bin=$1
tool=$bin/mp-extern toy=$bin/extern_toy
chk="$(dirname "$0")/extern_toy_check.sh"
work=$(mktemp -d -p /dev/shm) || { echo "FAIL: no /dev/shm"; exit 1; }
trap 'rm -rf "$work"' EXIT
fails=0
fail() {
    echo "FAIL: $*"
    fails=$((fails + 1))
}
field() { # field NAME SUMMARY_FILE: a value of the machine-readable line
    tail -n 1 "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"
}
oracle() { # oracle NAME MODE MP-EXTERN-OPTIONS...
    local name=$1 mode=$2
    shift 2
    "$tool" --match "$work/d/toy.log" --out "$work/$name" \
        --setup "rm -rf '$work/d'; mkdir '$work/d'; : >'$work/d/toy.log'" \
        --check "bash $chk {}" "$@" "$toy" "$mode" "$work/d/toy.log" 6 \
        >"$work/$name.log" 2>"$work/$name.err"
}

"$tool" --help | grep -q -- "--check CMD" || fail "--help"
"$tool" --check true >/dev/null 2>&1
[ $? -eq 2 ] || fail "a missing --match is not a usage error"

oracle honest honest --images 2 -q
rc=$?
[ $rc -eq 0 ] || { fail "honest: status $rc"; cat "$work/honest.log"; }
[ "$(field points "$work/honest/summary.txt")" = 24 ] || fail "honest: 24 points expected"
[ "$(field images "$work/honest/summary.txt")" = 48 ] || fail "honest: 48 images expected"
[ "$(field violations "$work/honest/summary.txt")" = 0 ] || fail "honest: violations"
# Images before the first ack hold nothing: they are ok, not lost.
grep -qP '^1\t1\tok\t0\t0\t$' "$work/honest/results.tsv" || fail "honest: point 1 image 1 not ok"

oracle liar liar --images 2 -q
rc=$?
[ $rc -eq 1 ] || fail "liar: status $rc, expected 1"
lost=$(field lost "$work/liar/summary.txt")
[ "${lost:-0}" -gt 0 ] || { fail "liar: no lost ack found"; cat "$work/liar.log"; }
[ "$(field check_failed "$work/liar/summary.txt")" = 0 ] || fail "liar: a check failed"
# The first sync's crash points lose ack 1 from an image holding nothing:
# the check prints no id at all, and the ack is still reported lost.
grep -qP '^[0-9]+\t[0-9]+\tlost\t1\t1\t1$' "$work/liar/results.tsv" ||
    fail "liar: ack 1 lost from an empty image not reported"
# Every lost image lost exactly the last ack before the crash.
awk -F '\t' '$3 == "lost" && ($5 != 1 || $6 != $4) { exit 1 }' \
    "$work/liar/results.tsv" || fail "liar: lost more than the last ack"
# The reproducer rebuilds the very image and the check gives the same ids.
line=$(grep -P '\tlost\t' "$work/liar/results.tsv" | tail -n 1)
k=$(echo "$line" | cut -f1) i=$(echo "$line" | cut -f2)
repro=$work/liar/repro/point-$k-img-$i.sh
[ -x "$repro" ] || fail "liar: no reproducer $repro"
grep -q "reproduce: $repro" "$work/liar.log" || fail "liar: reproducer not printed"
"$repro" "$work/again" >"$work/again.out" 2>&1 || fail "liar: reproducer failed"
cmp -s "$work/again/img-$i/toy.log" "$work/liar/point-$(printf %04d "$k")/img-$i/toy.log" ||
    fail "liar: the reproducer built another image"
bash "$chk" "$work/again/img-$i" | cmp -s - "$work/liar/point-$(printf %04d "$k")/img-$i.ids" ||
    fail "liar: the reproduced image holds other ids"

# A check that also prints an empty line: it names no operation and
# must not hide the lost ones (an empty pattern in a set difference done
# with grep -f matches every line unless whole lines are compared).
oracle blank liar --images 2 -q --check "echo; bash $chk {}"
[ "$(field lost "$work/blank/summary.txt")" = "$lost" ] ||
    fail "a blank line in the check's output hid lost acks"

oracle allowed liar --images 2 --may-lose 1 -q
rc=$?
[ $rc -eq 0 ] || fail "liar with --may-lose 1: status $rc"
[ "$(field lost_allowed "$work/allowed/summary.txt")" = "$lost" ] ||
    fail "liar with --may-lose 1: the $lost lost images are not all allowed"

# Garbage sectors make records the check refuses: check-failed, with a
# reproducer and the check's message.
oracle garbage honest --images 8 --garbage --sector 1 --from 9 --to 16
[ "$(field check_failed "$work/garbage/summary.txt")" -gt 0 ] ||
    fail "garbage: no failed check"
grep -q "check-failed" "$work/garbage.log" || fail "garbage: not reported"
grep -q "bad line" "$work/garbage.log" || fail "garbage: the check's message not shown"
grep -Eq "images_per_s=[0-9]+\.[0-9]" "$work/garbage/summary.txt" || fail "no speed"
# A slow check: progress lines every second on stderr; --every 2.
oracle slow honest --from 2 --to 4 --every 2 --images 2 --progress 1 \
    --check "sleep 0.4; bash $chk {}"
grep -q "^mp-extern: progress: point [0-9]* of 4, [0-9]* images in" \
    "$work/slow.err" || fail "no progress line"
[ "$(cut -f1 "$work/slow/results.tsv" | tail -n +2 | uniq | tr '\n' ' ')" = "2 4 " ] ||
    fail "--from 2 --to 4 --every 2 did not crash at 2 and 4 only"

[ $fails -eq 0 ] && echo "extern_oracle: all ok"
[ $fails -eq 0 ]
