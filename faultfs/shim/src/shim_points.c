/*
 * shim_points.c - the shim's state and lock, its start and end, and the
 * crash points: counted in both modes, crashed at in crash mode.
 */
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include "shim.h"

#define G faultfs_shim_g

struct faultfs_shim_state faultfs_shim_g;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
/* initial-exec: a dynamic TLS access may allocate, see shim.h. */
static _Thread_local int inside __attribute__((tls_model("initial-exec")));
static int ready;

bool faultfs_shim_active(void)
{
    return __atomic_load_n(&ready, __ATOMIC_ACQUIRE) && !inside;
}

void faultfs_shim_enter(void)
{
    pthread_mutex_lock(&lock);
    inside = 1;
}

void faultfs_shim_leave(void)
{
    inside = 0;
    pthread_mutex_unlock(&lock);
}

void faultfs_shim_label(struct faultfs_shim_buf *b,
                        const struct faultfs_shim_point *pt)
{
    faultfs_shim_buf_str(b, pt->when);
    faultfs_shim_buf_chr(b, ' ');
    faultfs_shim_buf_str(b, pt->call);
    if (pt->file >= 0) {
        const struct faultfs_shim_file *f = &G.files[pt->file];
        faultfs_shim_buf_chr(b, ' ');
        faultfs_shim_buf_str(b, f->cur_name[0] ? f->cur_name : "(unlinked)");
    }
    for (int i = 0; i < pt->nsegs; i++) {
        faultfs_shim_buf_str(b, i ? ", [" : " [");
        if (pt->segs[i].file != pt->file) {
            faultfs_shim_buf_str(b, G.files[pt->segs[i].file].cur_name);
            faultfs_shim_buf_chr(b, ' ');
        }
        faultfs_shim_buf_u64(b, pt->segs[i].lo);
        faultfs_shim_buf_chr(b, ',');
        faultfs_shim_buf_u64(b, pt->segs[i].hi);
        faultfs_shim_buf_chr(b, ')');
    }
    if (pt->what) {
        faultfs_shim_buf_chr(b, ' ');
        faultfs_shim_buf_str(b, pt->what);
    }
}

void faultfs_shim_point(const struct faultfs_shim_point *pt)
{
    uint64_t k = ++G.points;

    /* Opened at the first point, not at start: a child process that
     * tracks nothing must not truncate the log of the one that does. */
    if (G.cfg.log[0] && G.log_fd < 0) {
        G.log_fd = faultfs_shim_sys_open(
            G.cfg.log, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC,
            0644);
    }
    if (G.log_fd >= 0) {
        char mem[FAULTFS_SHIM_PATH + 512];
        struct faultfs_shim_buf b;
        faultfs_shim_buf_init(&b, mem, sizeof(mem) - 1);
        faultfs_shim_buf_u64(&b, k);
        faultfs_shim_buf_chr(&b, ' ');
        faultfs_shim_label(&b, pt);
        b.p[b.len++] = '\n';
        (void)faultfs_shim_buf_flush(&b, G.log_fd);
    }
    if (G.cfg.mode == FAULTFS_SHIM_CRASH && k == G.cfg.crash_at) {
        faultfs_shim_crash(pt, k);
    }
}

/* A fork while another thread holds the lock would leave the child's copy
 * locked for ever: hold it across the fork, release it on both sides. */
static void fork_prepare(void)
{
    faultfs_shim_enter();
}

static void fork_done(void)
{
    faultfs_shim_leave();
}

__attribute__((constructor(101))) static void shim_start(void)
{
    char err[FAULTFS_SHIM_PATH + 256];
    long ps = sysconf(_SC_PAGESIZE);
    int fd;

    faultfs_shim_resolve();
    G.page = ps > 0 ? (uint64_t)ps : 4096;
    G.log_fd = -1;
    if (faultfs_shim_config_read(&G.cfg, G.page, err, sizeof(err)) != 0) {
        faultfs_shim_fatal(err, NULL);
    }
    if (G.page > FAULTFS_SHIM_MAX_PAGE) {
        faultfs_shim_fatal("OS pages above 64 KiB are not supported", NULL);
    }
    fd = faultfs_shim_sys_open("/proc/self/maps", O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0) {
        faultfs_shim_fatal("cannot read /proc/self/maps: the shim needs a "
                           "mounted /proc",
                           NULL);
    }
    close(fd);
    if (G.cfg.log[0]) { /* fail now, not at the first point */
        fd = faultfs_shim_sys_open(
            G.cfg.log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd < 0) {
            faultfs_shim_fatal("FAULTFS_SHIM_LOG=", G.cfg.log,
                               ": cannot open for writing", NULL);
        }
        close(fd);
    }
    if (pthread_atfork(fork_prepare, fork_done, fork_done) != 0) {
        faultfs_shim_fatal("pthread_atfork failed", NULL);
    }
    __atomic_store_n(&ready, 1, __ATOMIC_RELEASE);
}

/* Count mode: the number the driver loops to. A process that tracked no
 * file (a child the program ran, or a wrapper script) must not overwrite
 * the count of the one that did, so it only writes where nothing was
 * written yet, and says nothing. */
static void report_count(void)
{
    char mem[64];
    struct faultfs_shim_buf b;
    int fd;

    faultfs_shim_buf_init(&b, mem, sizeof(mem));
    faultfs_shim_buf_u64(&b, G.points);
    if (!G.cfg.report[0]) {
        if (!G.nfiles) {
            return;
        }
        faultfs_shim_buf_str(&b, " crash points");
        faultfs_shim_buf_chr(&b, 0);
        faultfs_shim_say(mem, NULL);
        return;
    }
    faultfs_shim_buf_chr(&b, '\n');
    fd = faultfs_shim_sys_open(
        G.cfg.report,
        O_WRONLY | O_CREAT | O_CLOEXEC | (G.nfiles ? O_TRUNC : O_EXCL), 0644);
    if (fd < 0) {
        if (G.nfiles) {
            faultfs_shim_say("FAULTFS_SHIM_REPORT=", G.cfg.report,
                             ": cannot write the count", NULL);
        }
        return;
    }
    (void)faultfs_shim_buf_flush(&b, fd);
    close(fd);
}

__attribute__((destructor)) static void shim_end(void)
{
    char k[32], n[32];
    struct faultfs_shim_buf b;

    if (!__atomic_load_n(&ready, __ATOMIC_ACQUIRE)) {
        return;
    }
    faultfs_shim_enter();
    /* A forked child inherits the tables: the count is its parent's. */
    if (G.nfiles && G.owner != getpid()) {
        faultfs_shim_leave();
        return;
    }
    if (G.cfg.mode == FAULTFS_SHIM_COUNT) {
        report_count();
    } else if (G.nfiles) {
        faultfs_shim_buf_init(&b, k, sizeof(k) - 1);
        faultfs_shim_buf_u64(&b, G.cfg.crash_at);
        k[b.len] = 0;
        faultfs_shim_buf_init(&b, n, sizeof(n) - 1);
        faultfs_shim_buf_u64(&b, G.points);
        n[b.len] = 0;
        faultfs_shim_say("crash point ", k, " not reached: this run had ", n,
                         " crash points", NULL);
    }
    faultfs_shim_leave();
}
