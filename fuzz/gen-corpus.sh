#!/usr/bin/env bash
# Regenerate the seed corpora: every fuzz/seeds/<target>/*.wl (and the
# harness's standard workloads that fit the ops codec) encoded by fuzz-tool
# into corpora/<target>/<sha1 of the content>. Files already there stay
# (fuzzer-found inputs merged in by ci/fuzz-campaign.sh --merge); --clean
# empties corpora/<target>/ first. Regressions are never touched.
#
# Usage: fuzz/gen-corpus.sh [--clean] [--tool PATH]
#   --tool  a built fuzz-tool (default: build it in build/debug)
set -euo pipefail
cd "$(dirname "$0")/.."

clean=0
tool=""
while [ $# -gt 0 ]; do
    case "$1" in
    --clean) clean=1 ;;
    --tool) tool=$2; shift ;;
    -h | --help) sed -n '2,9p' "$0" | sed -E 's/^# ?//'; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
    shift
done
if [ -z "$tool" ]; then
    cmake --preset debug >/dev/null
    cmake --build --preset debug --target fuzz-tool >/dev/null
    tool=build/debug/fuzz/fuzz-tool
fi

tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
added=0

# put TARGET: move $tmp into corpora/TARGET under its content hash.
put() {
    local name
    name=$(sha1sum "$tmp" | cut -c1-40)
    if [ ! -e "corpora/$1/$name" ]; then
        cp "$tmp" "corpora/$1/$name"
        added=$((added + 1))
    fi
}

for t in ops crash faults subpage open; do
    mkdir -p "corpora/$t" "corpora/regressions/$t"
    if [ "$clean" = 1 ]; then
        find "corpora/$t" -type f ! -name '.*' -delete
    fi
done

for t in ops crash faults subpage; do
    for wl in fuzz/seeds/$t/*.wl; do
        "$tool" encode "$t" "$wl" "$tmp"
        put "$t"
    done
done
for wl in fuzz/seeds/open/*.wl; do
    "$tool" image "$wl" "$tmp"
    put open
done

# The crash explorer's standard suite, as ops inputs (sub-page ops on for
# the sub-page workload; too large ones are skipped by the codec).
for wl in harness/workloads/*.wl; do
    hdr=00
    case "$wl" in *subpage*) hdr=01 ;; esac
    if "$tool" encode -H "$hdr" ops "$wl" "$tmp" 2>/dev/null; then
        put ops
    fi
done

echo "gen-corpus: $added new seed(s); corpora now hold:"
for t in ops crash faults subpage open; do
    printf '  %-8s %3d seeds, %3d regressions\n' "$t" \
        "$(find "corpora/$t" -type f ! -name '.*' | wc -l)" \
        "$(find "corpora/regressions/$t" -type f ! -name '.*' | wc -l)"
done
