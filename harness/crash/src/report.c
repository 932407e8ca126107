/*
 * report.c - the explorer's human summary and JSON report.
 */
#include <inttypes.h>
#include <stdio.h>

#include "explorer.h"

static const char *persist_name(int p)
{
    return p == 0 ? "none" : p == 1 ? "part" : p == 2 ? "all" : "?";
}

static double rate(const struct mph_explore_stats *s)
{
    return s->seconds > 0 ? (double)s->states / s->seconds : 0.0;
}

void mph_explorer_summary(const struct mph_explorer *x, FILE *f)
{
    const struct mph_explore_stats *s = &x->st;
    fprintf(f, "mp-explore summary (shard %u/%u, seed %" PRIu64 ")\n",
            x->cfg.shard, x->cfg.nshards, x->cfg.seed);
    fprintf(f, "  workloads        %" PRIu64 " (%" PRIu64 " ops)\n",
            s->workloads, s->ops);
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
        "metadata copy (%" PRIu64 " torn record, %" PRIu64 " bad selected)%s\n",
        s->fallback, s->fallback_torn, s->fallback_bad,
        s->states && !s->fallback ? "  WARNING: fallback never exercised" : "");
    fprintf(f,
            "  protected        %" PRIu64 " old, %" PRIu64
            " new (commits in flight)\n",
            s->protected_old, s->protected_new);
    fprintf(f,
            "  costly rules     checker %" PRIu64 " runs, life %" PRIu64
            " runs\n",
            s->checker_runs, s->life_runs);
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
    fprintf(f,
            "},\"fallback\":%" PRIu64 ",\"fallback_torn_record\":%" PRIu64
            ",\"fallback_bad_selected\":%" PRIu64 ",\"protected_old\":%" PRIu64
            ",\"protected_new\":%" PRIu64 ",\"rolled_back\":%" PRIu64
            ",\"held\":%" PRIu64 ",\"absent\":%" PRIu64
            ",\"checker_runs\":%" PRIu64 ",\"life_runs\":%" PRIu64
            ",\"stopped\":",
            s->fallback, s->fallback_torn, s->fallback_bad, s->protected_old,
            s->protected_new, s->rolled_back, s->held, s->absent,
            s->checker_runs, s->life_runs);
    jstr(f, s->stopped);
    fprintf(f, ",\"per_workload\":[");
    for (size_t i = 0; i < x->nwls; i++) {
        const struct mph__wl *w = &x->wls[i];
        fprintf(f, "%s{\"name\":", i ? "," : "");
        jstr(f, w->name);
        fprintf(f,
                ",\"ops\":%zu,\"crash_points\":%" PRIu64 ",\"states\":%" PRIu64
                ",\"violations\":%" PRIu64 "}",
                w->ops, w->points, w->states, w->violations);
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
        fputc('}', f);
    }
    fprintf(f, "]}\n");
    return ferror(f) ? MP_EIO : MP_OK;
}
