/*
 * report.c - the explorer's human summary and JSON report.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "explorer.h"

static const char *persist_name(int p)
{
    return p == 0 ? "none" : p == 1 ? "part" : p == 2 ? "all" : "?";
}

static double rate(const struct mph_explore_stats *s)
{
    return s->seconds > 0 ? (double)s->states / s->seconds : 0.0;
}

/* Workloads that ran in full or as a time-share sample, of those given
 * that apply (not refused, not for another page size). */
static uint64_t ran(const struct mph_explore_stats *s)
{
    return s->workloads - s->workloads_refused;
}

static uint64_t applicable(const struct mph_explore_stats *s)
{
    return s->workloads_total - s->workloads_na - s->workloads_refused;
}

/* The counters of every finished cell in one mode, summed; ncells gets
 * how many cells that is. */
static void mode_sum(const struct mph_explorer *x, bool one,
                     struct mph_explore_stats *m, size_t *ncells)
{
    memset(m, 0, sizeof(*m));
    *ncells = 0;
    for (size_t i = 0; i < x->ncells; i++) {
        const struct mph_explore_stats *c = &x->cells[i].st;
        if (x->cells[i].cell.one_flush != one) {
            continue;
        }
        (*ncells)++;
#define ADD(f) m->f += c->f
        ADD(workloads);
        ADD(workloads_total);
        ADD(workloads_na);
        ADD(workloads_refused);
        ADD(states);
        ADD(states2);
        ADD(violations);
        ADD(violations2);
        ADD(fallback);
        ADD(fallback_torn);
        ADD(fallback_bad);
        ADD(fallback_one_flush);
        ADD(one_flush);
        ADD(protected_old);
        ADD(protected_new);
        ADD(damaged);
        ADD(seconds);
#undef ADD
    }
}

static const char *mode_name(bool one)
{
    return one ? "one" : "two";
}

bool mph__all_ran(const struct mph_explore_stats *s)
{
    return ran(s) >= applicable(s);
}

bool mph_explorer_all_ran(const struct mph_explorer *x)
{
    return mph__all_ran(&x->st);
}

void mph_explorer_summary(const struct mph_explorer *x, FILE *f)
{
    const struct mph_explore_stats *s = &x->st;
    fprintf(f, "mp-explore summary (shard %u/%u, seed %" PRIu64 ")\n",
            x->cfg.shard, x->cfg.nshards, x->cfg.seed);
    for (size_t i = 0; i < x->ncells; i++) {
        const struct mph_cell_result *c = &x->cells[i];
        const struct mph_explore_stats *cs = &c->st;
        fprintf(f,
                "  cell %-18s workloads %" PRIu64 "/%" PRIu64
                " run, states %" PRIu64 " (%" PRIu64
                " after a second crash), violations %" PRIu64
                ", fallback %" PRIu64 ", one-flush %" PRIu64
                ", protected old/new %" PRIu64 "/%" PRIu64 ", %.1f s, %s\n",
                c->name, ran(cs), applicable(cs), cs->states, cs->states2,
                cs->violations, cs->fallback, cs->one_flush, cs->protected_old,
                cs->protected_new, cs->seconds,
                strcmp(c->status, "refused") == 0
                    ? "refused at create (MP_EDEVICE)"
                    : c->status);
    }
    for (int one = 0; one < 2; one++) {
        struct mph_explore_stats m;
        size_t nc;
        mode_sum(x, one != 0, &m, &nc);
        if (!nc) {
            continue;
        }
        fprintf(f,
                "  mode %-11s %zu cell%s, states %" PRIu64 " (%" PRIu64
                " after a second crash, %" PRIu64
                " damaged), violations %" PRIu64 ", fallback %" PRIu64
                " (%" PRIu64 " torn record, %" PRIu64 " bad selected, %" PRIu64
                " one-flush fallback), one-flush "
                "%" PRIu64 ", protected old/new %" PRIu64 "/%" PRIu64
                ", %.1f s = %.0f states/s%s\n",
                mode_name(one != 0), nc, nc == 1 ? "" : "s", m.states,
                m.states2, m.damaged, m.violations, m.fallback, m.fallback_torn,
                m.fallback_bad, m.fallback_one_flush, m.one_flush,
                m.protected_old, m.protected_new, m.seconds, rate(&m),
                one && m.states && !m.fallback_one_flush
                    ? "  WARNING: one-flush fallback never exercised"
                    : "");
    }
    fprintf(f,
            "  workloads        %" PRIu64 "/%" PRIu64 " run (%" PRIu64
            " ops; %" PRIu64 " sampled under their time share, %" PRIu64
            " not for the page size, %" PRIu64 " refused at create)%s\n",
            ran(s), applicable(s), s->ops, s->workloads_cut, s->workloads_na,
            s->workloads_refused,
            mph__all_ran(s) ? "" : "  NOT ALL WORKLOADS RAN");
    fprintf(f, "  sites explored   %" PRIu64 " of %" PRIu64 " in this shard\n",
            s->sites_done, s->sites_total);
    fprintf(f,
            "  crash sites      %" PRIu64 " crash points + %" PRIu64
            " gaps between ops + %" PRIu64 " injected I/O errors\n"
            "                   (%" PRIu64 " exhaustive, %" PRIu64
            " sampled)\n",
            s->crash_points, s->gaps, s->fault_sites, s->sites_exhaustive,
            s->sites_sampled);
    fprintf(f, "  states checked   %" PRIu64 " in %.2f s = %.0f states/s\n",
            s->states, s->seconds, rate(s));
    fprintf(f,
            "  outcomes         %" PRIu64 " rolled back, %" PRIu64
            " held, %" PRIu64 " no file (crash in create)\n",
            s->rolled_back, s->held, s->absent);
    fprintf(
        f,
        "  fallback         %" PRIu64 " states used the alternate "
        "metadata copy (%" PRIu64 " torn record, %" PRIu64 " bad selected, "
        "%" PRIu64 " one-flush fallback)%s\n",
        s->fallback, s->fallback_torn, s->fallback_bad, s->fallback_one_flush,
        s->states && !s->fallback ? "  WARNING: fallback never exercised" : "");
    fprintf(f,
            "  one-flush        %" PRIu64 " states took the newer one-flush "
            "copy past the record (reason ONE_FLUSH)\n",
            s->one_flush);
    fprintf(f,
            "  protected        %" PRIu64 " old, %" PRIu64
            " new (commits in flight)\n",
            s->protected_old, s->protected_new);
    fprintf(f,
            "  second crash     %" PRIu64
            " recovered states continued (%" PRIu64
            " restarted in the other mode), %" PRIu64 " sites, %" PRIu64
            " states, %" PRIu64 " violations\n",
            s->continuations, s->continuations_switch, s->sites2, s->states2,
            s->violations2);
    fprintf(f,
            "  damaged          %" PRIu64 " clean images with a bit flipped "
            "(beyond the crash model: open fails or a committed state)\n",
            s->damaged);
    fprintf(f,
            "  rules checked    1 open, 2 atomicity, 3 protected, 5 fallback: "
            "every state (%" PRIu64 "); 4 checker: %" PRIu64
            " states; 6 life: %" PRIu64 " states\n",
            s->states, s->checker_runs, s->life_runs);
    fprintf(f, "  violations       %" PRIu64, s->violations);
    for (int r = 1; r < MPH_RULE__COUNT; r++) {
        if (s->by_rule[r]) {
            fprintf(f, " [rule %d %s: %" PRIu64 "]", r, mph_rule_name(r),
                    s->by_rule[r]);
        }
    }
    fprintf(f, "\n  stopped          %s\n", s->stopped);
    for (size_t i = 0; i < x->nviol; i++) {
        const struct mph_violation *v = &x->viol[i];
        if (v->cell[0]) {
            fprintf(f, "[cell %s] ", v->cell);
        }
        if (v->second) {
            fprintf(f, "[after crash at %s, pattern '%s', recovery] ", v->first,
                    v->first_pattern);
        }
        fprintf(f,
                "VIOLATION %s: %s %" PRIu64 "%s%s, op %ld (line %u): rule %d "
                "(%s): %s\n",
                v->workload,
                v->fault ? "failed call"
                : v->gap ? "gap"
                         : "crash point",
                v->point, v->fault ? " persisting " : "",
                v->fault ? persist_name(v->persist) : "", v->op, v->line,
                v->diff.rule, mph_rule_name(v->diff.rule), v->diff.what);
        if (v->pattern[0]) {
            fprintf(f, "  tear pattern: %s\n", v->pattern);
        }
        if (v->repro[0]) {
            fprintf(f, "  reproduce:    mp-explore --replay %s\n", v->repro);
        }
    }
}

static void jstr(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            fprintf(f, "\\%c", c);
        } else if (c < 0x20) {
            fprintf(f, "\\u%04x", c);
        } else {
            fputc(c, f);
        }
    }
    fputc('"', f);
}

int mph_explorer_json(const struct mph_explorer *x, FILE *f)
{
    const struct mph_explore_stats *s = &x->st;
    fprintf(f,
            "{\"tool\":\"mp-explore\",\"version\":1,\"seed\":%" PRIu64
            ",\"shard\":%u,\"shards\":%u,\"fs_page\":%u,\"sector\":%u,"
            "\"garbage\":%s,\"max_images\":%" PRIu64 ",",
            x->cfg.seed, x->cfg.shard, x->cfg.nshards, (unsigned)x->cfg.fs_page,
            (unsigned)x->cfg.sector, x->cfg.garbage ? "true" : "false",
            x->cfg.max_images);
    fprintf(f,
            "\"workloads\":%" PRIu64 ",\"ops\":%" PRIu64
            ",\"crash_points\":%" PRIu64 ",\"gaps\":%" PRIu64
            ",\"fault_sites\":%" PRIu64 ",\"sites_exhaustive\":%" PRIu64
            ",\"sites_sampled\":%" PRIu64 ",\"states\":%" PRIu64
            ",\"seconds\":%.3f,\"states_per_second\":%.0f,",
            s->workloads, s->ops, s->crash_points, s->gaps, s->fault_sites,
            s->sites_exhaustive, s->sites_sampled, s->states, s->seconds,
            rate(s));
    fprintf(f,
            "\"violations\":%" PRIu64 ",\"golden_failures\":%" PRIu64
            ",\"violations_by_rule\":{",
            s->violations, s->golden_failures);
    for (int r = 1; r < MPH_RULE__COUNT; r++) {
        fprintf(f, "%s\"%s\":%" PRIu64, r > 1 ? "," : "", mph_rule_name(r),
                s->by_rule[r]);
    }
    fprintf(
        f,
        "},\"fallback\":%" PRIu64 ",\"fallback_torn_record\":%" PRIu64
        ",\"fallback_bad_selected\":%" PRIu64 ",\"fallback_one_flush\":%" PRIu64
        ",\"one_flush\":%" PRIu64 ",\"protected_old\":%" PRIu64
        ",\"protected_new\":%" PRIu64 ",\"rolled_back\":%" PRIu64
        ",\"held\":%" PRIu64 ",\"absent\":%" PRIu64 ",\"checker_runs\":%" PRIu64
        ",\"life_runs\":%" PRIu64 ",\"stopped\":",
        s->fallback, s->fallback_torn, s->fallback_bad, s->fallback_one_flush,
        s->one_flush, s->protected_old, s->protected_new, s->rolled_back,
        s->held, s->absent, s->checker_runs, s->life_runs);
    jstr(f, s->stopped);
    fprintf(f,
            ",\"workloads_total\":%" PRIu64 ",\"workloads_run\":%" PRIu64
            ",\"workloads_applicable\":%" PRIu64 ",\"workloads_na\":%" PRIu64
            ",\"workloads_refused\":%" PRIu64 ",\"workloads_cut\":%" PRIu64
            ",\"all_ran\":%s,\"sites_total\":%" PRIu64
            ",\"sites_done\":%" PRIu64 ",\"continuations\":%" PRIu64
            ",\"continuations_switch\":%" PRIu64 ",\"sites2\":%" PRIu64
            ",\"states2\":%" PRIu64 ",\"violations2\":%" PRIu64
            ",\"crash2_every\":%u"
            ",\"damaged\":%" PRIu64,
            s->workloads_total, ran(s), applicable(s), s->workloads_na,
            s->workloads_refused, s->workloads_cut,
            mph__all_ran(s) ? "true" : "false", s->sites_total, s->sites_done,
            s->continuations, s->continuations_switch, s->sites2, s->states2,
            s->violations2, x->cfg.crash2_every, s->damaged);
    fprintf(f,
            ",\"rules_checked\":{\"open\":%" PRIu64 ",\"atomicity\":%" PRIu64
            ",\"protected\":%" PRIu64 ",\"structure\":%" PRIu64
            ",\"fallback\":%" PRIu64 ",\"life-goes-on\":%" PRIu64 "}",
            s->states, s->states, s->states, s->checker_runs, s->states,
            s->life_runs);
    fprintf(f, ",\"cells\":[");
    for (size_t i = 0; i < x->ncells; i++) {
        const struct mph_cell_result *c = &x->cells[i];
        const struct mph_explore_stats *cs = &c->st;
        fprintf(f, "%s{\"cell\":", i ? "," : "");
        jstr(f, c->name);
        fprintf(f,
                ",\"page_size\":%zu,\"sector\":%u,\"fs_page\":%u,"
                "\"garbage\":%s,\"mode\":\"%s\",\"status\":",
                c->cell.page_size, (unsigned)c->cell.sector,
                (unsigned)c->cell.fs_page, c->cell.garbage ? "true" : "false",
                mode_name(c->cell.one_flush));
        jstr(f, c->status);
        fprintf(
            f,
            ",\"workloads_run\":%" PRIu64 ",\"workloads_applicable\":%" PRIu64
            ",\"workloads_refused\":%" PRIu64 ",\"workloads_cut\":%" PRIu64
            ",\"states\":%" PRIu64 ",\"states2\":%" PRIu64
            ",\"violations\":%" PRIu64 ",\"violations2\":%" PRIu64
            ",\"fallback\":%" PRIu64 ",\"fallback_torn_record\":%" PRIu64
            ",\"fallback_bad_selected\":%" PRIu64
            ",\"fallback_one_flush\":%" PRIu64 ",\"one_flush\":%" PRIu64
            ",\"protected_old\":%" PRIu64 ",\"protected_new\":%" PRIu64
            ",\"checker_runs\":%" PRIu64 ",\"life_runs\":%" PRIu64
            ",\"seconds\":%.3f"
            ",\"violations_by_rule\":{",
            ran(cs), applicable(cs), cs->workloads_refused, cs->workloads_cut,
            cs->states, cs->states2, cs->violations, cs->violations2,
            cs->fallback, cs->fallback_torn, cs->fallback_bad,
            cs->fallback_one_flush, cs->one_flush, cs->protected_old,
            cs->protected_new, cs->checker_runs, cs->life_runs, cs->seconds);
        for (int r = 1; r < MPH_RULE__COUNT; r++) {
            fprintf(f, "%s\"%s\":%" PRIu64, r > 1 ? "," : "", mph_rule_name(r),
                    cs->by_rule[r]);
        }
        fputs("}}", f);
    }
    fprintf(f, "],\"modes\":[");
    for (int one = 0, k = 0; one < 2; one++) {
        struct mph_explore_stats m;
        size_t nc;
        mode_sum(x, one != 0, &m, &nc);
        if (!nc) {
            continue;
        }
        fprintf(f,
                "%s{\"mode\":\"%s\",\"cells\":%zu,\"workloads_run\":%" PRIu64
                ",\"workloads_applicable\":%" PRIu64 ",\"states\":%" PRIu64
                ",\"states2\":%" PRIu64 ",\"damaged\":%" PRIu64
                ",\"violations\":%" PRIu64 ",\"violations2\":%" PRIu64
                ",\"fallback\":%" PRIu64 ",\"fallback_torn_record\":%" PRIu64
                ",\"fallback_bad_selected\":%" PRIu64
                ",\"fallback_one_flush\":%" PRIu64 ",\"one_flush\":%" PRIu64
                ",\"protected_old\":%" PRIu64 ",\"protected_new\":%" PRIu64
                ",\"seconds\":%.3f,\"states_per_second\":%.0f}",
                k++ ? "," : "", mode_name(one != 0), nc, ran(&m),
                applicable(&m), m.states, m.states2, m.damaged, m.violations,
                m.violations2, m.fallback, m.fallback_torn, m.fallback_bad,
                m.fallback_one_flush, m.one_flush, m.protected_old,
                m.protected_new, m.seconds, rate(&m));
    }
    fprintf(f, "],\"per_workload\":[");
    for (size_t i = 0; i < x->nwls; i++) {
        const struct mph__wl *w = &x->wls[i];
        fprintf(f, "%s{\"name\":", i ? "," : "");
        jstr(f, w->name);
        fprintf(f, ",\"cell\":");
        jstr(f, w->cell);
        fprintf(f, ",\"status\":");
        jstr(f, w->status ? w->status : "stopped");
        fprintf(f,
                ",\"ops\":%zu,\"crash_points\":%" PRIu64 ",\"states\":%" PRIu64
                ",\"violations\":%" PRIu64 ",\"sites\":%" PRIu64
                ",\"sites_done\":%" PRIu64 "}",
                w->ops, w->points, w->states, w->violations, w->sites,
                w->sites_done);
    }
    fprintf(f, "],\"violation_list\":[");
    for (size_t i = 0; i < x->nviol; i++) {
        const struct mph_violation *v = &x->viol[i];
        fprintf(f, "%s{\"workload\":", i ? "," : "");
        jstr(f, v->workload);
        fprintf(f,
                ",\"site\":\"%s\",\"point\":%" PRIu64
                ",\"persist\":\"%s\",\"op\":%ld,\"line\":%u,"
                "\"rule\":%d,\"rule_name\":",
                v->fault ? "fault"
                : v->gap ? "gap"
                         : "point",
                v->point, v->fault ? persist_name(v->persist) : "", v->op,
                v->line, v->diff.rule);
        jstr(f, mph_rule_name(v->diff.rule));
        fprintf(f, ",\"what\":");
        jstr(f, v->diff.what);
        fprintf(f, ",\"pattern\":");
        jstr(f, v->pattern);
        fprintf(f, ",\"reproducer\":");
        jstr(f, v->repro);
        fprintf(f, ",\"cell\":");
        jstr(f, v->cell);
        fprintf(f, ",\"second\":%s,\"first\":", v->second ? "true" : "false");
        jstr(f, v->first);
        fprintf(f, ",\"first_pattern\":");
        jstr(f, v->first_pattern);
        fputc('}', f);
    }
    fprintf(f, "]}\n");
    return ferror(f) ? MP_EIO : MP_OK;
}
