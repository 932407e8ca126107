/*
 * mph-gen - write a random workload (harness/crash/README.md).
 *
 *   mph-gen [--seed N] [--ops N] [--page-size N] [--max-pages N]
 *           [--max-bulk N] [--mix alloc=4,free=3,...] [-o FILE]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mph/gen.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: mph-gen [--seed N] [--ops N] [--page-size N] "
               "[--max-pages N]\n"
               "               [--max-bulk N] [--mix NAME=W,...] [-o FILE]\n"
               "mix names:");
    for (int k = 0; k < MPH_MIX__COUNT; k++) {
        fprintf(f, " %s", mph_gen_mix_name(k));
    }
    fprintf(f, "\n");
}

static int number(const char *s, unsigned long long *v)
{
    char *end;
    *v = strtoull(s, &end, 0);
    return *s && !*end && *s != '-';
}

int main(int argc, char **argv)
{
    struct mph_gen_params p;
    struct mph_workload *w;
    const char *outpath = NULL;
    FILE *f = stdout;
    int rc;

    mph_gen_params_init(&p);
    for (int i = 1; i < argc; i++) {
        unsigned long long v = 0;
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        }
        if (!val) {
            usage(stderr);
            return 2;
        }
        i++;
        if (strcmp(a, "-o") == 0) {
            outpath = val;
        } else if (strcmp(a, "--mix") == 0) {
            if (mph_gen_parse_mix(&p, val) != MP_OK) {
                fprintf(stderr, "mph-gen: bad mix '%s'\n", val);
                return 2;
            }
        } else if (!number(val, &v)) {
            fprintf(stderr, "mph-gen: %s wants a number\n", a);
            return 2;
        } else if (strcmp(a, "--seed") == 0) {
            p.seed = v;
        } else if (strcmp(a, "--ops") == 0) {
            p.nops = (size_t)v;
        } else if (strcmp(a, "--page-size") == 0) {
            p.page_size = (size_t)v;
        } else if (strcmp(a, "--max-pages") == 0) {
            p.max_pages = v;
        } else if (strcmp(a, "--max-bulk") == 0) {
            p.max_bulk = v ? v : 1;
        } else {
            usage(stderr);
            return 2;
        }
    }
    rc = mph_gen_workload(&p, &w);
    if (rc != MP_OK) {
        fprintf(stderr, "mph-gen: %s\n", mp_strerror(rc));
        return 1;
    }
    if (outpath && !(f = fopen(outpath, "w"))) {
        perror(outpath);
        mph_workload_free(w);
        return 1;
    }
    rc = mph_workload_print(w, f);
    if (f != stdout && fclose(f) != 0) {
        rc = MP_EIO;
    }
    mph_workload_free(w);
    if (rc != MP_OK) {
        fprintf(stderr, "mph-gen: write failed\n");
        return 1;
    }
    return 0;
}
