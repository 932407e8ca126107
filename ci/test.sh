#!/usr/bin/env bash
# The test command: install what is missing, then build and run every test
# under the default build (gcc, warnings as errors), ASan+UBSan (clang),
# valgrind memcheck (leaks fail) and ThreadSanitizer, then a bounded
# libFuzzer smoke run of every fuzz target. Usage: ci/test.sh [step...];
# with no argument format, debug, asan, valgrind, tsan, install, bench and
# fuzz run, in that order. Steps:
#   format   ci/check-format.sh: clang-format 14 in check mode over the tree
#   debug, asan, valgrind, tsan, or any other preset: configure, build, ctest
#            (tsan runs the tests labelled "threads", valgrind all but
#            "nomemcheck" under memcheck)
#   install  ci/check-install.sh: staged install, file list, exports,
#            headers as C11/C++11, consumers (find_package, pkg-config,
#            add_subdirectory, FetchContent; shared and static), the guide
#   bench    ci/bench-callgrind.sh: instructions per operation against
#            harness/bench/callgrind-baseline.txt (fails over +5%)
#   fuzz     ci/fuzz-smoke.sh, 30 s per target (MP_FUZZ_SMOKE_SECONDS)
# Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/deps.sh

presets=("$@")
[ ${#presets[@]} -gt 0 ] || presets=(format debug asan valgrind tsan install bench fuzz)
jobs=$(nproc 2>/dev/null || echo 2)

for p in "${presets[@]}"; do
    case "$p" in
    fuzz)
        # Builds the fuzz-libfuzzer preset itself; targets share the cores.
        bash ci/fuzz-smoke.sh --jobs "$jobs"
        continue
        ;;
    format)
        echo "=== [format] clang-format check"
        bash ci/check-format.sh
        continue
        ;;
    install)
        bash ci/check-install.sh
        continue
        ;;
    bench)
        # Builds build/release's mp-bench itself.
        echo "=== [bench] callgrind instruction counts"
        bash ci/bench-callgrind.sh
        continue
        ;;
    esac
    echo "=== [$p] configure and build"
    cmake --preset "$p" >/dev/null
    cmake --build --preset "$p" -j "$jobs"
    echo "=== [$p] test"
    case "$p" in
    valgrind)
        # -T memcheck runs every test under valgrind with
        # --error-exitcode, so a leak or memory error fails the test.
        # A 512 MiB address reservation per pager (instead of the default
        # 1 TiB) keeps valgrind's address-space manager fast.
        MPT_RESERVE=536870912 ctest --test-dir build/valgrind -T memcheck -LE nomemcheck -j "$jobs" \
            --output-on-failure --no-tests=error
        ;;
    tsan)
        ctest --preset tsan -L threads -j "$jobs"
        ;;
    asan)
        # The mutants test builds and runs deliberately broken cores: it
        # measures the explorer, not memory safety, and the debug step
        # runs it.
        ctest --preset asan -LE mutants -j "$jobs"
        ;;
    *)
        ctest --preset "$p" -j "$jobs"
        ;;
    esac
done
