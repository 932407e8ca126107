/*
 * test_enomem.c - out-of-memory loops: the pager's allocation hooks fail
 * the Nth allocation of an operation, N = 1, 2, ... until it succeeds,
 * once or from then on. Every run must end in MP_OK or MP_ENOMEM, and
 * MP_ENOMEM must leave the pager usable with its whole observable state
 * (mpt_state.h) equal to the state before the call; the same call then
 * succeeds and a reopen shows exactly the state after it (pager.h: any
 * failure but a failed sync leaves the pager usable and as it was). Create
 * and open must fail cleanly: no file, no leak.
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
#include "mpt_state.h"

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

/* What an operation works on: the pager, and for some ops an allocator or
 * a lock made (with memory working) before the failure is armed. */
struct run {
    mp_pager *p;
    mp_subpage *sp;
    mp_shared *sh;
    mp_subpage_id sid;
};

typedef int (*op_fn)(struct run *r);
typedef void (*prep_fn)(struct run *r);

/* A file just full enough that the next alloc has to grow it: pages 5, 6,
 * 7 regular, two protected pages (the first one written), no free page. */
static void build(const char *path)
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

/* The bytes build() left, so that the loops, which start from this file
 * hundreds of times, restore it with a plain write instead of a create and
 * four commits (fsyncs on a real disk). */
static struct {
    char path[512];
    unsigned char *bytes;
    uint64_t size;
} tpl;

static void setup(const char *path)
{
    uint64_t size = mpt_file_size(path);
    /* Not a file grown far (grow's 40 MB): cutting that back costs more
     * than building it again. */
    if (tpl.bytes && strcmp(tpl.path, path) == 0 && size != UINT64_MAX &&
        size / 64 <= tpl.size) {
        assert_int_equal(mpt_truncate(path, tpl.size), 0);
        assert_int_equal(mpt_poke(path, 0, tpl.bytes, (size_t)tpl.size), 0);
        return;
    }
    build(path);
    free(tpl.bytes);
    tpl.size = mpt_file_size(path);
    assert_true(tpl.size != UINT64_MAX);
    tpl.bytes = malloc((size_t)tpl.size);
    assert_non_null(tpl.bytes);
    assert_int_equal(mpt_peek(path, 0, tpl.bytes, (size_t)tpl.size), 0);
    snprintf(tpl.path, sizeof(tpl.path), "%s", path);
}

static int op_alloc(struct run *r)
{
    mp_pgno pg;
    return mp_pager_alloc(r->p, &pg);
}
static int op_free(struct run *r)
{
    return mp_pager_free(r->p, 6);
}
static int op_alloc_bulk(struct run *r)
{
    mp_pgno pgs[300];
    return mp_pager_alloc_bulk(r->p, 300, pgs);
}
static int op_free_bulk(struct run *r)
{
    static const mp_pgno pgs[] = { 5, 6, 7 };
    return mp_pager_free_bulk(r->p, pgs, 3);
}
static int op_grow(struct run *r)
{
    /* Far enough for a deeper map tree. */
    return mp_pager_grow(r->p, 40000);
}
static int op_protected_alloc(struct run *r)
{
    mp_protected_id id;
    return mp_protected_alloc(r->p, &id);
}
static int op_protected_alloc_bulk(struct run *r)
{
    /* Enough slots for new directory blocks and a directory node. */
    static mp_protected_id ids[400];
    return mp_protected_alloc_bulk(r->p, 400, ids);
}
/* Past the directory's root capacity (19 blocks of 42 slots at 1024-byte
 * pages): the directory tree gets an index level, whose nodes are taken
 * from the map inside the call. */
static int op_protected_alloc_deeper(struct run *r)
{
    static mp_protected_id ids[850];
    return mp_protected_alloc_bulk(r->p, 850, ids);
}
/* A write staged with memory working; the commit is what fails. */
static void prep_stage(struct run *r)
{
    unsigned char *w;
    assert_int_equal(
        mp_protected_begin(r->p, MP_ID_KIND_PROTECT | 1, (void **)&w), MP_OK);
    memset(w, 0x99, PS);
}
static int op_protected_commit(struct run *r)
{
    return mp_protected_commit(r->p, MP_ID_KIND_PROTECT | 1);
}
static int op_protected_free(struct run *r)
{
    return mp_protected_free(r->p, MP_ID_KIND_PROTECT | 0);
}
static int op_protected_free_bulk(struct run *r)
{
    static const mp_protected_id ids[] = { MP_ID_KIND_PROTECT | 1,
                                           MP_ID_KIND_PROTECT | 0 };
    return mp_protected_free_bulk(r->p, ids, 2);
}
/* A staged page freed: the free drops the write only if it commits. */
static int op_protected_free_staged(struct run *r)
{
    return mp_protected_free(r->p, MP_ID_KIND_PROTECT | 1);
}
/* A fresh sub-page allocator: its first slot takes a parent (a commit that
 * has to grow the file). */
static void prep_subpage(struct run *r)
{
    assert_int_equal(mp_subpage_create(r->p, 256, &r->sp), MP_OK);
}
static int op_subpage_alloc(struct run *r)
{
    return mp_subpage_alloc(r->sp, &r->sid);
}
static void prep_shared(struct run *r)
{
    assert_int_equal(mp_shared_wrap(r->p, &r->sh), MP_OK);
}
static int op_shared_alloc(struct run *r)
{
    mp_pgno pg;
    return mp_shared_alloc(r->sh, &pg);
}
static int op_shared_protected_free(struct run *r)
{
    return mp_shared_protected_free(r->sh, MP_ID_KIND_PROTECT | 0);
}
static void prep_shared_stage(struct run *r)
{
    void *w;
    prep_shared(r);
    assert_int_equal(
        mp_shared_protected_begin(r->sh, MP_ID_KIND_PROTECT | 1, &w), MP_OK);
    memset(w, 0x77, PS);
}
static int op_shared_protected_commit(struct run *r)
{
    return mp_shared_protected_commit(r->sh, MP_ID_KIND_PROTECT | 1);
}

static void start(struct run *r, const char *path, struct mp_options *opt,
                  prep_fn prep)
{
    struct mp_options plain;
    memset(r, 0, sizeof(*r));
    setup(path);
    if (!opt) {
        mpt_options(&plain);
        opt = &plain;
    }
    assert_int_equal(mp_pager_open(path, PS, opt, &r->p), MP_OK);
    if (prep) {
        prep(r);
    }
}

static void finish(struct run *r)
{
    if (r->sp) {
        mp_subpage_destroy(r->sp);
    }
    if (r->sh) {
        r->p = mp_shared_unwrap(r->sh);
    }
    mp_pager_close(r->p);
    memset(r, 0, sizeof(*r));
}

static void expect_state(const char *name, long n, int sticky, const char *when,
                         const struct mpt_state *want, mp_pager *p)
{
    char buf[200];
    const char *d = mpt_state_diff_pager(want, p, buf, sizeof(buf));
    if (d) {
        fail_msg("%s: allocation %ld%s failing: %s: %s", name, n,
                 sticky ? " (and every later one)" : "", when, d);
    }
}

/*
 * Fail allocation n of the operation, n = 1, 2, ... until it succeeds;
 * with modes 2, a second pass fails allocation n and every later one. Each
 * failure must return MP_ENOMEM with the pager usable (no failure
 * recorded) and its whole observable state equal to the state before the
 * call; the same call then succeeds with memory back, and a reopen shows
 * exactly the state after it.
 */
static void oom_loop(const char *name, op_fn op, prep_fn prep, int modes)
{
    const char *path = mpt_path(name);
    struct mpt_state before, after;
    struct run r;
    long failures = 0;

    /* The states before and after, from a run without failures. */
    start(&r, path, NULL, prep);
    mpt_state_capture(r.p, &before);
    assert_int_equal(op(&r), MP_OK);
    finish(&r);
    r.p = mpt_open(path, PS);
    mpt_state_capture(r.p, &after);
    mp_pager_close(r.p);
    {
        char buf[200];
        assert_non_null(mpt_state_diff(&before, &after, buf, sizeof(buf)));
    }

    for (int sticky = 0; sticky < modes; sticky++) {
        for (long n = 1;; n++) {
            struct mp_options opt;
            struct oom o;
            uint64_t sp_live = 0, sp_parents = 0;
            int rc, code, os;

            oom_options(&opt, &o);
            start(&r, path, &opt, prep);
            if (r.sp) {
                sp_live = mp_subpage_count(r.sp);
                sp_parents = mp_subpage_parent_count(r.sp);
            }
            o.sticky = sticky;
            o.fail_at = o.calls + n;
            rc = op(&r);
            o.fail_at = 0;
            if (rc == MP_OK) {
                finish(&r);
                r.p = mpt_open(path, PS);
                expect_state(name, n, sticky, "success, reopened", &after, r.p);
                mp_pager_close(r.p);
                break;
            }
            failures++;
            if (rc != MP_ENOMEM) {
                fail_msg("%s: allocation %ld failing gave %s", name, n,
                         mp_error_name(rc));
            }
            mp_pager_last_failure(r.p, &code, &os);
            if (code != 0) {
                fail_msg("%s: allocation %ld%s failing left the pager "
                         "unavailable (%s)",
                         name, n, sticky ? " (sticky)" : "",
                         mp_error_name(code));
            }
            expect_state(name, n, sticky, "memory after MP_ENOMEM", &before,
                         r.p);
            if (r.sp) {
                assert_int_equal(mp_subpage_count(r.sp), sp_live);
                assert_int_equal(mp_subpage_parent_count(r.sp), sp_parents);
            }
            /* The same call succeeds with memory back. */
            rc = op(&r);
            if (rc != MP_OK) {
                fail_msg("%s: after allocation %ld%s failed, the same call "
                         "returned %s",
                         name, n, sticky ? " (sticky)" : "", mp_error_name(rc));
            }
            finish(&r);
            r.p = mpt_open(path, PS);
            expect_state(name, n, sticky, "retried, reopened", &after, r.p);
            mp_pager_close(r.p);
            assert_true(n < 200);
        }
    }
    mpt_state_free(&before);
    mpt_state_free(&after);
    /* Every loop must have made the operation fail at least once. */
    assert_true(failures > 0);
}

#define OOM_TEST(fn, file, op, prep) \
 static void fn(void **s)            \
 {                                   \
  (void)s;                           \
  oom_loop(file, op, prep, 2);       \
 }
OOM_TEST(alloc_survives_oom, "m_alloc.mp", op_alloc, NULL)
OOM_TEST(free_survives_oom, "m_free.mp", op_free, NULL)
OOM_TEST(alloc_bulk_survives_oom, "m_abulk.mp", op_alloc_bulk, NULL)
OOM_TEST(free_bulk_survives_oom, "m_fbulk.mp", op_free_bulk, NULL)
OOM_TEST(grow_survives_oom, "m_grow.mp", op_grow, NULL)
OOM_TEST(protected_alloc_survives_oom, "m_palloc.mp", op_protected_alloc, NULL)
OOM_TEST(protected_alloc_bulk_survives_oom, "m_pabulk.mp",
         op_protected_alloc_bulk, NULL)
/* Once only, not sticky: the largest call here, and the sticky pass adds
 * no path the other loops do not take. */
static void protected_alloc_deeper_survives_oom(void **s)
{
    (void)s;
    oom_loop("m_pdeep.mp", op_protected_alloc_deeper, NULL, 1);
}
OOM_TEST(protected_commit_survives_oom, "m_pcommit.mp", op_protected_commit,
         prep_stage)
OOM_TEST(protected_free_survives_oom, "m_pfree.mp", op_protected_free, NULL)
OOM_TEST(protected_free_bulk_survives_oom, "m_pfbulk.mp",
         op_protected_free_bulk, NULL)
OOM_TEST(protected_free_of_staged_survives_oom, "m_pfstaged.mp",
         op_protected_free_staged, prep_stage)
OOM_TEST(subpage_parent_alloc_survives_oom, "m_salloc.mp", op_subpage_alloc,
         prep_subpage)
OOM_TEST(shared_alloc_survives_oom, "m_salloc2.mp", op_shared_alloc,
         prep_shared)
OOM_TEST(shared_protected_free_survives_oom, "m_spfree.mp",
         op_shared_protected_free, prep_shared)
OOM_TEST(shared_protected_commit_survives_oom, "m_spcommit.mp",
         op_shared_protected_commit, prep_shared_stage)

/* Begin and abort take no memory at all: with every allocation failing
 * they work, and the staged write then commits once memory is back. */
static void protected_begin_needs_no_memory(void **state)
{
    const char *path = mpt_path("m_begin.mp");
    struct mp_options opt;
    struct oom o;
    struct run r;
    unsigned char *w;
    const unsigned char *b;
    (void)state;
    oom_options(&opt, &o);
    start(&r, path, &opt, NULL);
    o.sticky = 1;
    o.fail_at = o.calls + 1;
    assert_int_equal(
        mp_protected_begin(r.p, MP_ID_KIND_PROTECT | 1, (void **)&w), MP_OK);
    assert_int_equal(mp_protected_abort(r.p, MP_ID_KIND_PROTECT | 1), MP_OK);
    assert_int_equal(
        mp_protected_begin(r.p, MP_ID_KIND_PROTECT | 1, (void **)&w), MP_OK);
    memset(w, 0x31, PS);
    o.fail_at = 0;
    assert_int_equal(mp_protected_commit(r.p, MP_ID_KIND_PROTECT | 1), MP_OK);
    assert_int_equal(
        mp_protected_get(r.p, MP_ID_KIND_PROTECT | 1, (const void **)&b),
        MP_OK);
    assert_int_equal(b[0], 0x31);
    finish(&r);
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
    struct mpt_state before;
    struct run r;
    mp_pager *p;
    (void)state;
    setup(path);
    memset(&r, 0, sizeof(r));
    r.p = p = mpt_open(path, PS);
    assert_int_equal(op_protected_alloc_bulk(&r), MP_OK);
    assert_int_equal(op_grow(&r), MP_OK);
    mpt_state_capture(p, &before);
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
            expect_state("open", n, 0, "opened", &before, p);
            mp_pager_close(p);
            break;
        }
        assert_int_equal(rc, MP_ENOMEM);
        assert_null(p);
        assert_true(n < 100);
    }
    /* Recovery wrote nothing. */
    p = mpt_open(path, PS);
    expect_state("open", 0, 0, "reopened", &before, p);
    mp_pager_close(p);
    mpt_state_free(&before);
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
    assert_int_equal(mp_pager_open(path, PS, &opt, &p), MP_OK);
    o.fail_at = o.calls + 1;
    assert_int_equal(mp_shared_wrap(p, &s), MP_ENOMEM);
    assert_null(s);
    o.fail_at = 0;
    assert_int_equal(mp_pager_alloc(p, &pg), MP_OK);
    assert_int_equal(mp_shared_wrap(p, &s), MP_OK);
    assert_int_equal(mp_shared_close(s), MP_OK);
}

/* mp_shared_protected_write drops the staged write when the commit fails
 * (MP_ENOMEM leaves the pager usable): the page can be written again. */
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
        assert_int_equal(mp_pager_open(path, PS, &opt, &p), MP_OK);
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
        assert_int_equal(code, 0);
        /* Nothing is left staged, and the committed bytes are the old. */
        assert_int_equal(
            mp_shared_protected_read(s, MP_ID_KIND_PROTECT | 1, got, PS),
            MP_OK);
        assert_int_equal(got[0], 0);
        assert_int_equal(
            mp_shared_protected_write(s, MP_ID_KIND_PROTECT | 1, data, PS),
            MP_OK);
        assert_int_equal(
            mp_shared_protected_read(s, MP_ID_KIND_PROTECT | 1, got, PS),
            MP_OK);
        assert_memory_equal(got, data, PS);
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
        /* Nothing changed: every slot is still live and freeable. */
        assert_int_equal(mp_subpage_count(sp), N);
        assert_int_equal(mp_subpage_parent_count(sp), N / 2);
        assert_int_equal(mp_subpage_free_bulk(sp, ids, N), MP_OK);
        mp_subpage_destroy(sp);
        mp_pager_close(p);
        assert_true(n < 100);
    }
    assert_true(failures > 0);
}

int main(void)
{
    int rc;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(alloc_survives_oom),
        cmocka_unit_test(free_survives_oom),
        cmocka_unit_test(alloc_bulk_survives_oom),
        cmocka_unit_test(free_bulk_survives_oom),
        cmocka_unit_test(grow_survives_oom),
        cmocka_unit_test(protected_alloc_survives_oom),
        cmocka_unit_test(protected_alloc_bulk_survives_oom),
        cmocka_unit_test(protected_alloc_deeper_survives_oom),
        cmocka_unit_test(protected_commit_survives_oom),
        cmocka_unit_test(protected_free_survives_oom),
        cmocka_unit_test(protected_free_bulk_survives_oom),
        cmocka_unit_test(protected_free_of_staged_survives_oom),
        cmocka_unit_test(subpage_parent_alloc_survives_oom),
        cmocka_unit_test(shared_alloc_survives_oom),
        cmocka_unit_test(shared_protected_free_survives_oom),
        cmocka_unit_test(shared_protected_commit_survives_oom),
        cmocka_unit_test(protected_begin_needs_no_memory),
        cmocka_unit_test(create_fails_cleanly_without_memory),
        cmocka_unit_test(open_fails_cleanly_without_memory),
        cmocka_unit_test(shared_wrap_fails_cleanly_without_memory),
        cmocka_unit_test(shared_protected_write_recovers_from_oom),
        cmocka_unit_test(subpage_free_bulk_survives_oom),
    };
    /* Files here stay under 64 MiB and are reopened hundreds of times. */
    mpt_cap_reserve((uint64_t)64 << 20);
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    free(tpl.bytes);
    return rc;
}
