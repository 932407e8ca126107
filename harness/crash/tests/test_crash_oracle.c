/*
 * test_crash_oracle.c - the recovery oracle on crash images made by hand with
 * faultfs: it passes what recovers correctly and names the rule, page and
 * bytes of what does not.
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
#include "mph/oracle.h"

#define PS   1024
#define PATH "o.mp"

struct fx {
    struct mph_workload *w;
    struct mph_model *m;
    faultfs *fs;  /* crashed after the workload */
    faultfs *img; /* image 0 of it */
    struct mph_oracle_config oc;
};

/* Run text with the model over a faultfs, crash after it, take image 0. */
static struct fx *run(const char *text)
{
    struct fx *f = calloc(1, sizeof(*f));
    struct mph_exec_config c;
    struct mph_exec *e;
    struct mph_diff d;
    char err[256];
    int op_rc;

    assert_non_null(f);
    assert_int_equal(
        mph_workload_parse(text, strlen(text), "t", &f->w, err, sizeof(err)),
        MP_OK);
    assert_int_equal(mph_model_new(PS, MPH_DEFAULT_RESERVE, &f->m), MP_OK);
    assert_int_equal(faultfs_new(NULL, &f->fs), MP_OK);
    memset(&c, 0, sizeof(c));
    c.vfs = faultfs_vfs(f->fs);
    c.path = PATH;
    c.page_size = PS;
    assert_int_equal(mph_exec_new(f->w, &c, f->m, &e), MP_OK);
    assert_int_equal(mph_exec_create(e, &op_rc, &d), MP_OK);
    assert_int_equal(op_rc, MP_OK);
    while (mph_exec_next(e) < f->w->nops) {
        assert_int_equal(mph_exec_step(e, &op_rc, &d), MP_OK);
        assert_int_equal(d.rule, MPH_RULE_NONE);
    }
    assert_int_equal(faultfs_crash_now(f->fs), MP_OK);
    mph_exec_free(e);
    assert_int_equal(
        faultfs_image_by_index(f->fs, FAULTFS_SPACE_TORN, 0, &f->img), MP_OK);
    f->oc.path = PATH;
    f->oc.page_size = PS;
    return f;
}

static void done(struct fx *f)
{
    faultfs_free(f->img);
    faultfs_free(f->fs);
    mph_model_free(f->m);
    mph_workload_free(f->w);
    free(f);
}

static const struct mph_state *S(struct fx *f, size_t i)
{
    return mph_model_state(f->m, i);
}

static void a_correct_recovery_passes_every_rule(void **state)
{
    struct fx *f = run("alloc\nalloc\npalloc\npwrite $3 0x41\nwrite $1 7\n"
                       "sync\nfree $2\n");
    struct mph_verdict v;
    (void)state;
    assert_int_equal(mph_oracle_check(&f->oc, faultfs_vfs(f->img), f->m, NULL,
                                      S(f, 7),
                                      MPH_ORACLE_CHECKER | MPH_ORACLE_LIFE, &v),
                     MP_OK);
    if (v.diff.rule != MPH_RULE_NONE) {
        print_error("%s\n", v.diff.what);
    }
    assert_int_equal(v.diff.rule, MPH_RULE_NONE);
    assert_int_equal(v.match, MPH_MATCH_CUR);
    assert_int_equal(v.open_rc, MP_OK);
    assert_false(v.fallback);
    assert_int_equal(v.check_verdict, 0);
    assert_true(v.life_ran);
    done(f);
}

static void an_op_in_flight_may_hold_or_roll_back(void **state)
{
    struct fx *f = run("alloc\nalloc\nfree $1\n");
    struct mph_verdict v;
    (void)state;
    /* The image holds S_3: fine as the new state of op 3 ... */
    assert_int_equal(mph_oracle_check(&f->oc, faultfs_vfs(f->img), f->m,
                                      S(f, 2), S(f, 3), 0, &v),
                     MP_OK);
    assert_int_equal(v.match, MPH_MATCH_CUR);
    /* ... and as the old state of an op that would have come after. */
    assert_int_equal(mph_oracle_check(&f->oc, faultfs_vfs(f->img), f->m,
                                      S(f, 3), S(f, 2), 0, &v),
                     MP_OK);
    assert_int_equal(v.match, MPH_MATCH_PREV);
    assert_int_equal(v.diff.rule, MPH_RULE_NONE);
    done(f);
}

static void a_rolled_back_completed_op_breaks_rule_2(void **state)
{
    struct fx *f = run("alloc\nalloc\nfree $1\n");
    struct mph_verdict v;
    (void)state;
    /* Between ops the state must be exactly the last one. */
    assert_int_equal(mph_oracle_check(&f->oc, faultfs_vfs(f->img), f->m, NULL,
                                      S(f, 2), 0, &v),
                     MP_OK);
    assert_int_equal(v.diff.rule, MPH_RULE_ATOMIC);
    assert_int_equal(v.match, MPH_MATCH_NONE);
    assert_non_null(strstr(v.diff.what, "expected an allocated regular"));
    /* Neither of two states that are both wrong. */
    assert_int_equal(mph_oracle_check(&f->oc, faultfs_vfs(f->img), f->m,
                                      S(f, 0), S(f, 1), 0, &v),
                     MP_OK);
    assert_int_equal(v.diff.rule, MPH_RULE_ATOMIC);
    assert_non_null(strstr(v.diff.what, "neither S_i-1 nor S_i"));
    done(f);
}

static void protected_bytes_neither_old_nor_new_break_rule_3(void **state)
{
    struct fx *f = run("palloc\npwrite $1 0x41\npwrite $1 0x42\n"
                       "pwrite $1 0x43\n");
    struct mph_verdict v;
    (void)state;
    assert_int_equal(mph_oracle_check(&f->oc, faultfs_vfs(f->img), f->m,
                                      S(f, 2), S(f, 3), 0, &v),
                     MP_OK);
    assert_int_equal(v.diff.rule, MPH_RULE_PROTECTED);
    assert_true(v.diff.id == MP_ID_KIND_PROTECT);
    assert_non_null(strstr(v.diff.what, "expected 0x42, found 0x43"));
    done(f);
}

static void synced_bytes_lost_break_rule_2(void **state)
{
    struct fx *f = run("alloc\nwrite $1 0x11\nsync\nwrite $1 0x22\nsync\n");
    struct mph_verdict v;
    (void)state;
    /* S_3 says the page holds 0x11 durably; the image has 0x22. */
    assert_int_equal(mph_oracle_check(&f->oc, faultfs_vfs(f->img), f->m, NULL,
                                      S(f, 3), 0, &v),
                     MP_OK);
    assert_int_equal(v.diff.rule, MPH_RULE_ATOMIC);
    assert_non_null(strstr(v.diff.what, "synced bytes 0x11"));
    done(f);
}

static void an_image_that_does_not_open_breaks_rule_1(void **state)
{
    struct fx *f = run("alloc\n");
    static unsigned char junk[2 * PS];
    struct mph_verdict v;
    (void)state;
    memset(junk, 0xA5, sizeof(junk));
    /* Both metadata copies gone: nothing the crash model allows. */
    assert_int_equal(faultfs_file_write(f->img, PATH, PS, junk, sizeof(junk)),
                     MP_OK);
    assert_int_equal(mph_oracle_check(&f->oc, faultfs_vfs(f->img), f->m, NULL,
                                      S(f, 1), MPH_ORACLE_CHECKER, &v),
                     MP_OK);
    assert_int_equal(v.diff.rule, MPH_RULE_OPEN);
    assert_int_equal(v.open_rc, MP_ECORRUPT_META);
    assert_non_null(strstr(v.diff.what, "MP_ECORRUPT_META"));
    done(f);
}

static void no_file_is_fine_only_during_create(void **state)
{
    struct fx *f = run("alloc\n");
    struct mph_verdict v;
    (void)state;
    assert_int_equal(faultfs_file_remove(f->img, PATH), MP_OK);
    assert_int_equal(mph_oracle_check(&f->oc, faultfs_vfs(f->img), f->m, NULL,
                                      S(f, 0), MPH_ORACLE_ALLOW_ABSENT, &v),
                     MP_OK);
    assert_int_equal(v.match, MPH_MATCH_ABSENT);
    assert_int_equal(v.diff.rule, MPH_RULE_NONE);
    assert_int_equal(mph_oracle_check(&f->oc, faultfs_vfs(f->img), f->m, NULL,
                                      S(f, 0), 0, &v),
                     MP_OK);
    assert_int_equal(v.diff.rule, MPH_RULE_OPEN);
    assert_int_equal(v.open_rc, MP_ENOENT);
    done(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_correct_recovery_passes_every_rule),
        cmocka_unit_test(an_op_in_flight_may_hold_or_roll_back),
        cmocka_unit_test(a_rolled_back_completed_op_breaks_rule_2),
        cmocka_unit_test(protected_bytes_neither_old_nor_new_break_rule_3),
        cmocka_unit_test(synced_bytes_lost_break_rule_2),
        cmocka_unit_test(an_image_that_does_not_open_breaks_rule_1),
        cmocka_unit_test(no_file_is_fine_only_during_create),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
