#!/usr/bin/env bash
# Instruction counts per operation for the benchmark's workloads, measured
# with valgrind's callgrind (repeatable on a noisy machine, unlike seconds),
# compared with the committed baseline. A workload more than 5% above its
# baseline is a regression and fails the script.
#
# usage: ci/bench-callgrind.sh [--update] [--build DIR] [--only A,B]
#   --update     rewrite harness/bench/callgrind-baseline.txt from this run
#   --build DIR  use mp-bench from DIR (default: build/release, built here)
#   --only A,B   measure only these workloads
#
# Each workload runs twice, with N and 2N operations, counting only inside
# the repetition (setup included); the difference over N is the cost of one
# operation with the setup cancelled out.
set -euo pipefail
cd "$(dirname "$0")/.."

baseline=harness/bench/callgrind-baseline.txt
update=0
build=""
only="alloc,alloc_1f,free,free_1f,alloc_bulk_16,alloc_bulk_1000,free_bulk_1000,protected_4k,protected_4k_1f,subpage_alloc,open_2^10"
while [ $# -gt 0 ]; do
    case "$1" in
    --update) update=1 ;;
    --build) build="$2"; shift ;;
    --only) only="$2"; shift ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench-callgrind: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done

if [ -z "$build" ]; then
    bash ci/deps.sh
    cmake --preset release >/dev/null
    cmake --build --preset release --target mp-bench >/dev/null
    build=build/release
fi
bench="$build/harness/bench/mp-bench"
[ -x "$bench" ] || { echo "bench-callgrind: no $bench" >&2; exit 2; }
dir=$(mktemp -d "${TMPDIR:-/tmp}/mp-cg.XXXXXX")
trap 'rm -rf "$dir"' EXIT

ir_of() { # workload ops -> total Ir inside run_once
    valgrind --tool=callgrind --toggle-collect=run_once \
        --callgrind-out-file="$dir/cg.out" \
        "$bench" --only "$1" --ops "$2" --reps 1 --no-warmup --dir "$dir" \
        >/dev/null 2>"$dir/vg.log" || { cat "$dir/vg.log" >&2; return 1; }
    awk '/^summary:/ { print $2 }' "$dir/cg.out"
}

ops=200
status=0
out="$dir/new.txt"
printf '%-20s %12s %12s %8s\n' workload "Ir/op" baseline change
IFS=, read -r -a names <<<"$only"
for w in "${names[@]}"; do
    a=$(ir_of "$w" "$ops")
    b=$(ir_of "$w" $((ops * 2)))
    per=$(( (b - a) / ops ))
    echo "$w $per" >>"$out"
    base=$(awk -v w="$w" '$1 == w { print $2 }' "$baseline" 2>/dev/null || true)
    if [ -n "$base" ] && [ "$base" -gt 0 ]; then
        pct=$(awk -v n="$per" -v b="$base" 'BEGIN { printf "%+.1f%%", (n - b) * 100 / b }')
        flag=""
        if [ "$per" -gt $((base + base / 20)) ]; then
            flag="  REGRESSION (> 5%)"
            status=1
        fi
        printf '%-20s %12d %12d %8s%s\n' "$w" "$per" "$base" "$pct" "$flag"
    else
        printf '%-20s %12d %12s %8s\n' "$w" "$per" "-" "new"
    fi
done

if [ "$update" = 1 ]; then
    { echo "# Instructions per operation (callgrind), from ci/bench-callgrind.sh --update"
      echo "# $(uname -m), $(cc --version | head -1)"
      cat "$out"; } >"$baseline"
    echo "baseline written: $baseline"
    exit 0
fi
[ "$status" = 0 ] && echo "no regression over 5%" || echo "regressions found" >&2
exit "$status"
