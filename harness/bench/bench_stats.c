/*
 * bench_stats.c - latency samples and quantiles (see bench_stats.h).
 */
#include "bench_stats.h"

#include <stdlib.h>

int mph_samples_add(struct mph_samples *s, uint64_t ns)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 1024;
        uint64_t *p = realloc(s->ns, cap * sizeof(*p));
        if (!p) {
            return -1;
        }
        s->ns = p;
        s->cap = cap;
    }
    s->ns[s->n++] = ns;
    return 0;
}

void mph_samples_free(struct mph_samples *s)
{
    free(s->ns);
    *s = (struct mph_samples){ 0 };
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

uint64_t mph_samples_quantile(struct mph_samples *s, double q)
{
    size_t i;
    if (s->n == 0) {
        return 0;
    }
    qsort(s->ns, s->n, sizeof(*s->ns), cmp_u64);
    i = (size_t)(q * (double)(s->n - 1) + 0.5);
    return s->ns[i < s->n ? i : s->n - 1];
}

double mph_median(double *v, size_t n)
{
    if (n == 0) {
        return 0;
    }
    qsort(v, n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}
