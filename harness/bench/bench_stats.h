/*
 * bench_stats.h - latency samples and the figures the benchmark prints.
 */
#ifndef MPH_BENCH_STATS_H
#define MPH_BENCH_STATS_H

#include <stddef.h>
#include <stdint.h>

struct mph_samples {
    uint64_t *ns; /* one latency per timed operation */
    size_t n, cap;
};

/* Append one sample; 0 or -1 (out of memory). */
int mph_samples_add(struct mph_samples *s, uint64_t ns);
void mph_samples_free(struct mph_samples *s);

/* The q-quantile (0..1) of the samples; sorts them in place. 0 if empty. */
uint64_t mph_samples_quantile(struct mph_samples *s, double q);

/* Median of n doubles (sorts them in place). */
double mph_median(double *v, size_t n);

#endif /* MPH_BENCH_STATS_H */
