#!/usr/bin/env bash
# A time-boxed fuzzing campaign on this machine, using every core.
#
#   AFL++ (default when afl-fuzz is installed): per target one main
#   instance (-M main-HOST) and one secondary (-S) per further core, each
#   a different variant: CMPLOG (-c, the fuzz-afl-cmplog build), ASan+UBSan
#   (the fuzz-afl-asan build), power schedules explore/coe/rare/exploit,
#   MOpt (-L 0), old queue cycling (-Z). All share one sync directory.
#   libFuzzer: -fork=N with -ignore_crashes, sharing one corpus.
#
# The targets run one after another, each for its share of the time.
# A progress line every 15 s; at the end, per target: executions,
# executions per second, coverage at start -> end (edges: afl-showmap
# tuples, or libFuzzer cov), inputs added, crashes. Every crash is
# minimised (afl-tmin, or libFuzzer -minimize_crash) and copied into
# corpora/regressions/<target>/<sha1> - replayed by ctest from then on
# (note it in corpora/regressions/README.md). With --merge the inputs
# that add edge coverage are merged into corpora/<target>/ (libFuzzer
# -merge=1 -use_counters=0: edges only, which keeps the corpora small).
# To scale across machines see fuzz/README.md ("Campaigns").
#
# Usage: ci/fuzz-campaign.sh [--time SECONDS] [--engine afl|libfuzzer]
#            [--jobs N] [--targets "ops crash ..."] [--out DIR] [--merge]
#            [--no-build] [--help]
# Env:   MP_FUZZ_CAMPAIGN_SECONDS  total time (default 600)
#        MP_FUZZ_ENGINE            afl or libfuzzer
#        MP_FUZZ_JOBS              cores to use (default: all)
#        MP_FUZZ_TARGETS           default: ops crash faults open subpage
#        MP_FUZZ_OUT               default: build/fuzz-campaign (afl-cmin
#                                  refuses /tmp, so keep it in the tree)
#        MP_FUZZ_BUILD_ROOT        where the fuzz-* presets build (build)
# Exit status: 0 no crash, 1 crashes found (copied to corpora/regressions),
# 2 setup error.
set -euo pipefail
cd "$(dirname "$0")/.."

secs=${MP_FUZZ_CAMPAIGN_SECONDS:-600}
engine=${MP_FUZZ_ENGINE:-}
jobs=${MP_FUZZ_JOBS:-$(nproc 2>/dev/null || echo 2)}
targets=${MP_FUZZ_TARGETS:-"ops crash faults open subpage"}
out=${MP_FUZZ_OUT:-build/fuzz-campaign}
merge=0
build=1
while [ $# -gt 0 ]; do
    case "$1" in
    --time) secs=$2; shift ;;
    --engine) engine=$2; shift ;;
    --jobs) jobs=$2; shift ;;
    --targets) targets=$2; shift ;;
    --out) out=$2; shift ;;
    --merge) merge=1 ;;
    --no-build) build=0 ;;
    -h | --help) sed -n '2,33p' "$0" | sed -E 's/^# ?//'; exit 0 ;;
    *) echo "fuzz-campaign: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done
if [ -z "$engine" ]; then
    engine=libfuzzer
    command -v afl-fuzz >/dev/null 2>&1 && engine=afl
fi
case "$engine" in afl | libfuzzer) ;; *)
    echo "fuzz-campaign: --engine afl or libfuzzer" >&2; exit 2 ;;
esac
[ "$jobs" -ge 1 ] || jobs=1
ntargets=$(echo "$targets" | wc -w)
per=$((secs / ntargets))
[ "$per" -ge 10 ] || per=10
host=$(hostname -s 2>/dev/null || echo host)
host=${host//[^A-Za-z0-9_-]/_}
root=${MP_FUZZ_BUILD_ROOT:-build}
lfdir=$root/fuzz-libfuzzer

bins=()
for t in $targets; do bins+=("fuzz_$t"); done
build_preset() {
    local env=()
    # The CMPLOG instrumentation is chosen at compile time by the
    # environment (the preset sets it, but only for `cmake --build --preset`).
    [ "$1" = fuzz-afl-cmplog ] && env=(AFL_LLVM_CMPLOG=1)
    echo "=== build ($1)"
    cmake --preset "$1" -B "$root/$1" >/dev/null
    env "${env[@]}" cmake --build "$root/$1" -j "$jobs" --target "${bins[@]}" >/dev/null
}
if [ "$build" = 1 ]; then
    if [ "$engine" = afl ]; then
        MP_WANT_AFL=1 bash ci/deps.sh >/dev/null
        build_preset fuzz-afl
        [ "$jobs" -ge 2 ] && build_preset fuzz-afl-cmplog
        [ "$jobs" -ge 3 ] && build_preset fuzz-afl-asan
    else
        bash ci/deps.sh >/dev/null
    fi
    # The libFuzzer build minimises crashes and merges corpora.
    build_preset fuzz-libfuzzer
fi

export AFL_SKIP_CPUFREQ=1 AFL_NO_UI=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
export AFL_IMPORT_FIRST=1 AFL_CMPLOG_ONLY_NEW=1 AFL_FAST_CAL=1 AFL_QUIET=1
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:abort_on_error=1}

option() {
    sed -n "s/^$2[[:space:]]*=[[:space:]]*//p" "fuzz/$1.options" 2>/dev/null | head -n 1
}
count_files() {
    find "$@" -type f ! -name '.*' ! -name 'README*' 2>/dev/null | wc -l
}
# afl-showmap tuples reached by every input of a directory.
tuples() {
    AFL_QUIET=1 afl-showmap -C -i "$2" -o /dev/null -t 5000 -- "$1" 2>&1 |
        sed -n 's/.*Captured \([0-9]*\) tuples.*/\1/p' | tail -n 1
}

# keep_crash TARGET FILE: copy a (minimised) crash into the regressions.
keep_crash() {
    local name
    name=$(sha1sum "$2" | cut -c1-40)
    if [ ! -e "corpora/regressions/$1/$name" ]; then
        cp "$2" "corpora/regressions/$1/$name"
        echo "    new regression input: corpora/regressions/$1/$name"
    fi
}

run_afl() {
    local t=$1 dir=$2
    local bin=$root/fuzz-afl/fuzz/fuzz_$t
    local cmp=$root/fuzz-afl-cmplog/fuzz/fuzz_$t
    local asan=$root/fuzz-afl-asan/fuzz/fuzz_$t
    local variants=(cmplog asan explore mopt coe rare exploit oldq)
    local pids=() i v args name
    mkdir -p "$dir/in"
    cp corpora/"$t"/* corpora/regressions/"$t"/* "$dir/in/" 2>/dev/null || true
    find "$dir/in" -name '.*' -delete
    [ -n "$(ls -A "$dir/in")" ] || printf '\0' >"$dir/in/empty"
    start_cov=$(tuples "$bin" "$dir/in" || true)
    afl-fuzz -M "main-$host" -i "$dir/in" -o "$dir/sync" -x "fuzz/$t.dict" \
        -V "$per" -t 5000 -- "$bin" >"$dir/main.log" 2>&1 &
    pids+=($!)
    for ((i = 1; i < jobs; i++)); do
        v=${variants[$(((i - 1) % ${#variants[@]}))]}
        args=()
        case "$v" in
        cmplog) [ -x "$cmp" ] && args=(-c "$cmp" -l 2) ;;
        explore | coe | rare | exploit) args=(-p "$v") ;;
        mopt) args=(-L 0) ;;
        oldq) args=(-Z) ;;
        esac
        name="s$i-$host-$v"
        if [ "$v" = asan ] && [ -x "$asan" ]; then
            afl-fuzz -S "$name" -i "$dir/in" -o "$dir/sync" -x "fuzz/$t.dict" \
                -V "$per" -t 10000 -- "$asan" >"$dir/$name.log" 2>&1 &
        else
            afl-fuzz -S "$name" "${args[@]}" -i "$dir/in" -o "$dir/sync" \
                -x "fuzz/$t.dict" -V "$per" -t 5000 -- "$bin" >"$dir/$name.log" 2>&1 &
        fi
        pids+=($!)
    done
    local t0=$SECONDS
    while kill -0 "${pids[@]}" 2>/dev/null; do
        sleep 15
        kill -0 "${pids[0]}" 2>/dev/null || break
        # fuzzer_stats is rewritten once a minute; the queues grow live.
        awk -F' *: *' -v t="$t" -v el=$((SECONDS - t0)) \
            -v q="$(count_files "$dir"/sync/*/queue)" \
            -v x="$(count_files "$dir"/sync/*/crashes)" '
            $1 == "execs_done" { e += $2 } $1 == "execs_per_sec" { s += $2 }
            END { printf "  [%s %4ds] queues %d, crashes %d; last stats: execs %d, %.0f/s\n",
                  t, el, q, x, e, s }' "$dir"/sync/*/fuzzer_stats 2>/dev/null || true
    done
    wait "${pids[@]}" 2>/dev/null || true
    execs=$(awk -F' *: *' '$1 == "execs_done" { e += $2 } END { print e + 0 }' \
        "$dir"/sync/*/fuzzer_stats)
    end_cov=$(tuples "$bin" "$dir/sync/main-$host/queue" || true)
    added=$(($(count_files "$dir"/sync/main-"$host"/queue) - $(count_files "$dir/in")))
    crashes=()
    while IFS= read -r f; do crashes+=("$f"); done < <(find "$dir"/sync/*/crashes \
        -type f -name 'id:*' 2>/dev/null | sort)
    for f in "${crashes[@]}"; do
        timeout 120 afl-tmin -i "$f" -o "$f.min" -t 5000 -- "$bin" @@ >/dev/null 2>&1 ||
            cp "$f" "$f.min"
        keep_crash "$t" "$f.min"
    done
    queues=("$dir"/sync/*/queue)
}

run_libfuzzer() {
    local t=$1 dir=$2 ml
    local bin=$lfdir/fuzz/fuzz_$t
    ml=$(option "$t" max_len)
    mkdir -p "$dir/corpus" "$dir/artifacts"
    cp corpora/"$t"/* "$dir/corpus/" 2>/dev/null || true
    local before
    before=$(count_files "$dir/corpus")
    "$bin" -fork="$jobs" -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
        -max_total_time="$per" -timeout=10 ${ml:+-max_len=$ml} \
        -dict="fuzz/$t.dict" -artifact_prefix="$dir/artifacts/" \
        "$dir/corpus" "corpora/regressions/$t" >"$dir/log.txt" 2>&1 &
    local pid=$! t0=$SECONDS
    while kill -0 "$pid" 2>/dev/null; do
        sleep 15
        kill -0 "$pid" 2>/dev/null || break
        line=$(grep -E '^#[0-9]+: cov:' "$dir/log.txt" 2>/dev/null | tail -n 1 || true)
        echo "  [$t $((SECONDS - t0))s] ${line:-starting}"
    done
    wait "$pid" || true
    # Fork mode: the first status line is the seed corpus' coverage.
    start_cov=$(grep -m1 -E '^#[0-9]+: cov:' "$dir/log.txt" | sed -E 's/.*cov: ([0-9]+).*/\1/' || true)
    end_cov=$(grep -E '^#[0-9]+: cov:' "$dir/log.txt" | tail -n 1 | sed -E 's/.*cov: ([0-9]+).*/\1/' || true)
    execs=$(grep -E '^#[0-9]+: cov:' "$dir/log.txt" | tail -n 1 | sed -E 's/^#([0-9]+).*/\1/' || true)
    added=$(($(count_files "$dir/corpus") - before))
    crashes=()
    while IFS= read -r f; do crashes+=("$f"); done < <(find "$dir/artifacts" -type f \
        \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | sort)
    for f in "${crashes[@]}"; do
        timeout 120 "$bin" -minimize_crash=1 -runs=20000 -exact_artifact_path="$f.min" \
            "$f" >/dev/null 2>&1 || true
        [ -s "$f.min" ] || cp "$f" "$f.min"
        keep_crash "$t" "$f.min"
    done
    queues=("$dir/corpus")
}

for t in $targets; do
    if [ "$engine" = afl ]; then need=$root/fuzz-afl/fuzz/fuzz_$t; else need=$lfdir/fuzz/fuzz_$t; fi
    if [ ! -x "$need" ]; then
        echo "fuzz-campaign: $need is not built (run without --no-build)" >&2
        exit 2
    fi
done
rm -rf "$out"
mkdir -p "$out"
echo "=== fuzz campaign: $engine, $jobs core(s), ${per}s per target: $targets"
status=0
rows=()
for t in $targets; do
    dir="$out/$t"
    mkdir -p "$dir" "corpora/regressions/$t"
    echo "--- $t"
    t0=$SECONDS
    "run_$engine" "$t" "$dir"
    el=$((SECONDS - t0))
    [ "$el" -gt 0 ] || el=1
    [ "${#crashes[@]}" -eq 0 ] || status=1
    if [ "$merge" = 1 ] && [ -x "$lfdir/fuzz/fuzz_$t" ]; then
        n0=$(count_files "corpora/$t")
        "$lfdir/fuzz/fuzz_$t" -merge=1 -use_counters=0 -timeout=10 "corpora/$t" "${queues[@]}" \
            >"$dir/merge.log" 2>&1 || echo "    merge failed: $dir/merge.log"
        echo "    merged $(($(count_files "corpora/$t") - n0)) input(s) into corpora/$t"
    fi
    rows+=("$(printf '%-8s %11s %9s %8s -> %-8s %7s %7s' "$t" "${execs:-?}" \
        "$(( ${execs:-0} / el ))" "${start_cov:-?}" "${end_cov:-?}" "${added:-?}" \
        "${#crashes[@]}")")
done

echo "=== fuzz campaign summary ($engine, $jobs core(s), ${per}s per target)"
printf '%-8s %11s %9s %20s %7s %7s\n' target execs execs/s "coverage start->end" added crashes
for r in "${rows[@]}"; do echo "$r"; done
echo "(coverage: $([ "$engine" = afl ] && echo "afl-showmap tuples" || echo "libFuzzer cov edges")); logs in $out/<target>/"
if [ "$status" -ne 0 ]; then
    echo "crashes were minimised into corpora/regressions/<target>/: describe each in corpora/regressions/README.md"
fi
exit "$status"
