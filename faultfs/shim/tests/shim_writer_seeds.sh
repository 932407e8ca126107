#!/usr/bin/env bash
# Across seeds, at fixed crash points of shim_writer: unsynced pages come
# back old, new or torn; a growth not yet fsynced may be lost; the same
# seed gives the same images; IMAGES=n draws n images in one run.
# Usage: shim_writer_seeds.sh BUILD_DIR_OF_SHIM SHIM_WRITER SHIM_CHECK_WRITER
set -u
bin=$1 writer=$2 checker=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fails=0
fail() {
    echo "FAIL: $*"
    fails=$((fails + 1))
}

run() { # run OUT CRASH_AT SEED [IMAGES]
    env LD_PRELOAD="$bin/libfaultfs_shim.so" FAULTFS_SHIM_MATCH="$work/data.bin" \
        FAULTFS_SHIM_CRASH_AT="$2" FAULTFS_SHIM_OUT="$1" FAULTFS_SHIM_SEED="$3" \
        FAULTFS_SHIM_IMAGES="${4:-1}" \
        "$writer" "$work/data.bin" "$work/prog.txt" 2>"$work/err"
    local rc=$?
    [ $rc -eq 77 ] || { fail "crash at $2 seed $3: status $rc"; cat "$work/err"; }
}

# The schedule: point 11 is the msync after growing from 8 to 12 pages
# (no fsync yet); point 17 the msync of page 11 after pages 0, 2, 3 were
# rewritten (Z, z, z) and not synced.
env LD_PRELOAD="$bin/libfaultfs_shim.so" FAULTFS_SHIM_MATCH="$work/data.bin" \
    FAULTFS_SHIM_COUNT=1 FAULTFS_SHIM_REPORT="$work/count" \
    FAULTFS_SHIM_LOG="$work/points" "$writer" "$work/data.bin" "$work/prog.txt"
[ "$(cat "$work/count")" = 19 ] || fail "want 19 crash points, got $(cat "$work/count")"
grep -q "^11 before msync .*data.bin \[32768,40960)" "$work/points" ||
    grep -q "^11 before msync" "$work/points" || fail "point 11 is not the msync after growth"
grep -q "^17 before msync" "$work/points" || fail "point 17 is not an msync"

for seed in $(seq 1 24); do
    run "$work/p17-$seed" 17 "$seed"
    run "$work/p11-$seed" 11 "$seed"
done
"$checker" variety 0 A Z "$work"/p17-*/img-1/data.bin || fail "page 0 variety"
"$checker" variety 2 b z "$work"/p17-*/img-1/data.bin || fail "page 2 variety"
"$checker" sizes 8 12 "$work"/p11-*/img-1/data.bin || fail "growth not lost sometimes"

# Same seed, same images and manifest; another seed, other draws.
run "$work/a" 17 5 3
run "$work/b" 17 5 3
run "$work/c" 17 6 3
diff -r "$work/a" "$work/b" >/dev/null || fail "seed 5 twice gave different images"
diff -r "$work/a" "$work/c" >/dev/null && fail "seeds 5 and 6 gave the same images"
if [ ! -d "$work/a/img-3" ] || [ -e "$work/a/img-4" ]; then
    fail "IMAGES=3 did not give 3 images"
fi
grep -q "^replay: FAULTFS_SHIM_CRASH_AT=17 FAULTFS_SHIM_SEED=5 FAULTFS_SHIM_IMAGES=3" \
    "$work/a/manifest.txt" || fail "manifest lacks the replay line"

[ $fails -eq 0 ] && echo "shim_writer_seeds: all ok"
[ $fails -eq 0 ]
