#!/usr/bin/env python3
"""Merge the JSON reports of a sharded crash sweep (ci/sweep.sh --shard I/N
writes DIR/report-I.json) and print the campaign total: per device-matrix
cell and in total.

usage: ci/sweep-merge.py DIR [N]
  DIR  holds report-I.json files (and repro-I/ directories)
  N    the shard count: reads report-0 .. report-(N-1); a missing one
       counts as a shard that did not run every workload. Without N every
       report-*.json in DIR.

Used by ci/campaign.sh (shards on one machine) and by the GitHub workflow's
sweep-report job (one shard per job, artifacts downloaded into one DIR).
Exit status: 0 no violation, 1 violations, 2 no report found.
"""
import glob
import json
import os
import sys

KEYS = ["workloads", "crash_points", "gaps", "fault_sites", "states",
        "violations", "fallback", "protected_old", "protected_new",
        "states2", "violations2", "continuations", "damaged"]
CKEYS = ["states", "states2", "violations", "fallback", "protected_old",
         "protected_new", "seconds"]


def main(argv):
    if len(argv) not in (2, 3) or argv[1] in ("-h", "--help"):
        print(__doc__.strip(), file=sys.stderr if len(argv) < 2 else sys.stdout)
        return 0 if len(argv) == 2 else 2
    out = argv[1]
    if len(argv) == 3:
        jobs = int(argv[2])
        paths = [os.path.join(out, "report-%d.json" % i) for i in range(jobs)]
    else:
        paths = sorted(glob.glob(os.path.join(out, "report-*.json")))
        jobs = len(paths)
    tot = dict.fromkeys(KEYS, 0)
    cells = {}
    order = []
    secs = 0.0
    all_ran = True
    read = 0
    for path in paths:
        try:
            with open(path) as f:
                r = json.load(f)
        except (OSError, ValueError):
            all_ran = False
            continue
        read += 1
        for k in KEYS:
            tot[k] += r[k]
        secs = max(secs, r["seconds"])
        all_ran = all_ran and r["all_ran"]
        for c in r["cells"]:
            if c["cell"] not in cells:
                order.append(c["cell"])
                cells[c["cell"]] = dict.fromkeys(CKEYS, 0)
                cells[c["cell"]]["status"] = set()
            for k in CKEYS:
                if k == "seconds":
                    cells[c["cell"]][k] = max(cells[c["cell"]][k], c[k])
                else:
                    cells[c["cell"]][k] += c[k]
            cells[c["cell"]]["status"].add(c["status"])
    if read == 0:
        print("sweep-merge: no report in %s" % out, file=sys.stderr)
        return 2
    print("=== campaign total over %d shard(s)" % jobs)
    for name in order:
        c = cells[name]
        print("  cell %-14s states %d (%d after a second crash), violations "
              "%d, fallback %d, protected old/new %d/%d, %.1f s, %s" %
              (name, c["states"], c["states2"], c["violations"],
               c["fallback"], c["protected_old"], c["protected_new"],
               c["seconds"], ",".join(sorted(c["status"]))))
    print("  crash points %d, gaps %d, injected I/O errors %d" %
          (tot["crash_points"], tot["gaps"], tot["fault_sites"]))
    print("  states checked %d in %.1f s wall = %.0f states/s" %
          (tot["states"], secs, tot["states"] / secs if secs else 0))
    print("  second crashes: %d states continued, %d states, %d violations" %
          (tot["continuations"], tot["states2"], tot["violations2"]))
    print("  damaged images %d" % tot["damaged"])
    print("  fallback states %d, protected old/new %d/%d" %
          (tot["fallback"], tot["protected_old"], tot["protected_new"]))
    print("  every workload ran in every shard: %s" %
          ("yes" if all_ran else "NO"))
    print("  violations %d" % tot["violations"])
    return 1 if tot["violations"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
