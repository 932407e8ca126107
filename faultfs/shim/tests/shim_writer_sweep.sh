#!/usr/bin/env bash
# shim_writer under crashloop.sh at every crash point: in every image,
# whatever a sync made durable is there, and nothing else appears
# (shim_check_writer verify). Then the same with whole-page sectors
# ("atomic page" devices: no tear), single-byte sectors, and garbage; and
# a control: a damaged image must fail the check.
# Usage: shim_writer_sweep.sh BUILD_DIR_OF_SHIM SHIM_WRITER SHIM_CHECK_WRITER
set -u
bin=$1 writer=$2 checker=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
page=$(getconf PAGESIZE)
fails=0
fail() {
    echo "FAIL: $*"
    fails=$((fails + 1))
}

sweep() { # sweep NAME SECTOR CRASHLOOP-OPTIONS...
    local name=$1 sector=$2
    shift 2
    bash "$bin/crashloop.sh" --match "$work/data.bin" --out "$work/$name" \
        --sector "$sector" "$@" \
        --check "$checker verify {}/data.bin $work/prog.txt $sector" \
        "$writer" "$work/data.bin" "$work/prog.txt" >"$work/$name.log" 2>&1
    local rc=$?
    tail -n 2 "$work/$name.log"
    [ $rc -eq 0 ] || { fail "sweep $name: status $rc"; cat "$work/$name.log"; }
}

sweep default 512 --images 4 --seed 7
grep -q "19 points, 19 runs, 76 images, 76 checked: 76 ok, 0 failed" \
    "$work/default/summary.txt" || fail "default sweep summary"
grep -q ": torn " "$work"/default/point-*/manifest.txt || fail "no torn page in any image"

sweep atomic "$page" --images 3
if grep -q ": torn " "$work"/atomic/point-*/manifest.txt; then
    fail "a torn page with sector = page"
fi

sweep bytes 1 --images 2 --from 14 --to 19

# Garbage sectors: bytes the writer never wrote, so the verifier must
# refuse some image (that it can is the point), and manifests show 'g'.
bash "$bin/crashloop.sh" --match "$work/data.bin" --out "$work/garbage" \
    --garbage --images 8 --from 17 --to 17 \
    --check "$checker verify {}/data.bin $work/prog.txt" \
    "$writer" "$work/data.bin" "$work/prog.txt" >"$work/garbage.log" 2>&1
rc=$?
[ $rc -eq 1 ] || fail "garbage sectors passed the verifier (status $rc)"
grep -Eq "torn [on]*g|: garbage" "$work"/garbage/point-0017/manifest.txt ||
    fail "no garbage sector in the manifest"

# Control: damage page 1 (synced at step 2) of a post-fsync image.
img=$work/default/point-0016/img-1/data.bin
echo 4 >"$work/step4.txt"
"$checker" verify "$img" "$work/step4.txt" >/dev/null || fail "pristine image refused"
printf 'X' | dd of="$img" bs=1 seek=$((page + 5)) conv=notrunc status=none
if "$checker" verify "$img" "$work/step4.txt"; then
    fail "a damaged image passed"
fi
truncate -s $((8 * page)) "$work/default/point-0016/img-2/data.bin"
if "$checker" verify "$work/default/point-0016/img-2/data.bin" "$work/step4.txt"; then
    fail "a lost growth passed"
fi

[ $fails -eq 0 ] && echo "shim_writer_sweep: all ok"
[ $fails -eq 0 ]
