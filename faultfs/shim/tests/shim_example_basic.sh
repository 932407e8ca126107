#!/usr/bin/env bash
# End to end: the core's example program (create, alloc_bulk, sync_pages,
# free, a protected commit, close, reopen) under the shim, crashed at
# every crash point; every image must open through the public API without
# an error, protected pages must be empty or exactly the committed text,
# and once create has synced the directory the file must be in every
# image.
# Usage: shim_example_basic.sh BUILD_DIR_OF_SHIM EXAMPLE_BASIC SHIM_CHECK_OPEN
set -u
bin=$1 example=$2 checker=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
fails=0
fail() {
    echo "FAIL: $*"
    fails=$((fails + 1))
}

text="protected content, committed atomically"
bash "$bin/crashloop.sh" --match "$work/ex.mp" --out "$work/out" --images 3 \
    --seed 11 --check "$checker {}/ex.mp '$text'" \
    "$example" "$work/ex.mp" >"$work/log" 2>&1
rc=$?
tail -n 3 "$work/log"
[ $rc -eq 0 ] || { fail "crashloop status $rc"; cat "$work/log"; }

total=$(cat "$work/out/count.txt")
opened=$(cat "$work"/out/point-*/img-*.check | grep -c '^ok ')
absent=$(cat "$work"/out/point-*/img-*.check | grep -c '^absent ')
echo "points $total, images $((opened + absent)): $opened opened, $absent without the file"
[ "$total" -ge 20 ] || fail "only $total crash points"
[ $((opened + absent)) -eq $((total * 3)) ] || fail "not every image was checked"
[ "$opened" -gt $((total * 2)) ] || fail "too few images held the file"

# The first point after create's directory sync, and every later one,
# must have the file in every image.
named=$(awk '/ after fsync directory /{print $1; exit}' "$work/out/points.log")
[ -n "$named" ] || fail "no directory sync among the crash points"
for ((k = ${named:-1}; k <= total; k++)); do
    if grep -q '^absent' "$work"/out/point-"$(printf '%04d' "$k")"/img-*.check; then
        fail "point $k: file missing after create returned"
    fi
done

# Control: a zeroed superblock and metadata copies (which carry the
# static header since format 2) must fail the checker.
img=$work/out/point-$(printf '%04d' "$total")/img-1/ex.mp
dd if=/dev/zero of="$img" bs=4096 count=3 conv=notrunc status=none
"$checker" "$img" && fail "a zeroed superblock opened"

[ $fails -eq 0 ] && echo "shim_example_basic: all ok"
[ $fails -eq 0 ]
