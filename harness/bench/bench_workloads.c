/*
 * bench_workloads.c - the named workloads. Each is simple enough to
 * reproduce in another language from its description in README.md: the
 * same page size, starting state and operation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

/* Room for the largest batch a workload handles at once. */
static int need_ids(struct mph_run *r, size_t n)
{
    if (r->nids >= n) {
        return MP_OK;
    }
    free(r->ids);
    r->ids = malloc(n * sizeof(*r->ids));
    r->nids = r->ids ? n : 0;
    return r->ids ? MP_OK : MP_ENOMEM;
}

/* ---- single alloc / free: one commit each ------------------------------ */

static int setup_alloc(struct mph_run *r)
{
    int rc = mph_run_create(r);
    uint64_t pages = r->w->k > r->ops + 64 ? r->w->k : r->ops + 64;
    /* Grown up front: this measures the commit, growth has its own line. */
    return rc ? rc : mp_pager_grow(r->p, pages);
}

static int op_alloc(struct mph_run *r, uint64_t i)
{
    mp_pgno pg;
    (void)i;
    return mp_pager_alloc(r->p, &pg);
}

static int setup_free(struct mph_run *r)
{
    int rc = mph_run_create(r);
    if (rc == MP_OK) {
        rc = need_ids(r, r->ops);
    }
    return rc ? rc : mp_pager_alloc_bulk(r->p, r->ops, r->ids);
}

static int op_free(struct mph_run *r, uint64_t i)
{
    return mp_pager_free(r->p, r->ids[i]);
}

/* ---- bulk: k pages per commit ----------------------------------------- */

static int setup_bulk(struct mph_run *r)
{
    int rc = mph_run_create(r);
    if (rc == MP_OK) {
        rc = need_ids(r, r->w->k);
    }
    r->units = r->w->k;
    return rc ? rc : mp_pager_grow(r->p, r->w->k + 64);
}

static int before_alloc_bulk(struct mph_run *r, uint64_t i)
{
    return i == 0 ? MP_OK : mp_pager_free_bulk(r->p, r->ids, r->w->k);
}

static int op_alloc_bulk(struct mph_run *r, uint64_t i)
{
    (void)i;
    return mp_pager_alloc_bulk(r->p, r->w->k, r->ids);
}

static int before_free_bulk(struct mph_run *r, uint64_t i)
{
    (void)i;
    return mp_pager_alloc_bulk(r->p, r->w->k, r->ids);
}

static int op_free_bulk(struct mph_run *r, uint64_t i)
{
    (void)i;
    return mp_pager_free_bulk(r->p, r->ids, r->w->k);
}

/* ---- protected write + commit ----------------------------------------- */

static int setup_protected(struct mph_run *r)
{
    int rc = mph_run_create(r);
    return rc ? rc : mp_protected_alloc(r->p, &r->prot);
}

static int op_protected(struct mph_run *r, uint64_t i)
{
    void *w;
    int rc = mp_protected_begin(r->p, r->prot, &w);
    if (rc != MP_OK) {
        return rc;
    }
    memset(w, (int)(i & 0xFF), r->w->page_size);
    return mp_protected_commit(r->p, r->prot);
}

/* ---- sub-pages: 64-byte slots, 64 per 4 KiB parent -------------------- */

static int setup_subpage(struct mph_run *r)
{
    int rc = mph_run_create(r);
    if (rc == MP_OK) {
        rc = need_ids(r, r->ops);
    }
    if (rc == MP_OK) {
        rc = mp_pager_grow(r->p, r->ops / 64 + 64);
    }
    return rc ? rc : mp_subpage_create(r->p, 64, &r->sub);
}

static int op_subpage_alloc(struct mph_run *r, uint64_t i)
{
    return mp_subpage_alloc(r->sub, &r->ids[i]);
}

static int setup_subpage_free(struct mph_run *r)
{
    int rc = setup_subpage(r);
    for (uint64_t i = 0; rc == MP_OK && i < r->ops; i++) {
        rc = mp_subpage_alloc(r->sub, &r->ids[i]);
    }
    return rc;
}

static int op_subpage_free(struct mph_run *r, uint64_t i)
{
    return mp_subpage_free(r->sub, r->ids[i]);
}

/* ---- iteration -------------------------------------------------------- */

static int setup_dense(struct mph_run *r)
{
    int rc;
    uint64_t left;
    /* Iteration reads the map only: its 2^20 pages are never written, so
     * they need no disk blocks (4 GiB of them, in tmpfs's memory). */
    r->tv.skip_reserve = 1;
    rc = mph_run_create(r);
    if (rc == MP_OK) {
        rc = mp_pager_grow(r->p, r->w->k);
    }
    if (rc == MP_OK) {
        rc = need_ids(r, 65536);
    }
    /* Fill every free page, 64 Ki pages per commit. */
    while (rc == MP_OK && (left = mp_pager_free_count(r->p)) > 0) {
        rc = mp_pager_alloc_bulk(r->p, left < 65536 ? left : 65536, r->ids);
    }
    r->units = mp_pager_page_count(r->p);
    r->check = r->units - mp_pager_internal_count(r->p) - MP_RESERVED_PAGES;
    return rc;
}

/* A full file, then every other regular page freed: ids in runs of one,
 * the case a run-length shortcut for dense files would slow down. */
static int setup_alternate(struct mph_run *r)
{
    int rc = setup_dense(r);
    mp_iter it;
    uint64_t id, n = 0, k = 0;
    if (rc == MP_OK) {
        rc = need_ids(r, r->check);
    }
    if (rc != MP_OK) {
        return rc;
    }
    mp_for_each_page(&it, r->p, id) {
        if (n++ % 2 == 1) {
            r->ids[k++] = id;
        }
    }
    rc = mp_pager_free_bulk(r->p, r->ids, k);
    r->check -= k;
    return rc;
}

static int setup_sparse(struct mph_run *r)
{
    int rc = mph_run_create(r);
    mp_pgno pg;
    if (rc == MP_OK) {
        rc = mp_pager_grow(r->p, r->w->k);
    }
    for (int i = 0; rc == MP_OK && i < 16; i++) {
        rc = mp_pager_alloc(r->p, &pg);
    }
    r->units = mp_pager_page_count(r->p);
    r->check = 16;
    return rc;
}

static int op_iterate(struct mph_run *r, uint64_t i)
{
    mp_iter it;
    uint64_t id, n = 0, sum = 0;
    (void)i;
    /* The body uses every id, as a real loop does: with a body that only
     * counts, the compiler may skip reading the ids at all. */
    mp_for_each_page(&it, r->p, id) {
        n++;
        sum += id;
    }
    r->sink += sum;
    /* A wrong count means the benchmark measured something else. */
    return n == r->check ? MP_OK : MP_ECORRUPT;
}

static int op_iterate_batch(struct mph_run *r, uint64_t i)
{
    uint64_t buf[4096], n = 0;
    size_t k;
    mp_iter it;
    int rc = mp_iter_pages(&it, r->p);
    (void)i;
    if (rc != MP_OK) {
        return rc;
    }
    while ((k = mp_iter_next_batch(&it, buf, 4096)) > 0) {
        n += k;
    }
    return n == r->check ? MP_OK : MP_ECORRUPT;
}

/* ---- open ------------------------------------------------------------- */

static int setup_open(struct mph_run *r)
{
    int rc = mph_run_create(r);
    if (rc == MP_OK) {
        rc = mp_pager_grow(r->p, r->w->k);
    }
    r->units = r->p ? mp_pager_page_count(r->p) : 0;
    if (r->p) {
        int rc2 = mp_pager_close(r->p);
        r->p = NULL;
        rc = rc ? rc : rc2;
    }
    return rc;
}

static int op_open(struct mph_run *r, uint64_t i)
{
    int rc = mp_pager_open(r->path, r->w->page_size, &r->opt, &r->p);
    (void)i;
    if (rc == MP_OK) {
        rc = mp_pager_close(r->p);
        r->p = NULL;
    }
    return rc;
}

/* Offset of a byte inside the superblock's commit record (FORMAT.md 2.2). */
#define COMMIT_RECORD_GENERATION 520

static int setup_open_fallback(struct mph_run *r)
{
    int rc = setup_open(r);
    FILE *f;
    int c;
    if (rc != MP_OK) {
        return rc;
    }
    /* Tear the commit record so recovery has to judge both copies. */
    f = fopen(r->path, "r+b");
    if (!f) {
        return MP_EIO;
    }
    if (fseek(f, COMMIT_RECORD_GENERATION, SEEK_SET) != 0 ||
        (c = fgetc(f)) == EOF ||
        fseek(f, COMMIT_RECORD_GENERATION, SEEK_SET) != 0 ||
        fputc(c ^ 0xFF, f) == EOF) {
        fclose(f);
        return MP_EIO;
    }
    if (fclose(f) != 0) {
        return MP_EIO;
    }
    r->opt.flags |= MP_OPEN_READONLY;
    return MP_OK;
}

static int op_open_fallback(struct mph_run *r, uint64_t i)
{
    struct mp_recovery_info info;
    int rc = mp_pager_open(r->path, r->w->page_size, &r->opt, &r->p);
    (void)i;
    if (rc != MP_OK) {
        return rc;
    }
    mp_pager_recovery(r->p, &info);
    rc = mp_pager_close(r->p);
    r->p = NULL;
    return rc ? rc : info.fallback ? MP_OK : MP_ECORRUPT;
}

/* ---- growth ----------------------------------------------------------- */

static int setup_growth(struct mph_run *r)
{
    r->units = r->w->k;
    return need_ids(r, 65536);
}

static int op_growth(struct mph_run *r, uint64_t i)
{
    int rc;
    (void)i;
    remove(r->path);
    rc = mph_run_create(r);
    /*
     * Doubling, one commit per growth. Growth alone: pages handed out get
     * disk blocks (issue 12), so allocating all 2^24 pages would write
     * 16 GiB into the file system (on tmpfs, into memory).
     */
    while (rc == MP_OK && mp_pager_page_count(r->p) < r->w->k) {
        uint64_t n = mp_pager_page_count(r->p) * 2;
        rc = mp_pager_grow(r->p, n < r->w->k ? n : r->w->k);
    }
    if (r->p) {
        int rc2 = mp_pager_close(r->p);
        r->p = NULL;
        rc = rc ? rc : rc2;
    }
    return rc;
}

#define KB(x)    ((size_t)(x) << 10)
#define PAGES(e) ((uint64_t)1 << (e))

const struct mph_workload mph_workloads[] = {
    { "alloc", "single-page alloc, one commit each (file pre-grown)", KB(4), 0,
      20000, 500, setup_alloc, NULL, op_alloc, NULL, 0 },
    { "alloc_2^28", "single-page alloc in a file of 2^28 pages", KB(1),
      PAGES(28), 20000, 200, setup_alloc, NULL, op_alloc, NULL, 0 },
    { "alloc_2^28_4k", "single-page alloc in a file of 2^28 4 KiB pages", KB(4),
      PAGES(28), 20000, 200, setup_alloc, NULL, op_alloc, NULL, 0 },
    { "free", "single-page free, one commit each", KB(4), 0, 20000, 500,
      setup_free, NULL, op_free, NULL, 0 },
    /* The one-flush twins (MP_OPEN_ONE_FLUSH: one sync barrier a commit). */
    { "alloc_1f", "alloc, one-flush commits", KB(4), 0, 20000, 500, setup_alloc,
      NULL, op_alloc, NULL, MP_OPEN_ONE_FLUSH },
    { "free_1f", "free, one-flush commits", KB(4), 0, 20000, 500, setup_free,
      NULL, op_free, NULL, MP_OPEN_ONE_FLUSH },
    { "alloc_bulk_1", "alloc_bulk of 1 page", KB(4), 1, 10000, 200, setup_bulk,
      before_alloc_bulk, op_alloc_bulk, NULL, 0 },
    { "alloc_bulk_16", "alloc_bulk of 16 pages", KB(4), 16, 10000, 200,
      setup_bulk, before_alloc_bulk, op_alloc_bulk, NULL, 0 },
    { "alloc_bulk_1000", "alloc_bulk of 1000 pages", KB(4), 1000, 2000, 50,
      setup_bulk, before_alloc_bulk, op_alloc_bulk, NULL, 0 },
    { "alloc_bulk_100000", "alloc_bulk of 100000 pages", KB(4), 100000, 50, 3,
      setup_bulk, before_alloc_bulk, op_alloc_bulk, NULL, 0 },
    { "free_bulk_1", "free_bulk of 1 page", KB(4), 1, 10000, 200, setup_bulk,
      before_free_bulk, op_free_bulk, NULL, 0 },
    { "free_bulk_16", "free_bulk of 16 pages", KB(4), 16, 10000, 200,
      setup_bulk, before_free_bulk, op_free_bulk, NULL, 0 },
    { "free_bulk_1000", "free_bulk of 1000 pages", KB(4), 1000, 2000, 50,
      setup_bulk, before_free_bulk, op_free_bulk, NULL, 0 },
    { "free_bulk_100000", "free_bulk of 100000 pages", KB(4), 100000, 50, 3,
      setup_bulk, before_free_bulk, op_free_bulk, NULL, 0 },
    { "protected_4k", "protected page write+commit, 4 KiB pages", KB(4), 0,
      20000, 300, setup_protected, NULL, op_protected, NULL, 0 },
    { "protected_4k_1f", "protected_4k, one-flush commits", KB(4), 0, 20000,
      300, setup_protected, NULL, op_protected, NULL, MP_OPEN_ONE_FLUSH },
    { "protected_64k", "protected page write+commit, 64 KiB pages", KB(64), 0,
      5000, 100, setup_protected, NULL, op_protected, NULL, 0 },
    { "subpage_alloc", "64-byte sub-page alloc (a commit per 64)", KB(4), 0,
      100000, 1000, setup_subpage, NULL, op_subpage_alloc, NULL, 0 },
    { "subpage_free", "64-byte sub-page free (a commit per 64)", KB(4), 0,
      100000, 1000, setup_subpage_free, NULL, op_subpage_free, NULL, 0 },
    { "iterate_dense", "iterate a full file of 2^20 pages", KB(4), PAGES(20),
      20, 2, setup_dense, NULL, op_iterate, NULL, 0 },
    { "iterate_dense_2^14", "iterate a full file of 2^14 pages", KB(4),
      PAGES(14), 20000, 20, setup_dense, NULL, op_iterate, NULL, 0 },
    { "iterate_alternate_2^14", "iterate 2^14 pages, every other one allocated",
      KB(4), PAGES(14), 20000, 20, setup_alternate, NULL, op_iterate, NULL, 0 },
    { "iterate_dense_batch", "the same, 4096 ids per mp_iter_next_batch", KB(4),
      PAGES(20), 20, 2, setup_dense, NULL, op_iterate_batch, NULL, 0 },
    { "iterate_sparse", "iterate 2^24 pages holding 16 allocated", KB(1),
      PAGES(24), 50, 2, setup_sparse, NULL, op_iterate, NULL, 0 },
    { "open_2^10", "open+close a file of 2^10 pages", KB(4), PAGES(10), 2000,
      20, setup_open, NULL, op_open, NULL, 0 },
    { "open_2^20", "open+close a file of 2^20 pages", KB(4), PAGES(20), 200, 5,
      setup_open, NULL, op_open, NULL, 0 },
    { "open_2^28", "open+close a file of 2^28 pages (sparse)", KB(4), PAGES(28),
      10, 1, setup_open, NULL, op_open, NULL, 0 },
    { "open_fallback_2^20", "read-only open of 2^20 pages, torn record", KB(4),
      PAGES(20), 200, 5, setup_open_fallback, NULL, op_open_fallback, NULL, 0 },
    { "growth_2^24", "empty to 2^24 pages by mp_pager_grow, doubling", KB(1),
      PAGES(24), 3, 1, setup_growth, NULL, op_growth, NULL, 0 },
#ifdef MPH_HAVE_LMDB
    /* Beside alloc and protected_4k, in the same rounds (README.md). */
    { "lmdb_put", "LMDB: 8-byte put + commit per txn, default sync", KB(4), 8,
      20000, 50, mph_lmdb_setup, NULL, mph_lmdb_put, mph_lmdb_teardown, 0 },
    { "lmdb_put_wm", "the same with MDB_WRITEMAP", KB(4), 8, 20000, 50,
      mph_lmdb_setup_wm, NULL, mph_lmdb_put, mph_lmdb_teardown, 0 },
    { "lmdb_put_4k_wm", "LMDB, MDB_WRITEMAP: 4 KiB put + commit per txn", KB(4),
      4096, 20000, 50, mph_lmdb_setup_wm, NULL, mph_lmdb_put, mph_lmdb_teardown,
      0 },
#endif
};

const size_t mph_workload_count =
    sizeof(mph_workloads) / sizeof(mph_workloads[0]);
