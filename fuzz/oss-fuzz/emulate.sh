#!/usr/bin/env bash
# Run build.sh locally the way OSS-Fuzz would (no Docker needed), then
# check every binary in $OUT: it replays its seed corpus and fuzzes for a
# few seconds.
#
# Usage: fuzz/oss-fuzz/emulate.sh [libfuzzer|afl] [OUT]
#   libfuzzer (default): CC=clang, ASan+UBSan, LIB_FUZZING_ENGINE=-fsanitize=fuzzer
#   afl: CC=afl-clang-fast, LIB_FUZZING_ENGINE=/usr/lib/afl/libAFLDriver.a
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
engine=${1:-libfuzzer}
out=${2:-/tmp/mappedpages-oss-fuzz-out}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

export SRC="$work/src" WORK="$work" OUT="$out"
mkdir -p "$SRC"
ln -s "$(cd "$here/../.." && pwd)" "$SRC/mappedpages"
common="-O1 -fno-omit-frame-pointer -gline-tables-only -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION"
case "$engine" in
libfuzzer)
    export CC=clang CXX=clang++
    export CFLAGS="$common -fsanitize=address,undefined -fno-sanitize-recover=all -fsanitize=fuzzer-no-link"
    export CXXFLAGS="$CFLAGS"
    export LIB_FUZZING_ENGINE=-fsanitize=fuzzer
    ;;
afl)
    export CC=afl-clang-fast CXX=afl-clang-fast++
    export CFLAGS="$common" CXXFLAGS="$common"
    export LIB_FUZZING_ENGINE=/usr/lib/afl/libAFLDriver.a
    export AFL_QUIET=1
    ;;
*)
    echo "usage: $0 [libfuzzer|afl] [OUT]" >&2
    exit 2
    ;;
esac
rm -rf "$out"
bash "$here/build.sh"
ls -la "$out"
for bin in "$out"/fuzz_*; do
    case "$bin" in *.*) continue ;; esac
    t=$(basename "$bin")
    mkdir -p "$work/seeds/$t"
    (cd "$work/seeds/$t" && cmake -E tar xf "$out/${t}_seed_corpus.zip")
    files=$(find "$work/seeds/$t" -type f)
    if [ "$engine" = libfuzzer ]; then
        # shellcheck disable=SC2086
        "$bin" -runs=0 $files >/dev/null 2>&1
        "$bin" -max_total_time=3 -dict="$out/$t.dict" "$work/seeds/$t" >"$work/$t.log" 2>&1
        echo "$t: seeds replayed; $(grep -E '^stat::|Done' "$work/$t.log" | tail -n 1)"
    else
        # libAFLDriver replays files given on the command line.
        # shellcheck disable=SC2086
        "$bin" $files >/dev/null 2>&1
        echo "$t: seeds replayed with libAFLDriver"
    fi
done
