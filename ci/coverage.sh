#!/usr/bin/env bash
# Clang source-based coverage of the core (core/src) reached by replaying
# the fuzz corpora (corpora/<target>/ and corpora/regressions/<target>/)
# through the standalone replayers, and then by the unit tests as well
# (every test the valgrind run runs: core, faultfs, harness). Prints line
# and branch percentages of core/src for both, also without the POSIX
# backend (io_posix.c), which only the ops target's POSIX variant (flags
# bit 1) reaches: the other targets run over faultfs only.
#
# Usage: ci/coverage.sh [--no-tests] [--no-build] [--html DIR] [--help]
#   --no-tests  corpora only
#   --html DIR  also write an HTML report of the combined profile
# Env:   MP_COVERAGE_BUILD_DIR  (default build/coverage: the coverage preset)
#        MP_COVERAGE_MIN        fail below this line % for the corpora (0)
# Exit status: 0 done (and at least MP_COVERAGE_MIN), 1 below it, 2 error.
set -euo pipefail
cd "$(dirname "$0")/.."

bdir=${MP_COVERAGE_BUILD_DIR:-build/coverage}
tests=1
build=1
html=""
min=${MP_COVERAGE_MIN:-0}
while [ $# -gt 0 ]; do
    case "$1" in
    --no-tests) tests=0 ;;
    --no-build) build=0 ;;
    --html) html=$2; shift ;;
    -h | --help) sed -n '2,15p' "$0" | sed -E 's/^# ?//'; exit 0 ;;
    *) echo "coverage: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done

# llvm tools matching the clang that built the binaries.
cc_ver=$(clang --version | sed -n 's/.*clang version \([0-9]*\).*/\1/p' | head -n 1)
profdata=$(command -v "llvm-profdata-$cc_ver" || command -v llvm-profdata)
cov=$(command -v "llvm-cov-$cc_ver" || command -v llvm-cov)

targets="ops crash faults open subpage"
if [ "$build" = 1 ]; then
    bash ci/deps.sh >/dev/null
    echo "=== build (coverage preset)"
    cmake --preset coverage -B "$bdir" >/dev/null
    cmake --build "$bdir" -j "$(nproc 2>/dev/null || echo 2)" >/dev/null
fi

prof="$bdir/coverage-profiles"
rm -rf "$prof"
mkdir -p "$prof/corpora" "$prof/tests"
prof=$(cd "$prof" && pwd)
objs=()
for t in $targets; do
    bin="$bdir/fuzz/fuzz_$t"
    # llvm-cov takes the first binary plain, the others with -object.
    if [ ${#objs[@]} -eq 0 ]; then objs+=("$bin"); else objs+=(-object "$bin"); fi
    LLVM_PROFILE_FILE="$prof/corpora/$t-%p.profraw" \
        "$bin" "corpora/$t" "corpora/regressions/$t" >/dev/null
done
"$profdata" merge -sparse "$prof"/corpora/*.profraw -o "$prof/corpora.profdata"

# report PROFDATA OBJECTS...: the TOTAL line of core/src.
report() {
    local pd=$1
    shift
    "$cov" report "$@" -instr-profile="$pd" core/src
}
summary() {
    # Columns: name regions missed cover functions missed cover lines
    # missed cover branches missed cover. Totals with and without the
    # POSIX backend.
    awk '$1 == "TOTAL" { l = $8; lm = $9; b = $11; bm = $12 }
         $1 == "io_posix.c" { pl = $8; plm = $9; pb = $11; pbm = $12 }
         END {
             printf "lines %.2f%% (%d of %d), branches %.2f%% (%d of %d)", \
                 100 * (l - lm) / l, l - lm, l, 100 * (b - bm) / b, b - bm, b
             l -= pl; lm -= plm; b -= pb; bm -= pbm
             printf "; without io_posix.c: lines %.2f%%, branches %.2f%%\n", \
                 100 * (l - lm) / l, 100 * (b - bm) / b
         }'
}

echo "=== core/src coverage from the fuzz corpora"
report "$prof/corpora.profdata" "${objs[@]}" | tee "$prof/corpora.txt"
corp=$(summary <"$prof/corpora.txt")
line_pct=$(awk '$1 == "TOTAL" { sub("%", "", $10); print $10 }' "$prof/corpora.txt")

if [ "$tests" = 1 ]; then
    # Every test valgrind runs too (the cheap ones: not the crash sweep,
    # the mutant builds, the 1 TiB file or the compile checks), each
    # writing its own profile.
    echo "=== running the unit tests (ctest -LE 'nomemcheck|fuzz-replay')"
    LLVM_PROFILE_FILE="$prof/tests/%m-%p.profraw" MPT_RESERVE=536870912 \
        ctest --test-dir "$bdir" -LE 'nomemcheck|fuzz-replay' -j "$(nproc 2>/dev/null || echo 2)" \
        >"$prof/ctest.log" 2>&1 || {
        echo "coverage: some tests failed (see $prof/ctest.log)" >&2
        tail -n 20 "$prof/ctest.log" >&2
        exit 2
    }
    tobjs=()
    while IFS= read -r tb; do
        tobjs+=(-object "$tb")
    done < <(find "$bdir" -type f -perm -u+x \( -name 'test_*' -o -name 'faultfs_core_*' \) \
        ! -name '*.*' | sort)
    "$profdata" merge -sparse "$prof"/corpora/*.profraw "$prof"/tests/*.profraw \
        -o "$prof/all.profdata"
    echo "=== core/src coverage from the corpora and the unit tests"
    report "$prof/all.profdata" "${objs[@]}" "${tobjs[@]}" | tee "$prof/all.txt"
    all=$(summary <"$prof/all.txt")
    if [ -n "$html" ]; then
        "$cov" show "${objs[@]}" "${tobjs[@]}" -instr-profile="$prof/all.profdata" \
            -format=html -output-dir="$html" core/src
    fi
elif [ -n "$html" ]; then
    "$cov" show "${objs[@]}" -instr-profile="$prof/corpora.profdata" \
        -format=html -output-dir="$html" core/src
fi

echo "=== summary (core/src)"
echo "  fuzz corpora:              $corp"
if [ "$tests" = 1 ]; then
    echo "  corpora + core unit tests: $all"
fi
if awk -v p="$line_pct" -v m="$min" 'BEGIN { exit !(p + 0 < m + 0) }'; then
    echo "coverage: corpora reach $line_pct% of core lines, below $min%" >&2
    exit 1
fi
