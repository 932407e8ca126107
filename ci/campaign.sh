#!/usr/bin/env bash
# The main job: the default crash-consistency campaign. Installs what is
# missing, builds (Release), then runs the crash-state explorer over the
# device matrix of ci/sweep.sh (the standard workload suite and generated
# workloads in every cell, each geometry in both commit modes, each cell
# its share of the time), one shard per CPU, and prints the summary: per
# cell, per mode and in total.
#
# Usage: ci/campaign.sh [SECONDS]
# Env:   MP_CAMPAIGN_SECONDS  time when no argument is given (default 120)
#        MP_CAMPAIGN_OUT      report directory (build/release/campaign)
#        MP_CAMPAIGN_SEED     faultfs and generator seed (default 1)
#        MP_CAMPAIGN_JOBS     shards run in parallel (default: CPUs)
#        MP_EXPLORE           an mp-explore binary to use (skips the build)
#        MP_SWEEP_CELLS       the matrix cells (default: ci/sweep.sh's list)
#        MP_SWEEP_MODE        two, one or both (default: ci/sweep.sh's, both)
#        MP_SWEEP_CRASH2      second crashes, 1 in N (default: ci/sweep.sh's)
#        MP_CAMPAIGN_FUZZ_SECONDS  seconds per fuzz target in the short fuzz
#                             phase after the sweep (default 10; 0 skips it)
# Reports: build/release/campaign/report-I.json, reproducers under
# build/release/campaign/repro-I/ (replay: mp-explore --replay FILE).
# Exit status: 0 no violation, 1 violations, 2 setup error.
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/deps.sh

secs=${1:-${MP_CAMPAIGN_SECONDS:-120}}
seed=${MP_CAMPAIGN_SEED:-1}
jobs=${MP_CAMPAIGN_JOBS:-$(nproc 2>/dev/null || echo 2)}
out=${MP_CAMPAIGN_OUT:-build/release/campaign}

if [ -z "${MP_EXPLORE:-}" ]; then
    echo "=== build (release)"
    cmake --preset release >/dev/null
    cmake --build --preset release -j "$jobs" --target mp-explore >/dev/null
fi
rm -rf "$out"
mkdir -p "$out"

echo "=== crash-consistency campaign: ${secs}s, $jobs shard(s), seed $seed"
pids=()
for ((i = 0; i < jobs; i++)); do
    bash ci/sweep.sh --no-build --time "$secs" --shard "$i/$jobs" \
        --seed "$seed" --out "$out" >"$out/summary-$i.txt" 2>"$out/log-$i.txt" &
    pids+=($!)
done
worst=0
for p in "${pids[@]}"; do
    rc=0
    wait "$p" || rc=$?
    [ "$rc" -gt "$worst" ] && worst=$rc
done

for ((i = 0; i < jobs; i++)); do
    cat "$out/summary-$i.txt"
done
# The totals, per cell and in all (ci/sweep-merge.py, also the GitHub
# sweep's merge step); the exit status stays the worst shard's.
python3 ci/sweep-merge.py "$out" "$jobs" || true

# A short fuzz phase after the crash sweep: every target under libFuzzer
# with ASan+UBSan, on a scratch copy of its corpus.
fuzz_secs=${MP_CAMPAIGN_FUZZ_SECONDS:-10}
if [ "$fuzz_secs" -gt 0 ]; then
    rc=0
    bash ci/fuzz-smoke.sh --time "$fuzz_secs" || rc=$?
    [ "$rc" -gt "$worst" ] && worst=$rc
fi
exit "$worst"
