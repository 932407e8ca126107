/*
 * mph/workload.h - workloads: a sequence of pager operations, as a small
 * text format that people can read and write, and as the parsed form the
 * executor, the model and the explorer share.
 *
 * The text format (harness/crash/README.md has the full description):
 *
 *   # a comment; blank lines are ignored
 *   #! page_size 1024          a directive: key and value for the tools
 *   alloc                      -> $1
 *   alloc_bulk 3               -> $2 $3 $4
 *   free_bulk $2 $2 0 77777    ids may repeat or be invalid (error paths)
 *   palloc                     -> $5 (a protected page)
 *   pwrite $5 0x41             begin + fill + commit in one line
 *
 * Every operation that produces ids (alloc, alloc_bulk, palloc,
 * palloc_bulk) names them $1, $2, ... in the order they are produced,
 * counting every id the operation was asked for whether or not it
 * succeeded. An id argument is a ref ($k, k at most the refs produced so
 * far), a decimal or 0x-hex raw 64-bit id, or P<n> for the protected id of
 * slot n. So a file never depends on which page numbers the pager picks.
 *
 * Thread rules: a workload is immutable once parsed or built and may be
 * read from several threads.
 */
#ifndef MPH_WORKLOAD_H
#define MPH_WORKLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mappedpages/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Operation kinds. Names in the text format are in mph_op_name(). */
enum mph_op_kind {
    MPH_OP_ALLOC = 0,   /* alloc                          -> 1 ref */
    MPH_OP_FREE,        /* free <id>                                */
    MPH_OP_ALLOC_BULK,  /* alloc_bulk <n>                 -> n refs */
    MPH_OP_FREE_BULK,   /* free_bulk <id>...                        */
    MPH_OP_PALLOC,      /* palloc                         -> 1 ref */
    MPH_OP_PALLOC_BULK, /* palloc_bulk <n>                -> n refs */
    MPH_OP_PFREE,       /* pfree <id>                               */
    MPH_OP_PFREE_BULK,  /* pfree_bulk <id>...                       */
    MPH_OP_PBEGIN,      /* pbegin <id>                              */
    MPH_OP_PFILL,       /* pfill <id> <byte> [<off> <len>]          */
    MPH_OP_PCOMMIT,     /* pcommit <id>                             */
    MPH_OP_PABORT,      /* pabort <id>                              */
    MPH_OP_PWRITE,      /* pwrite <id> <byte> [commit|abort]        */
    MPH_OP_WRITE,       /* write <id> <byte>  (regular page bytes)  */
    MPH_OP_SYNC,        /* sync   (mp_pager_sync_pages, whole file) */
    MPH_OP_REOPEN,      /* reopen (close, open, recovery)           */
    MPH_OP_ITERATE,     /* iterate (both iterators; EITERATING)     */
    MPH_OP_GROW,        /* grow <n>  (mp_pager_grow)                */
    MPH_OP_SALLOC,      /* salloc <size>                  -> 1 ref */
    MPH_OP_SALLOC_BULK, /* salloc_bulk <size> <n>         -> n refs */
    MPH_OP_SFREE,       /* sfree <id>                               */
    MPH_OP_SFREE_BULK,  /* sfree_bulk <id>...                       */
    MPH_OP_CRASH,       /* crash  (power loss, restart, recovery)   */
    MPH_OP_SWITCH,      /* switch (reopen in the other commit mode) */
    MPH_OP__COUNT
};

/** How an id argument was written. */
enum mph_arg_kind {
    MPH_ARG_REF = 0, /* $k: value is k (1-based) */
    MPH_ARG_RAW = 1, /* a literal 64-bit id: value is the id */
};

struct mph_arg {
    int kind;
    uint64_t value;
};

/** Largest count the bulk ops and grow accept in a file. */
#define MPH_MAX_COUNT ((uint64_t)1 << 24)

/** An id a ref resolves to when the op that should produce it failed. */
#define MPH_ID_UNSET UINT64_MAX

/** One parsed operation. */
struct mph_op {
    int kind;          /* enum mph_op_kind */
    unsigned line;     /* line in the source text, 0 if built */
    uint64_t count;    /* alloc_bulk, palloc_bulk, salloc_bulk, grow */
    uint32_t size;     /* salloc, salloc_bulk: the slot size */
    unsigned byte;     /* pfill, pwrite, write: the fill byte */
    uint32_t off, len; /* pfill: range; len 0 means to the end */
    bool commit;       /* pwrite: true commit, false abort */
    size_t first_arg;  /* index into mph_workload.args */
    size_t nargs;
    uint64_t first_ref; /* refs produced: $first_ref .. */
    uint64_t nrefs;     /* .. $(first_ref + nrefs - 1) */
};

/** A workload. Fields are read-only for users; build with the calls. */
struct mph_workload {
    struct mph_op *ops;
    size_t nops, ops_cap;
    struct mph_arg *args;
    size_t nargs, args_cap;
    uint64_t nrefs; /* refs produced by all ops */
    char **dir_key; /* directives (#! key value), in file order */
    char **dir_val;
    size_t ndirs;
};

/** The text-format name of an op kind ("alloc"), or "?" */
const char *mph_op_name(int kind);

/** True if ops of this kind change allocation state through a commit. */
bool mph_op_commits(int kind);

/**
 * A new, empty workload.
 * @return MP_OK; MP_ENOMEM. Free with mph_workload_free().
 */
int mph_workload_new(struct mph_workload **out);

/** Free a workload. Accepts NULL. */
void mph_workload_free(struct mph_workload *w);

/**
 * Append one op. op->first_arg, op->first_ref and op->nrefs are filled
 * in by this call (refs are numbered from the counts); args are copied.
 * A ref argument must name a ref already produced.
 * @return MP_OK; MP_ENOMEM; MP_EINVAL (bad kind, count, ref or byte).
 */
int mph_workload_add(struct mph_workload *w, const struct mph_op *op,
                     const struct mph_arg *args, size_t nargs);

/**
 * Parse text. On error returns MP_EINVAL (or MP_ENOMEM) and writes
 * "name:line: message" into err (if errlen > 0); *out is then NULL.
 * @param[in] name  used in messages only (a file name, "<string>").
 */
int mph_workload_parse(const char *text, size_t len, const char *name,
                       struct mph_workload **out, char *err, size_t errlen);

/**
 * Read and parse a file ("-" = stdin). As mph_workload_parse(), plus
 * MP_ENOENT / MP_EIO when the file cannot be read.
 */
int mph_workload_load(const char *path, struct mph_workload **out, char *err,
                      size_t errlen);

/**
 * Write the workload in the text format: directives first, then one op
 * per line, each id-producing op annotated with the refs it produces.
 * parse(print(w)) equals w. @return MP_OK; MP_EIO (write error).
 */
int mph_workload_print(const struct mph_workload *w, FILE *f);

/** The value of the first directive named key, or NULL. */
const char *mph_workload_directive(const struct mph_workload *w,
                                   const char *key);

/**
 * Set a directive (replacing the first of that key, else appending).
 * @return MP_OK; MP_ENOMEM; MP_EINVAL (empty key, or a newline).
 */
int mph_workload_set_directive(struct mph_workload *w, const char *key,
                               const char *value);

/**
 * Copy ops [0, nops) and every directive into a new workload.
 * @return MP_OK; MP_ENOMEM.
 */
int mph_workload_prefix(const struct mph_workload *w, size_t nops,
                        struct mph_workload **out);

#ifdef __cplusplus
}
#endif
#endif /* MPH_WORKLOAD_H */
