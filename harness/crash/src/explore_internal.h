/*
 * explore_internal.h - pieces of the explorer shared by explore.c (the
 * sweep), replay.c (reproducers) and report.c (summary, JSON).
 */
#ifndef MPH_EXPLORE_INTERNAL_H
#define MPH_EXPLORE_INTERNAL_H

#include "faultfs.h"
#include "mph/explore.h"

/* The file name inside every faultfs the explorer makes. */
#define MPH__PATH "crash.mp"

/* What the clean run recorded. */
struct mph__golden {
    struct mph_model *m;
    size_t ps;
    uint64_t create_end; /* crash points of create: [0, create_end) */
    uint64_t *op_end; /* op i passes [op_end[i-1] or create_end, op_end[i]) */
    int *op_rc;
    size_t nops;    /* ops that ran */
    int *call_kind; /* enum faultfs_call of each failure-capable call */
    uint64_t ncalls;
    struct mph_diff diff; /* why the clean run failed (rule NONE: it did not) */
    long failed_op;
    /* Create returned exactly MP_EDEVICE: the format refuses this device
     * (page size below its power-fail unit); nothing else ran. */
    bool refused;
    /* Index of the workload's `crash` op (a two-crash run), or -1. Crash
     * points from that op on are counted on the restarted disk, from 0. */
    long crash_op;
    /* The open flags of create (the cell's mode) and after each op (a
     * `switch` flips MP_OPEN_ONE_FLUSH): the mode a crash's restart and
     * the oracle open in. */
    unsigned flags0;
    unsigned *op_flags;
};

/*
 * A site: crash point `k`; the gap after `k` completed ops; or (fault) the
 * k-th failure-capable call (1-based) failing with its natural error and,
 * for a sync, `persist` (enum faultfs_persist).
 */
struct mph__site {
    bool gap;
    bool fault;
    int persist;
    uint64_t k;
    /* Filled by mph__crash_run for a fault site: whether it fired, in
     * which kind of call, and the op it broke (-1 create; nops if every
     * op still returned what the golden run did). */
    bool fired;
    int call;
    long affected;
    /* A second crash (after the workload's `crash` op): k counts the
     * restarted disk's crash points; `gap` sites are after op k - 1 as
     * usual. first/first_pattern: the first crash (site name, pattern). */
    bool second;
    const char *first;
    const char *first_pattern;
    /* (gap) the clean image with byte damage_off xor damage_mask,
     * judged by mph_oracle_check_damaged. */
    bool damaged;
    uint64_t damage_off;
    unsigned damage_mask;
};

/* The damage for byte b: two of its bits that differ flipped (one if
 * b is 0x00 or 0xff), chosen by r. */
unsigned char mph__damage_mask(unsigned char b, unsigned r);

/*
 * The first crash of a two-crash run, as the `crash` op's restart: rerun
 * the workload without its crash op to the first site, crash, and rebuild
 * the image from its pattern; a second crash may be armed on that image.
 */
struct mph__restart {
    const struct mph_explore_config *cfg;
    struct mph_workload *w1; /* the workload without its crash op */
    struct mph__golden g1;   /* its golden run */
    struct mph__site site1;  /* the first crash */
    const char *pattern1;    /* its tear pattern */
    uint64_t arm;            /* crash point to arm on the image, or */
    bool armed;              /* (false) none */
    faultfs *fs1, *img;      /* owned: the first machine, the image */
};

/* What the oracle must accept at a site. */
struct mph__expect {
    long op; /* op in flight; -1 create; for a gap, the ops done - 1 */
    const struct mph_state *prev, *cur;
    unsigned flags; /* ALLOW_ABSENT, PROTECTED_COMMIT */
    /* A fault site whose op failed: cur is S_{i-1}, the only state the
     * disk may hold (prev NULL); counted as rolled back. */
    bool failed;
    /* The mode of the session in flight (after the op in flight, so a
     * crash in a switch restarts in the new mode): the oracle's opens. */
    unsigned open_flags;
};

/* The open flags a config's runs create with (its commit mode). */
unsigned mph__mode_flags(const struct mph_explore_config *cfg);
/* An oracle config for the images of a site with expectation e. */
void mph__oracle_config(const struct mph__golden *g,
                        const struct mph__expect *e,
                        struct mph_oracle_config *oc);

int mph__fs_new(const struct mph_explore_config *cfg, size_t trace_max,
                faultfs **out);
size_t mph__page_size(const struct mph_workload *w, size_t dflt);
int mph__golden_run(const struct mph_explore_config *cfg,
                    const struct mph_workload *w, struct mph__golden *g);
/* The same with a restart for the workload's crash op (NULL: none). */
int mph__golden_run2(const struct mph_explore_config *cfg,
                     const struct mph_workload *w, struct mph__restart *r,
                     struct mph__golden *g);
void mph__golden_free(struct mph__golden *g);
/*
 * Rerun to the site and crash; *fs is crashed on MP_OK with d clear. A
 * fault site that did not fire (no such call) gives MP_OK, *fs NULL.
 */
int mph__crash_run(const struct mph_explore_config *cfg,
                   const struct mph_workload *w, const struct mph__golden *g,
                   struct mph__site *site, faultfs **fs, struct mph_diff *d);
/*
 * Two crashes. mph__restart_init: w2 holds a `crash` op; site1 (a point
 * or gap of w2 without it) and pattern1 name the first crash; golden runs
 * w1 into r->g1 and w2 into *g2 (the crash op restarting on the image).
 * A clean run that fails is in g2->diff (or r->g1.diff).
 * mph__crash_run2: rerun w2 to the second site (site->second) and crash
 * there on the restarted disk; as mph__crash_run.
 */
int mph__restart_init(const struct mph_explore_config *cfg,
                      const struct mph_workload *w2,
                      const struct mph__site *site1, const char *pattern1,
                      struct mph__restart *r, struct mph__golden *g2);
void mph__restart_free(struct mph__restart *r);
int mph__crash_run2(struct mph__restart *r, const struct mph_workload *w2,
                    const struct mph__golden *g2, struct mph__site *site,
                    faultfs **fs, struct mph_diff *d);
void mph__expect_at(const struct mph_workload *w, const struct mph__golden *g,
                    const struct mph__site *site, struct mph__expect *e);
/* "none", "part", "all" (enum faultfs_persist), and back (-1: unknown). */
const char *mph__persist_name(int persist);
int mph__persist_parse(const char *s);
/* "point 17", "gap 3", "fault 12 part" (sep between the words). */
void mph__site_name(const struct mph__site *site, char sep, char *buf,
                    size_t len);
/* Write a reproducer file; path receives its name. */
int mph__write_repro(const struct mph_explore_config *cfg,
                     const struct mph_workload *w, const char *name,
                     const struct mph__golden *g, const struct mph__site *site,
                     const char *pattern, const struct mph_diff *d, char *path,
                     size_t pathlen);

#endif /* MPH_EXPLORE_INTERNAL_H */
