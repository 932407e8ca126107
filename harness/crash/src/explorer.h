/*
 * explorer.h - the explorer object (explore.c sweeps, report.c prints).
 */
#ifndef MPH_EXPLORER_H
#define MPH_EXPLORER_H

#include "mph/explore.h"

/* Per-workload counters for the report. */
struct mph__wl {
    char name[256];
    uint64_t hash;
    size_t ops;
    uint64_t points, states, violations;
};

struct mph_explorer {
    struct mph_explore_config cfg;
    struct mph_explore_stats st;
    struct mph_violation *viol;
    size_t nviol, viol_cap;
    struct mph__wl *wls;
    size_t nwls, wls_cap;
    uint64_t site_seq;
    long class_op; /* op whose outcome classes `seen` holds */
    bool class_gap;
    uint32_t seen;
    double t0, last_progress;
    bool stop;
};

#endif /* MPH_EXPLORER_H */
