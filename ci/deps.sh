#!/usr/bin/env bash
# Install what the build and tests need on a fresh Debian machine, only if
# something is missing. Sourced or run; idempotent.
set -euo pipefail

mp_need=()
command -v cmake >/dev/null 2>&1 || mp_need+=(cmake)
command -v ninja >/dev/null 2>&1 || mp_need+=(ninja-build)
command -v gcc >/dev/null 2>&1 || mp_need+=(gcc)
command -v g++ >/dev/null 2>&1 || mp_need+=(g++)
command -v make >/dev/null 2>&1 || mp_need+=(make)
command -v clang >/dev/null 2>&1 || mp_need+=(clang)
# ci/check-format.sh wants exactly version 14 (Debian 12's clang-format).
{ command -v clang-format-14 || command -v clang-format; } >/dev/null 2>&1 ||
    mp_need+=(clang-format)
command -v valgrind >/dev/null 2>&1 || mp_need+=(valgrind)
command -v pkg-config >/dev/null 2>&1 || mp_need+=(pkg-config)
command -v python3 >/dev/null 2>&1 || mp_need+=(python3)
# ci/check-workflows.py parses .github/workflows/*.yml.
python3 -c 'import yaml' >/dev/null 2>&1 || mp_need+=(python3-yaml)
pkg-config --exists cmocka 2>/dev/null || mp_need+=(libcmocka-dev)
# LMDB, the outside program harness/extern crash-tests through the shim.
pkg-config --exists lmdb 2>/dev/null || mp_need+=(liblmdb-dev)
command -v mdb_dump >/dev/null 2>&1 || mp_need+=(lmdb-utils)
# Sanitizer and libFuzzer runtimes for clang.
ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.asan-x86_64.a >/dev/null 2>&1 \
    || mp_need+=(libclang-rt-dev)
if [ "${MP_WANT_AFL:-0}" = 1 ]; then
    command -v afl-fuzz >/dev/null 2>&1 || mp_need+=(afl++)
fi

if [ ${#mp_need[@]} -gt 0 ]; then
    echo "deps: installing ${mp_need[*]}"
    sudo_cmd=""
    [ "$(id -u)" = 0 ] || sudo_cmd=sudo
    export DEBIAN_FRONTEND=noninteractive
    $sudo_cmd apt-get update -qq
    $sudo_cmd apt-get install -y -qq --no-install-recommends "${mp_need[@]}" >/dev/null
fi
