/*
 * test_shared.c - the thread-safe wrapper (mappedpages/shared.h): what the
 * lock and try calls exclude, the one-call wrappers, bad input, and a
 * stress run of reader and writer threads that checks the pager's
 * invariants from inside the read lock. Runs under TSan in CI (label
 * "threads"); the stress run is bounded by iterations, never by time.
 *
 * cmocka's assertions are for the main thread only (they longjmp), so
 * worker threads record their first failure and the main thread asserts
 * on it after joining them.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mpt.h"

#define PS 4096

static mp_shared *make_shared(const char *name)
{
    mp_shared *s = NULL;
    mp_pager *p = mpt_create(mpt_path(name), PS);
    assert_int_equal(mp_shared_wrap(p, &s), MP_OK);
    assert_non_null(s);
    return s;
}

/* ---- what the locks exclude --------------------------------------------- */

enum probe_kind {
    PROBE_TRY_READ,
    PROBE_TRY_WRITE
};

struct probe {
    mp_shared *s;
    enum probe_kind kind;
    int rc;
    bool got_pager;
};

/* Runs on its own thread: one try call, released at once if it succeeded. */
static void *probe_main(void *arg)
{
    struct probe *pr = arg;
    if (pr->kind == PROBE_TRY_READ) {
        const mp_pager *p = NULL;
        pr->rc = mp_shared_try_read_lock(pr->s, &p);
        pr->got_pager = p != NULL;
        if (pr->rc == MP_OK) {
            mp_shared_read_unlock(pr->s);
        }
    } else {
        mp_pager *p = NULL;
        pr->rc = mp_shared_try_write_lock(pr->s, &p);
        pr->got_pager = p != NULL;
        if (pr->rc == MP_OK) {
            mp_shared_write_unlock(pr->s);
        }
    }
    return NULL;
}

/* The result of one try call made from another thread while this thread
 * keeps whatever lock it holds. */
static int probe(mp_shared *s, enum probe_kind kind)
{
    struct probe pr = { s, kind, 1, false };
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, probe_main, &pr), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    /* A pager is handed out exactly when the lock was taken. */
    assert_true(pr.got_pager == (pr.rc == MP_OK));
    return pr.rc;
}

static void try_calls_report_would_block(void **state)
{
    mp_shared *s = make_shared("try.mp");
    const mp_pager *r;
    mp_pager *w;
    (void)state;

    /* Free: both succeed. */
    assert_int_equal(probe(s, PROBE_TRY_READ), MP_OK);
    assert_int_equal(probe(s, PROBE_TRY_WRITE), MP_OK);

    /* A reader admits readers and blocks writers. */
    assert_int_equal(mp_shared_read_lock(s, &r), MP_OK);
    assert_non_null(r);
    assert_int_equal(probe(s, PROBE_TRY_READ), MP_OK);
    assert_int_equal(probe(s, PROBE_TRY_WRITE), MP_EWOULDBLOCK);
    mp_shared_read_unlock(s);

    /* A writer blocks both. */
    assert_int_equal(mp_shared_write_lock(s, &w), MP_OK);
    assert_non_null(w);
    assert_int_equal(probe(s, PROBE_TRY_READ), MP_EWOULDBLOCK);
    assert_int_equal(probe(s, PROBE_TRY_WRITE), MP_EWOULDBLOCK);
    mp_shared_write_unlock(s);

    /* Released: both succeed again, and from this thread too. */
    assert_int_equal(probe(s, PROBE_TRY_READ), MP_OK);
    assert_int_equal(probe(s, PROBE_TRY_WRITE), MP_OK);
    assert_int_equal(mp_shared_try_write_lock(s, &w), MP_OK);
    mp_shared_write_unlock(s);
    assert_int_equal(mp_shared_try_read_lock(s, &r), MP_OK);
    mp_shared_read_unlock(s);
    assert_int_equal(mp_shared_close(s), MP_OK);
}

/* A reader that holds the lock while a writer thread is blocked in
 * mp_shared_alloc(); the writer proceeds only after the unlock. */
struct blocked_writer {
    mp_shared *s;
    mp_pgno pg;
    int rc;
};

static void *blocked_writer_main(void *arg)
{
    struct blocked_writer *bw = arg;
    bw->rc = mp_shared_alloc(bw->s, &bw->pg);
    return NULL;
}

static void a_writer_waits_for_readers(void **state)
{
    mp_shared *s = make_shared("wait.mp");
    struct blocked_writer bw = { s, 0, 1 };
    const mp_pager *r;
    uint64_t free_before;
    pthread_t t;
    mp_iter it;
    uint64_t id;
    int n = 0;
    (void)state;

    assert_int_equal(mp_shared_read_lock(s, &r), MP_OK);
    free_before = mp_pager_free_count(r);
    assert_int_equal(pthread_create(&t, NULL, blocked_writer_main, &bw), 0);
    /* Whatever the writer thread is doing, it cannot have changed the
     * state this reader sees: it needs the write lock for that. */
    mp_for_each_page(&it, r, id) {
        n++;
    }
    assert_int_equal(n, 0);
    assert_int_equal(mp_pager_free_count(r), free_before);
    mp_shared_read_unlock(s);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(bw.rc, MP_OK);
    assert_int_equal(mp_shared_get(s, bw.pg, &(const void *){ NULL }), MP_OK);
    assert_int_equal(mp_shared_close(s), MP_OK);
}

/* ---- the one-call wrappers ---------------------------------------------- */

static void wrappers_make_the_pager_calls(void **state)
{
    mp_shared *s = make_shared("wrap.mp");
    struct mp_shared_counts c;
    mp_pgno a, bulk[3], bad[2];
    mp_protected_id pid, pbulk[2];
    unsigned char buf[PS], *w;
    const unsigned char *r;
    void *staging;
    (void)state;

    assert_int_equal(mp_shared_alloc(s, &a), MP_OK);
    assert_int_equal(mp_shared_get_mut(s, a, (void **)&w), MP_OK);
    memset(w, 0xA5, PS);
    assert_int_equal(mp_shared_get(s, a, (const void **)&r), MP_OK);
    assert_ptr_equal(r, w);
    assert_int_equal(mp_shared_page_read(s, a, buf, PS), MP_OK);
    assert_int_equal(buf[0], 0xA5);
    assert_int_equal(buf[PS - 1], 0xA5);
    assert_int_equal(mp_shared_sync_pages(s, a, 1), MP_OK);

    assert_int_equal(mp_shared_alloc_bulk(s, 3, bulk), MP_OK);
    bad[0] = bulk[0];
    bad[1] = bulk[0];
    assert_int_equal(mp_shared_free_bulk(s, bad, 2), MP_EDUPLICATE);
    assert_int_equal(mp_shared_free_bulk(s, bulk, 3), MP_OK);
    assert_int_equal(mp_shared_free(s, a), MP_OK);
    assert_int_equal(mp_shared_free(s, a), MP_EDOUBLEFREE);
    assert_int_equal(mp_shared_get(s, a, (const void **)&r), MP_EDOUBLEFREE);
    assert_int_equal(mp_shared_get_mut(s, a, (void **)&w), MP_EDOUBLEFREE);
    assert_int_equal(mp_shared_page_read(s, a, buf, 1), MP_EDOUBLEFREE);
    assert_int_equal(mp_shared_grow(s, 256), MP_OK);
    assert_int_equal(mp_shared_counts(s, &c), MP_OK);
    assert_true(c.pages >= 256);
    assert_int_equal(c.protected_pages, 0);
    assert_int_equal(c.pages - c.free_pages, 3 + c.internal_pages);

    assert_int_equal(mp_shared_protected_alloc(s, &pid), MP_OK);
    assert_int_equal(mp_shared_protected_write(s, pid, "one", 4), MP_OK);
    assert_int_equal(mp_shared_protected_read(s, pid, buf, 4), MP_OK);
    assert_string_equal((char *)buf, "one");
    assert_int_equal(mp_shared_protected_begin(s, pid, &staging), MP_OK);
    memcpy(staging, "two", 4);
    /* Staged, not committed: readers still see the old content, and a
     * second begin (or a whole write) is refused. */
    assert_int_equal(mp_shared_protected_read(s, pid, buf, 4), MP_OK);
    assert_string_equal((char *)buf, "one");
    assert_int_equal(mp_shared_protected_begin(s, pid, &staging), MP_ESTAGED);
    assert_null(staging);
    assert_int_equal(mp_shared_protected_write(s, pid, "xxx", 4), MP_ESTAGED);
    assert_int_equal(mp_shared_protected_commit(s, pid), MP_OK);
    assert_int_equal(mp_shared_protected_read(s, pid, buf, 4), MP_OK);
    assert_string_equal((char *)buf, "two");
    assert_int_equal(mp_shared_protected_begin(s, pid, &staging), MP_OK);
    memcpy(staging, "three", 6);
    assert_int_equal(mp_shared_protected_abort(s, pid), MP_OK);
    assert_int_equal(mp_shared_protected_abort(s, pid), MP_ENOTSTAGED);
    assert_int_equal(mp_shared_protected_commit(s, pid), MP_ENOTSTAGED);
    assert_int_equal(mp_shared_protected_read(s, pid, buf, 4), MP_OK);
    assert_string_equal((char *)buf, "two");
    assert_int_equal(mp_shared_protected_alloc_bulk(s, 2, pbulk), MP_OK);
    assert_int_equal(mp_shared_counts(s, &c), MP_OK);
    assert_int_equal(c.protected_pages, 3);
    assert_int_equal(mp_shared_protected_free_bulk(s, pbulk, 2), MP_OK);
    assert_int_equal(mp_shared_protected_free(s, pid), MP_OK);
    assert_int_equal(mp_shared_protected_free(s, pid), MP_EDOUBLEFREE);
    assert_int_equal(mp_shared_protected_read(s, pid, buf, 4), MP_EDOUBLEFREE);
    assert_int_equal(mp_shared_protected_write(s, pid, "x", 1), MP_EDOUBLEFREE);
    /* Kinds are still checked through the wrapper. */
    assert_int_equal(mp_shared_free(s, pid), MP_EWRONGKIND);
    assert_int_equal(mp_shared_counts(s, &c), MP_OK);
    assert_int_equal(c.protected_pages, 0);
    assert_int_equal(mp_shared_close(s), MP_OK);
}

static void wrappers_refuse_bad_input(void **state)
{
    mp_shared *s = make_shared("bad.mp"), *t = (mp_shared *)1;
    const mp_pager *r = (const mp_pager *)1;
    mp_pager *w = (mp_pager *)1, *p;
    mp_protected_id pid;
    mp_pgno a;
    unsigned char buf[PS + 1];
    mp_iter it;
    (void)state;

    assert_int_equal(mp_shared_wrap(NULL, &t), MP_EINVAL);
    assert_null(t);
    assert_int_equal(mp_shared_read_lock(NULL, &r), MP_EINVAL);
    assert_null(r);
    assert_int_equal(mp_shared_try_read_lock(NULL, &r), MP_EINVAL);
    assert_int_equal(mp_shared_write_lock(NULL, &w), MP_EINVAL);
    assert_null(w);
    assert_int_equal(mp_shared_try_write_lock(NULL, &w), MP_EINVAL);
    assert_int_equal(mp_shared_read_lock(s, NULL), MP_EINVAL);
    assert_int_equal(mp_shared_write_lock(s, NULL), MP_EINVAL);
    assert_int_equal(mp_shared_counts(s, NULL), MP_EINVAL);
    assert_int_equal(mp_shared_get(s, 3, NULL), MP_EINVAL);
    assert_int_equal(mp_shared_get_mut(s, 3, NULL), MP_EINVAL);
    assert_int_equal(mp_shared_protected_begin(s, MP_ID_KIND_PROTECT, NULL),
                     MP_EINVAL);

    assert_int_equal(mp_shared_alloc(s, &a), MP_OK);
    assert_int_equal(mp_shared_page_read(s, a, NULL, 1), MP_EINVAL);
    assert_int_equal(mp_shared_page_read(s, a, buf, PS + 1), MP_EINVAL);
    assert_int_equal(mp_shared_protected_alloc(s, &pid), MP_OK);
    assert_int_equal(mp_shared_protected_write(s, pid, NULL, 1), MP_EINVAL);
    assert_int_equal(mp_shared_protected_write(s, pid, buf, PS + 1), MP_EINVAL);
    assert_int_equal(mp_shared_protected_read(s, pid, NULL, 1), MP_EINVAL);
    assert_int_equal(mp_shared_protected_read(s, pid, buf, PS + 1), MP_EINVAL);
    /* None of that left a write staged. */
    assert_int_equal(mp_shared_protected_abort(s, pid), MP_ENOTSTAGED);
    /* The pager's own errors come through unchanged. */
    assert_int_equal(mp_shared_alloc_bulk(s, 0, &a), MP_ECOUNT);
    assert_int_equal(mp_shared_free(s, 1), MP_ERESERVED);
    assert_int_equal(mp_shared_protected_free(s, a), MP_EWRONGKIND);

    /* Unwrapping hands the pager back; wrapping one that an iterator
     * holds is refused (the wrapper could not see that reader). */
    p = mp_shared_unwrap(s);
    assert_non_null(p);
    assert_null(mp_shared_unwrap(NULL));
    assert_int_equal(mp_iter_pages(&it, p), MP_OK);
    assert_int_equal(mp_shared_wrap(p, &s), MP_EITERATING);
    assert_null(s);
    mp_iter_finish(&it);
    assert_int_equal(mp_shared_wrap(p, &s), MP_OK);
    assert_int_equal(mp_shared_close(s), MP_OK);
    assert_int_equal(mp_shared_close(NULL), MP_OK);
}

static void a_readonly_pager_can_be_shared(void **state)
{
    const char *path = mpt_path("ro.mp");
    mp_pager *p = mpt_create(path, PS);
    struct mp_options opt;
    mp_shared *s;
    mp_pgno a;
    mp_protected_id pid;
    unsigned char buf[8];
    (void)state;

    assert_int_equal(mp_pager_alloc(p, &a), MP_OK);
    assert_int_equal(mp_protected_alloc(p, &pid), MP_OK);
    mp_pager_close(p);
    mpt_options(&opt);
    opt.flags = MP_OPEN_READONLY;
    assert_int_equal(mp_pager_open(path, PS, &opt, &p), MP_OK);
    assert_int_equal(mp_shared_wrap(p, &s), MP_OK);
    assert_int_equal(mp_shared_page_read(s, a, buf, sizeof(buf)), MP_OK);
    assert_int_equal(mp_shared_protected_read(s, pid, buf, sizeof(buf)), MP_OK);
    assert_int_equal(mp_shared_alloc(s, &a), MP_EREADONLY);
    assert_int_equal(mp_shared_protected_write(s, pid, buf, 1), MP_EREADONLY);
    assert_int_equal(mp_shared_close(s), MP_OK);
}

/* ---- the stress run ------------------------------------------------------ */

#define READERS        4
#define WRITERS        3
#define READER_ROUNDS  600
#define WRITER_ROUNDS  600
#define SHARED_PROT    6    /* protected pages every thread touches */
#define OWNED_MAX      24   /* registered pages a writer holds at most */
#define ANON_MAX       12   /* unregistered pages a writer holds at most */
#define REGISTRY_PAGES 4096 /* page numbers the run stays below */
#define PATTERN_MUL    0x9E3779B97F4A7C15ull

/*
 * What the run shares, beside the pager. The registry and the page stamps
 * are plain memory guarded by the mp_shared lock itself: writers change
 * them only under the write lock, readers read them under the read lock.
 * TSan checks that the lock really orders them.
 */
struct run {
    mp_shared *s;
    mp_protected_id prot[SHARED_PROT];
    /* registry[pg]: 0, or the writer (1-based) that registered page pg. */
    uint32_t registry[REGISTRY_PAGES];
    unsigned seed;
};

struct worker {
    struct run *run;
    unsigned id; /* 1-based */
    uint64_t rng;
    /* First failure, reported by the main thread. */
    char failure[256];
    /* Counters the main thread prints and checks. */
    unsigned long rounds, try_ok, try_busy, staged_busy, commits, pages_seen,
        prot_checked;
};

#define FAIL(wk, ...)                                               \
 do {                                                               \
  if (!(wk)->failure[0]) {                                          \
   int n_ = snprintf((wk)->failure, sizeof((wk)->failure),          \
                     "%s:%d: ", __FILE__, __LINE__);                \
   snprintf((wk)->failure + n_, sizeof((wk)->failure) - (size_t)n_, \
            __VA_ARGS__);                                           \
  }                                                                 \
 } while (0)

/* Check cond; on failure record it and leave the thread's loop. */
#define CHECK(wk, cond)                 \
 do {                                   \
  if (!(cond)) {                        \
   FAIL(wk, "check failed: %s", #cond); \
   goto out;                            \
  }                                     \
 } while (0)
#define CHECK_RC(wk, expr, want)                           \
 do {                                                      \
  int rc_ = (expr);                                        \
  if (rc_ != (want)) {                                     \
   FAIL(wk, "%s = %s, want %s", #expr, mp_error_name(rc_), \
        mp_error_name(want));                              \
   goto out;                                               \
  }                                                        \
 } while (0)

static uint64_t next_rand(struct worker *wk)
{
    /* xorshift64*: deterministic per seed and thread. */
    wk->rng ^= wk->rng >> 12;
    wk->rng ^= wk->rng << 25;
    wk->rng ^= wk->rng >> 27;
    return wk->rng * 2685821657736338717ull;
}

/* A page whose every word follows from its first: any mix of two
 * versions breaks the rule. */
static void fill_version(void *page, uint64_t v)
{
    uint64_t *w = page;
    for (size_t i = 0; i < PS / 8; i++) {
        w[i] = i == 0 ? v : (v ^ (i * PATTERN_MUL));
    }
}

static bool whole_version(const void *page, uint64_t *v)
{
    const uint64_t *w = page;
    for (size_t i = 1; i < PS / 8; i++) {
        if (w[i] != (w[0] ^ (i * PATTERN_MUL))) {
            return false;
        }
    }
    *v = w[0];
    return true;
}

/* Versions are (writer << 32) | round; 0 is the content at setup. */
static bool committed_version(uint64_t v)
{
    uint64_t writer = v >> 32, round = v & 0xFFFFFFFFu;
    return v == 0 ||
           (writer >= 1 && writer <= WRITERS && round <= WRITER_ROUNDS * 2);
}

static void *reader_main(void *arg)
{
    struct worker *wk = arg;
    struct run *run = wk->run;
    static const uint64_t one = 1;
    uint64_t *seen = calloc(REGISTRY_PAGES / 64, sizeof(uint64_t));
    unsigned char *copy = malloc(PS);

    if (!seen || !copy) {
        FAIL(wk, "out of memory");
        goto out;
    }
    for (wk->rounds = 0; wk->rounds < READER_ROUNDS; wk->rounds++) {
        const mp_pager *p;
        mp_iter it;
        uint64_t id, regular = 0, prot = 0, v;
        int rc;

        /* Half the rounds try first and fall back to waiting. */
        if (next_rand(wk) & 1) {
            rc = mp_shared_try_read_lock(run->s, &p);
            if (rc == MP_OK) {
                wk->try_ok++;
            } else {
                CHECK_RC(wk, rc, MP_EWOULDBLOCK);
                CHECK(wk, p == NULL);
                wk->try_busy++;
                CHECK_RC(wk, mp_shared_read_lock(run->s, &p), MP_OK);
            }
        } else {
            CHECK_RC(wk, mp_shared_read_lock(run->s, &p), MP_OK);
        }

        /* Everything below sees one state: no writer can run now. */
        memset(seen, 0, REGISTRY_PAGES / 8);
        mp_for_each_page(&it, p, id) {
            const uint64_t *stamp;
            if (id >= REGISTRY_PAGES) {
                FAIL(wk, "page %llu beyond the registry",
                     (unsigned long long)id);
                mp_iter_finish(&it);
                break;
            }
            seen[id >> 6] |= one << (id & 63);
            regular++;
            if (run->registry[id]) {
                /* A registered page holds its owner's stamp. */
                if (mp_pager_get(p, id, (const void **)&stamp) != MP_OK ||
                    stamp[0] != id || stamp[1] != run->registry[id]) {
                    FAIL(wk, "page %llu: bad stamp", (unsigned long long)id);
                }
            }
        }
        /* Every registered page was seen by the iteration. */
        for (uint64_t pg = 0; pg < REGISTRY_PAGES; pg++) {
            if (run->registry[pg] && !((seen[pg >> 6] >> (pg & 63)) & 1)) {
                FAIL(wk, "registered page %llu not iterated",
                     (unsigned long long)pg);
            }
        }
        /* The counts agree with each other and with the iterations. */
        mp_for_each_protected(&it, p, id) {
            prot++;
        }
        if (prot != mp_protected_count(p)) {
            FAIL(wk, "protected: %llu iterated, count %llu",
                 (unsigned long long)prot,
                 (unsigned long long)mp_protected_count(p));
        }
        if (3 + regular + mp_pager_internal_count(p) !=
            mp_pager_page_count(p) - mp_pager_free_count(p)) {
            FAIL(wk, "allocated pages do not add up");
        }
        /* Protected pages hold one whole committed version, in place. */
        for (int k = 0; k < SHARED_PROT; k++) {
            const void *b;
            if (mp_protected_get(p, run->prot[k], &b) != MP_OK ||
                !whole_version(b, &v) || !committed_version(v)) {
                FAIL(wk, "protected page %d torn or unknown", k);
            }
            wk->prot_checked++;
        }
        mp_shared_read_unlock(run->s);
        wk->pages_seen += regular;
        if (wk->failure[0]) {
            goto out;
        }

        /* And through the copying wrapper, without holding the lock. */
        rc = mp_shared_protected_read(
            run->s, run->prot[next_rand(wk) % SHARED_PROT], copy, PS);
        CHECK_RC(wk, rc, MP_OK);
        CHECK(wk, whole_version(copy, &v) && committed_version(v));
        wk->prot_checked++;
    }
out:
    free(seen);
    free(copy);
    return NULL;
}

/* Allocate one page or a few, stamp and register them, in one write
 * lock; half the time the lock is tried first. */
static void take_write_lock(struct worker *wk, mp_pager **p, int *rc)
{
    if (next_rand(wk) & 1) {
        *rc = mp_shared_try_write_lock(wk->run->s, p);
        if (*rc == MP_OK) {
            wk->try_ok++;
            return;
        }
        if (*rc != MP_EWOULDBLOCK || *p != NULL) {
            return;
        }
        wk->try_busy++;
    }
    *rc = mp_shared_write_lock(wk->run->s, p);
}

static void *writer_main(void *arg)
{
    struct worker *wk = arg;
    struct run *run = wk->run;
    mp_pgno owned[OWNED_MAX], anon[ANON_MAX];
    size_t nowned = 0, nanon = 0;
    unsigned char *buf = malloc(PS);
    uint32_t version_round = 0;

    if (!buf) {
        FAIL(wk, "out of memory");
        return NULL;
    }
    for (wk->rounds = 0; wk->rounds < WRITER_ROUNDS; wk->rounds++) {
        unsigned op = (unsigned)(next_rand(wk) % 8);
        mp_pager *p;
        int rc;

        if (op <= 1) {
            /* Registered pages, through the lock calls. */
            mp_pgno got[4];
            size_t n = op == 0 ? 1 : 1 + (size_t)(next_rand(wk) % 4);
            if (nowned + n > OWNED_MAX) {
                /* Give back all of them at once instead. */
                take_write_lock(wk, &p, &rc);
                CHECK_RC(wk, rc, MP_OK);
                for (size_t i = 0; i < nowned; i++) {
                    run->registry[owned[i]] = 0;
                }
                rc = mp_pager_free_bulk(p, owned, nowned);
                mp_shared_write_unlock(run->s);
                CHECK_RC(wk, rc, MP_OK);
                nowned = 0;
                continue;
            }
            take_write_lock(wk, &p, &rc);
            CHECK_RC(wk, rc, MP_OK);
            rc = n == 1 ? mp_pager_alloc(p, got)
                        : mp_pager_alloc_bulk(p, n, got);
            for (size_t i = 0; rc == MP_OK && i < n; i++) {
                uint64_t *stamp;
                rc = mp_pager_get_mut(p, got[i], (void **)&stamp);
                if (rc == MP_OK && got[i] >= REGISTRY_PAGES) {
                    rc = MP_ELIMIT;
                }
                if (rc == MP_OK) {
                    stamp[0] = got[i];
                    stamp[1] = wk->id;
                    run->registry[got[i]] = wk->id;
                    owned[nowned++] = got[i];
                }
            }
            mp_shared_write_unlock(run->s);
            CHECK_RC(wk, rc, MP_OK);
        } else if (op == 2 && nowned > 0) {
            /* Free one registered page. */
            size_t i = (size_t)(next_rand(wk) % nowned);
            take_write_lock(wk, &p, &rc);
            CHECK_RC(wk, rc, MP_OK);
            run->registry[owned[i]] = 0;
            rc = mp_pager_free(p, owned[i]);
            mp_shared_write_unlock(run->s);
            CHECK_RC(wk, rc, MP_OK);
            owned[i] = owned[--nowned];
        } else if (op == 3) {
            /* Unregistered pages, through the one-call wrappers. */
            if (nanon + 3 > ANON_MAX) {
                CHECK_RC(wk, mp_shared_free_bulk(run->s, anon, nanon), MP_OK);
                nanon = 0;
            } else if (next_rand(wk) & 1) {
                CHECK_RC(wk, mp_shared_alloc(run->s, &anon[nanon]), MP_OK);
                nanon++;
            } else {
                CHECK_RC(wk, mp_shared_alloc_bulk(run->s, 3, &anon[nanon]),
                         MP_OK);
                nanon += 3;
            }
        } else if (op == 4 && nanon > 0) {
            CHECK_RC(wk, mp_shared_free(run->s, anon[--nanon]), MP_OK);
        } else if (op == 5) {
            /* A shared protected page: staged without the lock. Another
             * writer may have begun it: MP_ESTAGED is the answer then. */
            mp_protected_id id = run->prot[next_rand(wk) % SHARED_PROT];
            void *staging;
            uint64_t v = ((uint64_t)wk->id << 32) | ++version_round;
            rc = mp_shared_protected_begin(run->s, id, &staging);
            if (rc == MP_ESTAGED) {
                wk->staged_busy++;
                continue;
            }
            CHECK_RC(wk, rc, MP_OK);
            fill_version(staging, v);
            /* Let others run while the page is staged, so that begins
             * meet MP_ESTAGED and readers read it mid-write. */
            sched_yield();
            if (next_rand(wk) % 4 == 0) {
                CHECK_RC(wk, mp_shared_protected_abort(run->s, id), MP_OK);
            } else {
                CHECK_RC(wk, mp_shared_protected_commit(run->s, id), MP_OK);
                wk->commits++;
            }
        } else if (op == 6) {
            /* A shared protected page, replaced in one lock hold. */
            mp_protected_id id = run->prot[next_rand(wk) % SHARED_PROT];
            fill_version(buf, ((uint64_t)wk->id << 32) | ++version_round);
            rc = mp_shared_protected_write(run->s, id, buf, PS);
            if (rc == MP_ESTAGED) {
                wk->staged_busy++;
                continue;
            }
            CHECK_RC(wk, rc, MP_OK);
            wk->commits++;
        } else {
            /* A private protected page: alloc, write, read back, free. */
            mp_protected_id id;
            fill_version(buf, ((uint64_t)wk->id << 32) | ++version_round);
            CHECK_RC(wk, mp_shared_protected_alloc(run->s, &id), MP_OK);
            rc = mp_shared_protected_write(run->s, id, buf, PS);
            if (rc == MP_OK) {
                unsigned char *back = malloc(PS);
                rc = back ? mp_shared_protected_read(run->s, id, back, PS)
                          : MP_ENOMEM;
                if (rc == MP_OK && memcmp(back, buf, PS) != 0) {
                    FAIL(wk, "private protected page reads back wrong");
                }
                free(back);
            }
            CHECK_RC(wk, rc, MP_OK);
            CHECK_RC(wk, mp_shared_protected_free(run->s, id), MP_OK);
        }
    }
out:
    free(buf);
    return NULL;
}

static void readers_and_writers_keep_the_invariants(void **state)
{
    struct run *run = calloc(1, sizeof(*run));
    struct worker workers[READERS + WRITERS];
    pthread_t threads[READERS + WRITERS];
    const char *env = getenv("MPT_SEED");
    unsigned long try_ok = 0, try_busy = 0, commits = 0, staged = 0;
    unsigned char page[PS];
    (void)state;

    assert_non_null(run);
    run->seed = env ? (unsigned)strtoul(env, NULL, 0) : 20240611u;
    run->s = make_shared("stress.mp");
    assert_int_equal(
        mp_shared_protected_alloc_bulk(run->s, SHARED_PROT, run->prot), MP_OK);
    fill_version(page, 0);
    for (int k = 0; k < SHARED_PROT; k++) {
        assert_int_equal(
            mp_shared_protected_write(run->s, run->prot[k], page, PS), MP_OK);
    }

    memset(workers, 0, sizeof(workers));
    for (unsigned i = 0; i < READERS + WRITERS; i++) {
        struct worker *wk = &workers[i];
        wk->run = run;
        wk->id = i < READERS ? i + 1 : i - READERS + 1;
        wk->rng = (uint64_t)run->seed * 0x100000001B3ull + i + 1;
        assert_int_equal(pthread_create(&threads[i], NULL,
                                        i < READERS ? reader_main : writer_main,
                                        wk),
                         0);
    }
    for (unsigned i = 0; i < READERS + WRITERS; i++) {
        assert_int_equal(pthread_join(threads[i], NULL), 0);
    }
    for (unsigned i = 0; i < READERS + WRITERS; i++) {
        struct worker *wk = &workers[i];
        if (wk->failure[0]) {
            fail_msg("%s %u (seed %u, round %lu): %s",
                     i < READERS ? "reader" : "writer", wk->id, run->seed,
                     wk->rounds, wk->failure);
        }
        try_ok += wk->try_ok;
        try_busy += wk->try_busy;
        if (i >= READERS) {
            commits += wk->commits;
            staged += wk->staged_busy;
            assert_int_equal(wk->rounds, WRITER_ROUNDS);
        } else {
            assert_int_equal(wk->rounds, READER_ROUNDS);
            assert_int_equal(wk->prot_checked,
                             READER_ROUNDS * (SHARED_PROT + 1));
        }
    }
    printf("stress (seed %u): %d readers x %d rounds, %d writers x %d "
           "rounds; try: %lu taken, %lu would block; %lu protected commits, "
           "%lu begins refused as staged\n",
           run->seed, READERS, READER_ROUNDS, WRITERS, WRITER_ROUNDS, try_ok,
           try_busy, commits, staged);
    assert_true(try_ok + try_busy > 0);
    assert_true(commits > 0);

    /* After the run: a final check from a fresh open of the file. */
    {
        mp_pager *p = mp_shared_unwrap(run->s);
        const char *path = mpt_path("stress.mp");
        uint64_t v;
        mp_pager_close(p);
        p = mpt_open(path, PS);
        for (int k = 0; k < SHARED_PROT; k++) {
            const void *b;
            assert_int_equal(mp_protected_get(p, run->prot[k], &b), MP_OK);
            assert_true(whole_version(b, &v) && committed_version(v));
        }
        for (uint64_t pg = 0; pg < REGISTRY_PAGES; pg++) {
            if (run->registry[pg]) {
                const uint64_t *stamp;
                assert_int_equal(mp_pager_get(p, pg, (const void **)&stamp),
                                 MP_OK);
                assert_int_equal(stamp[1], run->registry[pg]);
            }
        }
        mp_pager_close(p);
    }
    free(run);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(try_calls_report_would_block),
        cmocka_unit_test(a_writer_waits_for_readers),
        cmocka_unit_test(wrappers_make_the_pager_calls),
        cmocka_unit_test(wrappers_refuse_bad_input),
        cmocka_unit_test(a_readonly_pager_can_be_shared),
        cmocka_unit_test(readers_and_writers_keep_the_invariants),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
