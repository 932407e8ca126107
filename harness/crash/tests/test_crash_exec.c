/*
 * test_crash_exec.c - the executor over the real posix backend: the standard
 * workloads match the model step by step in both commit modes, a pager that
 * changes behind the model's back is caught, and the open flags reach the
 * pager (one barrier per one-flush commit; `switch` flips the mode).
 */
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "mph/exec.h"

#ifndef MPH_WORKLOADS_DIR
# error "MPH_WORKLOADS_DIR must name harness/workloads"
#endif

static char dir[256];

static int make_dir(void **state)
{
    const char *t = getenv("TMPDIR");
    (void)state;
    /* tmpfs: these runs check the model, not power loss, and use 1 KiB
     * pages, which the device rule refuses on a disk with 4 KiB sectors. */
    snprintf(dir, sizeof(dir), "%s/mph-exec-XXXXXX", t ? t : "/dev/shm");
    return mkdtemp(dir) ? 0 : -1;
}

static int remove_dir(void **state)
{
    (void)state;
    return rmdir(dir);
}

static struct mph_workload *load(const char *name)
{
    struct mph_workload *w;
    char path[512], err[512];
    snprintf(path, sizeof(path), "%s/%s", MPH_WORKLOADS_DIR, name);
    if (mph_workload_load(path, &w, err, sizeof(err)) != MP_OK) {
        print_error("%s\n", err);
        fail();
    }
    return w;
}

static void config(struct mph_exec_config *c, const char *file)
{
    static char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    unlink(path);
    memset(c, 0, sizeof(*c));
    c->path = path;
    c->page_size = 1024;
}

static void standard_workloads_match_the_model(void **state)
{
    static const char *const names[] = { "small.wl",     "regular.wl",
                                         "bulk.wl",      "growth.wl",
                                         "protected.wl", "subpage.wl",
                                         "groups.wl",    "directory.wl",
                                         "modeswitch.wl" };
    (void)state;
    for (size_t i = 0; i < 2 * sizeof(names) / sizeof(names[0]); i++) {
        struct mph_workload *w = load(names[i / 2]);
        struct mph_exec_config c;
        struct mph_model *m;
        struct mph_diff d;
        size_t failed;
        config(&c, "std.mp");
        c.open_flags = i % 2 ? MP_OPEN_ONE_FLUSH : 0;
        assert_int_equal(mph_model_new(1024, MPH_DEFAULT_RESERVE, &m), MP_OK);
        assert_int_equal(mph_exec_run(w, &c, m, &d, &failed), MP_OK);
        if (d.rule != MPH_RULE_NONE) {
            print_error("%s (%s): op %zu: %s\n", names[i / 2],
                        i % 2 ? "one-flush" : "two-barrier", failed, d.what);
        }
        assert_int_equal(d.rule, MPH_RULE_NONE);
        assert_int_equal(failed, w->nops);
        assert_int_equal(mph_model_nstates(m), w->nops + 1);
        mph_model_free(m);
        mph_workload_free(w);
        unlink(c.path);
    }
}

static void a_change_behind_the_models_back_is_caught(void **state)
{
    const char *text = "alloc\nalloc\niterate\n";
    struct mph_workload *w;
    struct mph_exec_config c;
    struct mph_model *m;
    struct mph_exec *e;
    struct mph_diff d;
    char err[256];
    int op_rc;
    (void)state;
    assert_int_equal(
        mph_workload_parse(text, strlen(text), "t", &w, err, sizeof(err)),
        MP_OK);
    config(&c, "behind.mp");
    assert_int_equal(mph_model_new(1024, MPH_DEFAULT_RESERVE, &m), MP_OK);
    assert_int_equal(mph_exec_new(w, &c, m, &e), MP_OK);
    assert_int_equal(mph_exec_create(e, &op_rc, &d), MP_OK);
    assert_int_equal(op_rc, MP_OK);
    assert_int_equal(d.rule, MPH_RULE_NONE);
    assert_int_equal(mph_exec_step(e, &op_rc, &d), MP_OK);
    assert_int_equal(mph_exec_step(e, &op_rc, &d), MP_OK);
    assert_int_equal(d.rule, MPH_RULE_NONE);
    assert_true(mph_exec_ref(e, 2) != MPH_ID_UNSET);
    assert_true(mph_exec_ref(e, 3) == MPH_ID_UNSET);
    assert_int_equal(mp_pager_free(mph_exec_pager(e), mph_exec_ref(e, 1)),
                     MP_OK);
    assert_int_equal(mph_exec_step(e, &op_rc, &d), MP_OK);
    assert_int_equal(d.rule, MPH_RULE_RUN);
    assert_non_null(strstr(d.what, "expected an allocated regular page"));
    assert_int_equal(mph_exec_step(e, &op_rc, &d), MP_EINVAL);
    mph_exec_free(e);
    mph_model_free(m);
    mph_workload_free(w);
    unlink(c.path);
}

/*
 * The executor's open flags reach every pager it makes: a one-flush commit
 * is one sync barrier (pager stats), a two-barrier one at least two, and
 * `switch` reopens in the other mode (a retry would not flip it again).
 */
static void open_flags_reach_the_pager_and_switch_flips_them(void **state)
{
    static const char *const text = "palloc\n"         /* one-flush */
                                    "pwrite $1 0x41\n" /* one-flush */
                                    "alloc\n"          /* one-flush */
                                    "switch\n"
                                    "alloc\n"          /* two-barrier */
                                    "pwrite $1 0x42\n" /* two-barrier */
                                    "switch\n"
                                    "free $2\n"; /* one-flush */
    static const int want[] = { 1, 1, 1, -1, 2, 2, -1, 1 };
    static const unsigned mode[] = { 1, 1, 1, 0, 0, 0, 1, 1 };
    struct mph_workload *w;
    struct mph_exec_config c;
    struct mph_model *m;
    struct mph_exec *e;
    struct mph_diff d;
    char err[256];
    int op_rc;
    (void)state;
    assert_int_equal(
        mph_workload_parse(text, strlen(text), "t", &w, err, sizeof(err)),
        MP_OK);
    config(&c, "flags.mp");
    c.open_flags = MP_OPEN_ONE_FLUSH;
    assert_int_equal(mph_model_new(1024, MPH_DEFAULT_RESERVE, &m), MP_OK);
    assert_int_equal(mph_exec_new(w, &c, m, &e), MP_OK);
    assert_int_equal(mph_exec_create(e, &op_rc, &d), MP_OK);
    assert_int_equal(op_rc, MP_OK);
    for (size_t i = 0; i < w->nops; i++) {
        struct mp_pager_stats a, b;
        mp_pager_stats(mph_exec_pager(e), &a);
        assert_int_equal(mph_exec_step(e, &op_rc, &d), MP_OK);
        assert_int_equal(op_rc, MP_OK);
        assert_int_equal(d.rule, MPH_RULE_NONE);
        assert_int_equal(mph_exec_open_flags(e),
                         mode[i] ? (unsigned)MP_OPEN_ONE_FLUSH : 0u);
        mp_pager_stats(mph_exec_pager(e), &b);
        if (want[i] == 1) {
            if (b.sync_calls - a.sync_calls != 1) {
                print_error("op %zu: %llu syncs in one-flush mode\n", i,
                            (unsigned long long)(b.sync_calls - a.sync_calls));
            }
            assert_int_equal(b.sync_calls - a.sync_calls, 1);
        } else if (want[i] == 2) {
            /* Two barriers (three when page 0 is repaired first). */
            assert_true(b.sync_calls - a.sync_calls >= 2);
        }
    }
    /* A new run starts in the mode it was configured with. */
    assert_int_equal(mph_exec_create(e, &op_rc, &d), MP_OK);
    assert_int_equal(mph_exec_open_flags(e), (unsigned)MP_OPEN_ONE_FLUSH);
    mph_exec_free(e);
    mph_model_free(m);
    mph_workload_free(w);
    unlink(c.path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(standard_workloads_match_the_model),
        cmocka_unit_test(a_change_behind_the_models_back_is_caught),
        cmocka_unit_test(open_flags_reach_the_pager_and_switch_flips_them),
    };
    return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
