#!/usr/bin/env python3
"""Check the GitHub Actions workflows and the ClusterFuzzLite setup, which
cannot run on this machine, against the tree that can.

usage: ci/check-workflows.py [--workflows DIR] [--expect-errors N]
  --workflows DIR    the *.yml files to check (default .github/workflows)
  --expect-errors N  succeed only if exactly N problems are found (the
                     checker's own test, on ci/tests/workflows-bad/)

For every job and step of every workflow:
  - a step has exactly one of run: and uses:; uses: is pinned (name@ref);
  - every command line of a run: step, with ${{ matrix.X }} expanded over
    the job's matrix, is "bash|sh|python3 SCRIPT ARGS" or "SCRIPT ARGS"
    with SCRIPT a file of the tree that CI runs here: ci/test.sh,
    ci/campaign.sh, or a ci/ script they name (transitively);
  - ci/test.sh's arguments are its steps (the case labels of ci/test.sh)
    or presets of CMakePresets.json;
  - ci/sweep.sh --shard I/N jobs cover shards 0..N-1 exactly once, and
    ci/sweep-merge.py merges the same N.
And .clusterfuzzlite/: Dockerfile copies the tree and build.sh, build.sh
is executable and runs fuzz/oss-fuzz/build.sh, project.yaml's language is
the one the workflow's build_fuzzers step names.
Exit status: 0 all good, 1 problems (listed), 2 usage or parse error.
"""
import glob
import json
import os
import re
import shlex
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXPR = re.compile(r"\$\{\{\s*([^}]*?)\s*\}\}")


def read(rel):
    with open(os.path.join(ROOT, rel)) as f:
        return f.read()


def scripts_run_here():
    """ci/test.sh, ci/campaign.sh and every ci/ script they name."""
    todo = ["ci/test.sh", "ci/campaign.sh"]
    seen = set()
    while todo:
        s = todo.pop()
        if s in seen or not os.path.isfile(os.path.join(ROOT, s)):
            continue
        seen.add(s)
        for m in re.findall(r"\bci/[A-Za-z0-9_.-]+\.(?:sh|py)\b", read(s)):
            todo.append(m)
    return seen


def test_steps():
    """ci/test.sh's own steps and the configure presets."""
    steps = set()
    text = read("ci/test.sh")
    for m in re.finditer(r"^\s+([a-z|-]+)\)\s*$", text, re.M):
        steps.update(m.group(1).split("|"))
    steps.discard("*")
    presets = json.loads(read("CMakePresets.json"))
    for p in presets.get("configurePresets", []):
        if not p.get("hidden"):
            steps.add(p["name"])
    return steps


def matrix_rows(job):
    """Every combination of the job's matrix (one empty row if none)."""
    m = (job.get("strategy") or {}).get("matrix") or {}
    rows = [{}]
    for key, vals in m.items():
        if key in ("include", "exclude") or not isinstance(vals, list):
            continue
        rows = [dict(r, **{key: v}) for r in rows for v in vals]
    return rows


def expand(cmd, row):
    def sub(m):
        e = m.group(1)
        if e.startswith("matrix."):
            return str(row.get(e[len("matrix."):], "<%s?>" % e))
        return "EXPR"
    return EXPR.sub(sub, cmd)


def command_lines(run):
    """The run: text's commands, continuation lines joined."""
    lines, cur = [], ""
    for line in run.splitlines():
        line = line.rstrip()
        if line.endswith("\\"):
            cur += line[:-1] + " "
            continue
        cur += line
        if cur.strip() and not cur.strip().startswith("#"):
            lines.append(cur.strip())
        cur = ""
    return lines


def main(argv):
    wfdir = os.path.join(ROOT, ".github", "workflows")
    expect = None
    args = argv[1:]
    while args:
        a = args.pop(0)
        if a == "--workflows" and args:
            wfdir = os.path.abspath(args.pop(0))
        elif a == "--expect-errors" and args:
            expect = int(args.pop(0))
        elif a in ("-h", "--help"):
            print(__doc__.strip())
            return 0
        else:
            print("check-workflows: bad argument %s (see --help)" % a,
                  file=sys.stderr)
            return 2

    errors = []
    here = scripts_run_here()
    steps_ok = test_steps()
    files = sorted(glob.glob(os.path.join(wfdir, "*.yml")))
    if not files:
        print("check-workflows: no workflow in %s" % wfdir, file=sys.stderr)
        return 2
    shards = {}   # N -> list of I, over all sweep jobs
    merged = set()
    cflite_lang = None
    nrun = 0
    for path in files:
        name = os.path.relpath(path, ROOT)
        try:
            with open(path) as f:
                wf = yaml.safe_load(f)
        except yaml.YAMLError as e:
            print("check-workflows: %s: %s" % (name, e), file=sys.stderr)
            return 2
        jobs = (wf or {}).get("jobs") or {}
        if not jobs:
            errors.append("%s: no jobs" % name)
        for jid, job in jobs.items():
            where = "%s: job %s" % (name, jid)
            if "runs-on" not in job:
                errors.append("%s: no runs-on" % where)
            for n, step in enumerate(job.get("steps") or []):
                at = "%s step %d" % (where, n + 1)
                if ("run" in step) == ("uses" in step):
                    errors.append("%s: wants exactly one of run: and uses:" % at)
                    continue
                if "uses" in step:
                    if "@" not in step["uses"]:
                        errors.append("%s: uses %s is not pinned (name@ref)"
                                      % (at, step["uses"]))
                    if step["uses"].startswith(
                            "google/clusterfuzzlite/actions/build_fuzzers"):
                        cflite_lang = (step.get("with") or {}).get("language")
                    continue
                for row in matrix_rows(job):
                    for line in command_lines(step["run"]):
                        nrun += 1
                        errors += check_command(at, expand(line, row), here,
                                                steps_ok, shards, merged)
    for n, got in shards.items():
        if sorted(got) != list(range(n)):
            errors.append("ci/sweep.sh shards of %d: jobs run %s, want each "
                          "of 0..%d once" % (n, sorted(got), n - 1))
        if n not in merged:
            errors.append("ci/sweep.sh shards of %d: no ci/sweep-merge.py "
                          "step merges %d reports" % (n, n))
    errors += check_cflite(cflite_lang)

    for e in errors:
        print("check-workflows: " + e)
    if expect is not None:
        ok = len(errors) == expect
        print("check-workflows: %d problem(s) found, %d expected: %s"
              % (len(errors), expect, "ok" if ok else "FAIL"))
        return 0 if ok else 1
    if not errors:
        print("check-workflows: %d workflow(s), %d command(s): every one a "
              "script CI runs here; .clusterfuzzlite consistent"
              % (len(files), nrun))
    return 1 if errors else 0


def check_command(at, line, here, steps_ok, shards, merged):
    try:
        words = shlex.split(line)
    except ValueError as e:
        return ["%s: cannot parse '%s': %s" % (at, line, e)]
    if words and words[0] in ("bash", "sh", "python3"):
        words = words[1:]
    if not words:
        return ["%s: empty command '%s'" % (at, line)]
    script, args = os.path.normpath(words[0]), words[1:]
    if not os.path.isfile(os.path.join(ROOT, script)):
        return ["%s: '%s': %s is not a file of the tree" % (at, line, script)]
    if script not in here:
        return ["%s: '%s': %s is not run by CI here (ci/test.sh, "
                "ci/campaign.sh or a script they run)" % (at, line, script)]
    errs = []
    if script == "ci/test.sh":
        for a in args:
            if a not in steps_ok:
                errs.append("%s: '%s': ci/test.sh has no step '%s'"
                            % (at, line, a))
    if script == "ci/sweep.sh" and "--shard" in args:
        i = args.index("--shard")
        m = re.fullmatch(r"(\d+)/(\d+)", args[i + 1] if i + 1 < len(args)
                         else "")
        if not m or int(m.group(1)) >= int(m.group(2)):
            errs.append("%s: '%s': bad --shard" % (at, line))
        else:
            shards.setdefault(int(m.group(2)), []).append(int(m.group(1)))
    if script == "ci/sweep-merge.py" and len(args) == 2:
        merged.add(int(args[1]))
    return errs


def check_cflite(lang):
    errs = []
    d = os.path.join(ROOT, ".clusterfuzzlite")
    try:
        docker = read(".clusterfuzzlite/Dockerfile")
        build = read(".clusterfuzzlite/build.sh")
        proj = yaml.safe_load(read(".clusterfuzzlite/project.yaml")) or {}
    except OSError as e:
        return [".clusterfuzzlite: %s" % e]
    if not re.search(r"^COPY \. \$SRC/mappedpages$", docker, re.M):
        errs.append(".clusterfuzzlite/Dockerfile does not copy the tree to "
                    "$SRC/mappedpages")
    if not re.search(r"^COPY \.clusterfuzzlite/build\.sh \$SRC/$", docker,
                     re.M):
        errs.append(".clusterfuzzlite/Dockerfile does not copy build.sh")
    if not os.access(os.path.join(d, "build.sh"), os.X_OK):
        errs.append(".clusterfuzzlite/build.sh is not executable")
    m = re.search(r"\$SRC/mappedpages/([A-Za-z0-9_./-]+)", build)
    if not m or not os.path.isfile(os.path.join(ROOT, m.group(1))):
        errs.append(".clusterfuzzlite/build.sh runs no script of the tree")
    elif m.group(1) != "fuzz/oss-fuzz/build.sh":
        errs.append(".clusterfuzzlite/build.sh runs %s, not "
                    "fuzz/oss-fuzz/build.sh" % m.group(1))
    if lang is None:
        errs.append("no workflow step uses clusterfuzzlite build_fuzzers")
    elif proj.get("language") != lang:
        errs.append(".clusterfuzzlite/project.yaml language %r, the "
                    "workflow builds %r" % (proj.get("language"), lang))
    return errs


if __name__ == "__main__":
    sys.exit(main(sys.argv))
