/*
 * points.c - crash points, arming, injected faults, and the seeded
 * randomness behind every choice.
 *
 * Randomness is a hash of (seed, point, purpose), never a running stream:
 * whether a crash is armed, or where, cannot change any other choice, so a
 * reproducer (seed + workload + point + pattern) replays exactly.
 */
#include <string.h>

#include "internal.h"

uint64_t faultfs__mix(uint64_t a, uint64_t b)
{
    /* splitmix64 finaliser over a combination of both words. */
    uint64_t z = a + 0x9E3779B97F4A7C15ull * (b + 1);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

uint64_t faultfs__rand(const faultfs *fs, uint64_t point, uint64_t purpose)
{
    return faultfs__mix(faultfs__mix(fs->cfg.seed, point), purpose);
}

void faultfs__garbage(uint64_t seed, unsigned char *dst, size_t len)
{
    /* xorshift64: garbage needs to be cheap and reproducible, not good. */
    uint64_t s = faultfs__mix(seed, 0x6761726261676521ull) | 1;
    while (len > 0) {
        size_t n = len < 8 ? len : 8;
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        memcpy(dst, &s, n);
        dst += n;
        len -= n;
    }
}

bool faultfs__is_point_call(int call)
{
    switch (call) {
    case FAULTFS_CALL_OPEN:
    case FAULTFS_CALL_REMOVE:
    case FAULTFS_CALL_RENAME:
    case FAULTFS_CALL_SYNC_DIR:
    case FAULTFS_CALL_GROW:
    case FAULTFS_CALL_MAP:
    case FAULTFS_CALL_EXTEND_MAP:
    case FAULTFS_CALL_SYNC:
    case FAULTFS_CALL_SYNC_FILE:
        return true;
    default:
        return false;
    }
}

static bool has_during(int call)
{
    return call == FAULTFS_CALL_SYNC || call == FAULTFS_CALL_SYNC_FILE;
}

int faultfs__natural_code(int call)
{
    switch (call) {
    case FAULTFS_CALL_GROW:
    case FAULTFS_CALL_RESERVE:
        return MP_ENOSPC;
    case FAULTFS_CALL_MAP:
    case FAULTFS_CALL_EXTEND_MAP:
        return MP_ENOMEM;
    case FAULTFS_CALL_LOCK:
        return MP_ELOCKED;
    default:
        return MP_EIO;
    }
}

bool faultfs__point(faultfs *fs, int call, int when)
{
    uint64_t p = fs->points;
    fs->points++;
    fs->stats.points++;
    if (when == FAULTFS_BEFORE && fs->arm_step &&
        (fs->arm_call == FAULTFS_CALL_ANY || fs->arm_call == call) &&
        --fs->arm_left == 0) {
        uint64_t off = 0;
        if (fs->arm_when == FAULTFS_DURING && has_during(call)) {
            off = 1;
        } else if (fs->arm_when == FAULTFS_AFTER) {
            off = has_during(call) ? 2 : 1;
        }
        fs->arm_step = false;
        fs->armed = true;
        fs->arm_point = p + off;
    }
    if (fs->armed && fs->arm_point == p) {
        fs->armed = false;
        return true;
    }
    return false;
}

struct faultfs__armed_fault *faultfs__fault_check(faultfs *fs, int call)
{
    struct faultfs__armed_fault *hit = NULL;
    for (size_t i = 0; i < fs->nfaults; i++) {
        struct faultfs__armed_fault *a = &fs->faults[i];
        bool match = a->f.call == call || (a->f.call == FAULTFS_CALL_ANY &&
                                           faultfs__is_point_call(call));
        if (!match) {
            continue;
        }
        a->seen++;
        if (a->seen == a->f.nth || (a->f.sticky && a->seen > a->f.nth)) {
            if (!hit) {
                hit = a;
            }
        }
    }
    if (hit) {
        hit->fired = true;
        fs->stats.faults_injected++;
    }
    return hit;
}

/* ---- public ------------------------------------------------------------ */

uint64_t faultfs_point_count(const faultfs *fs)
{
    faultfs *m = (faultfs *)fs;
    uint64_t n;
    pthread_mutex_lock(&m->mu);
    n = fs->points;
    pthread_mutex_unlock(&m->mu);
    return n;
}

int faultfs_arm_crash(faultfs *fs, uint64_t point)
{
    int rc = MP_OK;
    pthread_mutex_lock(&fs->mu);
    if (fs->crashed || point < fs->points) {
        rc = MP_EINVAL;
    } else {
        fs->armed = true;
        fs->arm_point = point;
        fs->arm_step = false;
    }
    pthread_mutex_unlock(&fs->mu);
    return rc;
}

int faultfs_arm_crash_at(faultfs *fs, int call, uint64_t nth, int when)
{
    int rc = MP_OK;
    if (nth == 0 ||
        (call != FAULTFS_CALL_ANY && !faultfs__is_point_call(call)) ||
        when < FAULTFS_BEFORE || when > FAULTFS_AFTER) {
        return MP_EINVAL;
    }
    pthread_mutex_lock(&fs->mu);
    if (fs->crashed) {
        rc = MP_EINVAL;
    } else {
        fs->armed = false;
        fs->arm_step = true;
        fs->arm_call = call;
        fs->arm_left = nth;
        fs->arm_when = when;
    }
    pthread_mutex_unlock(&fs->mu);
    return rc;
}

void faultfs_disarm(faultfs *fs)
{
    pthread_mutex_lock(&fs->mu);
    fs->armed = false;
    fs->arm_step = false;
    pthread_mutex_unlock(&fs->mu);
}

int faultfs_crash_now(faultfs *fs)
{
    int rc;
    pthread_mutex_lock(&fs->mu);
    if (fs->crashed) {
        rc = MP_EINVAL;
    } else {
        struct faultfs_trace_entry *e =
            faultfs__trace_add(fs, FAULTFS_CALL_NONE, "");
        e->crash = true;
        e->point = fs->points;
        rc = faultfs__crash(fs, FAULTFS_CALL_NONE, FAULTFS_BEFORE);
    }
    pthread_mutex_unlock(&fs->mu);
    return rc;
}

bool faultfs_crashed(const faultfs *fs)
{
    faultfs *m = (faultfs *)fs;
    bool c;
    pthread_mutex_lock(&m->mu);
    c = fs->crashed;
    pthread_mutex_unlock(&m->mu);
    return c;
}

int faultfs_inject(faultfs *fs, const struct faultfs_fault *fault)
{
    int rc = MP_OK;
    if (!fault || fault->nth == 0 || fault->code > 0 ||
        fault->persist < FAULTFS_PERSIST_NONE ||
        fault->persist > FAULTFS_PERSIST_ALL ||
        (fault->call != FAULTFS_CALL_ANY && fault->call != FAULTFS_CALL_LOCK &&
         fault->call != FAULTFS_CALL_RESERVE &&
         !faultfs__is_point_call(fault->call))) {
        return MP_EINVAL;
    }
    pthread_mutex_lock(&fs->mu);
    if (fs->nfaults == FAULTFS_MAX_FAULTS) {
        rc = MP_ELIMIT;
    } else {
        struct faultfs__armed_fault *a = &fs->faults[fs->nfaults++];
        memset(a, 0, sizeof(*a));
        a->f = *fault;
    }
    pthread_mutex_unlock(&fs->mu);
    return rc;
}

void faultfs_clear_faults(faultfs *fs)
{
    pthread_mutex_lock(&fs->mu);
    fs->nfaults = 0;
    pthread_mutex_unlock(&fs->mu);
}
