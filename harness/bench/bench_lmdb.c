/*
 * bench_lmdb.c - LMDB workloads beside ours in the same run (bench.h).
 *
 * LMDB's closest operation to one of our commits is a write transaction
 * holding one put: it syncs its data pages, then its meta page, two
 * barriers like ours. The workloads use LMDB's default durability (no
 * MDB_NOSYNC, MDB_NOMETASYNC), with and without MDB_WRITEMAP.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "bench.h"

struct lmdb_state {
    MDB_env *env;
    MDB_dbi dbi;
    unsigned char *value;
    char lock_path[4096 + 8];
};

static int lmdb_fail(const char *what, int e)
{
    fprintf(stderr, "mp-bench: lmdb %s: %s\n", what, mdb_strerror(e));
    return MP_EIO;
}

static int setup(struct mph_run *r, unsigned flags)
{
    struct lmdb_state *s = calloc(1, sizeof(*s));
    size_t vsize = r->w->k;
    MDB_txn *txn = NULL;
    int e;

    if (!s) {
        return MP_ENOMEM;
    }
    r->ext = s;
    snprintf(s->lock_path, sizeof(s->lock_path), "%s-lock", r->path);
    remove(r->path);
    remove(s->lock_path);
    s->value = malloc(vsize);
    if (!s->value) {
        return MP_ENOMEM;
    }
    memset(s->value, 0x5A, vsize);
    if ((e = mdb_env_create(&s->env)) != 0) {
        s->env = NULL;
        return lmdb_fail("env_create", e);
    }
    /* Room for every value twice over (copy-on-write) plus the tree. */
    e = mdb_env_set_mapsize(s->env, ((size_t)64 << 20) +
                                        (size_t)r->ops * (vsize + 4096) * 2);
    if (e == 0) {
        e = mdb_env_open(s->env, r->path, MDB_NOSUBDIR | flags, 0644);
    }
    if (e != 0) {
        return lmdb_fail("env_open", e);
    }
    if ((e = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0) {
        return lmdb_fail("txn_begin", e);
    }
    if ((e = mdb_dbi_open(txn, NULL, 0, &s->dbi)) != 0) {
        mdb_txn_abort(txn);
        return lmdb_fail("dbi_open", e);
    }
    if ((e = mdb_txn_commit(txn)) != 0) {
        return lmdb_fail("txn_commit", e);
    }
    return MP_OK;
}

int mph_lmdb_setup(struct mph_run *r)
{
    return setup(r, 0);
}

int mph_lmdb_setup_wm(struct mph_run *r)
{
    return setup(r, MDB_WRITEMAP);
}

int mph_lmdb_put(struct mph_run *r, uint64_t i)
{
    struct lmdb_state *s = r->ext;
    unsigned char kb[8];
    MDB_val key = { sizeof(kb), kb }, val = { r->w->k, s->value };
    MDB_txn *txn;
    int e;

    /* Big-endian: keys arrive in order, as our allocations do. */
    for (int b = 0; b < 8; b++) {
        kb[b] = (unsigned char)(i >> (56 - 8 * b));
    }
    s->value[0] = (unsigned char)i;
    if ((e = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0) {
        return lmdb_fail("txn_begin", e);
    }
    if ((e = mdb_put(txn, s->dbi, &key, &val, 0)) != 0) {
        mdb_txn_abort(txn);
        return lmdb_fail("put", e);
    }
    if ((e = mdb_txn_commit(txn)) != 0) {
        return lmdb_fail("txn_commit", e);
    }
    return MP_OK;
}

int mph_lmdb_teardown(struct mph_run *r)
{
    struct lmdb_state *s = r->ext;
    int rc = MP_OK;
    if (!s) {
        return MP_OK;
    }
    if (s->env) {
        MDB_stat st;
        MDB_txn *txn;
        /* Every op must have stored its own key: a sanity check. */
        if (mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn) == 0) {
            if (mdb_stat(txn, s->dbi, &st) != 0 || st.ms_entries != r->ops) {
                rc = MP_ECORRUPT;
            }
            mdb_txn_abort(txn);
        } else {
            rc = MP_EIO;
        }
        mdb_env_close(s->env);
    }
    remove(s->lock_path);
    free(s->value);
    free(s);
    r->ext = NULL;
    return rc;
}
