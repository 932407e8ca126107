#!/usr/bin/env bash
# The test command: install what is missing, then build and run every test
# under the default build (gcc, warnings as errors), ASan+UBSan (clang),
# valgrind memcheck (leaks fail) and ThreadSanitizer, then a bounded
# libFuzzer smoke run of every fuzz target. Usage: ci/test.sh [preset...];
# with no argument debug, asan, valgrind, tsan and fuzz run (tsan runs the
# tests labelled "threads"; fuzz is ci/fuzz-smoke.sh, 30 s per target,
# MP_FUZZ_SMOKE_SECONDS to change). Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/deps.sh

presets=("$@")
[ ${#presets[@]} -gt 0 ] || presets=(debug asan valgrind tsan fuzz)
jobs=$(nproc 2>/dev/null || echo 2)

for p in "${presets[@]}"; do
    if [ "$p" = fuzz ]; then
        # Builds the fuzz-libfuzzer preset itself; targets share the cores.
        bash ci/fuzz-smoke.sh --jobs "$jobs"
        continue
    fi
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
    *)
        ctest --preset "$p" -j "$jobs"
        ;;
    esac
done
