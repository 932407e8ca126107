#!/usr/bin/env bash
# crashloop.sh - crash-test a program at every crash point with the faultfs
# LD_PRELOAD shim: count the points, crash at each one, keep the images,
# run a checker on each image. See README.md in this directory.
set -u

usage() {
    cat <<'EOF'
usage: crashloop.sh [options] [--] PROGRAM [ARGS...]

Runs PROGRAM once under libfaultfs_shim.so to count its crash points
(every msync, fsync, fdatasync and O_SYNC/O_DSYNC write of a tracked file
gives three: before, during, after; every other write, ftruncate and
fallocate one; a directory sync that makes a name change durable two),
then once more per point k with the shim set to
crash at k. Each crash writes FAULTFS_SHIM_IMAGES crash images and a
manifest into OUT/point-<k>/. PROGRAM must do the same calls on every
run (start from the same state: see --setup).

options:
  --match PATTERNS  files to track: a path prefix or a glob matched against
                    absolute paths (':' separates several). Required unless
                    FAULTFS_SHIM_MATCH is set.
  --out DIR         where images go (default: crashloop-out). Earlier
                    results of crashloop.sh in DIR are removed first.
  --images N        crash images drawn at each point (default 1)
  --seed S          seed of the draws (default 0)
  --sector BYTES    tear granularity, power of two, 1 .. page (default 512)
  --garbage         torn sectors may also hold garbage
  --from K, --to K  only points K.. and ..K
  --check CMD       run CMD (with sh) on every image, {} replaced by the
                    image directory; a non-zero status is a failure
  --setup CMD       run CMD (with sh) before every run of PROGRAM
  --timeout SECS    kill a run that takes longer (needs timeout(1))
  --stop            stop at the first failure
  --shim PATH       the shim library (default: FAULTFS_SHIM_LIB, else
                    libfaultfs_shim.so beside this script)
  -q, --quiet       print only failures and the summary
  -h, --help        this text

Exit status: 0 if every run crashed where asked and every check passed,
1 otherwise, 2 on a usage or configuration error.

Example (from a build directory):
  faultfs/shim/crashloop.sh --match "$PWD/ex.mp" --images 2 \
      --check 'faultfs/shim/shim_check_open {}/ex.mp' core/example_basic ex.mp
EOF
}

die() {
    echo "crashloop: $*" >&2
    exit 2
}

shim=${FAULTFS_SHIM_LIB:-}
match=${FAULTFS_SHIM_MATCH:-}
out=crashloop-out
images=1 seed=0 sector=512 garbage=0 from=1 to=0
check='' setup='' tmo='' stop=0 quiet=0

need() { [ $# -ge 2 ] || die "$1 needs a value"; }
while [ $# -gt 0 ]; do
    case "$1" in
    --match) need "$@"; match=$2; shift 2 ;;
    --out) need "$@"; out=$2; shift 2 ;;
    --images) need "$@"; images=$2; shift 2 ;;
    --seed) need "$@"; seed=$2; shift 2 ;;
    --sector) need "$@"; sector=$2; shift 2 ;;
    --garbage) garbage=1; shift ;;
    --from) need "$@"; from=$2; shift 2 ;;
    --to) need "$@"; to=$2; shift 2 ;;
    --check) need "$@"; check=$2; shift 2 ;;
    --setup) need "$@"; setup=$2; shift 2 ;;
    --timeout) need "$@"; tmo=$2; shift 2 ;;
    --stop) stop=1; shift ;;
    --shim) need "$@"; shim=$2; shift 2 ;;
    -q | --quiet) quiet=1; shift ;;
    -h | --help) usage; exit 0 ;;
    --) shift; break ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) break ;;
    esac
done
[ $# -ge 1 ] || { usage >&2; exit 2; }
[ -n "$match" ] || die "say which files to track: --match PATTERNS"
for v in "$images" "$from" "$to"; do
    case "$v" in '' | *[!0-9]*) die "not a number: '$v'" ;; esac
done
if [ -z "$shim" ]; then
    shim=$(dirname "$0")/libfaultfs_shim.so
fi
[ -f "$shim" ] || die "no shim library at $shim (use --shim or FAULTFS_SHIM_LIB)"
shim=$(cd "$(dirname "$shim")" && pwd)/$(basename "$shim")
runner=()
if [ -n "$tmo" ]; then
    command -v timeout >/dev/null || die "--timeout needs timeout(1)"
    runner=(timeout "$tmo")
fi

mkdir -p "$out" || die "cannot create $out"
out=$(cd "$out" && pwd)
rm -rf "$out"/point-* "$out"/count.* "$out"/points.log "$out"/summary.txt

say() { [ "$quiet" = 1 ] || echo "$@"; }

# The variables of an outer shim run must not leak into ours.
clean_env=(env -u FAULTFS_SHIM_CRASH_AT -u FAULTFS_SHIM_COUNT
    -u FAULTFS_SHIM_OUT -u FAULTFS_SHIM_REPORT -u FAULTFS_SHIM_LOG
    LD_PRELOAD="$shim" FAULTFS_SHIM_MATCH="$match")

setup_run() {
    [ -z "$setup" ] || sh -c "$setup" || die "--setup failed: $setup"
}

# 1. Count.
setup_run
"${runner[@]}" "${clean_env[@]}" FAULTFS_SHIM_COUNT=1 \
    FAULTFS_SHIM_REPORT="$out/count.txt" FAULTFS_SHIM_LOG="$out/points.log" "$@" \
    >"$out/count.stdout" 2>"$out/count.stderr"
rc=$?
if grep -q '^faultfs_shim: ' "$out/count.stderr"; then
    grep '^faultfs_shim: ' "$out/count.stderr" >&2
    [ $rc -ne 2 ] || die "the shim refused its configuration"
fi
[ $rc -eq 0 ] || echo "crashloop: warning: counting run exited with status $rc" >&2
total=$(cat "$out/count.txt" 2>/dev/null)
case "$total" in '' | *[!0-9]*) die "the counting run reported no count (see $out/count.stderr)" ;; esac
[ "$total" -gt 0 ] || die "no crash points: does --match '$match' name the file the program syncs?"
last=$total
[ "$to" -gt 0 ] && [ "$to" -lt "$total" ] && last=$to
say "crashloop: $total crash points; crashing at $from..$last with $images image(s) each"

# 2. Crash at each point.
runs=0 nocrash=0 nimg=0 nchk=0 nok=0 nfail=0 failed_points=()
for ((k = from; k <= last; k++)) do
    dir=$out/point-$(printf '%04d' "$k")
    mkdir -p "$dir"
    setup_run
    "${runner[@]}" "${clean_env[@]}" FAULTFS_SHIM_CRASH_AT="$k" FAULTFS_SHIM_OUT="$dir" \
        FAULTFS_SHIM_IMAGES="$images" FAULTFS_SHIM_SEED="$seed" \
        FAULTFS_SHIM_SECTOR="$sector" FAULTFS_SHIM_GARBAGE="$garbage" \
        FAULTFS_SHIM_EXIT_CODE=77 "$@" \
        >"$dir/run.stdout" 2>"$dir/run.stderr"
    rc=$?
    runs=$((runs + 1))
    label=$(sed -n 's/^call: //p' "$dir/manifest.txt" 2>/dev/null)
    if [ $rc -ne 77 ] || [ "$(tail -n 1 "$dir/manifest.txt" 2>/dev/null)" != end ]; then
        nocrash=$((nocrash + 1))
        failed_points+=("$k")
        echo "[$k/$total] FAIL: no crash image (exit status $rc; see $dir/run.stderr)"
        [ $stop = 1 ] && break
        continue
    fi
    line="[$k/$total] $label"
    bad=0
    for img in "$dir"/img-*; do
        [ -d "$img" ] || continue
        nimg=$((nimg + 1))
        [ -n "$check" ] || continue
        q=$(printf '%q' "$img")
        cmd=${check//\{\}/$q}
        nchk=$((nchk + 1))
        if sh -c "$cmd" >"$img.check" 2>&1; then
            nok=$((nok + 1))
        else
            nfail=$((nfail + 1))
            bad=1
            echo "$line: CHECK FAILED on $img:"
            sed 's/^/    /' "$img.check"
        fi
    done
    if [ $bad = 1 ]; then
        failed_points+=("$k")
        [ $stop = 1 ] && break
    else
        say "$line: ok"
    fi
done

summary="crashloop: $total points, $runs runs, $nimg images"
[ -n "$check" ] && summary="$summary, $nchk checked: $nok ok, $nfail failed"
[ $nocrash -gt 0 ] && summary="$summary; $nocrash runs without a crash image"
echo "$summary" | tee "$out/summary.txt"
if [ ${#failed_points[@]} -gt 0 ]; then
    echo "crashloop: failing points: ${failed_points[*]} (replay: see point-*/manifest.txt)" |
        tee -a "$out/summary.txt"
    exit 1
fi
exit 0
