/*
 * bench.h - the benchmark's workloads and the state one repetition of a
 * workload runs with. Workload definitions are in bench_workloads.c (and
 * described for people in harness/bench/README.md); the runner, timing and
 * reporting are in mp_bench.c.
 */
#ifndef MPH_BENCH_H
#define MPH_BENCH_H

#include <stddef.h>
#include <stdint.h>

#include "bench_heap.h"
#include "bench_vfs.h"
#include "mappedpages.h"

/* One repetition of one workload. */
struct mph_run {
    const struct mph_workload *w;
    char path[4096];         /* the file the workload works on */
    struct mp_options opt;   /* timed vfs + counting heap */
    struct mph_bench_vfs tv; /* time spent in syncs */
    struct mph_heap heap;    /* the pager's own heap */
    mp_pager *p;             /* open pager, or NULL */
    mp_pgno *ids;            /* scratch ids (room for w->k or ops) */
    size_t nids;
    mp_protected_id prot;
    mp_subpage *sub;        /* sub-page workloads */
    uint64_t ops;           /* timed operations in this repetition */
    uint64_t units;         /* units (pages) per op, for ns/unit */
    uint64_t check;         /* workload-defined sanity value */
    void *ext;              /* state of a workload that runs another library */
    volatile uint64_t sink; /* results kept so the compiler computes them */
};

struct mph_workload {
    const char *name;
    const char *what; /* one line for --list */
    size_t page_size;
    uint64_t k;         /* bulk size, file size in pages, LMDB value bytes */
    uint64_t ops;       /* timed operations per repetition */
    uint64_t quick_ops; /* the same under --quick */
    /* Build the starting state (untimed). */
    int (*setup)(struct mph_run *r);
    /* Untimed work before timed op i (e.g. refill for a bulk free). */
    int (*before)(struct mph_run *r, uint64_t i);
    /* The timed operation i. */
    int (*op)(struct mph_run *r, uint64_t i);
    /* Untimed check and release after the last op, or NULL; always called
     * once setup has run, even if it failed (frees what setup took). */
    int (*teardown)(struct mph_run *r);
    /* enum mp_open_flags the file is created with (MP_OPEN_ONE_FLUSH for
     * the one-flush twins of the commit workloads). */
    unsigned open_flags;
};

extern const struct mph_workload mph_workloads[];
extern const size_t mph_workload_count;

/* Create r->path afresh with the workload's page size and open it. */
int mph_run_create(struct mph_run *r);

#ifdef MPH_HAVE_LMDB
/*
 * LMDB's closest operation to a single-page commit, for the same-run
 * comparison (bench_lmdb.c): one mdb_put of a `k`-byte value under an
 * 8-byte key and mdb_txn_commit per op, default (durable) sync, in
 * r->path (MDB_NOSUBDIR). setup_lmdb_wm opens with MDB_WRITEMAP.
 */
int mph_lmdb_setup(struct mph_run *r);
int mph_lmdb_setup_wm(struct mph_run *r);
int mph_lmdb_put(struct mph_run *r, uint64_t i);
int mph_lmdb_teardown(struct mph_run *r);
#endif

#endif /* MPH_BENCH_H */
