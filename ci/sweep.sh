#!/usr/bin/env bash
# One crash-consistency sweep: build mp-explore (Release) and run it over
# the device matrix (the cells below, each in both commit modes: two-barrier
# and one-flush, issue 13): in each cell the standard workload
# suite (harness/workloads) at the cell's page size, then generated
# workloads, each cell an equal share of the time and each listed workload
# an equal share of half of its cell's. Shardable, so CI jobs or machines
# can split one sweep: every shard sees the same workloads and takes every
# N-th crash site (see harness/crash/README.md).
#
# Usage: ci/sweep.sh [--time SECONDS] [--shard I/N] [--seed N] [--out DIR]
#                    [--cells SPEC] [--mode two|one|both] [--no-build]
#                    [-- extra mp-explore options]
# Defaults: 120 s, shard 0/1, seed 1, out build/release/sweep, the cells,
# modes and second-crash rate of the marked list below.
# MP_EXPLORE=/path/to/mp-explore uses that binary and builds nothing.
# Writes DIR/report-I.json and reproducers under DIR/repro-I/; prints the
# summary. Exit status: 0 clean, 1 violations, 2 setup error.
set -euo pipefail
cd "$(dirname "$0")/.."

# ---- THE MAIN JOB'S DEVICE MATRIX (the one list; see harness/crash/
# CMakeLists.txt for CI's). PAGE/SECTOR/WRITEBACK cells, garbage on:
# "full" since format 2 (issue 11 items 1-2; 1 KiB pages on a 4 KiB unit
# are refused at create, reported "refused"). Second crashes: every
# fallback state and 1 in 64 others continued, since the page-0 repair of
# issue 11 item 4. Modes: both (every cell once two-barrier, once
# one-flush: 30 cells), since issue 13's one-flush commits.
cells=${MP_SWEEP_CELLS:-"full"}
modes=${MP_SWEEP_MODE:-both}
crash2=${MP_SWEEP_CRASH2:-64}
# ------------------------------------------------------------------------

secs=120
shard=0/1
seed=1
out=build/release/sweep
build=1
extra=()
while [ $# -gt 0 ]; do
    case "$1" in
    --time) secs=$2; shift 2 ;;
    --shard) shard=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --cells) cells=$2; shift 2 ;;
    --mode) modes=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    --) shift; extra=("$@"); break ;;
    *) echo "sweep.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done

exe=${MP_EXPLORE:-build/release/harness/crash/mp-explore}
if [ "$build" = 1 ] && [ -z "${MP_EXPLORE:-}" ]; then
    cmake --preset release >/dev/null
    cmake --build --preset release -j "$(nproc 2>/dev/null || echo 2)" \
        --target mp-explore >/dev/null
fi
[ -x "$exe" ] || { echo "sweep.sh: $exe not built" >&2; exit 2; }

i=${shard%/*}
mkdir -p "$out/repro-$i"
progress=()
[ -t 2 ] && progress=(--progress)
# In each cell the suite comes first (half of the cell's time, shared out
# so every workload runs); the generated workloads (60 ops each, sub-pages
# and error paths in the mix) take the rest. Torn sectors may hold
# garbage, so torn commit records make recovery use its fallback.
"$exe" --matrix "$cells" --mode "$modes" --crash2-every "$crash2" \
    --time "$secs" --seed "$seed" --shard "$shard" \
    --repro-dir "$out/repro-$i" --json "$out/report-$i.json" \
    ${progress[@]+"${progress[@]}"} \
    --gen 1000000 --gen-ops 60 --gen-mix sub=1,error=2 \
    ${extra[@]+"${extra[@]}"} harness/workloads harness/workloads/regressions
