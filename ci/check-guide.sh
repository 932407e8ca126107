#!/usr/bin/env bash
# docs/crash-test-your-program.md, followed end to end on a program
# outside the tree: examples/shim-demo/counter.c is copied to a scratch
# directory, built, and crash-tested with the installed mp-crashloop and
# shim; the in-place variant must fail the checks, a failing point's
# replay line must rebuild a byte-identical image that fails the same
# way, and the two-slot variant must pass every check. The summaries must
# be the ones the guide shows (its "crashloop: N points" lines, in order:
# the in-place run, then the fixed one).
#
# Usage: ci/check-guide.sh PREFIX   (an install, e.g. staged by
# ci/check-install.sh: PREFIX/bin/mp-crashloop,
# PREFIX/lib/mappedpages/libfaultfs_shim.so). Exit 0 when the guide's
# steps do what it says.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
P=$(cd "${1:?usage: ci/check-guide.sh PREFIX}" && pwd)
shim=$P/lib/mappedpages/libfaultfs_shim.so
[ -x "$P/bin/mp-crashloop" ] && [ -f "$shim" ] ||
    { echo "check-guide: no mp-crashloop or shim under $P" >&2; exit 2; }
export PATH="$P/bin:$PATH"
fail() { echo "check-guide: $*" >&2; exit 1; }

dir=$(mktemp -d "${TMPDIR:-/tmp}/mp-guide.XXXXXX")
trap 'rm -rf "$dir"' EXIT
cp "$root/examples/shim-demo/counter.c" "$root/examples/shim-demo/Makefile" "$dir/"
cd "$dir"
make -s
db=$dir/counter.db
guide=$root/docs/crash-test-your-program.md
mapfile -t want < <(grep -E '^crashloop: [0-9]+ points' "$guide")
[ ${#want[@]} -eq 2 ] || fail "$guide: want 2 'crashloop: N points' lines, found ${#want[@]}"
mapfile -t wantpts < <(grep -E '^crashloop: failing points' "$guide")

# 1. The in-place variant: crashloop must find violations.
set +e
mp-crashloop -q --match "$db" --images 4 --out out \
    --check "./counter check {}/counter.db" ./counter run "$db" 5 --in-place >loop.txt
rc=$?
set -e
cat loop.txt | tail -3 | sed 's/^/  /'
[ $rc -eq 1 ] || fail "in-place run: crashloop exit $rc, want 1"
[ "$(sed -n 1p out/summary.txt)" = "${want[0]}" ] &&
    [ "$(sed -n 2p out/summary.txt)" = "${wantpts[0]}" ] ||
    fail "in-place run: summary differs from the guide's: $(cat out/summary.txt)"
grep -q '^crashloop: .* [1-9][0-9]* failed$' out/summary.txt ||
    fail "in-place run: no failed check in the summary"
k=$(sed -n 's/^crashloop: failing points: \([0-9]*\).*/\1/p' out/summary.txt)
[ -n "$k" ] || fail "no failing point listed"
pt=out/point-$(printf '%04d' "$k")
img=$(cd "$pt" && grep -l VIOLATION img-*.check | head -1)
img=${img%.check}
echo "  first failing point $k, $img: $(cat "$pt/$img.check")"

# 2. Replay it from the manifest's replay line, by hand.
replay=$(sed -n 's/^replay: //p' "$pt/manifest.txt")
[ -n "$replay" ] || fail "$pt/manifest.txt has no replay line"
set +e
env LD_PRELOAD="$shim" FAULTFS_SHIM_MATCH="$db" FAULTFS_SHIM_OUT="$dir/replay" \
    $replay ./counter run "$db" 5 --in-place >/dev/null 2>replay.err
rc=$?
set -e
[ $rc -eq 77 ] || fail "replay exited $rc, want 77: $(cat replay.err)"
cmp "replay/$img/counter.db" "$pt/$img/counter.db" ||
    fail "the replayed image differs from the crashloop one"
if ./counter check "replay/$img/counter.db" >replay.check; then
    fail "the replayed image passes the check: $(cat replay.check)"
fi
grep -q '^VIOLATION' replay.check || fail "replay check: $(cat replay.check)"
echo "  replayed ($replay): byte-identical image, same violation"

# 3. The two-slot variant passes every check.
mp-crashloop -q --match "$db" --images 4 --out out-safe \
    --check "./counter check {}/counter.db" ./counter run "$db" 5 >loop.txt ||
    fail "two-slot run failed: $(cat loop.txt)"
[ "$(cat out-safe/summary.txt)" = "${want[1]}" ] ||
    fail "two-slot run: '$(cat out-safe/summary.txt)', the guide says '${want[1]}'"
sed 's/^/  /' out-safe/summary.txt
