/*
 * trace.c - the ordered record of seam calls (a ring of the most recent
 * ones), its printed form, and the counters.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct faultfs_trace_entry *faultfs__trace_add(faultfs *fs, int call,
                                               const char *file)
{
    size_t max = fs->cfg.trace_max, len = file ? strlen(file) : 0;
    struct faultfs_trace_entry *e;

    if (fs->trace_n == fs->trace_cap && fs->trace_cap < max) {
        /* Grown on demand: images and short runs never pay for a full
         * ring. The ring is linear (head 0) until it first fills. */
        size_t cap = fs->trace_cap ? fs->trace_cap * 2 : 32;
        struct faultfs_trace_entry *t;
        if (cap > max) {
            cap = max;
        }
        t = realloc(fs->trace, cap * sizeof(*t));
        if (t) {
            fs->trace = t;
            fs->trace_cap = cap;
        }
    }
    if (fs->trace_cap == 0) {
        e = &fs->trace_spare;
    } else if (fs->trace_n < fs->trace_cap) {
        e = &fs->trace[(fs->trace_head + fs->trace_n++) % fs->trace_cap];
    } else {
        e = &fs->trace[fs->trace_head];
        fs->trace_head = (fs->trace_head + 1) % fs->trace_cap;
    }
    memset(e, 0, sizeof(*e));
    e->seq = fs->seq++;
    e->call = call;
    e->point = UINT64_MAX;
    e->durable_size = UINT64_MAX;
    /* The tail of a path names the file; the directory rarely matters. */
    if (len >= sizeof(e->file)) {
        file += len - (sizeof(e->file) - 1);
    }
    if (file) {
        memcpy(e->file, file, strlen(file) + 1);
    }
    fs->stats.calls++;
    return e;
}

size_t faultfs_trace_count(const faultfs *fs)
{
    faultfs *m = (faultfs *)fs;
    size_t n;
    pthread_mutex_lock(&m->mu);
    n = fs->trace_n;
    pthread_mutex_unlock(&m->mu);
    return n;
}

int faultfs_trace_get(const faultfs *fs, size_t i,
                      struct faultfs_trace_entry *e)
{
    faultfs *m = (faultfs *)fs;
    int rc = MP_OK;
    pthread_mutex_lock(&m->mu);
    if (i >= fs->trace_n) {
        rc = MP_EINVAL;
    } else {
        *e = fs->trace[(fs->trace_head + i) % fs->trace_cap];
    }
    pthread_mutex_unlock(&m->mu);
    return rc;
}

const char *faultfs_call_name(int call)
{
    static const char *const names[] = {
        "any",   "open",  "remove",    "rename",     "sync_dir", "lock",
        "size",  "grow",  "map",       "extend_map", "sync",     "sync_file",
        "unmap", "close", "crash_now", "reserve",
    };
    if (call < 0 || (size_t)call >= sizeof(names) / sizeof(names[0])) {
        return "?";
    }
    return names[call];
}

const char *faultfs_when_name(int when)
{
    switch (when) {
    case FAULTFS_BEFORE:
        return "before";
    case FAULTFS_DURING:
        return "during";
    case FAULTFS_AFTER:
        return "after";
    default:
        return "?";
    }
}

static void print_entry(const struct faultfs_trace_entry *e, FILE *out)
{
    fprintf(out, "%6" PRIu64 " ", e->seq);
    if (e->point != UINT64_MAX) {
        fprintf(out, "p%-6" PRIu64 " ", e->point);
    } else {
        fprintf(out, "%8s", "");
    }
    fprintf(out, "%-10s %-24s", faultfs_call_name(e->call), e->file);
    switch (e->call) {
    case FAULTFS_CALL_SYNC:
        fprintf(out,
                " %" PRIu64 " range(s) from %" PRIu64 ", %" PRIu64 " bytes",
                e->count, e->offset, e->length);
        break;
    case FAULTFS_CALL_SYNC_FILE:
    case FAULTFS_CALL_GROW:
    case FAULTFS_CALL_EXTEND_MAP:
        fprintf(out, " %" PRIu64 " bytes", e->length);
        break;
    case FAULTFS_CALL_MAP:
        fprintf(out, " %" PRIu64 " bytes, reserve %" PRIu64, e->length,
                e->offset);
        break;
    case FAULTFS_CALL_RESERVE:
        fprintf(out, " %" PRIu64 " bytes at %" PRIu64, e->length, e->offset);
        break;
    case FAULTFS_CALL_LOCK:
        fprintf(out, " %s",
                e->count == MP_IO_LOCK_EXCLUSIVE ? "exclusive"
                : e->count == MP_IO_LOCK_SHARED  ? "shared"
                                                 : "unlock");
        break;
    case FAULTFS_CALL_SYNC_DIR:
        fprintf(out, " %" PRIu64 " pending name op(s)", e->count);
        break;
    default:
        break;
    }
    fprintf(out, " -> %s", e->result ? mp_error_name(e->result) : "ok");
    if (e->durable_pages) {
        fprintf(out, "; durable: %" PRIu64 " page(s)", e->durable_pages);
    }
    if (e->durable_size != UINT64_MAX) {
        fprintf(out, "; durable size %" PRIu64, e->durable_size);
    }
    if (e->fault) {
        fprintf(out, " [injected fault]");
    }
    if (e->crash) {
        fprintf(out, " [CRASH]");
    }
    fputc('\n', out);
}

void faultfs_trace_print(const faultfs *fs, FILE *out)
{
    faultfs *m = (faultfs *)fs;
    pthread_mutex_lock(&m->mu);
    if (fs->trace_n && fs->trace[fs->trace_head].seq > 0) {
        fprintf(out, "(%" PRIu64 " earlier call(s) dropped)\n",
                fs->trace[fs->trace_head].seq);
    }
    for (size_t i = 0; i < fs->trace_n; i++) {
        print_entry(&fs->trace[(fs->trace_head + i) % fs->trace_cap], out);
    }
    pthread_mutex_unlock(&m->mu);
}

void faultfs_stats(const faultfs *fs, struct faultfs_stats *out)
{
    faultfs *m = (faultfs *)fs;
    pthread_mutex_lock(&m->mu);
    *out = fs->stats;
    pthread_mutex_unlock(&m->mu);
}
