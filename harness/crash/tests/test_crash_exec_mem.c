/*
 * test_crash_exec_mem.c - the executor's memory hooks and retry: a hook
 * failing the pager's nth allocation makes an op return MP_ENOMEM, the
 * pager keeps the state before the op (or refuses writes), and running
 * the op again with the hook healed gives what a clean run gave.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "faultfs.h"
#include "mph/exec.h"
#include "mph/failmem.h"

static const char protected_wl[] = "#! page_size 1024\n"
                                   "alloc\n"          /* $1 */
                                   "palloc\n"         /* $2 */
                                   "pwrite $2 0x41\n" /* protected commit */
                                   "alloc_bulk 5\n"   /* $3..$7 */
                                   "write $1 0x11\n"
                                   "free $3\n"
                                   "iterate\n"
                                   "palloc_bulk 3\n" /* $8..$10 */
                                   "pbegin $8\n"
                                   "pfill $8 0x22\n"
                                   "pcommit $8\n"
                                   "pfree_bulk $9 $10\n"
                                   "grow 40\n"
                                   "reopen\n"
                                   "free_bulk $4 $5\n";

static const char subpage_wl[] = "#! page_size 1024\n"
                                 "salloc 64\n"         /* $1 */
                                 "salloc_bulk 64 20\n" /* $2..$21 */
                                 "salloc 128\n"        /* $22 */
                                 "sfree $2\n"
                                 "reopen\n"
                                 "sfree_bulk $3 $4\n"
                                 "salloc_bulk 128 9\n" /* $23..$31 */
                                 "sfree $22\n";

struct fixture {
    struct mph_workload *w;
    struct mph_model *m;
    int *rca; /* what each op returned on the clean run */
};

static struct mph_workload *parse(const char *text)
{
    struct mph_workload *w = NULL;
    char err[256];
    if (mph_workload_parse(text, strlen(text), "test", &w, err, sizeof(err)) !=
        MP_OK) {
        print_error("%s\n", err);
        fail();
    }
    return w;
}

static faultfs *new_fs(void)
{
    struct faultfs_config fc;
    faultfs *fs = NULL;
    faultfs_config_init(&fc);
    assert_int_equal(faultfs_new(&fc, &fs), MP_OK);
    return fs;
}

static void config(struct mph_exec_config *c, faultfs *fs,
                   const struct mp_allocator_hooks *mem)
{
    memset(c, 0, sizeof(*c));
    c->vfs = faultfs_vfs(fs);
    c->path = "mem.mp";
    c->page_size = 1024;
    c->reserve_bytes = (uint64_t)4 << 20;
    c->mem = mem;
}

/* The clean run: every state S_i in the model, every return code. */
static void clean_run(struct fixture *fx, const char *text)
{
    struct mph_exec_config c;
    struct mph_exec *e;
    struct mph_diff d;
    faultfs *fs = new_fs();
    int rc;

    fx->w = parse(text);
    assert_int_equal(mph_model_new(1024, (uint64_t)4 << 20, &fx->m), MP_OK);
    fx->rca = calloc(fx->w->nops + 1, sizeof(int));
    assert_non_null(fx->rca);
    config(&c, fs, NULL);
    assert_int_equal(mph_exec_new(fx->w, &c, fx->m, &e), MP_OK);
    assert_int_equal(mph_exec_create(e, &rc, &d), MP_OK);
    assert_int_equal(rc, MP_OK);
    for (size_t i = 0; i < fx->w->nops; i++) {
        assert_int_equal(mph_exec_step(e, &fx->rca[i], &d), MP_OK);
        if (d.rule != MPH_RULE_NONE) {
            print_error("clean run, op %zu: %s\n", i, d.what);
            fail();
        }
    }
    mph_exec_free(e);
    faultfs_free(fs);
}

static void fixture_free(struct fixture *fx)
{
    free(fx->rca);
    mph_model_free(fx->m);
    mph_workload_free(fx->w);
}

/*
 * The pager equals state k of the model (hooks paused: the comparison's
 * iterators allocate too). A usable pager after MP_ENOMEM is exactly the
 * state before the call, page count included: a growth made before the
 * failing allocation would be a change nobody committed.
 */
static void assert_state(const struct fixture *fx, struct mph_failmem *fm,
                         mp_pager *p, size_t k, const char *what, size_t op)
{
    struct mph_diff d;
    bool armed = fm->armed;
    fm->armed = false;
    assert_int_equal(mph_state_compare(fx->m, mph_model_state(fx->m, k), p,
                                       MPH_CMP_VOLATILE, &d),
                     MP_OK);
    fm->armed = armed;
    if (d.rule != MPH_RULE_NONE) {
        print_error("op %zu (%s): %s: %s\n", op,
                    mph_op_name(fx->w->ops[op].kind), what, d.what);
        fail();
    }
}

struct tally {
    unsigned enomem, usable, retried, unavailable, gone;
    unsigned retried_by_kind[64];
};

/*
 * Fail allocation `skip + n` of op `op` for n = 1, 2, ... until the op
 * no longer reaches it; check every failure and retry it.
 */
static void sweep_op(const struct fixture *fx, size_t op, bool sticky,
                     struct tally *t)
{
    for (uint64_t n = 1;; n++) {
        struct mp_allocator_hooks hooks;
        struct mph_failmem fm;
        struct mph_exec_config c;
        struct mph_exec *e;
        struct mph_diff d;
        faultfs *fs = new_fs();
        mp_pager *p;
        int rc, fcode = 0;

        memset(&fm, 0, sizeof(fm));
        mph_failmem_hooks(&fm, &hooks);
        config(&c, fs, &hooks);
        assert_int_equal(mph_exec_new(fx->w, &c, NULL, &e), MP_OK);
        assert_int_equal(mph_exec_create(e, &rc, &d), MP_OK);
        assert_int_equal(rc, MP_OK);
        for (size_t i = 0; i < op; i++) {
            assert_int_equal(mph_exec_step(e, &rc, &d), MP_OK);
            assert_int_equal(rc, fx->rca[i]);
        }
        fm.armed = true;
        fm.sticky = sticky;
        fm.nth = n;
        assert_int_equal(mph_exec_step(e, &rc, &d), MP_OK);
        fm.armed = false;
        if (!fm.fired) {
            assert_int_equal(rc, fx->rca[op]);
            mph_exec_free(e);
            faultfs_free(fs);
            return;
        }
        p = mph_exec_pager(e);
        if (rc == fx->rca[op]) {
            /* Absorbed: nothing may differ from the clean run. */
            assert_non_null(p);
            assert_state(fx, &fm, p, op + 1, "absorbed failure", op);
        } else {
            if (rc != MP_ENOMEM) {
                print_error("op %zu (%s), allocation %u: returned %s\n", op,
                            mph_op_name(fx->w->ops[op].kind), (unsigned)n,
                            mp_error_name(rc));
                fail();
            }
            t->enomem++;
            if (p) {
                mp_pager_last_failure(p, &fcode, NULL);
            }
            if (!p) {
                t->gone++;
            } else if (fcode != 0) {
                t->unavailable++;
            } else {
                t->usable++;
                assert_state(fx, &fm, p, op, "usable after ENOMEM", op);
            }
            if (p ? fcode == 0 : fx->w->ops[op].kind == MPH_OP_REOPEN) {
                assert_int_equal(mph_exec_retry(e, &rc, &d), MP_OK);
                assert_int_equal(rc, fx->rca[op]);
                assert_non_null(mph_exec_pager(e));
                assert_state(fx, &fm, mph_exec_pager(e), op + 1, "retried", op);
                t->retried++;
                t->retried_by_kind[fx->w->ops[op].kind % 64]++;
                /* The rest of the workload runs as on the clean disk. */
                for (size_t i = op + 1; i < fx->w->nops; i++) {
                    assert_int_equal(mph_exec_step(e, &rc, &d), MP_OK);
                    assert_int_equal(rc, fx->rca[i]);
                }
                assert_state(fx, &fm, mph_exec_pager(e), fx->w->nops,
                             "after the rest", op);
            }
        }
        mph_exec_free(e);
        faultfs_free(fs);
    }
}

static void sweep(const char *text, bool sticky, struct tally *t)
{
    struct fixture fx;
    memset(&fx, 0, sizeof(fx));
    clean_run(&fx, text);
    for (size_t op = 0; op < fx.w->nops; op++) {
        sweep_op(&fx, op, sticky, t);
    }
    fixture_free(&fx);
}

static void enomem_in_protected_ops_then_retry(void **state)
{
    struct tally t;
    (void)state;
    memset(&t, 0, sizeof(t));
    sweep(protected_wl, false, &t);
    print_message("protected: %u ENOMEM (%u usable, %u unavailable, %u no "
                  "pager), %u retried\n",
                  t.enomem, t.usable, t.unavailable, t.gone, t.retried);
    assert_true(t.enomem > 0);
    /* MP_ENOMEM never leaves the pager unavailable (pager.h). */
    assert_int_equal(t.unavailable, 0);
    assert_true(t.retried > 0);
    assert_true(t.retried_by_kind[MPH_OP_REOPEN] > 0);
}

static void enomem_in_subpage_ops_then_retry(void **state)
{
    struct tally t;
    (void)state;
    memset(&t, 0, sizeof(t));
    sweep(subpage_wl, false, &t);
    print_message("subpage: %u ENOMEM (%u usable, %u unavailable, %u no "
                  "pager), %u retried\n",
                  t.enomem, t.usable, t.unavailable, t.gone, t.retried);
    assert_int_equal(t.unavailable, 0);
    assert_true(t.retried_by_kind[MPH_OP_SALLOC] > 0);
    assert_true(t.retried_by_kind[MPH_OP_REOPEN] > 0);
}

static void sticky_failures_are_clean_too(void **state)
{
    struct tally t;
    (void)state;
    memset(&t, 0, sizeof(t));
    sweep(protected_wl, true, &t);
    sweep(subpage_wl, true, &t);
    assert_true(t.enomem > 0);
    assert_int_equal(t.unavailable, 0);
}

/* One failure by hand: the first allocation of an alloc_bulk's commit. */
static void failed_op_keeps_state_and_retry_succeeds(void **state)
{
    struct mp_allocator_hooks hooks;
    struct fixture fx;
    struct mph_failmem fm;
    struct mph_exec_config c;
    struct mph_exec *e;
    struct mph_diff d;
    faultfs *fs;
    int rc;
    (void)state;

    memset(&fx, 0, sizeof(fx));
    clean_run(&fx, "#! page_size 1024\nalloc\npalloc\npwrite $2 0x5a\n");
    memset(&fm, 0, sizeof(fm));
    mph_failmem_hooks(&fm, &hooks);
    fs = new_fs();
    config(&c, fs, &hooks);
    assert_int_equal(mph_exec_new(fx.w, &c, NULL, &e), MP_OK);
    assert_int_equal(mph_exec_retry(e, &rc, &d), MP_EINVAL); /* no op yet */
    assert_int_equal(mph_exec_create(e, &rc, &d), MP_OK);
    assert_int_equal(mph_exec_step(e, &rc, &d), MP_OK);
    assert_int_equal(rc, MP_OK);
    fm.armed = true;
    fm.nth = 1; /* the directory's first slot */
    assert_int_equal(mph_exec_step(e, &rc, &d), MP_OK);
    fm.armed = false;
    assert_true(fm.fired > 0);
    assert_int_equal(rc, MP_ENOMEM);
    assert_int_equal(mph_exec_next(e), 2);
    assert_int_equal(mph_exec_ref(e, 2), MPH_ID_UNSET);
    {
        int fcode;
        mp_pager_last_failure(mph_exec_pager(e), &fcode, NULL);
        assert_int_equal(fcode, 0); /* nothing was written yet */
    }
    assert_state(&fx, &fm, mph_exec_pager(e), 1, "usable", 1);
    assert_int_equal(mph_exec_retry(e, &rc, &d), MP_OK);
    assert_int_equal(rc, MP_OK);
    assert_int_equal(mph_exec_next(e), 2);
    assert_true(mph_exec_ref(e, 2) != MPH_ID_UNSET);
    assert_state(&fx, &fm, mph_exec_pager(e), 2, "retried", 1);
    assert_int_equal(mph_exec_step(e, &rc, &d), MP_OK);
    assert_int_equal(rc, MP_OK);
    mph_exec_free(e);
    faultfs_free(fs);

    /* With a model attached the retry is refused. */
    {
        struct mph_model *m;
        fs = new_fs();
        config(&c, fs, NULL);
        assert_int_equal(mph_model_new(1024, (uint64_t)4 << 20, &m), MP_OK);
        assert_int_equal(mph_exec_new(fx.w, &c, m, &e), MP_OK);
        assert_int_equal(mph_exec_create(e, &rc, &d), MP_OK);
        assert_int_equal(mph_exec_step(e, &rc, &d), MP_OK);
        assert_int_equal(mph_exec_retry(e, &rc, &d), MP_EINVAL);
        mph_exec_free(e);
        mph_model_free(m);
        faultfs_free(fs);
    }
    fixture_free(&fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(failed_op_keeps_state_and_retry_succeeds),
        cmocka_unit_test(enomem_in_protected_ops_then_retry),
        cmocka_unit_test(enomem_in_subpage_ops_then_retry),
        cmocka_unit_test(sticky_failures_are_clean_too),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
