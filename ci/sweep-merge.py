#!/usr/bin/env python3
"""Merge the JSON reports of a sharded crash sweep (ci/sweep.sh --shard I/N
writes DIR/report-I.json) and print the campaign total: per device-matrix
cell, per commit mode (two-barrier, one-flush) and in total.

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
        "violations", "fallback", "fallback_torn_record",
        "fallback_bad_selected", "fallback_one_flush", "one_flush",
        "protected_old", "protected_new", "states2", "violations2",
        "continuations", "continuations_switch", "damaged"]
CKEYS = ["states", "states2", "violations", "fallback", "fallback_one_flush",
         "one_flush", "protected_old", "protected_new", "seconds"]
MKEYS = ["states", "states2", "damaged", "violations", "violations2",
         "fallback", "fallback_torn_record", "fallback_bad_selected",
         "fallback_one_flush", "one_flush", "protected_old", "protected_new",
         "seconds"]
MODE_NAMES = {"two": "two-barrier", "one": "one-flush"}


def add(acc, rec, keys):
    """Sum rec's keys into acc (seconds: the longest shard, they run in
    parallel). Keys an older report lacks count 0."""
    for k in keys:
        if k == "seconds":
            acc[k] = max(acc[k], rec.get(k, 0))
        else:
            acc[k] += rec.get(k, 0)


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
    modes = {}
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
        add(tot, r, KEYS)
        secs = max(secs, r["seconds"])
        all_ran = all_ran and r["all_ran"]
        for c in r["cells"]:
            if c["cell"] not in cells:
                order.append(c["cell"])
                cells[c["cell"]] = dict.fromkeys(CKEYS, 0)
                cells[c["cell"]]["status"] = set()
            add(cells[c["cell"]], c, CKEYS)
            cells[c["cell"]]["status"].add(c["status"])
        for m in r.get("modes", []):
            if m["mode"] not in modes:
                modes[m["mode"]] = dict.fromkeys(MKEYS, 0)
                modes[m["mode"]]["cells"] = m["cells"]
            add(modes[m["mode"]], m, MKEYS)
    if read == 0:
        print("sweep-merge: no report in %s" % out, file=sys.stderr)
        return 2
    print("=== campaign total over %d shard(s)" % jobs)
    for name in order:
        c = cells[name]
        print("  cell %-18s states %d (%d after a second crash), violations "
              "%d, fallback %d, one-flush %d, protected old/new %d/%d, "
              "%.1f s, %s" %
              (name, c["states"], c["states2"], c["violations"],
               c["fallback"], c["one_flush"], c["protected_old"],
               c["protected_new"], c["seconds"],
               ",".join(sorted(c["status"]))))
    for name in ("two", "one"):
        if name not in modes:
            continue
        m = modes[name]
        print("  mode %-4s (%s) %d cells: states %d (%d after a second "
              "crash, %d damaged), violations %d, fallback %d (%d torn "
              "record, %d bad selected, %d one-flush fallback), one-flush "
              "%d, protected old/new %d/%d, %.0f states/s" %
              (name, MODE_NAMES[name], m["cells"], m["states"], m["states2"],
               m["damaged"], m["violations"], m["fallback"],
               m["fallback_torn_record"], m["fallback_bad_selected"],
               m["fallback_one_flush"], m["one_flush"], m["protected_old"],
               m["protected_new"],
               m["states"] / m["seconds"] if m["seconds"] else 0))
    print("  crash points %d, gaps %d, injected I/O errors %d" %
          (tot["crash_points"], tot["gaps"], tot["fault_sites"]))
    print("  states checked %d in %.1f s wall = %.0f states/s" %
          (tot["states"], secs, tot["states"] / secs if secs else 0))
    print("  second crashes: %d states continued (%d restarted in the other "
          "mode), %d states, %d violations" %
          (tot["continuations"], tot["continuations_switch"], tot["states2"],
           tot["violations2"]))
    print("  damaged images %d" % tot["damaged"])
    print("  fallback states %d (%d torn record, %d bad selected, %d one-flush "
          "fallback), one-flush recoveries %d, protected old/new %d/%d" %
          (tot["fallback"], tot["fallback_torn_record"],
           tot["fallback_bad_selected"], tot["fallback_one_flush"],
           tot["one_flush"], tot["protected_old"], tot["protected_new"]))
    print("  every workload ran in every shard: %s" %
          ("yes" if all_ran else "NO"))
    print("  violations %d" % tot["violations"])
    return 1 if tot["violations"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
