#!/usr/bin/env bash
# Bounded smoke run of every fuzz target with libFuzzer (ASan+UBSan):
# builds the fuzz-libfuzzer preset, runs each target for a few seconds on
# a scratch copy of its seed corpus (plus its regressions), and prints
# executions, executions per second, coverage (edges at start -> end) and
# crashes. Crash inputs are kept under the output directory; the git
# corpora are never written.
#
# Usage: ci/fuzz-smoke.sh [--time SECONDS] [--targets "ops crash ..."]
#                         [--jobs N] [--out DIR] [--no-build] [--help]
#   --jobs N  targets run N at a time (default 1; ci/test.sh uses nproc)
# Env:   MP_FUZZ_SMOKE_SECONDS  seconds per target (default 30)
#        MP_FUZZ_TARGETS        targets (default: ops crash faults open subpage)
#        MP_FUZZ_BUILD_DIR      libFuzzer build (default build/fuzz-libfuzzer)
# Exit status: 0 no crash, 1 a target crashed (or leaked, timed out, ran
# out of memory), 2 setup error.
set -euo pipefail
cd "$(dirname "$0")/.."

secs=${MP_FUZZ_SMOKE_SECONDS:-30}
targets=${MP_FUZZ_TARGETS:-"ops crash faults open subpage"}
bdir=${MP_FUZZ_BUILD_DIR:-build/fuzz-libfuzzer}
out=""
build=1
par=1
while [ $# -gt 0 ]; do
    case "$1" in
    --time) secs=$2; shift ;;
    --targets) targets=$2; shift ;;
    --out) out=$2; shift ;;
    --jobs) par=$2; shift ;;
    --no-build) build=0 ;;
    -h | --help) sed -n '2,16p' "$0" | sed -E 's/^# ?//'; exit 0 ;;
    *) echo "fuzz-smoke: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done
out=${out:-$bdir/smoke}

if [ "$build" = 1 ]; then
    bash ci/deps.sh >/dev/null
    echo "=== build (fuzz-libfuzzer)"
    cmake --preset fuzz-libfuzzer -B "$bdir" >/dev/null
    tgts=()
    for t in $targets; do tgts+=("fuzz_$t"); done
    cmake --build "$bdir" -j "$(nproc 2>/dev/null || echo 2)" --target "${tgts[@]}" >/dev/null
fi

# max_len from fuzz/<target>.options ([libfuzzer] section).
option() {
    sed -n "s/^$2[[:space:]]*=[[:space:]]*//p" "fuzz/$1.options" 2>/dev/null | head -n 1
}

rm -rf "$out"
mkdir -p "$out"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
status=0
rows=()

# One target: its log and exit status go under $out/<target>/.
run_target() {
    local t=$1 bin="$bdir/fuzz/fuzz_$1" work="$out/$1" ml rc=0
    mkdir -p "$work/corpus" "$work/artifacts"
    cp corpora/"$t"/* "$work/corpus/" 2>/dev/null || true
    ml=$(option "$t" max_len)
    "$bin" -max_total_time="$secs" -print_final_stats=1 -timeout=10 \
        ${ml:+-max_len=$ml} -dict="fuzz/$t.dict" \
        -artifact_prefix="$work/artifacts/" \
        "$work/corpus" "corpora/regressions/$t" >"$work/log.txt" 2>&1 || rc=$?
    echo "$rc" >"$work/rc"
    echo "    $t done (exit $rc)"
}

for t in $targets; do
    if [ ! -x "$bdir/fuzz/fuzz_$t" ]; then
        echo "fuzz-smoke: $bdir/fuzz/fuzz_$t not built" >&2
        exit 2
    fi
done
echo "=== fuzz smoke: ${secs}s per target, $par at a time: $targets"
for t in $targets; do
    while [ "$(jobs -rp | wc -l)" -ge "$par" ]; do
        wait -n || true
    done
    run_target "$t" &
done
wait

for t in $targets; do
    work="$out/$t"
    rc=$(cat "$work/rc" 2>/dev/null || echo 2)
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log.txt")
    eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/log.txt")
    cov0=$(grep -m1 -E 'INITED cov: ' "$work/log.txt" | sed -E 's/.*cov: ([0-9]+).*/\1/')
    cov1=$(grep -E '^#[0-9]+.*cov: ' "$work/log.txt" | tail -n 1 | sed -E 's/.*cov: ([0-9]+).*/\1/')
    ft1=$(grep -E '^#[0-9]+.*ft: ' "$work/log.txt" | tail -n 1 | sed -E 's/.*ft: ([0-9]+).*/\1/')
    crashes=$(find "$work/artifacts" -type f | wc -l)
    if [ "$rc" -ne 0 ] || [ "$crashes" -gt 0 ]; then
        status=1
        echo "--- $t: FAILED (exit $rc); log $work/log.txt"
        grep -A 40 -E '^==== mappedpages fuzz target|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error' \
            "$work/log.txt" | head -n 60 || true
    fi
    rows+=("$(printf '%-8s %10s %9s %7s -> %-7s %8s %8s' "$t" "${execs:-?}" \
        "${eps:-?}" "${cov0:-?}" "${cov1:-?}" "${ft1:-?}" "$crashes")")
done

echo "=== fuzz smoke summary (libFuzzer, ASan+UBSan, ${secs}s each)"
printf '%-8s %10s %9s %18s %8s %8s\n' target execs execs/s "edges start->end" features crashes
for r in "${rows[@]}"; do
    echo "$r"
done
if [ "$status" -ne 0 ]; then
    echo "crash inputs: $out/<target>/artifacts/ (replay: $bdir/fuzz/fuzz_<target> FILE)"
fi
exit "$status"
