#!/usr/bin/env bash
# The shim exports the libc names it interposes and nothing else (its own
# functions are hidden; a non-static one would carry faultfs_shim_).
# Usage: shim_exports.sh LIBFAULTFS_SHIM.SO
set -u
lib=$1
allowed="open open64 openat openat64 __open_2 __open64_2 __openat_2
__openat64_2 creat creat64 mmap mmap64 msync fsync fdatasync ftruncate
ftruncate64 truncate truncate64 rename renameat renameat2 unlink unlinkat
remove write pwrite pwrite64 writev pwritev pwritev64 pwritev2 pwritev64v2
fallocate fallocate64 posix_fallocate posix_fallocate64"
syms=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TWDBRV]$/ {print $3}')
[ -n "$syms" ] || { echo "FAIL: no symbols read from $lib"; exit 1; }
bad=0
for s in $syms; do
    case "$s" in faultfs_shim_*) continue ;; esac
    if ! echo "$allowed" | tr ' ' '\n' | grep -qxF "$s"; then
        echo "FAIL: unexpected export $s"
        bad=1
    fi
done
for s in open openat mmap msync fsync fdatasync ftruncate rename unlink write \
    pwrite pwritev writev fallocate; do
    echo "$syms" | grep -qx "$s" || { echo "FAIL: $s not interposed"; bad=1; }
done
[ $bad -eq 0 ] && echo "exports ok: $(echo "$syms" | tr '\n' ' ')"
exit $bad
