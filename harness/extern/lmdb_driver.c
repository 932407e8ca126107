/*
 * lmdb_driver.c - commits transactions to an LMDB environment and
 * acknowledges each, for crash-testing LMDB (Debian's liblmdb, code we did
 * not write) through the faultfs shim and mp-extern (README.md here).
 *
 * Usage: lmdb_driver [--writemap] [--nosync] [--nometasync] [--init]
 *                    DIR N
 *   --init        create the environment in DIR (an empty database) and
 *                 commit nothing: run without the shim, as the setup, so
 *                 the crash-tested run opens an existing, durable file
 *   --writemap    MDB_WRITEMAP: pages are stored into a shared writable
 *                 map and synced with msync (default: pwrite + fdatasync,
 *                 the meta page through an O_DSYNC descriptor)
 *   --nosync      MDB_NOSYNC: no sync at commit (LMDB: a crash may lose
 *                 the last transactions, or corrupt the database)
 *   --nometasync  MDB_NOMETASYNC: no sync of the meta page at commit
 *                 (LMDB: a crash may undo the last committed transaction)
 *
 * Transaction t (t = 1 .. N after the last one already in the database,
 * key "last") puts keys "k%05d.j" for j = 0..3 with the 200-byte value
 * lmdb_value(t, j), deletes "k(t-3).0" when t > 3 (so freed pages are
 * reused), and sets "last" to t. After mdb_txn_commit returns 0 it writes
 * "ack t" on stdout with one write(2): the acknowledgement mp-extern
 * matches. lmdb_check.sh recomputes the same contents from "last".
 *
 * Exit status 0, or 1 with a message on any LMDB error.
 */
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define KEYS_PER_TXN 4
#define VALUE_LEN    200
#define DELETE_LAG   3

static int fail(const char *what, int rc)
{
    fprintf(stderr, "lmdb_driver: %s: %s\n", what, mdb_strerror(rc));
    return 1;
}

/* "%05d.%d-" repeated to VALUE_LEN bytes (lmdb_check.sh builds the same). */
static void lmdb_value(unsigned t, unsigned j, char *out)
{
    char unit[32];
    int n = snprintf(unit, sizeof(unit), "%05u.%u-", t, j);
    for (int i = 0; i < VALUE_LEN; i++) {
        out[i] = unit[i % n];
    }
}

static int put(MDB_txn *txn, MDB_dbi dbi, const char *k, const void *v,
               size_t vlen)
{
    MDB_val key = { strlen(k), (void *)k }, val = { vlen, (void *)v };
    return mdb_put(txn, dbi, &key, &val, 0);
}

int main(int argc, char **argv)
{
    unsigned flags = 0, last = 0, n;
    int init = 0, a = 1, rc;
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;

    for (; a < argc && argv[a][0] == '-'; a++) {
        if (strcmp(argv[a], "--writemap") == 0) {
            flags |= MDB_WRITEMAP;
        } else if (strcmp(argv[a], "--nosync") == 0) {
            flags |= MDB_NOSYNC;
        } else if (strcmp(argv[a], "--nometasync") == 0) {
            flags |= MDB_NOMETASYNC;
        } else if (strcmp(argv[a], "--init") == 0) {
            init = 1;
        } else {
            break;
        }
    }
    if (argc - a != 2) {
        fprintf(stderr, "usage: lmdb_driver [--writemap] [--nosync] "
                        "[--nometasync] [--init] DIR N\n");
        return 2;
    }
    n = (unsigned)strtoul(argv[a + 1], NULL, 10);
    if ((rc = mdb_env_create(&env)) != 0) {
        return fail("mdb_env_create", rc);
    }
    if ((rc = mdb_env_set_mapsize(env, (size_t)1 << 20)) != 0 ||
        (rc = mdb_env_open(env, argv[a], flags, 0644)) != 0) {
        mdb_env_close(env);
        return fail(argv[a], rc);
    }
    if ((rc = mdb_txn_begin(env, NULL, 0, &txn)) != 0 ||
        (rc = mdb_dbi_open(txn, NULL, 0, &dbi)) != 0) {
        mdb_env_close(env);
        return fail("first transaction", rc);
    }
    {
        MDB_val key = { 4, "last" }, val;
        char num[16] = "";
        if (mdb_get(txn, dbi, &key, &val) == 0 && val.mv_size < sizeof(num)) {
            memcpy(num, val.mv_data, val.mv_size);
            last = (unsigned)strtoul(num, NULL, 10);
        }
    }
    if ((rc = mdb_txn_commit(txn)) != 0) {
        mdb_env_close(env);
        return fail("first commit", rc);
    }
    for (unsigned t = last + 1; !init && t <= last + n; t++) {
        char key[32], val[VALUE_LEN], ack[32];
        int len;
        if ((rc = mdb_txn_begin(env, NULL, 0, &txn)) != 0) {
            break;
        }
        for (unsigned j = 0; j < KEYS_PER_TXN && rc == 0; j++) {
            snprintf(key, sizeof(key), "k%05u.%u", t, j);
            lmdb_value(t, j, val);
            rc = put(txn, dbi, key, val, VALUE_LEN);
        }
        if (rc == 0 && t > DELETE_LAG) {
            MDB_val k;
            snprintf(key, sizeof(key), "k%05u.0", t - DELETE_LAG);
            k.mv_size = strlen(key);
            k.mv_data = key;
            rc = mdb_del(txn, dbi, &k, NULL);
        }
        if (rc == 0) {
            len = snprintf(val, sizeof(val), "%u", t);
            rc = put(txn, dbi, "last", val, (size_t)len);
        }
        if (rc != 0) {
            mdb_txn_abort(txn);
            break;
        }
        if ((rc = mdb_txn_commit(txn)) != 0) {
            break;
        }
        len = snprintf(ack, sizeof(ack), "ack %u\n", t);
        if (write(STDOUT_FILENO, ack, (size_t)len) != len) {
            perror("lmdb_driver: stdout");
            mdb_env_close(env);
            return 1;
        }
    }
    mdb_env_close(env);
    return rc ? fail("transaction", rc) : 0;
}
