/*
 * workload.c - the workload object: building, directives, op names.
 */
#include <stdlib.h>
#include <string.h>

#include "mph/workload.h"
#include "workload_shape.h"

static const struct mph__op_shape shapes[MPH_OP__COUNT] = {
    [MPH_OP_ALLOC] = { "alloc", MPH__A_NONE, true },
    [MPH_OP_FREE] = { "free", MPH__A_ID, true },
    [MPH_OP_ALLOC_BULK] = { "alloc_bulk", MPH__A_COUNT, true },
    [MPH_OP_FREE_BULK] = { "free_bulk", MPH__A_IDS, true },
    [MPH_OP_PALLOC] = { "palloc", MPH__A_NONE, true },
    [MPH_OP_PALLOC_BULK] = { "palloc_bulk", MPH__A_COUNT, true },
    [MPH_OP_PFREE] = { "pfree", MPH__A_ID, true },
    [MPH_OP_PFREE_BULK] = { "pfree_bulk", MPH__A_IDS, true },
    [MPH_OP_PBEGIN] = { "pbegin", MPH__A_ID, false },
    [MPH_OP_PFILL] = { "pfill", MPH__A_ID_BYTE_RANGE, false },
    [MPH_OP_PCOMMIT] = { "pcommit", MPH__A_ID, true },
    [MPH_OP_PABORT] = { "pabort", MPH__A_ID, false },
    [MPH_OP_PWRITE] = { "pwrite", MPH__A_ID_BYTE_MODE, true },
    [MPH_OP_WRITE] = { "write", MPH__A_ID_BYTE, false },
    [MPH_OP_SYNC] = { "sync", MPH__A_NONE, false },
    [MPH_OP_REOPEN] = { "reopen", MPH__A_NONE, false },
    [MPH_OP_ITERATE] = { "iterate", MPH__A_NONE, false },
    [MPH_OP_GROW] = { "grow", MPH__A_COUNT, true },
    [MPH_OP_SALLOC] = { "salloc", MPH__A_SIZE, true },
    [MPH_OP_SALLOC_BULK] = { "salloc_bulk", MPH__A_SIZE_COUNT, true },
    [MPH_OP_SFREE] = { "sfree", MPH__A_ID, true },
    [MPH_OP_SFREE_BULK] = { "sfree_bulk", MPH__A_IDS, true },
    [MPH_OP_CRASH] = { "crash", MPH__A_NONE, false },
    [MPH_OP_SWITCH] = { "switch", MPH__A_NONE, false },
};

const struct mph__op_shape *mph__shape(int kind)
{
    if (kind < 0 || kind >= MPH_OP__COUNT) {
        return NULL;
    }
    return &shapes[kind];
}

int mph__op_kind(const char *name, size_t len)
{
    for (int k = 0; k < MPH_OP__COUNT; k++) {
        if (strlen(shapes[k].name) == len &&
            memcmp(shapes[k].name, name, len) == 0) {
            return k;
        }
    }
    return -1;
}

const char *mph_op_name(int kind)
{
    const struct mph__op_shape *s = mph__shape(kind);
    return s ? s->name : "?";
}

bool mph_op_commits(int kind)
{
    const struct mph__op_shape *s = mph__shape(kind);
    return s && s->commits;
}

/* Refs an op of this shape produces. */
uint64_t mph__op_refs(const struct mph_op *op)
{
    switch (op->kind) {
    case MPH_OP_ALLOC:
    case MPH_OP_PALLOC:
    case MPH_OP_SALLOC:
        return 1;
    case MPH_OP_ALLOC_BULK:
    case MPH_OP_PALLOC_BULK:
    case MPH_OP_SALLOC_BULK:
        return op->count;
    default:
        return 0;
    }
}

int mph_workload_new(struct mph_workload **out)
{
    *out = calloc(1, sizeof(**out));
    return *out ? MP_OK : MP_ENOMEM;
}

void mph_workload_free(struct mph_workload *w)
{
    if (!w) {
        return;
    }
    for (size_t i = 0; i < w->ndirs; i++) {
        free(w->dir_key[i]);
        free(w->dir_val[i]);
    }
    free(w->dir_key);
    free(w->dir_val);
    free(w->ops);
    free(w->args);
    free(w);
}

static int reserve(void **arr, size_t *cap, size_t need, size_t elem)
{
    size_t n = *cap ? *cap : 16;
    void *p;
    if (need <= *cap) {
        return MP_OK;
    }
    while (n < need) {
        n *= 2;
    }
    p = realloc(*arr, n * elem);
    if (!p) {
        return MP_ENOMEM;
    }
    *arr = p;
    *cap = n;
    return MP_OK;
}

static bool op_ok(const struct mph_workload *w, const struct mph_op *op,
                  const struct mph_arg *args, size_t nargs)
{
    const struct mph__op_shape *s = mph__shape(op->kind);
    size_t want;
    if (!s) {
        return false;
    }
    switch (s->args) {
    case MPH__A_NONE:
    case MPH__A_COUNT:
    case MPH__A_SIZE:
    case MPH__A_SIZE_COUNT:
        want = 0;
        break;
    case MPH__A_IDS:
        want = nargs;
        break;
    default:
        want = 1;
        break;
    }
    if (nargs != want || op->count > MPH_MAX_COUNT || op->byte > 255) {
        return false;
    }
    for (size_t i = 0; i < nargs; i++) {
        if (args[i].kind == MPH_ARG_REF &&
            (args[i].value == 0 || args[i].value > w->nrefs)) {
            return false;
        }
        if (args[i].kind != MPH_ARG_REF && args[i].kind != MPH_ARG_RAW) {
            return false;
        }
    }
    return true;
}

int mph_workload_add(struct mph_workload *w, const struct mph_op *op,
                     const struct mph_arg *args, size_t nargs)
{
    struct mph_op *o;
    int rc;
    if (!op_ok(w, op, args, nargs)) {
        return MP_EINVAL;
    }
    rc = reserve((void **)&w->ops, &w->ops_cap, w->nops + 1, sizeof(*w->ops));
    if (rc == MP_OK) {
        rc = reserve((void **)&w->args, &w->args_cap, w->nargs + nargs,
                     sizeof(*w->args));
    }
    if (rc != MP_OK) {
        return rc;
    }
    o = &w->ops[w->nops++];
    *o = *op;
    o->first_arg = w->nargs;
    o->nargs = nargs;
    if (nargs) {
        memcpy(w->args + w->nargs, args, nargs * sizeof(*args));
    }
    w->nargs += nargs;
    o->nrefs = mph__op_refs(o);
    o->first_ref = w->nrefs + 1;
    w->nrefs += o->nrefs;
    return MP_OK;
}

const char *mph_workload_directive(const struct mph_workload *w,
                                   const char *key)
{
    for (size_t i = 0; i < w->ndirs; i++) {
        if (strcmp(w->dir_key[i], key) == 0) {
            return w->dir_val[i];
        }
    }
    return NULL;
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) {
        memcpy(d, s, n);
    }
    return d;
}

int mph_workload_set_directive(struct mph_workload *w, const char *key,
                               const char *value)
{
    char *k, *v;
    char **nk, **nv;
    if (!*key || strpbrk(key, " \t\r\n") || strpbrk(value, "\r\n")) {
        return MP_EINVAL;
    }
    v = dup_str(value);
    if (!v) {
        return MP_ENOMEM;
    }
    for (size_t i = 0; i < w->ndirs; i++) {
        if (strcmp(w->dir_key[i], key) == 0) {
            free(w->dir_val[i]);
            w->dir_val[i] = v;
            return MP_OK;
        }
    }
    k = dup_str(key);
    nk = realloc(w->dir_key, (w->ndirs + 1) * sizeof(*nk));
    if (nk) {
        w->dir_key = nk;
    }
    nv = realloc(w->dir_val, (w->ndirs + 1) * sizeof(*nv));
    if (nv) {
        w->dir_val = nv;
    }
    if (!k || !nk || !nv) {
        free(k);
        free(v);
        return MP_ENOMEM;
    }
    w->dir_key[w->ndirs] = k;
    w->dir_val[w->ndirs] = v;
    w->ndirs++;
    return MP_OK;
}

int mph_workload_prefix(const struct mph_workload *w, size_t nops,
                        struct mph_workload **out)
{
    struct mph_workload *c;
    int rc = mph_workload_new(&c);
    if (nops > w->nops) {
        nops = w->nops;
    }
    for (size_t i = 0; rc == MP_OK && i < w->ndirs; i++) {
        rc = mph_workload_set_directive(c, w->dir_key[i], w->dir_val[i]);
    }
    for (size_t i = 0; rc == MP_OK && i < nops; i++) {
        const struct mph_op *op = &w->ops[i];
        rc = mph_workload_add(c, op, op->nargs ? w->args + op->first_arg : NULL,
                              op->nargs);
    }
    if (rc != MP_OK) {
        mph_workload_free(c);
        c = NULL;
    }
    *out = c;
    return rc;
}
