#!/usr/bin/env bash
# A bad FAULTFS_SHIM_* value stops the program before main with status 2
# and a message naming the variable; good ones run it. Also the exit
# status contract of crash mode and crashloop.sh's usage errors.
# Usage: shim_config_errors.sh LIBFAULTFS_SHIM.SO SHIM_WRITER
set -u
shim=$1 writer=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fails=0

# expect STATUS TEXT VAR=VALUE... : run the writer under the shim with
# exactly these variables; want STATUS and TEXT in its stderr.
expect() {
    local want=$1 text=$2
    shift 2
    env -i PATH="$PATH" LD_PRELOAD="$shim" "$@" \
        "$writer" "$work/data.bin" "$work/prog.txt" >"$work/out" 2>"$work/err"
    local rc=$?
    if [ $rc -ne "$want" ] || { [ -n "$text" ] && ! grep -qF -- "$text" "$work/err"; }; then
        echo "FAIL: $* -> status $rc (want $want), stderr:"
        sed 's/^/    /' "$work/err"
        echo "    (wanted: $text)"
        fails=$((fails + 1))
    else
        echo "ok: $* -> $rc: $(head -n 1 "$work/err")"
    fi
}

m=FAULTFS_SHIM_MATCH=$work/data.bin
expect 2 "FAULTFS_SHIM_MATCH: not set" FAULTFS_SHIM_COUNT=1
expect 2 "a path prefix must be absolute" FAULTFS_SHIM_MATCH=data.bin FAULTFS_SHIM_COUNT=1
expect 2 "set FAULTFS_SHIM_COUNT=1" "$m"
expect 2 "set one of them, not both" "$m" FAULTFS_SHIM_COUNT=1 FAULTFS_SHIM_CRASH_AT=3
expect 2 "FAULTFS_SHIM_COUNT=yes: must be 0 or 1" "$m" FAULTFS_SHIM_COUNT=yes
expect 2 "FAULTFS_SHIM_CRASH_AT=abc" "$m" FAULTFS_SHIM_CRASH_AT=abc FAULTFS_SHIM_OUT="$work/o"
expect 2 "FAULTFS_SHIM_CRASH_AT=0" "$m" FAULTFS_SHIM_CRASH_AT=0 FAULTFS_SHIM_OUT="$work/o"
expect 2 "FAULTFS_SHIM_OUT: not set" "$m" FAULTFS_SHIM_CRASH_AT=3
expect 2 "FAULTFS_SHIM_SECTOR=3: must be a power of two" "$m" FAULTFS_SHIM_COUNT=1 FAULTFS_SHIM_SECTOR=3
expect 2 "FAULTFS_SHIM_SECTOR=1048576" "$m" FAULTFS_SHIM_COUNT=1 FAULTFS_SHIM_SECTOR=1048576
expect 2 "FAULTFS_SHIM_IMAGES=0" "$m" FAULTFS_SHIM_COUNT=1 FAULTFS_SHIM_IMAGES=0
expect 2 "FAULTFS_SHIM_SEED=-1" "$m" FAULTFS_SHIM_COUNT=1 FAULTFS_SHIM_SEED=-1
expect 2 "FAULTFS_SHIM_GARBAGE=2" "$m" FAULTFS_SHIM_COUNT=1 FAULTFS_SHIM_GARBAGE=2
expect 2 "FAULTFS_SHIM_EXIT_CODE=2" "$m" FAULTFS_SHIM_COUNT=1 FAULTFS_SHIM_EXIT_CODE=2
expect 2 "FAULTFS_SHIM_LOG=$work/no/such/dir" "$m" FAULTFS_SHIM_COUNT=1 FAULTFS_SHIM_LOG="$work/no/such/dir"

# Good configurations.
expect 0 "19 crash points" "$m" FAULTFS_SHIM_COUNT=1
expect 0 "19 crash points" "$m" FAULTFS_SHIM_COUNT=1 FAULTFS_SHIM_SEED=0xfeed FAULTFS_SHIM_SECTOR=1
expect 77 "" "$m" FAULTFS_SHIM_CRASH_AT=9 FAULTFS_SHIM_OUT="$work/o77"
expect 5 "" "$m" FAULTFS_SHIM_CRASH_AT=9 FAULTFS_SHIM_OUT="$work/o5" FAULTFS_SHIM_EXIT_CODE=5
expect 0 "crash point 20 not reached: this run had 19 crash points" "$m" FAULTFS_SHIM_CRASH_AT=20 FAULTFS_SHIM_OUT="$work/o20"
# A process that tracked nothing stays silent (wrappers, children).
expect 0 "" FAULTFS_SHIM_MATCH="$work/other" FAULTFS_SHIM_CRASH_AT=1 FAULTFS_SHIM_OUT="$work/o"
if [ -s "$work/err" ]; then
    echo "FAIL: an untracked run wrote to stderr"
    fails=$((fails + 1))
fi
if [ ! -f "$work/o77/manifest.txt" ] || [ ! -f "$work/o77/img-1/data.bin" ]; then
    echo "FAIL: crash at point 9 wrote no image"
    fails=$((fails + 1))
fi

# crashloop.sh: help, and usage errors with status 2.
loop=$(dirname "$shim")/crashloop.sh
bash "$loop" --help | grep -q '^usage: crashloop.sh' || { echo "FAIL: --help"; fails=$((fails + 1)); }
for args in "" "--match x" "--bogus x" "--match x --images many true"; do
    # shellcheck disable=SC2086
    bash "$loop" $args >/dev/null 2>&1
    rc=$?
    if [ $rc -ne 2 ]; then
        echo "FAIL: crashloop.sh $args -> $rc (want 2)"
        fails=$((fails + 1))
    fi
done
(cd "$work" && bash "$loop" --shim "$shim" --match "$work/nothing" "$writer" "$work/data.bin" "$work/prog.txt") >"$work/out" 2>&1
rc=$?
if [ $rc -ne 2 ] || ! grep -q "no crash points" "$work/out"; then
    echo "FAIL: crashloop.sh with nothing matched -> $rc"
    cat "$work/out"
    fails=$((fails + 1))
fi

[ $fails -eq 0 ] && echo "shim_config_errors: all ok" || echo "shim_config_errors: $fails failed"
[ $fails -eq 0 ]
