#!/usr/bin/env bash
# The test command: install what is missing, then build and run every test
# under the default build (gcc, warnings as errors), ASan+UBSan (clang),
# valgrind memcheck (leaks fail) and ThreadSanitizer. Usage: ci/test.sh
# [preset...]; with no argument debug, asan, valgrind and tsan run (tsan
# runs the tests labelled "threads"). Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/deps.sh

presets=("$@")
[ ${#presets[@]} -gt 0 ] || presets=(debug asan valgrind tsan)
jobs=$(nproc 2>/dev/null || echo 2)

for p in "${presets[@]}"; do
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
