#!/usr/bin/env python3
"""Merge the JSON reports of a sharded crash sweep (ci/sweep.sh --shard I/N
writes DIR/report-I.json) and print the campaign total.

usage: ci/sweep-merge.py DIR [N]
  DIR  holds report-I.json files (and repro-I/ directories)
  N    the shard count: reads report-0 .. report-(N-1), skipping missing
       ones; without N every report-*.json in DIR

Used by ci/campaign.sh (shards on one machine) and by the GitHub workflow's
sweep-report job (one shard per job, artifacts downloaded into one DIR).
Exit status: 0 no violation, 1 violations, 2 no report found.
"""
import glob
import json
import os
import sys

KEYS = ["workloads", "crash_points", "gaps", "fault_sites", "states",
        "violations", "fallback", "protected_old", "protected_new"]


def main(argv):
    if len(argv) not in (2, 3) or argv[1] in ("-h", "--help"):
        print(__doc__.strip(), file=sys.stderr if len(argv) < 2 else sys.stdout)
        return 0 if len(argv) == 2 else 2
    out = argv[1]
    if len(argv) == 3:
        paths = [os.path.join(out, "report-%d.json" % i)
                 for i in range(int(argv[2]))]
    else:
        paths = sorted(glob.glob(os.path.join(out, "report-*.json")))
    tot = dict.fromkeys(KEYS, 0)
    secs = 0.0
    seen = 0
    read = 0
    for path in paths:
        try:
            with open(path) as f:
                r = json.load(f)
        except (OSError, ValueError):
            continue
        read += 1
        for k in KEYS:
            tot[k] += r[k]
        secs = max(secs, r["seconds"])
        # Every shard runs every workload it reaches (taking its share of
        # the sites): the campaign covered as many as the furthest shard.
        seen = max(seen, r["workloads"])
    if read == 0:
        print("sweep-merge: no report in %s" % out, file=sys.stderr)
        return 2
    tot["workloads"] = seen
    shards = int(argv[2]) if len(argv) == 3 else read
    print("=== campaign total over %d shard(s)" % shards)
    print("  workloads %d, crash points %d, gaps %d, injected I/O errors %d" %
          (tot["workloads"], tot["crash_points"], tot["gaps"],
           tot["fault_sites"]))
    print("  states checked %d in %.1f s wall = %.0f states/s" %
          (tot["states"], secs, tot["states"] / secs if secs else 0))
    print("  fallback states %d, protected old/new %d/%d" %
          (tot["fallback"], tot["protected_old"], tot["protected_new"]))
    print("  violations %d" % tot["violations"])
    return 1 if tot["violations"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
