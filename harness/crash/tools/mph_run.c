/*
 * mph-run - run workloads against the real pager (posix backend, real
 * files) and check it against the reference model after every step.
 *
 *   mph-run [--page-size N] [--dir DIR] FILE...
 *   mph-run --gen COUNT [--seed N] [--ops N] [--mix ...] [--page-size N]
 *
 * Exit status: 0 every run matched the model, 1 a difference (printed with
 * the op's line), 2 usage or setup error.
 */
#define _POSIX_C_SOURCE 200809L

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mph/exec.h"
#include "mph/gen.h"

struct opts {
    size_t page_size;
    const char *dir;
    int verbose;
};

static size_t page_size_of(const struct mph_workload *w, size_t dflt)
{
    const char *v = mph_workload_directive(w, "page_size");
    return v ? (size_t)strtoull(v, NULL, 0) : dflt;
}

/* 0 matched, 1 differed, 2 could not run. */
static int run_one(const struct opts *o, const char *name,
                   const struct mph_workload *w)
{
    struct mph_exec_config cfg;
    struct mph_model *m;
    struct mph_diff d;
    char path[4096];
    size_t failed, ps = o->page_size ? o->page_size : page_size_of(w, 1024);
    int rc;

    snprintf(path, sizeof(path), "%s/mph-run-%ld.mp", o->dir, (long)getpid());
    unlink(path);
    rc = mph_model_new(ps, MPH_DEFAULT_RESERVE, &m);
    if (rc != MP_OK) {
        fprintf(stderr, "mph-run: %s: %s\n", name, mp_strerror(rc));
        return 2;
    }
    memset(&cfg, 0, sizeof(cfg));
    cfg.path = path;
    cfg.page_size = ps;
    rc = mph_exec_run(w, &cfg, m, &d, &failed);
    unlink(path);
    mph_model_free(m);
    if (rc != MP_OK) {
        fprintf(stderr, "mph-run: %s: %s\n", name, mp_strerror(rc));
        return 2;
    }
    if (d.rule != MPH_RULE_NONE) {
        const struct mph_op *op = failed < w->nops ? &w->ops[failed] : NULL;
        printf("%s:%u: op %zu (%s): %s\n", name, op ? op->line : 0, failed,
               op ? mph_op_name(op->kind) : "create", d.what);
        return 1;
    }
    if (o->verbose) {
        printf("%s: %zu ops ok\n", name, w->nops);
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct opts o = { 0, "/tmp", 0 };
    struct mph_gen_params gp;
    unsigned long long gen = 0;
    int worst = 0, nfiles = 0;

    mph_gen_params_init(&gp);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "-v") == 0) {
            o.verbose = 1;
        } else if (a[0] == '-' && a[1] == '-' && val) {
            i++;
            if (strcmp(a, "--page-size") == 0) {
                o.page_size = (size_t)strtoull(val, NULL, 0);
                gp.page_size = o.page_size;
            } else if (strcmp(a, "--dir") == 0) {
                o.dir = val;
            } else if (strcmp(a, "--gen") == 0) {
                gen = strtoull(val, NULL, 0);
            } else if (strcmp(a, "--seed") == 0) {
                gp.seed = strtoull(val, NULL, 0);
            } else if (strcmp(a, "--ops") == 0) {
                gp.nops = (size_t)strtoull(val, NULL, 0);
            } else if (strcmp(a, "--max-pages") == 0) {
                gp.max_pages = strtoull(val, NULL, 0);
            } else if (strcmp(a, "--mix") == 0) {
                if (mph_gen_parse_mix(&gp, val) != MP_OK) {
                    fprintf(stderr, "mph-run: bad mix '%s'\n", val);
                    return 2;
                }
            } else {
                fprintf(stderr, "mph-run: unknown option %s\n", a);
                return 2;
            }
        } else if (a[0] == '-' && a[1] != 0) {
            fprintf(stderr,
                    "usage: mph-run [--page-size N] [--dir D] [-v] FILE...\n"
                    "       mph-run --gen COUNT [--seed N] [--ops N] "
                    "[--mix ...]\n");
            return 2;
        } else {
            struct mph_workload *w;
            char err[512];
            int r;
            nfiles++;
            if (mph_workload_load(a, &w, err, sizeof(err)) != MP_OK) {
                fprintf(stderr, "mph-run: %s\n", err);
                worst = 2;
                continue;
            }
            r = run_one(&o, a, w);
            worst = r > worst ? r : worst;
            mph_workload_free(w);
        }
    }
    for (unsigned long long k = 0; k < gen; k++) {
        struct mph_gen_params p = gp;
        struct mph_workload *w;
        char name[64];
        int r;
        p.seed = gp.seed + k;
        if (mph_gen_workload(&p, &w) != MP_OK) {
            fprintf(stderr, "mph-run: cannot generate\n");
            return 2;
        }
        snprintf(name, sizeof(name), "gen-seed-%llu",
                 (unsigned long long)p.seed);
        r = run_one(&o, name, w);
        if (r == 1) {
            mph_workload_print(w, stdout);
        }
        worst = r > worst ? r : worst;
        mph_workload_free(w);
    }
    if (!nfiles && !gen) {
        fprintf(stderr, "mph-run: no workload given\n");
        return 2;
    }
    return worst;
}
