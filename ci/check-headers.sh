#!/usr/bin/env bash
# Every public header compiles alone: as C11 (gcc and clang, -Wall -Wextra
# -Wpedantic -Werror) and as C++11 (g++ and clang++ -fsyntax-only), and in
# C++ every function it declares that a library exports has C linkage
# (extern "C"): a C++ object taking each one's address must refer to the
# plain, unmangled name.
#
# Usage: ci/check-headers.sh INCLUDEDIR LIBDIR
#   INCLUDEDIR  an installed include directory (mappedpages.h, faultfs.h,
#               mappedpages/*.h)
#   LIBDIR      where libmappedpages.so and libfaultfs.so are (their
#               exported names are the functions looked for)
# Exit 1 on a failure (the compiler's message is shown), 2 on setup errors.
set -euo pipefail
inc=${1:?usage: ci/check-headers.sh INCLUDEDIR LIBDIR}
libdir=${2:?usage: ci/check-headers.sh INCLUDEDIR LIBDIR}
inc=$(cd "$inc" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mp-headers.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

ccs=() cxxs=()
for c in gcc clang; do command -v $c >/dev/null && ccs+=($c); done
for c in g++ clang++; do command -v $c >/dev/null && cxxs+=($c); done
[ ${#ccs[@]} -gt 0 ] && [ ${#cxxs[@]} -gt 0 ] ||
    { echo "check-headers: need a C and a C++ compiler" >&2; exit 2; }
exported=$(for l in mappedpages faultfs; do
    nm -D --defined-only "$libdir/lib$l.so" | awk '{ print $NF }'
done | LC_ALL=C sort -u)
[ -n "$exported" ] || { echo "check-headers: no exports in $libdir" >&2; exit 2; }

headers=$(cd "$inc" && find . -name '*.h' | sed 's|^\./||' | sort)
[ -n "$headers" ] || { echo "check-headers: no headers in $inc" >&2; exit 2; }
status=0 n=0
for h in $headers; do
    n=$((n + 1))
    printf '#include <%s>\n' "$h" >"$tmp/one.c"
    for cc in "${ccs[@]}"; do
        if ! $cc -std=c11 -Wall -Wextra -Wpedantic -Werror -fsyntax-only \
            -I"$inc" "$tmp/one.c" 2>"$tmp/err"; then
            echo "check-headers: $h does not compile alone as C11 ($cc):" >&2
            cat "$tmp/err" >&2
            status=1
        fi
    done
    # The exported functions declared once this header is included (its
    # own and those of the headers it includes): an exported name followed
    # by "(" in the preprocessed C++ text (comments gone).
    ${cxxs[0]} -std=c++11 -E -P -I"$inc" -x c++ "$tmp/one.c" >"$tmp/pp" ||
        { echo "check-headers: $h: preprocessing failed" >&2; status=1; continue; }
    funs=$(grep -oE '\b(mp|faultfs)_[A-Za-z0-9_]*[[:space:]]*\(' "$tmp/pp" |
        tr -d ' \t(' | LC_ALL=C sort -u | comm -12 - <(printf '%s\n' $exported) || true)
    {
        printf '#include <%s>\n' "$h"
        printf 'void (*mp_check_headers_refs[])(void) = {\n'
        for f in $funs; do printf '    (void (*)(void))&%s,\n' "$f"; done
        printf '    0};\n'
    } >"$tmp/one.cpp"
    for cxx in "${cxxs[@]}"; do
        if ! $cxx -std=c++11 -Wall -Wextra -Wpedantic -Werror -fsyntax-only \
            -I"$inc" -x c++ "$tmp/one.cpp" 2>"$tmp/err"; then
            echo "check-headers: $h does not compile alone as C++11 ($cxx):" >&2
            cat "$tmp/err" >&2
            status=1
        fi
    done
    [ -n "$funs" ] || continue
    printf '%s\n' $funs >>"$tmp/all-funs"
    if ! ${cxxs[0]} -std=c++11 -c -o "$tmp/one.o" -I"$inc" -x c++ \
        "$tmp/one.cpp" 2>"$tmp/err"; then
        cat "$tmp/err" >&2
        status=1
        continue
    fi
    mangled=$(nm -u "$tmp/one.o" | awk '{ print $NF }' | grep '^_Z' || true)
    if [ -n "$mangled" ]; then
        echo "check-headers: $h declares functions without C linkage in C++:" >&2
        printf '  %s\n' $mangled >&2
        status=1
    fi
done
nfun=$(sort -u "$tmp/all-funs" 2>/dev/null | grep -c . || true)
[ "$status" = 0 ] &&
    echo "check-headers: $n headers alone as C11 (${ccs[*]}) and C++11 (${cxxs[*]}); $nfun exported functions with C linkage"
exit "$status"
