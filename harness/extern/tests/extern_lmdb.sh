#!/usr/bin/env bash
# LMDB (Debian's liblmdb, through lmdb_driver.c) under mp-extern, crashed
# at every crash point with 3 images each (512-byte sectors: a sample of
# tears), each image checked with mdb_stat + mdb_dump (lmdb_check.sh)
# against the acks. What LMDB's documentation promises, exactly:
#   default     (pwrite + fdatasync, meta through O_DSYNC): 0 violations
#   writemap    (MDB_WRITEMAP: stores + msync): 0 violations
#   nosync      (MDB_NOSYNC): acknowledged commits are lost (> 0 found)
#   nometasync  (MDB_NOMETASYNC): every image opens and passes the check;
#               at most the last ack before the crash is lost, and that
#               loss is found (> 0)
# Usage: extern_lmdb.sh BUILD_DIR_OF_EXTERN CONFIG LMDB_DRIVER
set -u
bin=$1 cfg=$2 driver=$3
work=$(mktemp -d -p /dev/shm) || { echo "FAIL: no /dev/shm"; exit 1; }
trap 'rm -rf "$work"' EXIT
command -v mdb_dump >/dev/null && command -v mdb_stat >/dev/null ||
    { echo "FAIL: mdb_dump/mdb_stat missing: install lmdb-utils (ci/deps.sh)"; exit 1; }
fails=0
fail() {
    echo "FAIL: $*"
    fails=$((fails + 1))
}
field() { tail -n 1 "$work/out/summary.txt" | tr ' ' '\n' | sed -n "s/^$1=//p"; }

flags='' may_lose=0
case "$cfg" in
default) ;;
writemap) flags=--writemap ;;
nosync) flags=--nosync ;;
nometasync) flags=--nometasync may_lose=1 ;;
*) echo "FAIL: unknown configuration $cfg"; exit 1 ;;
esac
db=$work/db
"$bin/mp-extern" --match "$db/data.mdb" --out "$work/out" --images 3 \
    --may-lose "$may_lose" --progress 0 -q \
    --setup "rm -rf '$db'; mkdir '$db'; '$driver' $flags --init '$db' 0" \
    --check "bash '$bin/lmdb_check.sh' {}" \
    "$driver" $flags "$db" 5 >"$work/log" 2>&1
rc=$?
tail -n 3 "$work/log"
points=$(field points) images=$(field images)
[ "${points:-0}" -ge 10 ] || fail "$cfg: only ${points:-0} crash points"
[ "$images" = $((3 * points)) ] || fail "$cfg: $images images for $points points"
[ "$(field no_crash)" = 0 ] || fail "$cfg: runs without a crash image"
[ "$(wc -l <"$work/out/count.stdout")" = 5 ] || fail "$cfg: the full run did not ack 5 commits"
case "$cfg" in
default | writemap)
    [ $rc -eq 0 ] || fail "$cfg: status $rc"
    [ "$(field violations)" = 0 ] || { fail "$cfg: violations"; cat "$work/log"; }
    grep -q ": torn " "$work"/out/point-*/manifest.txt || fail "$cfg: no torn page in any image"
    ;;
nosync)
    [ "$(field lost)" -gt 0 ] || { fail "nosync: no lost acknowledged commit found"; cat "$work/log"; }
    ;;
nometasync)
    [ $rc -eq 0 ] || fail "nometasync: status $rc"
    [ "$(field check_failed)" = 0 ] || fail "nometasync: an image did not open or failed the check"
    [ "$(field lost)" = 0 ] || fail "nometasync: lost more than the last ack"
    [ "$(field lost_allowed)" -gt 0 ] || fail "nometasync: the last ack was never lost"
    ;;
esac
[ $fails -eq 0 ] && echo "extern_lmdb $cfg: all ok"
[ $fails -eq 0 ]
