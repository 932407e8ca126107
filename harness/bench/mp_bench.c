/*
 * mp_bench.c - mp-bench, the db_bench-style benchmark of the pager.
 *
 * Each workload runs a warm-up repetition (discarded) and then --reps
 * repetitions on a fresh file under --dir. The median repetition by
 * throughput is reported, with the spread of all of them, its latency
 * quantiles, and what the pager asked of the backend per operation (sync
 * barriers, file syncs, bytes synced). "cpu" is the time per operation
 * with the time spent inside the backend's sync calls taken out: on tmpfs
 * that is the pager's own CPU cost, on a disk the difference to ns/op is
 * the device. "crc" is the time CRC-32C takes over the bytes an operation
 * syncs, the floor the issue measures commit CPU against.
 *
 * Repetitions are interleaved: round r runs every selected workload once,
 * so a machine that is busier in one stretch of time slows all of them
 * alike, and a ratio between two workloads (ours against LMDB's, printed
 * at the end) is the median of per-round ratios.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"
#include "bench_stats.h"
#include "crc32c.h"

#define MAX_REPS 99

struct cfg {
    const char *dir;
    int reps;
    int warmup;
    int quick;
    int json;
    uint64_t ops; /* 0 = the workload's own */
    const char *only;
};

/* What one repetition measured. */
struct rep {
    double ops_per_s;
    uint64_t ops, units;
    uint64_t total_ns, sync_ns;
    uint64_t sync_calls, file_syncs; /* at the backend, timed ops only */
    uint64_t reserves, reserve_ns;   /* block reservation, timed ops only */
    uint64_t os_syncs;               /* msync/fsync calls they issued */
    int seam; /* the pager's backend saw a sync (else another library) */
    struct mp_pager_stats d; /* pager counters, timed ops only */
    size_t heap_peak;
    struct mph_samples lat;
};

static void usage(FILE *f)
{
    fprintf(
        f, "usage: mp-bench [options]\n"
           "\n"
           "Runs named workloads against the pager and prints ops/s, ns/op,\n"
           "latency quantiles and the syncs each operation needs.\n"
           "\n"
           "  --dir DIR      where the files go (default /dev/shm if present,\n"
           "                 else $TMPDIR or /tmp); tmpfs shows CPU cost, a\n"
           "                 disk shows sync cost\n"
           "  --only A,B     run only these workloads (see --list)\n"
           "  --reps N       measured rounds, median reported (default 5); a\n"
           "                 round runs every selected workload once\n"
           "  --ops N        timed operations per repetition (overrides)\n"
           "  --quick        few operations: a smoke run, not a measurement\n"
           "  --no-warmup    skip the discarded warm-up round\n"
           "  --json         one JSON object per line instead of the table\n"
           "  --list         list the workloads and exit\n"
           "  --help         this text\n"
           "\n"
           "Exit status: 0 success, 1 a workload failed, 2 usage error.\n");
}

static const char *default_dir(void)
{
    struct stat st;
    const char *t;
    if (stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) &&
        access("/dev/shm", W_OK) == 0) {
        return "/dev/shm";
    }
    t = getenv("TMPDIR");
    return t && *t ? t : "/tmp";
}

static int selected(const struct cfg *c, const char *name)
{
    const char *s = c->only;
    size_t n = strlen(name);
    if (!s) {
        return 1;
    }
    while (*s) {
        const char *e = strchr(s, ',');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        if (len == n && strncmp(s, name, n) == 0) {
            return 1;
        }
        s += len + (e != NULL);
    }
    return 0;
}

int mph_run_create(struct mph_run *r)
{
    int os = 0;
    struct mp_options opt = r->opt;
    r->opt.vfs->remove(r->opt.vfs, r->path, &os);
    opt.flags |= r->w->open_flags;
    return mp_pager_create(r->path, r->w->page_size, &opt, &r->p);
}

static void stats_sub(struct mp_pager_stats *acc,
                      const struct mp_pager_stats *a,
                      const struct mp_pager_stats *b)
{
    acc->commits += b->commits - a->commits;
    acc->sync_calls += b->sync_calls - a->sync_calls;
    acc->sync_ranges += b->sync_ranges - a->sync_ranges;
    acc->sync_bytes += b->sync_bytes - a->sync_bytes;
    acc->file_syncs += b->file_syncs - a->file_syncs;
    acc->grows += b->grows - a->grows;
    acc->pages_written += b->pages_written - a->pages_written;
    acc->reserves += b->reserves - a->reserves;
}

static void close_run(struct mph_run *r)
{
    int os = 0;
    mp_subpage_destroy(r->sub);
    r->sub = NULL;
    if (r->p) {
        (void)mp_pager_close(r->p);
        r->p = NULL;
    }
    r->opt.vfs->remove(r->opt.vfs, r->path, &os);
    free(r->ids);
    r->ids = NULL;
    r->nids = 0;
}

/*
 * One repetition of w. Returns MP_OK or the error of the step that failed.
 * Kept out of line: ci/bench-callgrind.sh counts instructions inside it.
 */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static int
run_once(const struct cfg *c, const struct mph_workload *w, struct rep *out)
{
    struct mph_run r;
    struct mp_pager_stats s0, s1;
    int rc;

    memset(&r, 0, sizeof(r));
    memset(out, 0, sizeof(*out));
    r.w = w;
    r.ops = c->ops ? c->ops : c->quick ? w->quick_ops : w->ops;
    r.units = 1;
    snprintf(r.path, sizeof(r.path), "%s/mp-bench-%ld.mp", c->dir,
             (long)getpid());
    mp_options_init(&r.opt);
    mph_bench_vfs_init(&r.tv, NULL);
    r.opt.vfs = &r.tv.vfs;
    mph_heap_hook(&r.heap, &r.opt);

    rc = w->setup(&r);
    for (uint64_t i = 0; rc == MP_OK && i < r.ops; i++) {
        uint64_t t0, t1, sync0, calls0, fsyncs0, os0, resv0, resv_ns0;
        if (w->before) {
            rc = w->before(&r, i);
            if (rc != MP_OK) {
                break;
            }
        }
        if (r.p) {
            mp_pager_stats(r.p, &s0);
        }
        sync0 = r.tv.sync_ns;
        calls0 = r.tv.sync_calls;
        fsyncs0 = r.tv.file_syncs;
        resv0 = r.tv.reserves;
        resv_ns0 = r.tv.reserve_ns;
        os0 = r.tv.os_syncs;
        t0 = mph_bench_now_ns();
        rc = w->op(&r, i);
        t1 = mph_bench_now_ns();
        if (r.p) {
            mp_pager_stats(r.p, &s1);
            stats_sub(&out->d, &s0, &s1);
        }
        out->total_ns += t1 - t0;
        out->sync_ns += r.tv.sync_ns - sync0;
        /* Counted at the backend: ops that open their own pager too. */
        out->sync_calls += r.tv.sync_calls - calls0;
        out->file_syncs += r.tv.file_syncs - fsyncs0;
        out->reserves += r.tv.reserves - resv0;
        out->reserve_ns += r.tv.reserve_ns - resv_ns0;
        out->os_syncs += r.tv.os_syncs - os0;
        if (mph_samples_add(&out->lat, t1 - t0) != 0) {
            rc = MP_ENOMEM;
        }
    }
    /* A one-flush twin must commit with one barrier each: were the flag
     * ignored, its figures would describe the two-barrier protocol. */
    if (rc == MP_OK && (w->open_flags & MP_OPEN_ONE_FLUSH) &&
        out->sync_calls > out->d.commits) {
        fprintf(stderr, "mp-bench: %s: %llu sync barriers for %llu commits\n",
                w->name, (unsigned long long)out->sync_calls,
                (unsigned long long)out->d.commits);
        rc = MP_EINVAL;
    }
    if (w->teardown) {
        int rc2 = w->teardown(&r);
        rc = rc ? rc : rc2;
    }
    out->seam = r.tv.sync_calls + r.tv.file_syncs > 0;
    out->ops = r.ops;
    out->units = r.units;
    out->heap_peak = r.heap.peak;
    out->ops_per_s =
        out->total_ns ? (double)r.ops * 1e9 / (double)out->total_ns : 0;
    close_run(&r);
    return rc;
}

/* Nanoseconds CRC-32C takes over `bytes` bytes (0 if none). */
static double crc_ns(uint64_t bytes)
{
    static unsigned char buf[1 << 16];
    uint64_t t0, reps = 0, done = 0;
    uint32_t crc = 0;
    if (bytes == 0) {
        return 0;
    }
    t0 = mph_bench_now_ns();
    do {
        uint64_t left = bytes;
        while (left) {
            size_t n = left < sizeof(buf) ? (size_t)left : sizeof(buf);
            crc = mp__crc32c(crc, buf, n);
            left -= n;
        }
        reps++;
        done = mph_bench_now_ns() - t0;
    } while (done < 2000000);
    buf[crc & 0xFF] ^= 1; /* keep the loop from being optimised away */
    return (double)done / (double)reps;
}

struct figures {
    double ops_s, ns_op, cpu_ns_op, crc_ns_op, ns_unit, spread;
    double syncs_op, fsyncs_op, os_syncs_op, bytes_op, heap_per_page;
    int seam; /* the workload runs the pager (else another library) */
    double resv_op, resv_ns_op;
    uint64_t p50, p99, p999, units, heap_peak;
};

static void summarise(struct rep *reps, int n, struct figures *f)
{
    double v[MAX_REPS];
    struct rep *m = &reps[0];
    double lo = reps[0].ops_per_s, hi = reps[0].ops_per_s;
    for (int i = 0; i < n; i++) {
        v[i] = reps[i].ops_per_s;
        lo = reps[i].ops_per_s < lo ? reps[i].ops_per_s : lo;
        hi = reps[i].ops_per_s > hi ? reps[i].ops_per_s : hi;
    }
    f->ops_s = mph_median(v, (size_t)n);
    /* The repetition closest to the median supplies the details. */
    for (int i = 0; i < n; i++) {
        double d = reps[i].ops_per_s - f->ops_s, dm = m->ops_per_s - f->ops_s;
        if ((d < 0 ? -d : d) < (dm < 0 ? -dm : dm)) {
            m = &reps[i];
        }
    }
    f->spread = f->ops_s > 0 ? (hi - lo) / f->ops_s * 100 : 0;
    f->ns_op = (double)m->total_ns / (double)m->ops;
    f->cpu_ns_op = (double)(m->total_ns - m->sync_ns) / (double)m->ops;
    f->syncs_op = (double)m->sync_calls / (double)m->ops;
    f->fsyncs_op = (double)m->file_syncs / (double)m->ops;
    f->resv_op = (double)m->reserves / (double)m->ops;
    f->resv_ns_op = (double)m->reserve_ns / (double)m->ops;
    f->seam = m->seam;
    f->os_syncs_op = (double)m->os_syncs / (double)m->ops;
    f->bytes_op = (double)m->d.sync_bytes / (double)m->ops;
    f->units = m->units;
    f->ns_unit = f->ns_op / (double)m->units;
    f->crc_ns_op = crc_ns((uint64_t)(f->bytes_op + 0.5));
    f->p50 = mph_samples_quantile(&m->lat, 0.50);
    f->p99 = mph_samples_quantile(&m->lat, 0.99);
    f->p999 = mph_samples_quantile(&m->lat, 0.999);
    f->heap_peak = m->heap_peak;
    f->heap_per_page =
        m->units > 1 ? (double)m->heap_peak / (double)m->units : 0;
}

static void print_header(void)
{
    printf("%-20s %12s %10s %9s %9s %9s %6s %6s %6s %9s %9s %7s %10s %6s %7s "
           "%7s\n",
           "workload", "ops/s", "ns/op", "p50", "p99", "p99.9", "syncs",
           "fsyncs", "os", "bytes/op", "cpu ns", "cpu/crc", "ns/page", "+-%",
           "resv", "resv ns");
}

static void print_row(const char *name, const struct figures *f)
{
    if (!f->seam) {
        /* Another library: the pager's backend saw none of its syncs. */
        printf("%-20s %12.0f %10.0f %9llu %9llu %9llu %6s %6s %6s %9s %9s "
               "%7s %10.3f %6.1f\n",
               name, f->ops_s, f->ns_op, (unsigned long long)f->p50,
               (unsigned long long)f->p99, (unsigned long long)f->p999, "-",
               "-", "-", "-", "-", "-", f->ns_unit, f->spread);
        return;
    }
    printf("%-20s %12.0f %10.0f %9llu %9llu %9llu %6.2f %6.3f %6.2f %9.0f "
           "%9.0f %7.2f %10.3f %6.1f %7.4f %7.1f\n",
           name, f->ops_s, f->ns_op, (unsigned long long)f->p50,
           (unsigned long long)f->p99, (unsigned long long)f->p999, f->syncs_op,
           f->fsyncs_op, f->os_syncs_op, f->bytes_op, f->cpu_ns_op,
           f->crc_ns_op > 0 ? f->cpu_ns_op / f->crc_ns_op : 0, f->ns_unit,
           f->spread, f->resv_op, f->resv_ns_op);
}

static void print_json(const char *name, const struct cfg *c,
                       const struct figures *f)
{
    printf("{\"workload\":\"%s\",\"dir\":\"%s\",\"reps\":%d,"
           "\"ops_per_s\":%.1f,\"ns_per_op\":%.1f,\"p50_ns\":%llu,"
           "\"p99_ns\":%llu,\"p999_ns\":%llu,\"syncs_per_op\":%.4f,"
           "\"file_syncs_per_op\":%.4f,\"os_syncs_per_op\":%.4f,"
           "\"bytes_synced_per_op\":%.1f,"
           "\"cpu_ns_per_op\":%.1f,\"crc_ns_per_op\":%.1f,"
           "\"pages_per_op\":%llu,\"ns_per_page\":%.4f,\"spread_pct\":%.2f,"
           "\"heap_peak_bytes\":%llu,\"heap_bytes_per_page\":%.4f,"
           "\"reserves_per_op\":%.4f,\"reserve_ns_per_op\":%.1f}\n",
           name, c->dir, c->reps, f->ops_s, f->ns_op,
           (unsigned long long)f->p50, (unsigned long long)f->p99,
           (unsigned long long)f->p999, f->syncs_op, f->fsyncs_op,
           f->os_syncs_op, f->bytes_op, f->cpu_ns_op, f->crc_ns_op,
           (unsigned long long)f->units, f->ns_unit, f->spread,
           (unsigned long long)f->heap_peak, f->heap_per_page, f->resv_op,
           f->resv_ns_op);
}

/* Every round of one workload. */
struct wrun {
    const struct mph_workload *w;
    struct rep reps[MAX_REPS];
    int n;  /* rounds run (the failed one included) */
    int rc; /* MP_OK, or the failure that stopped it */
};

/* Our commits against LMDB's closest operation, our one-flush mode against
 * our two-barrier mode, and a small file's commit against a huge one's
 * (there, above 1 is how much dearer the huge one is), when both ran. */
static const struct {
    const char *ours, *theirs;
} ratio_pairs[] = {
    { "alloc", "lmdb_put" },
    { "alloc", "lmdb_put_wm" },
    { "alloc_1f", "lmdb_put" },
    { "alloc_1f", "lmdb_put_wm" },
    { "alloc_1f", "alloc" },
    { "free", "lmdb_put_wm" },
    { "free_1f", "lmdb_put_wm" },
    { "free_1f", "free" },
    { "protected_4k", "lmdb_put_4k_wm" },
    { "protected_4k_1f", "lmdb_put_4k_wm" },
    { "protected_4k_1f", "protected_4k" },
    { "alloc", "alloc_2^28_4k" },
};

static const struct wrun *find_run(const struct wrun *runs, size_t n,
                                   const char *name)
{
    for (size_t j = 0; j < n; j++) {
        if (!strcmp(runs[j].w->name, name) && runs[j].rc == MP_OK) {
            return &runs[j];
        }
    }
    return NULL;
}

/* Median, least and greatest of v[0..n) (sorts v). */
static void spread_of(double *v, int n, double out[3])
{
    out[0] = mph_median(v, (size_t)n);
    out[1] = v[0];
    out[2] = v[n - 1];
}

/*
 * Ours against theirs in each round, and the median over the rounds: both
 * ran in the same round, seconds apart, so the load of the machine weighs
 * on both alike. Two ratios: of throughput (ops/s, which a preempted
 * operation drags down), and of p50 latency (theirs over ours), which a
 * busy machine disturbs less. Above 1 means ours is faster.
 */
static void print_ratios(const struct cfg *c, const struct wrun *runs, size_t n)
{
    for (size_t k = 0; k < sizeof(ratio_pairs) / sizeof(ratio_pairs[0]); k++) {
        const struct wrun *a = find_run(runs, n, ratio_pairs[k].ours);
        const struct wrun *b = find_run(runs, n, ratio_pairs[k].theirs);
        double rate[MAX_REPS], lat[MAX_REPS], r[3], l[3];
        if (!a || !b || a->n != b->n || a->n == 0) {
            continue;
        }
        for (int i = 0; i < a->n; i++) {
            /* Quantiles sort the samples: fine, summarise() did already. */
            struct mph_samples *sa = (struct mph_samples *)&a->reps[i].lat;
            struct mph_samples *sb = (struct mph_samples *)&b->reps[i].lat;
            double pa = (double)mph_samples_quantile(sa, 0.5);
            double pb = (double)mph_samples_quantile(sb, 0.5);
            rate[i] = b->reps[i].ops_per_s > 0
                          ? a->reps[i].ops_per_s / b->reps[i].ops_per_s
                          : 0;
            lat[i] = pa > 0 ? pb / pa : 0;
        }
        spread_of(rate, a->n, r);
        spread_of(lat, a->n, l);
        if (c->json) {
            printf("{\"ratio\":\"%s/%s\",\"dir\":\"%s\",\"rounds\":%d,"
                   "\"rate_median\":%.4f,\"rate_min\":%.4f,"
                   "\"rate_max\":%.4f,\"p50_median\":%.4f,"
                   "\"p50_min\":%.4f,\"p50_max\":%.4f}\n",
                   a->w->name, b->w->name, c->dir, a->n, r[0], r[1], r[2], l[0],
                   l[1], l[2]);
        } else {
            printf("%s vs %s: %.2fx the ops/s (%.2f-%.2f), %.2fx by p50 "
                   "latency (%.2f-%.2f); medians of %d rounds\n",
                   a->w->name, b->w->name, r[0], r[1], r[2], l[0], l[1], l[2],
                   a->n);
        }
    }
}

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || end == s || *end || v == 0) {
        return -1;
    }
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    struct cfg c = { default_dir(), 5, 1, 0, 0, 0, NULL };
    int failed = 0, ran = 0, progress = isatty(2) && isatty(1);
    struct wrun *runs;
    size_t nruns = 0;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        uint64_t v;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--list")) {
            for (size_t k = 0; k < mph_workload_count; k++) {
                printf("%-20s %s\n", mph_workloads[k].name,
                       mph_workloads[k].what);
            }
            return 0;
        } else if (!strcmp(a, "--quick")) {
            c.quick = 1;
        } else if (!strcmp(a, "--json")) {
            c.json = 1;
        } else if (!strcmp(a, "--no-warmup")) {
            c.warmup = 0;
        } else if (i + 1 < argc && !strcmp(a, "--dir")) {
            c.dir = argv[++i];
        } else if (i + 1 < argc && !strcmp(a, "--only")) {
            c.only = argv[++i];
        } else if (i + 1 < argc && !strcmp(a, "--reps")) {
            if (parse_u64(argv[++i], &v) || v > MAX_REPS) {
                fprintf(stderr, "mp-bench: --reps wants 1..%d\n", MAX_REPS);
                return 2;
            }
            c.reps = (int)v;
        } else if (i + 1 < argc && !strcmp(a, "--ops")) {
            if (parse_u64(argv[++i], &v)) {
                fprintf(stderr, "mp-bench: --ops wants a positive number\n");
                return 2;
            }
            c.ops = v;
        } else {
            fprintf(stderr, "mp-bench: unknown or incomplete option '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (c.only) {
        /* Every name asked for must exist: a typo should not pass silently. */
        char *dup = strdup(c.only), *save = NULL;
        for (char *t = strtok_r(dup, ",", &save); t;
             t = strtok_r(NULL, ",", &save)) {
            size_t k = 0;
            while (k < mph_workload_count && strcmp(mph_workloads[k].name, t)) {
                k++;
            }
            if (k == mph_workload_count) {
                fprintf(stderr, "mp-bench: no workload '%s' (see --list)\n", t);
                free(dup);
                return 2;
            }
        }
        free(dup);
    }

    runs = calloc(mph_workload_count, sizeof(*runs));
    if (!runs) {
        fprintf(stderr, "mp-bench: out of memory\n");
        return 1;
    }
    for (size_t k = 0; k < mph_workload_count; k++) {
        if (selected(&c, mph_workloads[k].name)) {
            runs[nruns++].w = &mph_workloads[k];
        }
    }
    if (!c.json) {
        printf("mp-bench: dir %s, %d interleaved rounds (median shown)%s\n",
               c.dir, c.reps, c.quick ? ", quick" : "");
    }
    /* Round -1 is the discarded warm-up. */
    for (int round = c.warmup ? -1 : 0; round < c.reps; round++) {
        for (size_t j = 0; j < nruns; j++) {
            struct wrun *x = &runs[j];
            if (x->rc != MP_OK) {
                continue;
            }
            if (progress) {
                fprintf(stderr, "\r\033[K  round %d/%d: %s...", round + 1,
                        c.reps, x->w->name);
            }
            if (round < 0) {
                struct rep warm;
                x->rc = run_once(&c, x->w, &warm);
                mph_samples_free(&warm.lat);
            } else {
                x->rc = run_once(&c, x->w, &x->reps[x->n]);
                x->n++;
            }
        }
    }
    if (progress) {
        fprintf(stderr, "\r\033[K");
    }
    if (!c.json) {
        print_header();
    }
    for (size_t j = 0; j < nruns; j++) {
        struct wrun *x = &runs[j];
        struct figures f;
        if (x->rc != MP_OK) {
            fprintf(stderr, "mp-bench: %s failed: %s\n", x->w->name,
                    mp_strerror(x->rc));
            failed = 1;
        } else {
            summarise(x->reps, x->n, &f);
            if (c.json) {
                print_json(x->w->name, &c, &f);
            } else {
                print_row(x->w->name, &f);
            }
        }
        ran++;
    }
    print_ratios(&c, runs, nruns);
    for (size_t j = 0; j < nruns; j++) {
        for (int i = 0; i < runs[j].n; i++) {
            mph_samples_free(&runs[j].reps[i].lat);
        }
    }
    free(runs);
    fflush(stdout);
    if (!c.json) {
        printf("ns/page = ns/op over the pages an op touches (bulk size, "
               "file pages for iterate/open/growth); cpu = ns/op minus time "
               "in the backend's syncs; cpu/crc = cpu over CRC-32C of the "
               "bytes synced; resv = block reservations (reserve calls) per "
               "op, resv ns = ns/op inside them (part of cpu ns).\n");
    }
    return failed ? 1 : ran ? 0 : 2;
}
