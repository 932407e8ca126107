#!/usr/bin/env bash
# The shared libraries' ABI surface: libmappedpages.so exports only mp_
# names and libfaultfs.so only faultfs_ names (never the internal mp__ and
# faultfs__ ones), and each SONAME is lib<name>.so.<MP_ABI_VERSION> of
# cmake/abi.cmake. Usage: ci/check-exports.sh LIBDIR. Exit 1 on a
# violation (listed), 2 if a library is missing.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
libdir=${1:?usage: ci/check-exports.sh LIBDIR}
abi=$(sed -n 's/^set(MP_ABI_VERSION \([0-9][0-9]*\))$/\1/p' "$root/cmake/abi.cmake")
[ -n "$abi" ] || { echo "check-exports: no MP_ABI_VERSION in cmake/abi.cmake" >&2; exit 2; }

status=0
for pair in mappedpages:mp_ faultfs:faultfs_; do
    lib=${pair%%:*} prefix=${pair#*:}
    so="$libdir/lib$lib.so"
    [ -e "$so" ] || { echo "check-exports: no $so" >&2; exit 2; }
    soname=$(readelf -d "$so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
    if [ "$soname" != "lib$lib.so.$abi" ]; then
        echo "check-exports: $so has SONAME '$soname', want lib$lib.so.$abi" >&2
        status=1
    fi
    names=$(nm -D --defined-only "$so" | awk '{ print $NF }')
    n=$(printf '%s\n' "$names" | grep -c . || true)
    bad=$(printf '%s\n' "$names" | grep -v "^${prefix}[a-z0-9]" || true)
    if [ "$n" -eq 0 ]; then
        echo "check-exports: $so exports nothing" >&2
        status=1
    elif [ -n "$bad" ]; then
        echo "check-exports: $so exports names outside ${prefix}*:" >&2
        printf '  %s\n' $bad >&2
        status=1
    else
        echo "check-exports: lib$lib.so: $n symbols, all ${prefix}*, SONAME $soname"
    fi
done
exit "$status"
