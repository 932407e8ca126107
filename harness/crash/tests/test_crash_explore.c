/*
 * test_crash_explore.c - the explorer over the real core: a clean sweep, what
 * it counts, shards that partition the work, budgets, reports and replays,
 * the device matrix (cells, their counters, time shares, page sizes), second
 * crashes and damaged images, the commit modes (one-flush cells, their
 * reproducers, files that switch modes). (That it catches broken protocols
 * is the "mutants" test.)
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

/* One crash per state, no damage: the single-crash counters are exact. */
static void config(struct mph_explore_config *c)
{
    mph_explore_config_init(c);
    c->garbage = true;
    c->max_images = 64;
    c->crash2_every = 0;
    c->damage = 0;
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
    assert_int_equal(s.fallback_one_flush, 0); /* a two-barrier run */
    assert_int_equal(s.one_flush, 0);
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

static void the_matrix_spec_parses_and_names_cells(void **state)
{
    struct mph_cell cells[MPH_MAX_CELLS];
    char name[80];
    size_t n;
    (void)state;
    /* 1k: 512,1k,4k under 4k + 512,1k under 1k; 4k: 512,1k,4k; 64k:
     * 512,1k,4k under 4k + 512,1k,4k,64k under 64k. */
    /* 15 geometries, each in both commit modes, two-barrier first. */
    assert_int_equal(mph_cells_parse("full", cells, &n), MP_OK);
    assert_int_equal(n, 30);
    for (size_t i = 0; i < n; i++) {
        assert_true(cells[i].garbage);
        assert_true(cells[i].sector <= cells[i].fs_page);
        assert_int_equal(cells[i].one_flush, i % 2 == 1);
    }
    mph_cell_name(&cells[0], name, sizeof(name));
    assert_string_equal(name, "1k/512/4k/two");
    mph_cell_name(&cells[1], name, sizeof(name));
    assert_string_equal(name, "1k/512/4k/one");
    assert_int_equal(mph_cells_parse_modes("full", MPH_MODE_ONE, cells, &n),
                     MP_OK);
    assert_int_equal(n, 15);
    assert_true(cells[0].one_flush && cells[14].one_flush);
    assert_int_equal(mph_cells_parse_modes("full", 0, cells, &n), MP_EINVAL);
    assert_int_equal(
        mph_cells_parse("64k/p/p,1k/512/1k/nogarbage,64k/65536/64k", cells, &n),
        MP_OK);
    assert_int_equal(n, 4); /* "p" is the page size: a duplicate, once */
    assert_int_equal(cells[0].page_size, 65536);
    assert_int_equal(cells[0].sector, 65536);
    assert_false(cells[2].garbage);
    mph_cell_name(&cells[2], name, sizeof(name));
    assert_string_equal(name, "1k/512/1k/nogarbage/two");
    mph_cell_name(&cells[3], name, sizeof(name));
    assert_string_equal(name, "1k/512/1k/nogarbage/one");
    /* A mode suffix picks one cell, whatever the modes asked for. */
    assert_int_equal(
        mph_cells_parse_modes("1k/512/4k/one,4k/512/4k/nogarbage/two",
                              MPH_MODE_ONE, cells, &n),
        MP_OK);
    assert_int_equal(n, 2);
    assert_true(cells[0].one_flush);
    assert_false(cells[1].one_flush || cells[1].garbage);
    assert_int_equal(
        mph_cells_parse_modes("4k/512/4k", MPH_MODE_TWO, cells, &n), MP_OK);
    assert_int_equal(n, 1);
    assert_false(cells[0].one_flush);
    assert_int_equal(mph_cells_parse("1k/512/4k/one/nogarbage", cells, &n),
                     MP_EINVAL);
    assert_int_equal(mph_cells_parse("1k/512/4k/both", cells, &n), MP_EINVAL);
    assert_int_equal(mph_cells_parse("1k/4k/1k", cells, &n), MP_EINVAL);
    assert_int_equal(mph_cells_parse("512/512/4k", cells, &n), MP_EINVAL);
    assert_int_equal(mph_cells_parse("3k/512/4k", cells, &n), MP_EINVAL);
    assert_int_equal(mph_cells_parse("1k/512", cells, &n), MP_EINVAL);
    assert_int_equal(mph_cells_parse("1k/512/4k/junk", cells, &n), MP_EINVAL);
    assert_int_equal(mph_cells_parse("", cells, &n), MP_EINVAL);
}

static void cell_counters_add_up_to_the_totals(void **state)
{
    struct mph_explore_config c;
    struct mph_workload *w = workload();
    struct mph_explorer *x;
    struct mph_cell cells[4];
    const struct mph_cell_result *r;
    const struct mph_explore_stats *t;
    uint64_t states = 0, viol = 0, fallback = 0, old = 0, new_ = 0;
    size_t n, nc;
    (void)state;
    config(&c);
    c.damage = 4;
    c.max_images = 16;
    c.faults = false;
    assert_int_equal(mph_cells_parse("1k/512/4k,4k/512/4k", cells, &nc), MP_OK);
    assert_int_equal(mph_explorer_new(&c, &x), MP_OK);
    for (size_t i = 0; i < nc; i++) {
        mph_explorer_begin_cell(x, &cells[i], 0);
        assert_int_equal(mph_explorer_run(x, w, "t"), MP_OK);
    }
    mph_explorer_end_cell(x);
    r = mph_explorer_cells(x, &n);
    t = mph_explorer_stats(x);
    assert_int_equal(n, 4);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(r[i].status, "complete");
        assert_int_equal(r[i].st.workloads, 1);
        assert_true(r[i].st.states > 0 && r[i].st.damaged > 0);
        states += r[i].st.states;
        viol += r[i].st.violations;
        fallback += r[i].st.fallback;
        old += r[i].st.protected_old;
        new_ += r[i].st.protected_new;
    }
    assert_string_equal(r[1].name, "1k/512/4k/one");
    assert_string_equal(r[2].name, "4k/512/4k/two");
    assert_int_equal(states, t->states);
    assert_int_equal(viol, t->violations);
    assert_int_equal(t->violations, 0);
    assert_int_equal(fallback, t->fallback);
    assert_int_equal(old, t->protected_old);
    assert_int_equal(new_, t->protected_new);
    /* The cells ran at their own page sizes. */
    assert_true(r[0].st.states != r[2].st.states ||
                r[0].st.fallback != r[2].st.fallback);
    assert_true(mph_explorer_all_ran(x));
    mph_explorer_free(x);
    mph_workload_free(w);
}

static void a_page_sizes_directive_leaves_a_workload_out(void **state)
{
    struct mph_explore_config c;
    struct mph_workload *w = workload();
    struct mph_explorer *x;
    struct mph_cell cell;
    size_t n;
    (void)state;
    config(&c);
    assert_int_equal(mph_workload_set_directive(w, "page_sizes", "1024 2k"),
                     MP_OK);
    assert_int_equal(mph_cells_parse("4k/512/4k/two", &cell, &n), MP_OK);
    assert_int_equal(mph_explorer_new(&c, &x), MP_OK);
    mph_explorer_begin_cell(x, &cell, 0);
    assert_int_equal(mph_explorer_run(x, w, "t"), MP_OK);
    assert_int_equal(mph_cells_parse("2k/512/4k/one", &cell, &n), MP_OK);
    mph_explorer_begin_cell(x, &cell, 0);
    assert_int_equal(mph_explorer_run(x, w, "t"), MP_OK);
    mph_explorer_end_cell(x);
    assert_int_equal(mph_explorer_stats(x)->workloads_total, 2);
    assert_int_equal(mph_explorer_stats(x)->workloads_na, 1);
    assert_int_equal(mph_explorer_stats(x)->workloads, 1);
    assert_true(mph_explorer_all_ran(x));
    mph_explorer_free(x);
    mph_workload_free(w);
}

/* A 1 KiB page on a 4 KiB unit with garbage: create must refuse with
 * MP_EDEVICE, and the cell says so instead of counting a violation. */
static void a_cell_the_device_refuses_is_reported_refused(void **state)
{
    struct mph_explore_config c;
    struct mph_workload *w = workload();
    struct mph_explorer *x;
    const struct mph_cell_result *r;
    struct mph_cell cells[2];
    size_t n, nc;
    (void)state;
    config(&c);
    /* In both modes: one-flush changes commits, not create's rule. */
    assert_int_equal(mph_cells_parse("1k/4k/4k", cells, &nc), MP_OK);
    assert_int_equal(nc, 2);
    assert_int_equal(mph_explorer_new(&c, &x), MP_OK);
    for (size_t i = 0; i < nc; i++) {
        mph_explorer_begin_cell(x, &cells[i], 0);
        assert_int_equal(mph_explorer_run(x, w, "t"), MP_OK);
    }
    mph_explorer_end_cell(x);
    r = mph_explorer_cells(x, &n);
    assert_int_equal(n, 2);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(r[i].status, "refused");
        assert_int_equal(r[i].st.workloads_refused, 1);
        assert_int_equal(r[i].st.states, 0);
        assert_int_equal(r[i].st.violations, 0);
    }
    mph_explorer_free(x);
    mph_workload_free(w);
}

static void a_spent_share_still_samples_every_workload(void **state)
{
    struct mph_explore_config c;
    struct mph_workload *w = workload();
    struct mph_explorer *x;
    const struct mph_explore_stats *s;
    (void)state;
    config(&c);
    assert_int_equal(mph_explorer_new(&c, &x), MP_OK);
    for (int i = 0; i < 3; i++) {
        mph_explorer_share(x, 1e-9); /* spent before it starts */
        assert_int_equal(mph_explorer_run(x, w, "t"), MP_OK);
    }
    s = mph_explorer_stats(x);
    assert_int_equal(s->workloads, 3);
    assert_int_equal(s->workloads_cut, 3);
    assert_true(s->sites_done >= 3 && s->sites_done < s->sites_total);
    assert_true(s->states >= 3);
    assert_true(mph_explorer_all_ran(x));
    mph_explorer_free(x);
    mph_workload_free(w);
}

static void second_crashes_continue_recovered_states(void **state)
{
    struct mph_explore_config c;
    struct mph_explore_stats s;
    struct mph_workload *w = workload();
    struct mph_explorer *x;
    const struct mph_violation *v;
    size_t nv;
    (void)state;
    config(&c);
    c.crash2_every = 16;
    c.crash2_sites = 2;
    c.faults = false;
    c.gaps = false;
    c.max_images = 32;
    c.repro_dir = NULL;
    assert_int_equal(mph_explorer_new(&c, &x), MP_OK);
    assert_int_equal(mph_explorer_run(x, w, "t"), MP_OK);
    s = *mph_explorer_stats(x);
    assert_true(s.continuations > 0);
    assert_true(s.continuations >= s.fallback_torn / 64); /* every fallback */
    assert_true(s.sites2 > 0 && s.sites2 <= 2 * s.continuations);
    assert_true(s.states2 > 0 && s.states2 < s.states);
    assert_true(s.violations2 <= s.violations);
    v = mph_explorer_violations(x, &nv);
    for (size_t i = 0; i < nv; i++) {
        if (v[i].second) {
            assert_true(v[i].first[0] != 0);
        }
    }
    mph_explorer_free(x);
    mph_workload_free(w);
}

static void a_two_crash_reproducer_replays_both_crashes(void **state)
{
    static const char *const two = "#! page_size 1024\n"
                                   "#! repro.garbage 1\n"
                                   "#! repro.first gap 2\n"
                                   "#! repro.first_pattern \n"
                                   "#! repro.site gap 4\n"
                                   "#! repro.pattern \n"
                                   "alloc\n"
                                   "palloc\n"
                                   "crash\n"
                                   "pwrite $2 0x41\n"
                                   "alloc\n";
    struct mph_workload *w;
    struct mph_verdict v;
    char err[256];
    (void)state;
    assert_int_equal(
        mph_workload_parse(two, strlen(two), "two", &w, err, sizeof(err)),
        MP_OK);
    assert_int_equal(mph_explore_replay(w, NULL, &v), MP_OK);
    assert_int_equal(v.diff.rule, MPH_RULE_NONE);
    assert_int_equal(v.open_rc, MP_OK);
    assert_int_equal(v.match, MPH_MATCH_CUR);
    /* A crash point during the op after the restart. */
    assert_int_equal(mph_workload_set_directive(w, "repro.site", "point 4"),
                     MP_OK);
    assert_int_equal(mph_explore_replay(w, NULL, &v), MP_OK);
    assert_int_equal(v.diff.rule, MPH_RULE_NONE);
    /* The second site must come after the crash op. */
    assert_int_equal(mph_workload_set_directive(w, "repro.site", "gap 1"),
                     MP_OK);
    assert_int_equal(mph_explore_replay(w, NULL, &v), MP_EINVAL);
    mph_workload_free(w);
}

static void a_damaged_reproducer_replays(void **state)
{
    struct mph_workload *w = workload();
    struct mph_verdict v;
    (void)state;
    assert_int_equal(mph_workload_set_directive(w, "repro.site", "gap 6"),
                     MP_OK);
    assert_int_equal(mph_workload_set_directive(w, "repro.pattern", ""), MP_OK);
    /* The real core checks what it reads: a changed metadata byte makes
     * open fail or fall back to a state the file committed. */
    for (unsigned off = 1024; off < 1024 + 96; off += 8) {
        char d[32];
        snprintf(d, sizeof(d), "%u 0x03", off);
        assert_int_equal(mph_workload_set_directive(w, "repro.damage", d),
                         MP_OK);
        assert_int_equal(mph_explore_replay(w, NULL, &v), MP_OK);
        assert_int_equal(v.diff.rule, MPH_RULE_NONE);
    }
    assert_int_equal(mph_workload_set_directive(w, "repro.damage", "1024 0"),
                     MP_OK);
    assert_int_equal(mph_explore_replay(w, NULL, &v), MP_EINVAL);
    mph_workload_free(w);
}

/* Sites over a two-cell matrix, in shard `shard` of `n`. */
static uint64_t matrix_sites(unsigned shard, unsigned n)
{
    struct mph_explore_config c;
    struct mph_workload *w = workload();
    struct mph_explorer *x;
    struct mph_cell cells[4];
    const struct mph_explore_stats *s;
    uint64_t sites;
    size_t nc;
    config(&c);
    c.life = MPH_EVERY_OFF;
    c.checker = MPH_EVERY_OFF;
    c.max_images = 4; /* sites are what is counted here */
    c.faults = false;
    c.shard = shard;
    c.nshards = n;
    assert_int_equal(mph_cells_parse("1k/512/4k,4k/512/4k", cells, &nc), MP_OK);
    assert_int_equal(mph_explorer_new(&c, &x), MP_OK);
    for (size_t i = 0; i < nc; i++) {
        mph_explorer_begin_cell(x, &cells[i], 0);
        assert_int_equal(mph_explorer_run(x, w, "t"), MP_OK);
    }
    mph_explorer_end_cell(x);
    s = mph_explorer_stats(x);
    sites = s->crash_points + s->gaps;
    assert_int_equal(s->fault_sites, 0);
    assert_int_equal(sites, s->sites_done);
    assert_int_equal(s->sites_done, s->sites_total);
    mph_explorer_free(x);
    mph_workload_free(w);
    return sites;
}

static void shards_partition_the_whole_matrix(void **state)
{
    uint64_t all = matrix_sites(0, 1), sum = 0;
    (void)state;
    for (unsigned i = 0; i < 3; i++) {
        uint64_t part = matrix_sites(i, 3);
        assert_true(part > 0 && part < all);
        sum += part;
    }
    assert_int_equal(sum, all);
}

/*
 * A one-flush cell runs its pagers in one-flush mode: one barrier per
 * commit leaves fewer crash points than the two-barrier cell of the same
 * geometry, and recovery reports the one-flush reasons (a torn newer copy:
 * ONE_FLUSH_FALLBACK; a complete one past the record: ONE_FLUSH).
 */
static void a_one_flush_cell_commits_with_one_barrier(void **state)
{
    struct mph_explore_config c;
    struct mph_explore_stats two, one;
    (void)state;
    config(&c);
    c.faults = false;
    two = explore(&c);
    c.one_flush = true;
    one = explore(&c);
    assert_int_equal(one.violations, 0);
    assert_true(one.crash_points < two.crash_points);
    assert_true(one.fallback_one_flush > 0);
    assert_true(one.one_flush > 0);
    assert_int_equal(one.fallback, one.fallback_torn + one.fallback_bad +
                                       one.fallback_one_flush);
    assert_int_equal(two.fallback_one_flush, 0);
}

/* The crash points of the test workload's golden run in a mode. */
static uint64_t points_in(bool one_flush)
{
    struct mph_explore_config c;
    struct mph_explore_stats s;
    config(&c);
    c.one_flush = one_flush;
    c.gaps = false;
    c.faults = false;
    c.max_images = 1;
    c.life = MPH_EVERY_OFF;
    c.checker = MPH_EVERY_OFF;
    s = explore(&c);
    return s.crash_points;
}

/* repro.mode picks the mode the replay creates and opens in: a crash
 * point only the two-barrier run passes does not exist in one-flush. */
static void a_one_flush_reproducer_replays_in_one_flush_mode(void **state)
{
    struct mph_workload *w = workload();
    struct mph_verdict v;
    uint64_t one = points_in(true), two = points_in(false);
    char site[32];
    (void)state;
    assert_true(one < two);
    assert_int_equal(mph_workload_set_directive(w, "repro.garbage", "1"),
                     MP_OK);
    assert_int_equal(mph_workload_set_directive(w, "repro.pattern", ""), MP_OK);
    assert_int_equal(mph_workload_set_directive(w, "repro.mode", "one"), MP_OK);
    snprintf(site, sizeof(site), "point %llu", (unsigned long long)(one - 1));
    assert_int_equal(mph_workload_set_directive(w, "repro.site", site), MP_OK);
    assert_int_equal(mph_explore_replay(w, NULL, &v), MP_OK);
    assert_int_equal(v.diff.rule, MPH_RULE_NONE);
    assert_int_equal(v.open_rc, MP_OK);
    snprintf(site, sizeof(site), "point %llu", (unsigned long long)one);
    assert_int_equal(mph_workload_set_directive(w, "repro.site", site), MP_OK);
    assert_int_equal(mph_explore_replay(w, NULL, &v), MP_EINVAL);
    assert_non_null(strstr(v.diff.what, "no site"));
    assert_int_equal(mph_workload_set_directive(w, "repro.mode", "two"), MP_OK);
    assert_int_equal(mph_explore_replay(w, NULL, &v), MP_OK);
    assert_int_equal(v.diff.rule, MPH_RULE_NONE);
    assert_int_equal(mph_workload_set_directive(w, "repro.mode", "three"),
                     MP_OK);
    assert_int_equal(mph_explore_replay(w, NULL, &v), MP_EINVAL);
    mph_workload_free(w);
}

/* A file written in one mode and reopened in the other, crashed in the
 * first commits after the switch, in both directions; and the switch in
 * second-crash continuations. */
static void a_mode_switch_is_explored_in_both_directions(void **state)
{
    static const char *const sw = "#! page_size 1024\n"
                                  "alloc\n"
                                  "palloc\n"
                                  "pwrite $2 0x41\n"
                                  "switch\n"
                                  "pwrite $2 0x42\n"
                                  "alloc\n"
                                  "switch\n"
                                  "free $1\n";
    struct mph_explore_config c;
    struct mph_workload *w;
    char err[256];
    (void)state;
    assert_int_equal(
        mph_workload_parse(sw, strlen(sw), "sw", &w, err, sizeof(err)), MP_OK);
    for (int one = 0; one < 2; one++) {
        struct mph_explorer *x;
        const struct mph_explore_stats *s;
        config(&c);
        c.one_flush = one != 0;
        c.faults = false;
        c.crash2_every = 8;
        c.crash2_sites = 2;
        c.repro_dir = NULL;
        assert_int_equal(mph_explorer_new(&c, &x), MP_OK);
        assert_int_equal(mph_explorer_run(x, w, "sw"), MP_OK);
        s = mph_explorer_stats(x);
        assert_int_equal(s->violations, 0);
        assert_true(s->one_flush + s->fallback_one_flush > 0);
        assert_true(s->continuations_switch > 0);
        assert_true(s->continuations_switch < s->continuations);
        mph_explorer_free(x);
    }
    mph_workload_free(w);
}

/*
 * Regression (briefs/to-core.md item 2): a record torn by a crash, the
 * file recovered and written in one-flush mode (the restart switched
 * modes), closed cleanly: the reopen must not report a fallback. Found by
 * a second crash that restarted in the other mode; the replay runs rule 6
 * (whose reopen after a clean close must not use the fallback copy).
 */
static void a_torn_record_then_one_flush_commits_reopen_cleanly(void **state)
{
    static const char *const repro = "#! page_size 1024\n"
                                     "#! repro.seed 1\n"
                                     "#! repro.fs_page 4096\n"
                                     "#! repro.sector 512\n"
                                     "#! repro.garbage 1\n"
                                     "#! repro.mode two\n"
                                     "#! repro.site point 4\n"
                                     "#! repro.pattern \n"
                                     "#! repro.first point 82\n"
                                     "#! repro.first_pattern f0.p0=t-g------\n"
                                     "alloc\n"
                                     "alloc\n"
                                     "write $1 0x11\n"
                                     "sync\n"
                                     "free $2\n"
                                     "palloc\n"
                                     "pwrite $3 0xa5\n"
                                     "reopen\n"
                                     "pwrite $3 0x5a\n"
                                     "free $1\n"
                                     "crash\n"
                                     "switch\n";
    struct mph_workload *w;
    struct mph_verdict v;
    char err[256];
    (void)state;
    assert_int_equal(
        mph_workload_parse(repro, strlen(repro), "r", &w, err, sizeof(err)),
        MP_OK);
    assert_int_equal(mph_explore_replay(w, NULL, &v), MP_OK);
    if (v.diff.rule != MPH_RULE_NONE) {
        print_error("%s\n", v.diff.what);
    }
    assert_int_equal(v.diff.rule, MPH_RULE_NONE);
    assert_true(v.life_ran);
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
        cmocka_unit_test(the_matrix_spec_parses_and_names_cells),
        cmocka_unit_test(cell_counters_add_up_to_the_totals),
        cmocka_unit_test(shards_partition_the_whole_matrix),
        cmocka_unit_test(a_page_sizes_directive_leaves_a_workload_out),
        cmocka_unit_test(a_cell_the_device_refuses_is_reported_refused),
        cmocka_unit_test(a_spent_share_still_samples_every_workload),
        cmocka_unit_test(second_crashes_continue_recovered_states),
        cmocka_unit_test(a_two_crash_reproducer_replays_both_crashes),
        cmocka_unit_test(a_damaged_reproducer_replays),
        cmocka_unit_test(a_one_flush_cell_commits_with_one_barrier),
        cmocka_unit_test(a_one_flush_reproducer_replays_in_one_flush_mode),
        cmocka_unit_test(a_mode_switch_is_explored_in_both_directions),
        cmocka_unit_test(a_torn_record_then_one_flush_commits_reopen_cleanly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
