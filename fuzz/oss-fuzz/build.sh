#!/bin/bash -eu
# OSS-Fuzz / ClusterFuzzLite build script. Honours the contract of the
# OSS-Fuzz base-builder image: CC, CXX, CFLAGS, CXXFLAGS (sanitizer and
# coverage flags already in them), LIB_FUZZING_ENGINE (how to link the
# engine: -fsanitize=fuzzer, or the path of libAFLDriver.a and friends),
# OUT (where binaries, dictionaries, options and seed corpora go), SRC and
# WORK. Run it unchanged by OSS-Fuzz, or locally through emulate.sh.
#
# Produces in $OUT, for each target T of ops crash faults open subpage:
#   fuzz_T, fuzz_T.dict, fuzz_T.options, fuzz_T_seed_corpus.zip
# (seeds: corpora/T/ and the regression inputs corpora/regressions/T/).

if [ -n "${SRC:-}" ] && [ -d "$SRC/mappedpages" ]; then
    src="$SRC/mappedpages"
else
    src="$(cd "$(dirname "$0")/../.." && pwd)"
fi
build="${WORK:-/tmp}/mappedpages-fuzz-build"
targets="ops crash faults open subpage"
gen=()
command -v ninja >/dev/null 2>&1 && gen=(-G Ninja)

: "${CC:=clang}"
: "${CXX:=clang++}"
: "${CFLAGS:=}"
: "${CXXFLAGS:=}"
: "${LIB_FUZZING_ENGINE:?LIB_FUZZING_ENGINE must be set (e.g. -fsanitize=fuzzer)}"
: "${OUT:?OUT must be set}"
export LIB_FUZZING_ENGINE
mkdir -p "$OUT"

# Build type "None": only the flags OSS-Fuzz hands us, plus the project's
# warnings. The engine is linked by fuzz/CMakeLists.txt from
# $LIB_FUZZING_ENGINE (with the C++ driver: the engines are C++).
cmake -S "$src" -B "$build" "${gen[@]}" \
    -DCMAKE_BUILD_TYPE=None \
    -DCMAKE_C_COMPILER="$CC" -DCMAKE_CXX_COMPILER="$CXX" \
    -DCMAKE_C_FLAGS="$CFLAGS" -DCMAKE_CXX_FLAGS="$CXXFLAGS" \
    -DBUILD_TESTING=OFF -DMP_BUILD_FUZZERS=ON -DMP_FUZZ_ENGINE=oss-fuzz
bins=()
for t in $targets; do bins+=("fuzz_$t"); done
cmake --build "$build" --target "${bins[@]}" -j "$(nproc 2>/dev/null || echo 2)"

for t in $targets; do
    cp "$build/fuzz/fuzz_$t" "$OUT/fuzz_$t"
    cp "$src/fuzz/$t.dict" "$OUT/fuzz_$t.dict"
    cp "$src/fuzz/$t.options" "$OUT/fuzz_$t.options"
    rm -f "$OUT/fuzz_${t}_seed_corpus.zip"
    # Flat names (content hashes) inside the zip; cmake -E tar writes zip
    # files without needing zip(1).
    stage="$build/seeds/$t"
    rm -rf "$stage"
    mkdir -p "$stage"
    find "$src/corpora/$t" "$src/corpora/regressions/$t" -type f ! -name '.*' \
        -exec cp {} "$stage/" \;
    if [ -n "$(ls -A "$stage")" ]; then
        (cd "$stage" && cmake -E tar cf "$OUT/fuzz_${t}_seed_corpus.zip" --format=zip -- *)
    fi
done
echo "mappedpages: built $targets into $OUT"
