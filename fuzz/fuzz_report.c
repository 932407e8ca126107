/*
 * fuzz_report.c - how a fuzz target says what it found: a message and the
 * decoded workload, then abort(), which every engine records as a crash
 * with the input that caused it.
 */
#include <stdarg.h>
#include <stdlib.h>

#include "fuzz_common.h"

bool fz_verbose(void)
{
    /* Read once: getenv per execution would show in profiles. */
    static int cached = -1;
    if (cached < 0) {
        const char *v = getenv("FUZZ_VERBOSE");
        cached = v && *v && *v != '0';
    }
    return cached == 1;
}

void fz_print_workload(const struct mph_workload *w, FILE *f)
{
    if (!w) {
        fputs("(no workload)\n", f);
        return;
    }
    if (mph_workload_print(w, f) != MP_OK) {
        fputs("(workload could not be printed)\n", f);
    }
}

void fz_fail(const char *target, const struct mph_workload *w, const char *fmt,
             ...)
{
    va_list ap;
    fprintf(stderr, "\n==== mappedpages fuzz target '%s' found a bug:\n",
            target);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\n==== workload (mph-run / mp-explore text format):\n", stderr);
    fz_print_workload(w, stderr);
    fputs("==== end\n", stderr);
    fflush(stderr);
    abort();
}
