/*
 * test_crash_explore.c - the explorer over the real core: a clean sweep, what
 * it counts, shards that partition the work, budgets, reports and replays.
 * (That it catches broken protocols is the "mutants" test.)
 */
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mph/explore.h"

static const char *const text = "#! page_size 1024\n"
                                "alloc\n"
                                "palloc\n"
                                "pwrite $2 0x41\n"
                                "write $1 0x11\n"
                                "sync\n"
                                "free $1\n";

static struct mph_workload *workload(void)
{
    struct mph_workload *w;
    char err[256];
    assert_int_equal(
        mph_workload_parse(text, strlen(text), "t", &w, err, sizeof(err)),
        MP_OK);
    return w;
}

static void config(struct mph_explore_config *c)
{
    mph_explore_config_init(c);
    c->garbage = true;
    c->max_images = 64;
}

static struct mph_explore_stats explore(const struct mph_explore_config *c)
{
    struct mph_workload *w = workload();
    struct mph_explorer *x;
    struct mph_explore_stats s;
    assert_int_equal(mph_explorer_new(c, &x), MP_OK);
    assert_int_equal(mph_explorer_run(x, w, "t"), MP_OK);
    s = *mph_explorer_stats(x);
    mph_explorer_free(x);
    mph_workload_free(w);
    return s;
}

static void the_real_core_passes_and_everything_is_counted(void **state)
{
    struct mph_explore_config c;
    struct mph_explore_stats s;
    (void)state;
    config(&c);
    s = explore(&c);
    assert_int_equal(s.violations, 0);
    assert_int_equal(s.workloads, 1);
    assert_int_equal(s.ops, 6);
    assert_int_equal(s.gaps, 7);
    assert_true(s.crash_points > 20);
    assert_true(s.fault_sites > 10);
    assert_true(s.states > s.crash_points);
    assert_true(s.fallback > 0); /* garbage tears the commit record */
    assert_int_equal(s.fallback, s.fallback_torn + s.fallback_bad);
    assert_true(s.protected_old > 0 && s.protected_new > 0);
    assert_true(s.rolled_back > 0 && s.held > 0);
    assert_true(s.absent > 0);
    assert_int_equal(s.checker_runs, s.states - s.absent);
    assert_true(s.life_runs > 0);
    assert_string_equal(s.stopped, "complete");
}

static void shards_partition_the_sites(void **state)
{
    struct mph_explore_config c;
    struct mph_explore_stats all, part;
    uint64_t sites = 0, states = 0;
    (void)state;
    config(&c);
    c.life = MPH_EVERY_OFF;
    all = explore(&c);
    c.nshards = 3;
    for (c.shard = 0; c.shard < 3; c.shard++) {
        part = explore(&c);
        assert_true(part.crash_points + part.gaps + part.fault_sites > 0);
        sites += part.crash_points + part.gaps + part.fault_sites;
        states += part.states;
    }
    assert_int_equal(sites, all.crash_points + all.gaps + all.fault_sites);
    assert_int_equal(states, all.states);
    c.shard = 3;
    {
        struct mph_explorer *x;
        assert_int_equal(mph_explorer_new(&c, &x), MP_EINVAL);
    }
}

static void a_budget_stops_the_sweep(void **state)
{
    struct mph_explore_config c;
    struct mph_explore_stats s;
    (void)state;
    config(&c);
    c.budget = 25;
    s = explore(&c);
    assert_int_equal(s.states, 25);
    assert_string_equal(s.stopped, "budget");
}

static void the_json_report_has_the_numbers(void **state)
{
    struct mph_explore_config c;
    struct mph_workload *w = workload();
    struct mph_explorer *x;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    (void)state;
    config(&c);
    c.gaps = false;
    assert_non_null(f);
    assert_int_equal(mph_explorer_new(&c, &x), MP_OK);
    assert_int_equal(mph_explorer_run(x, w, "t\"q"), MP_OK);
    assert_int_equal(mph_explorer_json(x, f), MP_OK);
    fclose(f);
    assert_non_null(strstr(buf, "\"tool\":\"mp-explore\""));
    assert_non_null(strstr(buf, "\"states\":"));
    assert_non_null(strstr(buf, "\"states_per_second\":"));
    assert_non_null(strstr(buf, "\"violations\":0"));
    assert_non_null(strstr(buf, "\"gaps\":0"));
    assert_non_null(strstr(buf, "\"name\":\"t\\\"q\""));
    free(buf);
    mph_explorer_free(x);
    mph_workload_free(w);
}

static void a_reproducer_replays_its_site(void **state)
{
    struct mph_workload *w = workload();
    struct mph_verdict v;
    (void)state;
    assert_int_equal(mph_workload_set_directive(w, "repro.garbage", "1"),
                     MP_OK);
    assert_int_equal(mph_workload_set_directive(w, "repro.site", "point 40"),
                     MP_OK);
    assert_int_equal(mph_workload_set_directive(w, "repro.pattern", ""), MP_OK);
    assert_int_equal(mph_explore_replay(w, NULL, &v), MP_OK);
    assert_int_equal(v.diff.rule, MPH_RULE_NONE);
    assert_int_equal(v.open_rc, MP_OK);
    assert_true(v.life_ran);
    /* An injected error: the 20th failure-capable call, half persisted. */
    assert_int_equal(
        mph_workload_set_directive(w, "repro.site", "fault 20 part"), MP_OK);
    assert_int_equal(mph_explore_replay(w, NULL, &v), MP_OK);
    assert_int_equal(v.diff.rule, MPH_RULE_NONE);
    assert_int_equal(
        mph_workload_set_directive(w, "repro.site", "fault 20 most"), MP_OK);
    assert_int_equal(mph_explore_replay(w, NULL, &v), MP_EINVAL);
    /* A site the workload never reaches. */
    assert_int_equal(mph_workload_set_directive(w, "repro.site", "gap 99"),
                     MP_OK);
    assert_int_equal(mph_explore_replay(w, NULL, &v), MP_EINVAL);
    assert_non_null(strstr(v.diff.what, "no site"));
    /* A pattern that does not fit the crash. */
    assert_int_equal(mph_workload_set_directive(w, "repro.site", "gap 2"),
                     MP_OK);
    assert_int_equal(mph_workload_set_directive(w, "repro.pattern", "f7=c"),
                     MP_OK);
    assert_int_equal(mph_explore_replay(w, NULL, &v), MP_EINVAL);
    mph_workload_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_real_core_passes_and_everything_is_counted),
        cmocka_unit_test(shards_partition_the_sites),
        cmocka_unit_test(a_budget_stops_the_sweep),
        cmocka_unit_test(the_json_report_has_the_numbers),
        cmocka_unit_test(a_reproducer_replays_its_site),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
