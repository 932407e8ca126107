/*
 * explorer.h - the explorer object (explore.c sweeps, report.c prints).
 */
#ifndef MPH_EXPLORER_H
#define MPH_EXPLORER_H

#include "explore_internal.h"
#include "mph/explore.h"

/* Per-workload counters for the report. */
struct mph__wl {
    char name[256];
    char cell[80];
    uint64_t hash;
    size_t ops;
    uint64_t points, states, violations;
    uint64_t sites, sites_done; /* this shard's sites; explored */
    const char *status; /* "complete", "cut", "n/a", "refused", "stopped" */
};

struct mph_explorer {
    struct mph_explore_config cfg;
    struct mph_explore_stats st;
    struct mph_violation *viol;
    size_t nviol, viol_cap;
    struct mph__wl *wls;
    size_t nwls, wls_cap;
    uint64_t site_seq;
    /* Outcome classes seen per op in flight and gap (index 2 * (op + 1)
     * + gap), for the costly rules: sites are visited out of order. */
    uint64_t *seen;
    size_t seen_cap;
    double t0, last_progress;
    bool stop;
    /* Matrix: the cell running (in_cell), its counters at its start, its
     * deadline (0: none) and whether it ran out; the finished cells. */
    bool in_cell;
    struct mph_cell_result cur;
    struct mph_explore_stats at_cell_start;
    double cell_deadline;
    bool cell_stop;
    struct mph_cell_result *cells;
    size_t ncells, cells_cap;
    /* The next workload's time share (0: none) and its deadline. */
    double share, wl_deadline;
    bool wl_stop;
};

/* explore_two.c: continue a recovered image and crash it again. */
int mph__continue(struct mph_explorer *x, const struct mph_workload *w,
                  const char *name, const struct mph__golden *g,
                  const struct mph__site *site, const char *pattern, int match,
                  struct mph__wl *wl);
/* report.c: every workload that applies ran (in full or sampled). */
bool mph__all_ran(const struct mph_explore_stats *s);
/* explore.c, for explore_two.c. */
bool mph__out_of_budget(struct mph_explorer *x);
uint64_t mph__mix(uint64_t a, uint64_t b);
int mph__violation(struct mph_explorer *x, const struct mph_workload *w,
                   const char *name, const struct mph__golden *g,
                   const struct mph__site *site, faultfs *img,
                   const struct mph_diff *d, struct mph__wl *wl);

#endif /* MPH_EXPLORER_H */
