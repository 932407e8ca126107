/*
 * test_enomem.c - out-of-memory loops: the pager's allocation hooks fail
 * the Nth allocation of an operation, N = 1, 2, ... until it succeeds,
 * once or from then on. Every run must end in MP_OK or MP_ENOMEM; then the
 * pager is either still usable with the state before the call (a retry
 * commits exactly the state after it) or refuses writes with
 * MP_EUNAVAILABLE while reads work, and a reopen shows the state before or
 * after the call. Create and open must fail cleanly: no file, no leak.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mpt.h"

#define PS 1024

/* Allocation hooks that fail the fail_at-th call (1-based; 0 = never). */
struct oom {
    long calls;
    long fail_at;
    int sticky;
};

static int oom_now(struct oom *o)
{
    o->calls++;
    return o->fail_at > 0 &&
           (o->calls == o->fail_at || (o->sticky && o->calls > o->fail_at));
}

static void *oom_alloc(void *ctx, size_t size)
{
    return oom_now(ctx) ? NULL : malloc(size);
}

static void *oom_realloc(void *ctx, void *ptr, size_t size)
{
    return oom_now(ctx) ? NULL : realloc(ptr, size);
}

static void oom_free(void *ctx, void *ptr)
{
    (void)ctx;
    free(ptr);
}

static void oom_options(struct mp_options *opt, struct oom *o)
{
    memset(o, 0, sizeof(*o));
    mpt_options(opt);
    opt->mem.alloc = oom_alloc;
    opt->mem.realloc = oom_realloc;
    opt->mem.free = oom_free;
    opt->mem.ctx = o;
}

typedef int (*op_fn)(mp_pager *p);

/* The state that must survive: allocated pages and protected contents. */
static uint64_t snapshot(mp_pager *p)
{
    uint64_t h = 1469598103934665603ull, id;
    mp_iter it;
    mp_for_each_page(&it, p, id) {
        h = (h ^ id) * 1099511628211ull;
    }
    mp_for_each_protected(&it, p, id) {
        const unsigned char *b;
        assert_int_equal(mp_protected_get(p, id, (const void **)&b), MP_OK);
        h = (h ^ id) * 1099511628211ull;
        for (size_t i = 0; i < PS; i += 64) {
            h = (h ^ b[i]) * 1099511628211ull;
        }
    }
    return (h ^ mp_pager_page_count(p)) * 1099511628211ull;
}

/* A file just full enough that the next alloc has to grow it: pages 5, 6,
 * 7 regular, two protected pages (the first one written), no free page. */
static void setup(const char *path)
{
    mp_pager *p;
    mp_pgno pgs[3];
    mp_protected_id ids[2];
    unsigned char *w;
    size_t n;
    remove(path);
    p = mpt_create(path, PS);
    assert_int_equal(mp_pager_alloc_bulk(p, 3, pgs), MP_OK);
    assert_int_equal(pgs[0], 5);
    assert_int_equal(mp_protected_alloc_bulk(p, 2, ids), MP_OK);
    assert_int_equal(mp_protected_begin(p, ids[0], (void **)&w), MP_OK);
    memset(w, 0x42, PS);
    assert_int_equal(mp_protected_commit(p, ids[0]), MP_OK);
    n = (size_t)mp_pager_free_count(p);
    if (n > 0) {
        mp_pgno *rest = test_malloc(n * sizeof(*rest));
        assert_int_equal(mp_pager_alloc_bulk(p, n, rest), MP_OK);
        test_free(rest);
    }
    assert_int_equal(mp_pager_free_count(p), 0);
    mp_pager_close(p);
}

/* The highest allocated regular page: one no operation below frees. */
static mp_pgno last_page(mp_pager *p)
{
    mp_pgno last = 0, id;
    mp_iter it;
    mp_for_each_page(&it, p, id) {
        last = id;
    }
    assert_true(last > 7);
    return last;
}

static int op_alloc(mp_pager *p)
{
    mp_pgno pg;
    return mp_pager_alloc(p, &pg);
}
static int op_free(mp_pager *p)
{
    return mp_pager_free(p, 6);
}
static int op_alloc_bulk(mp_pager *p)
{
    mp_pgno pgs[300];
    return mp_pager_alloc_bulk(p, 300, pgs);
}
static int op_free_bulk(mp_pager *p)
{
    static const mp_pgno pgs[] = { 5, 6, 7 };
    return mp_pager_free_bulk(p, pgs, 3);
}
static int op_grow(mp_pager *p)
{
    /* Far enough for a deeper map tree. */
    return mp_pager_grow(p, 40000);
}
static int op_protected_alloc(mp_pager *p)
{
    mp_protected_id id;
    return mp_protected_alloc(p, &id);
}
static int op_protected_alloc_bulk(mp_pager *p)
{
    /* Enough slots for new directory blocks and a directory node. */
    static mp_protected_id ids[400];
    return mp_protected_alloc_bulk(p, 400, ids);
}
static int op_protected_commit(mp_pager *p)
{
    unsigned char *w;
    int rc = mp_protected_begin(p, MP_ID_KIND_PROTECT | 1, (void **)&w);
    if (rc != MP_OK) {
        return rc;
    }
    memset(w, 0x99, PS);
    rc = mp_protected_commit(p, MP_ID_KIND_PROTECT | 1);
    if (rc != MP_OK) {
        /* A commit refused before it started leaves the write staged
         * (one that failed later has unstaged it: MP_ENOTSTAGED). */
        int ab = mp_protected_abort(p, MP_ID_KIND_PROTECT | 1);
        assert_true(ab == MP_OK || ab == MP_ENOTSTAGED ||
                    ab == MP_EUNAVAILABLE);
    }
    return rc;
}
static int op_protected_free(mp_pager *p)
{
    return mp_protected_free(p, MP_ID_KIND_PROTECT | 0);
}
static int op_protected_free_bulk(mp_pager *p)
{
    static const mp_protected_id ids[] = { MP_ID_KIND_PROTECT | 1,
                                           MP_ID_KIND_PROTECT | 0 };
    return mp_protected_free_bulk(p, ids, 2);
}

static mp_pager *open_with(const char *path, struct mp_options *opt)
{
    mp_pager *p = NULL;
    assert_int_equal(mp_pager_open(path, PS, opt, &p), MP_OK);
    return p;
}

static uint64_t state_after(const char *path, op_fn op, uint64_t *before)
{
    mp_pager *p;
    uint64_t h;
    setup(path);
    p = mpt_open(path, PS);
    *before = snapshot(p);
    assert_int_equal(op(p), MP_OK);
    mp_pager_close(p);
    p = mpt_open(path, PS);
    h = snapshot(p);
    mp_pager_close(p);
    assert_int_not_equal(h, *before);
    return h;
}

static void oom_loop(const char *name, op_fn op)
{
    const char *path = mpt_path(name);
    uint64_t before, after = state_after(path, op, &before);
    long failures = 0;

    for (int sticky = 0; sticky < 2; sticky++) {
        for (long n = 1;; n++) {
            struct mp_options opt;
            struct oom o;
            mp_pager *p;
            uint64_t h;
            mp_pgno keep;
            uint64_t pages, free_pages;
            int rc, code, os;

            setup(path);
            oom_options(&opt, &o);
            p = open_with(path, &opt);
            keep = last_page(p);
            pages = mp_pager_page_count(p);
            free_pages = mp_pager_free_count(p);
            o.sticky = sticky;
            o.fail_at = o.calls + n;
            rc = op(p);
            o.fail_at = 0;
            if (rc == MP_OK) {
                mp_pager_close(p);
                p = mpt_open(path, PS);
                assert_int_equal(snapshot(p), after);
                mp_pager_close(p);
                break;
            }
            failures++;
            if (rc != MP_ENOMEM) {
                fail_msg("%s: allocation %ld failing gave %s", name, n,
                         mp_error_name(rc));
            }
            mp_pager_last_failure(p, &code, &os);
            if (code == 0) {
                /* Still usable: nothing changed, and a retry commits
                 * exactly the state after the call. */
                assert_int_equal(mp_pager_page_count(p), pages);
                assert_int_equal(mp_pager_free_count(p), free_pages);
                assert_int_equal(snapshot(p), before);
                assert_int_equal(op(p), MP_OK);
                mp_pager_close(p);
                p = mpt_open(path, PS);
                assert_int_equal(snapshot(p), after);
            } else {
                const void *b;
                mp_pgno pg;
                assert_int_equal(code, MP_ENOMEM);
                assert_int_equal(mp_pager_alloc(p, &pg), MP_EUNAVAILABLE);
                assert_int_equal(mp_pager_get(p, keep, &b), MP_OK);
                mp_pager_close(p);
                p = mpt_open(path, PS);
                h = snapshot(p);
                if (h != before && h != after) {
                    fail_msg("%s: allocation %ld%s: state is neither before "
                             "nor after",
                             name, n, sticky ? " (sticky)" : "");
                }
            }
            /* Life goes on after the failure. */
            assert_int_equal(op_alloc(p), MP_OK);
            mp_pager_close(p);
            assert_true(n < 200);
        }
    }
    /* Every loop must have made the operation fail at least once. */
    assert_true(failures > 0);
}

static void alloc_survives_oom(void **s)
{
    (void)s;
    oom_loop("m_alloc.mp", op_alloc);
}
static void free_survives_oom(void **s)
{
    (void)s;
    oom_loop("m_free.mp", op_free);
}
static void alloc_bulk_survives_oom(void **s)
{
    (void)s;
    oom_loop("m_abulk.mp", op_alloc_bulk);
}
static void free_bulk_survives_oom(void **s)
{
    (void)s;
    oom_loop("m_fbulk.mp", op_free_bulk);
}
static void grow_survives_oom(void **s)
{
    (void)s;
    oom_loop("m_grow.mp", op_grow);
}
static void protected_alloc_survives_oom(void **s)
{
    (void)s;
    oom_loop("m_palloc.mp", op_protected_alloc);
}
static void protected_alloc_bulk_survives_oom(void **s)
{
    (void)s;
    oom_loop("m_pabulk.mp", op_protected_alloc_bulk);
}
static void protected_commit_survives_oom(void **s)
{
    (void)s;
    oom_loop("m_pcommit.mp", op_protected_commit);
}
static void protected_free_survives_oom(void **s)
{
    (void)s;
    oom_loop("m_pfree.mp", op_protected_free);
}
static void protected_free_bulk_survives_oom(void **s)
{
    (void)s;
    oom_loop("m_pfbulk.mp", op_protected_free_bulk);
}

static void create_fails_cleanly_without_memory(void **state)
{
    char path[512], tmp[600];
    (void)state;
    snprintf(path, sizeof(path), "%s", mpt_path("m_create.mp"));
    snprintf(tmp, sizeof(tmp), "%s.mp-create", path);
    for (long n = 1;; n++) {
        struct mp_options opt;
        struct oom o;
        mp_pager *p = NULL;
        int rc;
        remove(path);
        oom_options(&opt, &o);
        o.fail_at = n;
        rc = mp_pager_create(path, PS, &opt, &p);
        if (rc == MP_OK) {
            mp_pager_close(p);
            break;
        }
        assert_int_equal(rc, MP_ENOMEM);
        assert_null(p);
        /* Neither the file nor its temporary name is left behind. */
        assert_int_equal(mpt_file_size(path), UINT64_MAX);
        assert_int_equal(mpt_file_size(tmp), UINT64_MAX);
        assert_true(n < 100);
    }
    mp_pager_close(mpt_open(path, PS));
}

/* Recovery allocates the bitmap, both trees, the directory and the set of
 * internal pages: fail each in turn, on a file with all of them. */
static void open_fails_cleanly_without_memory(void **state)
{
    const char *path = mpt_path("m_open.mp");
    uint64_t before;
    mp_pager *p;
    (void)state;
    setup(path);
    p = mpt_open(path, PS);
    assert_int_equal(op_protected_alloc_bulk(p), MP_OK);
    assert_int_equal(op_grow(p), MP_OK);
    before = snapshot(p);
    mp_pager_close(p);
    for (long n = 1;; n++) {
        struct mp_options opt;
        struct oom o;
        int rc;
        oom_options(&opt, &o);
        o.fail_at = n;
        p = NULL;
        rc = mp_pager_open(path, PS, &opt, &p);
        o.fail_at = 0;
        if (rc == MP_OK) {
            assert_int_equal(snapshot(p), before);
            mp_pager_close(p);
            break;
        }
        assert_int_equal(rc, MP_ENOMEM);
        assert_null(p);
        assert_true(n < 100);
    }
    /* Recovery wrote nothing. */
    p = mpt_open(path, PS);
    assert_int_equal(snapshot(p), before);
    mp_pager_close(p);
}

static void shared_wrap_fails_cleanly_without_memory(void **state)
{
    const char *path = mpt_path("m_shared.mp");
    struct mp_options opt;
    struct oom o;
    mp_shared *s = NULL;
    mp_pager *p;
    mp_pgno pg;
    (void)state;
    setup(path);
    oom_options(&opt, &o);
    p = open_with(path, &opt);
    o.fail_at = o.calls + 1;
    assert_int_equal(mp_shared_wrap(p, &s), MP_ENOMEM);
    assert_null(s);
    o.fail_at = 0;
    assert_int_equal(mp_pager_alloc(p, &pg), MP_OK);
    assert_int_equal(mp_shared_wrap(p, &s), MP_OK);
    assert_int_equal(mp_shared_close(s), MP_OK);
}

/* mp_shared_protected_write drops the staged write when the commit fails:
 * the page can be written again afterwards. */
static void shared_protected_write_recovers_from_oom(void **state)
{
    const char *path = mpt_path("m_swrite.mp");
    unsigned char data[PS], got[PS];
    long failures = 0;
    (void)state;
    memset(data, 0x5A, sizeof(data));
    for (long n = 1;; n++) {
        struct mp_options opt;
        struct oom o;
        mp_shared *s;
        mp_pager *p;
        int rc, code, os;
        setup(path);
        oom_options(&opt, &o);
        p = open_with(path, &opt);
        assert_int_equal(mp_shared_wrap(p, &s), MP_OK);
        o.fail_at = o.calls + n;
        rc = mp_shared_protected_write(s, MP_ID_KIND_PROTECT | 1, data, PS);
        o.fail_at = 0;
        mp_pager_last_failure(p, &code, &os);
        if (rc == MP_OK) {
            assert_int_equal(mp_shared_close(s), MP_OK);
            break;
        }
        failures++;
        assert_int_equal(rc, MP_ENOMEM);
        if (code == 0) {
            /* Refused before it started: nothing is left staged. */
            assert_int_equal(
                mp_shared_protected_write(s, MP_ID_KIND_PROTECT | 1, data, PS),
                MP_OK);
            assert_int_equal(
                mp_shared_protected_read(s, MP_ID_KIND_PROTECT | 1, got, PS),
                MP_OK);
            assert_memory_equal(got, data, PS);
        } else {
            assert_int_equal(
                mp_shared_protected_write(s, MP_ID_KIND_PROTECT | 1, data, PS),
                MP_EUNAVAILABLE);
        }
        assert_int_equal(mp_shared_close(s), MP_OK);
        assert_true(n < 100);
    }
    assert_true(failures > 0);
}

/* A sub-page bulk free of more ids than fit its on-stack scratch list
 * allocates one: failing that allocation changes nothing. */
static void subpage_free_bulk_survives_oom(void **state)
{
    const char *path = mpt_path("m_sfree.mp");
    enum {
        N = 64
    };
    mp_subpage_id ids[N];
    long failures = 0;
    (void)state;
    for (long n = 1;; n++) {
        struct mp_options opt;
        struct oom o;
        mp_subpage *sp;
        mp_pager *p;
        int rc;
        remove(path);
        oom_options(&opt, &o);
        assert_int_equal(mp_pager_create(path, PS, &opt, &p), MP_OK);
        /* 512-byte slots: two per parent, so 32 parents. */
        assert_int_equal(mp_subpage_create(p, 512, &sp), MP_OK);
        assert_int_equal(mp_subpage_alloc_bulk(sp, N, ids), MP_OK);
        assert_int_equal(mp_subpage_parent_count(sp), N / 2);
        o.fail_at = o.calls + n;
        rc = mp_subpage_free_bulk(sp, ids, N);
        o.fail_at = 0;
        if (rc == MP_OK) {
            assert_int_equal(mp_subpage_count(sp), 0);
            mp_subpage_destroy(sp);
            mp_pager_close(p);
            break;
        }
        failures++;
        assert_int_equal(rc, MP_ENOMEM);
        if (mp_subpage_count(sp) == N) {
            /* Refused up front: every slot is still live and freeable. */
            assert_int_equal(mp_subpage_free_bulk(sp, ids, N), MP_OK);
        }
        mp_subpage_destroy(sp);
        mp_pager_close(p);
        assert_true(n < 100);
    }
    assert_true(failures > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(alloc_survives_oom),
        cmocka_unit_test(free_survives_oom),
        cmocka_unit_test(alloc_bulk_survives_oom),
        cmocka_unit_test(free_bulk_survives_oom),
        cmocka_unit_test(grow_survives_oom),
        cmocka_unit_test(protected_alloc_survives_oom),
        cmocka_unit_test(protected_alloc_bulk_survives_oom),
        cmocka_unit_test(protected_commit_survives_oom),
        cmocka_unit_test(protected_free_survives_oom),
        cmocka_unit_test(protected_free_bulk_survives_oom),
        cmocka_unit_test(create_fails_cleanly_without_memory),
        cmocka_unit_test(open_fails_cleanly_without_memory),
        cmocka_unit_test(shared_wrap_fails_cleanly_without_memory),
        cmocka_unit_test(shared_protected_write_recovers_from_oom),
        cmocka_unit_test(subpage_free_bulk_survives_oom),
    };
    /* Files here stay under 64 MiB and are reopened hundreds of times. */
    mpt_cap_reserve((uint64_t)64 << 20);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
