#!/usr/bin/env bash
# The main job: the default crash-consistency campaign. Installs what is
# missing, builds (Release), then runs the crash-state explorer over the
# standard workload suite and generated workloads for a bounded time, one
# shard per CPU, and prints the summary.
#
# Usage: ci/campaign.sh [SECONDS]
# Env:   MP_CAMPAIGN_SECONDS  time when no argument is given (default 120)
#        MP_CAMPAIGN_OUT      report directory (build/release/campaign)
#        MP_CAMPAIGN_SEED     faultfs and generator seed (default 1)
#        MP_CAMPAIGN_JOBS     shards run in parallel (default: CPUs)
#        MP_EXPLORE           an mp-explore binary to use (skips the build)
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
if command -v python3 >/dev/null 2>&1; then
    python3 - "$out" "$jobs" <<'EOF'
import json, sys
out, jobs = sys.argv[1], int(sys.argv[2])
keys = ["workloads", "crash_points", "gaps", "fault_sites", "states",
        "violations", "fallback", "protected_old", "protected_new"]
tot = dict.fromkeys(keys, 0)
secs = 0.0
seen = 0
for i in range(jobs):
    try:
        r = json.load(open(f"{out}/report-{i}.json"))
    except (OSError, ValueError):
        continue
    for k in keys:
        tot[k] += r[k]
    secs = max(secs, r["seconds"])
    # Every shard runs every workload it reaches (taking its share of the
    # sites): the campaign covered as many as the furthest shard.
    seen = max(seen, r["workloads"])
tot["workloads"] = seen
print("=== campaign total over %d shard(s)" % jobs)
print("  workloads %d, crash points %d, gaps %d, injected I/O errors %d" %
      (tot["workloads"], tot["crash_points"], tot["gaps"],
       tot["fault_sites"]))
print("  states checked %d in %.1f s wall = %.0f states/s" %
      (tot["states"], secs, tot["states"] / secs if secs else 0))
print("  fallback states %d, protected old/new %d/%d" %
      (tot["fallback"], tot["protected_old"], tot["protected_new"]))
print("  violations %d" % tot["violations"])
EOF
fi

# A short fuzz phase after the crash sweep: every target under libFuzzer
# with ASan+UBSan, on a scratch copy of its corpus.
fuzz_secs=${MP_CAMPAIGN_FUZZ_SECONDS:-10}
if [ "$fuzz_secs" -gt 0 ]; then
    rc=0
    bash ci/fuzz-smoke.sh --time "$fuzz_secs" || rc=$?
    [ "$rc" -gt "$worst" ] && worst=$rc
fi
exit "$worst"
