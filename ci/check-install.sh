#!/usr/bin/env bash
# The library as others use it (README.md, "Install"), end to end: build
# with the tools, install into a staging directory (DESTDIR), then check
#  - the installed file list (every public header, static and shared
#    libraries with their SONAME links, the CMake package, the pkg-config
#    files, the tools and the shim), and the lib and tools components;
#  - the shared libraries' exports and SONAME (ci/check-exports.sh) and
#    every installed header alone as C11 and C++11 (ci/check-headers.sh);
#  - each tool's --help (man-style: usage, description, exit status);
#  - examples/consumer/ copied outside the tree and built against the
#    staged install with find_package and with pkg-config, each shared and
#    static (the binaries' NEEDED entries say which), and run;
#  - the same consumer with add_subdirectory and with FetchContent (from a
#    tarball of this checkout: nothing is downloaded), and a top-level
#    build with -DMP_BUILD_TOOLS=OFF -DBUILD_TESTING=OFF, both without
#    pkg-config or cmocka;
#  - docs/crash-test-your-program.md followed on examples/shim-demo/
#    (ci/check-guide.sh).
#
# Usage: ci/check-install.sh [--keep]   (--keep: leave the work directory)
# Builds in build/install and build/install-core; exits non-zero on the
# first failure.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
keep=0
[ "${1:-}" = --keep ] && keep=1
jobs=$(nproc 2>/dev/null || echo 2)
work=$(mktemp -d "${TMPDIR:-/tmp}/mp-install.XXXXXX")
[ "$keep" = 1 ] || trap 'rm -rf "$work"' EXIT
prefix=/usr/local
abi=$(sed -n 's/^set(MP_ABI_VERSION \([0-9][0-9]*\))$/\1/p' cmake/abi.cmake)
ver=$(for p in MAJOR MINOR PATCH; do
    sed -n "s/^#define MP_VERSION_$p \([0-9][0-9]*\).*/\1/p" \
        core/include/mappedpages/pager.h
done | paste -sd.)
say() { echo "=== [install] $*"; }
fail() { echo "check-install: $*" >&2; exit 1; }
# Configure quietly, but show everything if it fails.
quiet() { "$@" >"$work/log" 2>&1 || { cat "$work/log" >&2; return 1; }; }

say "build (Release, tools, no tests: README.md's flags; no pkg-config) and stage into DESTDIR"
quiet cmake -S . -B build/install -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DMP_WERROR=ON -DBUILD_TESTING=OFF -DCMAKE_DISABLE_FIND_PACKAGE_PkgConfig=ON
cmake --build build/install -j "$jobs" | tail -1
stage=$work/stage
P=$stage$prefix
DESTDIR=$stage quiet cmake --install build/install --prefix "$prefix"
DESTDIR=$work/c-lib quiet cmake --install build/install --prefix "$prefix" \
    --component lib
DESTDIR=$work/c-tools quiet cmake --install build/install --prefix "$prefix" \
    --component tools

say "installed files ($P)"
list() { (cd "$1" && find . ! -type d | sed 's|^\./||' | LC_ALL=C sort); }
{
    (cd core/include && find . -name '*.h' | sed 's|^\./|include/|')
    echo include/faultfs.h
    for t in mp-bench mp-check mp-crashloop mp-explore; do echo "bin/$t"; done
    for l in mappedpages faultfs; do
        echo "lib/lib$l.a"
        echo "lib/lib$l.so"
        echo "lib/lib$l.so.$abi"
        echo "lib/lib$l.so.$ver"
        echo "lib/pkgconfig/$l.pc"
    done
    for f in Config ConfigVersion StaticTargets StaticTargets-release \
        SharedTargets SharedTargets-release; do
        echo "lib/cmake/mappedpages/mappedpages$f.cmake"
    done
    echo lib/mappedpages/crashloop.sh
    echo lib/mappedpages/libfaultfs_shim.so
} | LC_ALL=C sort >"$work/want"
list "$P" >"$work/got"
diff -u "$work/want" "$work/got" || fail "installed file list differs (- wanted, + got)"
sed 's/^/  /' "$work/got"
for l in mappedpages faultfs; do
    [ "$(readlink "$P/lib/lib$l.so")" = "lib$l.so.$abi" ] &&
        [ "$(readlink "$P/lib/lib$l.so.$abi")" = "lib$l.so.$ver" ] ||
        fail "lib$l.so symlinks: want lib$l.so -> .so.$abi -> .so.$ver"
done
list "$work/c-lib$prefix" >"$work/got-lib"
list "$work/c-tools$prefix" >"$work/got-tools"
grep -v '^include/\|^lib/lib\|^lib/cmake/\|^lib/pkgconfig/' "$work/got-lib" &&
    fail "component lib installs more than headers, libraries, cmake, pkgconfig"
grep -v '^bin/\|^lib/mappedpages/' "$work/got-tools" &&
    fail "component tools installs more than bin/ and lib/mappedpages/"
LC_ALL=C sort "$work/got-lib" "$work/got-tools" | diff -u "$work/got" - ||
    fail "components lib + tools differ from the full install"
echo "  components: lib $(wc -l <"$work/got-lib") files, tools $(wc -l <"$work/got-tools") files, together the full install"

say "exports, SONAME and headers"
bash ci/check-exports.sh "$P/lib"
bash ci/check-headers.sh "$P/include" "$P/lib"

say "tools: man-style --help"
for t in mp-check mp-explore mp-bench mp-crashloop; do
    "$P/bin/$t" --help >"$work/help" 2>&1 || fail "$t --help failed"
    for want in '^usage: ' '^Exit status' '^  -'; do
        grep -q "$want" "$work/help" ||
            fail "$t --help has no '$want' line (usage, options, exit status)"
    done
    # A description: a line of prose, not usage, options or exit status.
    grep -vE '^(usage|Exit status)' "$work/help" |
        grep -qE '^[A-Z][a-z]+ [A-Za-z]+ ' || fail "$t --help has no description"
    echo "  $t --help: $(wc -l <"$work/help") lines"
done

say "consumer (examples/consumer, copied outside the tree)"
cp -r examples/consumer "$work/consumer-src"
expect_output() { # output-file
    grep -q "^mappedpages $ver\$" "$1" &&
        grep -q "^reopened .*; 4 pages and 1 protected page read back\$" "$1" ||
        fail "consumer printed: $(cat "$1")"
}
run_consumer() { # dir kind label
    local d=$1 kind=$2 label=$3 needed
    for exe in consumer consumer_crash; do
        needed=$(readelf -d "$d/$exe" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
        if [ "$kind" = shared ]; then
            echo "$needed" | grep -qx "libmappedpages.so.$abi" ||
                fail "$label $exe: not linked to libmappedpages.so.$abi ($needed)"
            [ "$exe" = consumer ] || echo "$needed" | grep -qx "libfaultfs.so.$abi" ||
                fail "$label $exe: not linked to libfaultfs.so.$abi ($needed)"
        elif echo "$needed" | grep -q 'libmappedpages\|libfaultfs'; then
            fail "$label $exe: static build needs $needed"
        fi
    done
    (cd "$d" && LD_LIBRARY_PATH=$P/lib ./consumer "$d/demo.mp") >"$d/out"
    (cd "$d" && LD_LIBRARY_PATH=$P/lib ./consumer_crash) >>"$d/out"
    expect_output "$d/out"
    grep -q '^faultfs: [0-9]* crash points, [1-9][0-9]* images opened' "$d/out" ||
        fail "$label consumer_crash printed: $(cat "$d/out")"
    echo "  $label ($kind):"
    sed 's/^/    /' "$d/out"
}
for kind in shared static; do
    static=OFF
    [ "$kind" = static ] && static=ON
    b=$work/cmake-$kind
    quiet cmake -S "$work/consumer-src" -B "$b" -G Ninja \
        -DCMAKE_PREFIX_PATH="$P" -DMAPPEDPAGES_USE_STATIC_LIBS=$static
    grep -q "mappedpages $ver ($kind) from $P/lib/cmake/mappedpages" "$work/log" ||
        fail "find_package did not report the $kind package: $(cat "$work/log")"
    quiet cmake --build "$b"
    run_consumer "$b" $kind "find_package"

    m=$work/make-$kind
    cp -r "$work/consumer-src" "$m"
    mflags=()
    [ "$kind" = static ] && mflags=(STATIC=1)
    PKG_CONFIG_PATH=$P/lib/pkgconfig quiet make -C "$m" "${mflags[@]}"
    run_consumer "$m" $kind "pkg-config"
done

say "consumer with add_subdirectory and FetchContent (no pkg-config, no cmocka)"
b=$work/subdir
quiet cmake -S "$work/consumer-src" -B "$b" -G Ninja \
    -DMAPPEDPAGES_FROM=subdirectory -DMAPPEDPAGES_SOURCE_DIR="$root" \
    -DCMAKE_DISABLE_FIND_PACKAGE_PkgConfig=ON
[ ! -e "$b/mappedpages/harness" ] && [ ! -e "$b/mappedpages/fuzz" ] ||
    fail "add_subdirectory configured the harness or the fuzzers"
quiet cmake --build "$b"
[ -z "$(find "$b/mappedpages" -name 'lib*.so*')" ] ||
    fail "add_subdirectory built shared libraries (MP_BUILD_SHARED should be off)"
run_consumer "$b" static "add_subdirectory"
tar -C "$root" --exclude=./build --exclude='./build-*' --exclude=./.git \
    --exclude=./Testing \
    -czf "$work/mappedpages-src.tar.gz" .
b=$work/fetch
quiet cmake -S "$work/consumer-src" -B "$b" -G Ninja \
    -DMAPPEDPAGES_FROM=fetchcontent -DMAPPEDPAGES_URL="$work/mappedpages-src.tar.gz" \
    -DCMAKE_DISABLE_FIND_PACKAGE_PkgConfig=ON
quiet cmake --build "$b"
run_consumer "$b" static "FetchContent"

say "libraries only: -DMP_BUILD_TOOLS=OFF -DBUILD_TESTING=OFF (no pkg-config, no cmocka)"
quiet cmake -S . -B build/install-core -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DMP_WERROR=ON -DMP_BUILD_TOOLS=OFF -DBUILD_TESTING=OFF \
    -DCMAKE_DISABLE_FIND_PACKAGE_PkgConfig=ON
cmake --build build/install-core -j "$jobs" | tail -1
DESTDIR=$work/core quiet cmake --install build/install-core --prefix "$prefix"
list "$work/core$prefix" >"$work/got-core"
diff -u "$work/got-lib" "$work/got-core" ||
    fail "the libraries-only install differs from component lib"
echo "  installed: the $(wc -l <"$work/got-core") files of component lib, no tools"

say "the guide: crash-test your own program (docs/crash-test-your-program.md)"
bash ci/check-guide.sh "$P"
say "all install checks passed"
