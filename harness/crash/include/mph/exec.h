/*
 * mph/exec.h - the executor: runs a workload's operations against a real
 * pager (any backend), resolving $refs from what earlier operations
 * returned, and, when given a model, checks the pager against the model
 * after every step.
 *
 * One executor drives one file: mph_exec_create() makes it, each
 * mph_exec_step() runs the next op, mph_exec_close() closes the pager.
 * The executor owns the pager, the sub-page allocators and the staging
 * pointers of protected writes in progress.
 *
 * Thread rules: one thread at a time per executor.
 */
#ifndef MPH_EXEC_H
#define MPH_EXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mappedpages.h"
#include "mph/model.h"
#include "mph/workload.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Default address reservation per pager: small files, fast opens. */
#define MPH_DEFAULT_RESERVE ((uint64_t)16 << 20)

/** Where and how the executor runs. */
struct mph_exec_config {
    /** Backend; NULL means mp_vfs_posix(). Must outlive the executor. */
    const struct mp_vfs *vfs;
    /** File name (for the backend). Copied. */
    const char *path;
    /** Page size of the file created. */
    size_t page_size;
    /** Address reservation of each pager (0: MPH_DEFAULT_RESERVE). */
    uint64_t reserve_bytes;
    /**
     * enum mp_open_flags for create and every open (mp_options.flags),
     * e.g. MP_OPEN_ONE_FLUSH for one-flush commits. A `switch` op flips
     * MP_OPEN_ONE_FLUSH for the opens that follow it (mph_exec_open_flags).
     */
    unsigned open_flags;
    /**
     * Memory hooks given to every pager the executor creates or opens
     * (mp_options.mem), so a test can make the pager's own allocations
     * fail; NULL: malloc/free. Copied by value at mph_exec_new(); what
     * ctx points to must outlive the executor. The executor's own memory
     * never goes through them.
     */
    const struct mp_allocator_hooks *mem;
    /**
     * What a `crash` op reopens the file through: called with crash_ctx
     * after the pager is closed, it stores the backend of the disk as it
     * is after the power loss (e.g. a crash image of a faultfs) in *vfs,
     * which the executor then uses for the rest of the run (it must
     * outlive the executor). NULL: a crash op reopens through the same
     * backend, like reopen. A non-MP_OK return fails the op with it.
     */
    int (*crash)(void *crash_ctx, const struct mp_vfs **vfs);
    void *crash_ctx;
};

struct mph_exec;

/**
 * A new executor for workload w (which must outlive it). model may be
 * NULL (no checking); if given, it is reset by mph_exec_create() and
 * records S_0, S_1, ... as the steps run.
 * @return MP_OK; MP_ENOMEM; MP_EINVAL (bad config).
 */
int mph_exec_new(const struct mph_workload *w,
                 const struct mph_exec_config *cfg, struct mph_model *model,
                 struct mph_exec **out);

/** Close the pager if open and free the executor. Accepts NULL. */
void mph_exec_free(struct mph_exec *e);

/**
 * Create the file (mp_pager_create); *create_rc receives what it returned
 * (on an error no pager is open and the run cannot go on). With a model,
 * starts it (S_0) and compares.
 * @return MP_OK (create ran, whatever it returned); MP_ENOMEM (the
 *         harness ran out of memory).
 */
int mph_exec_create(struct mph_exec *e, int *create_rc, struct mph_diff *d);

/**
 * Run the next op. *op_rc receives what the pager returned (for a
 * composite pwrite, the first call that failed; for reopen, the open).
 * With a model: applies the op to it, compares the pager with the new
 * state (including bytes in memory), records the state, and fills *d on
 * any difference (rule MPH_RULE_RUN).
 * @return MP_OK (the op ran, whatever it returned); MP_ENOMEM (the harness
 *         ran out of memory); MP_EINVAL (no op left, or no pager open:
 *         a reopen failed).
 */
int mph_exec_step(struct mph_exec *e, int *op_rc, struct mph_diff *d);

/**
 * Run the last op (index mph_exec_next() - 1) again, e.g. after it failed
 * with MP_ENOMEM or another clean code and the cause is gone; the index
 * does not move. Only for executors without a model (the model has taken
 * the failed result already). A composite pwrite whose begin went through
 * before its commit failed reuses that staging copy instead of beginning
 * again; a reopen runs even when the failed one left no pager, and rebuilds
 * the sub-page allocators from the ids the failed one saved. *op_rc
 * receives what the pager returned; on MP_OK the op's refs are set.
 * @return MP_OK (the op ran, whatever it returned); MP_ENOMEM (the harness
 *         ran out of memory); MP_EINVAL (a model is attached, no op has
 *         run yet, or no pager is open and the op is not a reopen).
 */
int mph_exec_retry(struct mph_exec *e, int *op_rc, struct mph_diff *d);

/** Index of the next op to run. */
size_t mph_exec_next(const struct mph_exec *e);

/** The open flags the next open uses (cfg.open_flags after any `switch`
 *  ops run so far flipped MP_OPEN_ONE_FLUSH). */
unsigned mph_exec_open_flags(const struct mph_exec *e);

/** The open pager, or NULL (before create, after a failed reopen). */
mp_pager *mph_exec_pager(const struct mph_exec *e);

/**
 * Close the pager (and the sub-page allocators); keeps the executor.
 * @return what mp_pager_close returned (MP_OK if nothing was open).
 */
int mph_exec_close(struct mph_exec *e);

/** What ref $k (1-based) resolved to, MPH_ID_UNSET if not produced. */
uint64_t mph_exec_ref(const struct mph_exec *e, uint64_t k);

/**
 * Run the whole workload with a model (or NULL) over cfg, stopping at the
 * first difference or failed step. *failed_op receives the index of the
 * op that differed, or w->nops if none.
 * @return MP_OK (ran; *d says whether it matched); MP_ENOMEM; MP_EINVAL;
 *         the create call's error.
 */
int mph_exec_run(const struct mph_workload *w,
                 const struct mph_exec_config *cfg, struct mph_model *model,
                 struct mph_diff *d, size_t *failed_op);

#ifdef __cplusplus
}
#endif
#endif /* MPH_EXEC_H */
