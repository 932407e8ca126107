#!/usr/bin/env bash
# The model of each syscall, one scenario each (shim_calls.c): crash at
# every point with 16 images, then check the bytes and sizes the images
# may and must hold. FILE starts as 4 pages of '.' before every run.
# Usage: shim_calls.sh BUILD_DIR_OF_SHIM SHIM_CALLS SCENARIO
# (one ctest test per scenario: shim_calls_<scenario>)
set -u
bin=$1 prog=$2 only=$3
work=$(mktemp -d -p /dev/shm) || { echo "FAIL: no /dev/shm"; exit 1; }
trap 'rm -rf "$work"' EXIT
mkdir "$work/d" || exit 1
P=$(getconf PAGESIZE)
fails=0
fail() {
    echo "FAIL: $*"
    fails=$((fails + 1))
}

run() { # run SCENARIO NPOINTS: crash at every point
    scen=$1
    out=$work/$scen
    bash "$bin/crashloop.sh" --match "$work/d/f" --out "$out" --images 16 \
        --setup "rm -f '$work'/d/*; head -c $((4 * P)) /dev/zero | tr '\\0' . >'$work/d/f'" \
        "$prog" "$scen" "$work/d/f" >"$out.log" 2>&1 ||
        { fail "$scen: crashloop status $?"; cat "$out.log"; }
    grep -q "^crashloop: $2 points, $2 runs, $((16 * $2)) images" "$out.log" ||
        { fail "$scen: expected $2 crash points"; cat "$out.log"; }
}
# The crash points' labels, paths relative to the directory, must be
# exactly the lines given on stdin.
labels() {
    local want
    want=$(cat)
    sed "s|$work/d/||g" "$out/points.log" | diff - <(printf '%s\n' "$want") >"$out.labels" ||
        { fail "$scen: crash point labels differ (< got, > expected)"; cat "$out.labels"; }
}

# The byte at OFF of NAME in every image of point K, in hex ('--' when the
# file is absent or shorter), one per line.
bytes() { # bytes K NAME OFF
    local d
    for d in "$out"/point-"$(printf %04d "$1")"/img-*/; do
        if [ -f "$d/$2" ] && [ "$(stat -c %s "$d/$2")" -gt "$3" ]; then
            od -An -tx1 -j "$3" -N1 "$d/$2" | tr -d ' '
        else
            echo --
        fi
    done
}
sizes() { # sizes K NAME
    local d
    for d in "$out"/point-"$(printf %04d "$1")"/img-*/; do
        stat -c %s "$d/$2" 2>/dev/null || echo --
    done
}
# all K NAME OFF HEX...: every image holds one of the values there.
all() {
    local k=$1 n=$2 off=$3 v
    shift 3
    for v in $(bytes "$k" "$n" "$off"); do
        case " $* " in *" $v "*) ;; *) fail "$scen point $k: $n byte $off is $v, not one of: $*"; return ;; esac
    done
}
# some K NAME OFF HEX: at least one image holds it.
some() {
    bytes "$1" "$2" "$3" | grep -qxe "$4" || fail "$scen point $1: no image has $4 at $2 byte $3"
}
all_size() { # all_size K NAME SIZE...
    local k=$1 n=$2 v
    shift 2
    for v in $(sizes "$k" "$n"); do
        case " $* " in *" $v "*) ;; *) fail "$scen point $k: $n size $v, not one of: $*"; return ;; esac
    done
}
some_size() { sizes "$1" "$2" | grep -qxe "$3" || fail "$scen point $1: no image of size $3"; }

dot=2e
# A plain pwrite is volatile: old, new or torn until the fsync.
scenario_pwrite() {
    run pwrite 4
    labels <<EOF
1 after pwrite f [0,$((P)))
2 before fsync f
3 during fsync f [0,$((4 * P)))
4 after fsync f
EOF
    all 1 f 0 $dot 41; some 1 f 0 $dot; some 1 f 0 41; all 1 f $P $dot
    all 4 f 0 41; all 4 f $((P - 1)) 41
}
# write and writev at the file offset; fdatasync makes both durable.
scenario_write() {
    run write 5
    labels <<EOF
1 after write f [$((P)),$((2 * P)))
2 after writev f [$((2 * P)),$((3 * P)))
3 before fdatasync f
4 during fdatasync f [0,$((4 * P)))
5 after fdatasync f
EOF
    some 1 f $P $dot; some 1 f $P 42; all 1 f $((2 * P)) $dot
    all 2 f $((2 * P)) $dot 43; all 2 f $((2 * P + P / 2)) $dot 63
    all 5 f $P 42; all 5 f $((2 * P)) 43; all 5 f $((2 * P + P / 2)) 63
}
# O_DSYNC: each pwrite is durable when it returns, a growth included.
scenario_dsync() {
    run dsync 6
    labels <<EOF
1 before pwrite f [0,$((P))) (dsync)
2 during pwrite f [0,$((P))) (dsync)
3 after pwrite f [0,$((P))) (dsync)
4 before pwrite f [$((5 * P)),$((6 * P))) (dsync)
5 during pwrite f [$((5 * P)),$((6 * P))) (dsync)
6 after pwrite f [$((5 * P)),$((6 * P))) (dsync)
EOF
    all 1 f 0 $dot; all_size 1 f $((4 * P))
    all 2 f 0 $dot 44
    all 3 f 0 44; all_size 3 f $((4 * P))
    all 4 f 0 44; all_size 4 f $((4 * P))
    all_size 5 f $((4 * P)) $((6 * P))
    all 6 f $((5 * P)) 45; all 6 f 0 44; all_size 6 f $((6 * P))
}
# O_SYNC|O_APPEND write: lands at the end, size and data durable.
scenario_osync() {
    run osync 3
    labels <<EOF
1 before write f [$((4 * P)),$((5 * P))) (sync)
2 during write f [$((4 * P)),$((5 * P))) (sync)
3 after write f [$((4 * P)),$((5 * P))) (sync)
EOF
    all_size 1 f $((4 * P))
    all 3 f $((4 * P)) 53; all_size 3 f $((5 * P))
}
# pwritev2: RWF_DSYNC syncs, no flag does not.
scenario_rwf() {
    run rwf 4
    labels <<EOF
1 before pwritev2 f [0,$((P))) (dsync)
2 during pwritev2 f [0,$((P))) (dsync)
3 after pwritev2 f [0,$((P))) (dsync)
4 after pwritev2 f [$((P)),$((2 * P)))
EOF
    all 3 f 0 52; all 4 f 0 52; some 4 f $P $dot; some 4 f $P 72
}
# sync_file_range is not a sync: page 0 may still be old afterwards.
scenario_sfr() {
    run sfr 5
    labels <<EOF
1 after pwrite f [0,$((P)))
2 after pwrite f [$((3 * P)),$((4 * P)))
3 before fsync f
4 during fsync f [0,$((4 * P)))
5 after fsync f
EOF
    some 2 f 0 $dot; some 2 f 0 46; all 5 f 0 46; all 5 f $((3 * P)) 47
}
# fallocate and posix_fallocate change the size, durable at fsync; the
# punched hole is a dirty page (zeros) until then.
scenario_falloc() {
    run falloc 6
    labels <<EOF
1 after fallocate f [0,$((8 * P))) mode 0
2 after fallocate f [$((P)),$((2 * P))) mode 3
3 after posix_fallocate f [0,$((10 * P))) mode 0
4 before fsync f
5 during fsync f [0,$((10 * P)))
6 after fsync f
EOF
    some_size 1 f $((4 * P)); some_size 1 f $((8 * P))
    all_size 1 f $((4 * P)) $((8 * P))
    all 2 f $P $dot 00; some 2 f $P 00; some 2 f $P $dot
    all_size 6 f $((10 * P)); all 6 f $P 00; all 6 f 0 $dot
}
# One page cache: stores and writes to one page are one page, made
# durable by msync or fdatasync alike.
scenario_mix() {
    run mix 8
    labels <<EOF
1 after pwrite f [$((2 * P)),$((2 * P+P / 2)))
2 before msync f [$((2 * P)),$((3 * P)))
3 during msync f [$((2 * P)),$((3 * P)))
4 after msync f [$((2 * P)),$((3 * P)))
5 after pwrite f [$((3 * P)),$((4 * P)))
6 before fdatasync f
7 during fdatasync f [0,$((4 * P)))
8 after fdatasync f
EOF
    all 1 f $((2 * P + P / 2)) $dot 4d; some 1 f $((2 * P + P / 2)) 4d
    all 4 f $((2 * P)) 57; all 4 f $((2 * P + P / 2)) 4d; all 4 f $((3 * P)) $dot
    all 8 f $((3 * P)) 58; all 8 f $((3 * P + P / 2)) 59
}
# A write that fails is still a crash point (numbering independent of
# the disk), and changes nothing.
scenario_wfail() {
    run wfail 4
    labels <<EOF
1 after pwrite f [0,$((P)))
2 before fsync f
3 during fsync f [0,$((4 * P)))
4 after fsync f
EOF
    all 1 f 0 $dot; all 4 f 0 $dot; all_size 4 f $((4 * P))
}
# A file the shim first sees at a write is tracked with the content it
# had before the write: the write is dirty, not durable.
scenario_fopen() {
    run fopen 4
    labels <<EOF
1 after write f [0,$((P)))
2 before fsync f
3 during fsync f [0,$((4 * P)))
4 after fsync f
EOF
    all 1 f 0 $dot 4f; some 1 f 0 $dot; some 1 f 0 4f
    all 4 f 0 4f
}
# A new file and a rename: durable names only at the directory sync.
scenario_names() {
    run names 8
    labels <<EOF
1 after pwrite f.tmp [0,$((P)))
2 before fsync f.tmp
3 during fsync f.tmp [0,$((P)))
4 after fsync f.tmp
5 before fsync directory $work/d (2 name changes)
6 after fsync directory $work/d (2 name changes)
7 before fsync directory $work/d (1 name change)
8 after fsync directory $work/d (1 name change)
EOF
    all 4 f.tmp 0 4e --; all 4 f 0 --
    all 5 f 0 4e --; some 5 f 0 --; some 5 f 0 4e
    all 6 f 0 4e; all 6 f.tmp 0 --
    all 7 f 0 4e --; some 7 f 0 4e; some 7 f 0 --
    all 8 f 0 --
}

case " pwrite write dsync osync rwf sfr falloc mix wfail fopen names " in
*" $only "*) "scenario_$only" ;;
*) echo "FAIL: unknown scenario '$only'"; exit 1 ;;
esac

[ $fails -eq 0 ] && echo "shim_calls $only: all ok"
[ $fails -eq 0 ]
