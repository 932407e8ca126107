/*
 * shared.c - a pager behind a reader/writer lock (mappedpages/shared.h).
 *
 * The lock is the only synchronisation: every const pager call runs under
 * the read lock, everything else under the write lock. That is enough
 * because (1) const pager calls only read the pager's state (iterators
 * count themselves with an atomic), and (2) page bytes live in one mapping
 * that never moves, so a writer growing the file does not invalidate what
 * a reader holds.
 */
#define _GNU_SOURCE /* pthread_rwlockattr_setkind_np */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "internal.h"
#include "mappedpages/iter.h"
#include "mappedpages/shared.h"

struct mp_shared {
    pthread_rwlock_t lock;
    mp_pager *pager;
};

/*
 * Run `stmt` with the pager locked and bound to `p` (const for reads);
 * sets rc to the lock's error instead when the lock cannot be taken.
 * Expands to a statement and never returns on its own.
 */
#define UNDER_READ_LOCK(s, p, stmt)  \
 do {                                \
  const mp_pager *p;                 \
  rc = mp_shared_read_lock((s), &p); \
  if (rc == MP_OK) {                 \
   stmt;                             \
   mp_shared_read_unlock(s);         \
  }                                  \
 } while (0)
#define UNDER_WRITE_LOCK(s, p, stmt)  \
 do {                                 \
  mp_pager *p;                        \
  rc = mp_shared_write_lock((s), &p); \
  if (rc == MP_OK) {                  \
   stmt;                              \
   mp_shared_write_unlock(s);         \
  }                                   \
 } while (0)

/* errno of a pthread lock call -> our code. EBUSY only comes from the try
 * forms; EDEADLK means this thread already holds the lock (a misuse). */
static int lock_error(int e)
{
    switch (e) {
    case 0:
        return MP_OK;
    case EBUSY:
        return MP_EWOULDBLOCK;
    case EAGAIN:
        return MP_ELIMIT;
    case ENOMEM:
        return MP_ENOMEM;
    default:
        return MP_EINVAL;
    }
}

int mp_shared_wrap(mp_pager *pager, mp_shared **out)
{
    pthread_rwlockattr_t attr;
    mp_shared *s;
    int e;

    if (!out) {
        return MP_EINVAL;
    }
    *out = NULL;
    if (!pager) {
        return MP_EINVAL;
    }
    if (atomic_load(&pager->iterators) != 0) {
        return MP_EITERATING;
    }
    s = mp__alloc(pager, sizeof(*s));
    if (!s) {
        return MP_ENOMEM;
    }
    if (pthread_rwlockattr_init(&attr) != 0) {
        mp__free(pager, s);
        return MP_ENOMEM;
    }
#if defined(__GLIBC__)
    /* glibc prefers readers by default: a steady stream of them would
     * starve every writer. The price, a thread that re-takes the read
     * lock while a writer waits deadlocks, is a documented misuse. */
    (void)pthread_rwlockattr_setkind_np(
        &attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
#endif
    e = pthread_rwlock_init(&s->lock, &attr);
    pthread_rwlockattr_destroy(&attr);
    if (e != 0) {
        mp__free(pager, s);
        return MP_ENOMEM;
    }
    s->pager = pager;
    *out = s;
    return MP_OK;
}

mp_pager *mp_shared_unwrap(mp_shared *s)
{
    mp_pager *p;
    if (!s) {
        return NULL;
    }
    p = s->pager;
    pthread_rwlock_destroy(&s->lock);
    mp__free(p, s);
    return p;
}

int mp_shared_close(mp_shared *s)
{
    return mp_pager_close(mp_shared_unwrap(s));
}

int mp_shared_read_lock(mp_shared *s, const mp_pager **pager)
{
    int rc;
    if (!pager) {
        return MP_EINVAL;
    }
    *pager = NULL;
    if (!s) {
        return MP_EINVAL;
    }
    rc = lock_error(pthread_rwlock_rdlock(&s->lock));
    if (rc == MP_OK) {
        *pager = s->pager;
    }
    return rc;
}

int mp_shared_try_read_lock(mp_shared *s, const mp_pager **pager)
{
    int rc;
    if (!pager) {
        return MP_EINVAL;
    }
    *pager = NULL;
    if (!s) {
        return MP_EINVAL;
    }
    rc = lock_error(pthread_rwlock_tryrdlock(&s->lock));
    if (rc == MP_OK) {
        *pager = s->pager;
    }
    return rc;
}

void mp_shared_read_unlock(mp_shared *s)
{
    if (s) {
        pthread_rwlock_unlock(&s->lock);
    }
}

int mp_shared_write_lock(mp_shared *s, mp_pager **pager)
{
    int rc;
    if (!pager) {
        return MP_EINVAL;
    }
    *pager = NULL;
    if (!s) {
        return MP_EINVAL;
    }
    rc = lock_error(pthread_rwlock_wrlock(&s->lock));
    if (rc == MP_OK) {
        *pager = s->pager;
    }
    return rc;
}

int mp_shared_try_write_lock(mp_shared *s, mp_pager **pager)
{
    int rc;
    if (!pager) {
        return MP_EINVAL;
    }
    *pager = NULL;
    if (!s) {
        return MP_EINVAL;
    }
    rc = lock_error(pthread_rwlock_trywrlock(&s->lock));
    if (rc == MP_OK) {
        *pager = s->pager;
    }
    return rc;
}

void mp_shared_write_unlock(mp_shared *s)
{
    if (s) {
        pthread_rwlock_unlock(&s->lock);
    }
}

/* The one-call wrappers: take a lock, make one call, release. */

int mp_shared_alloc(mp_shared *s, mp_pgno *out)
{
    int rc;
    UNDER_WRITE_LOCK(s, p, rc = mp_pager_alloc(p, out));
    return rc;
}

int mp_shared_free(mp_shared *s, mp_pgno page)
{
    int rc;
    UNDER_WRITE_LOCK(s, p, rc = mp_pager_free(p, page));
    return rc;
}

int mp_shared_alloc_bulk(mp_shared *s, size_t count, mp_pgno *out)
{
    int rc;
    UNDER_WRITE_LOCK(s, p, rc = mp_pager_alloc_bulk(p, count, out));
    return rc;
}

int mp_shared_free_bulk(mp_shared *s, const mp_pgno *pages, size_t count)
{
    int rc;
    UNDER_WRITE_LOCK(s, p, rc = mp_pager_free_bulk(p, pages, count));
    return rc;
}

int mp_shared_grow(mp_shared *s, uint64_t min_pages)
{
    int rc;
    UNDER_WRITE_LOCK(s, p, rc = mp_pager_grow(p, min_pages));
    return rc;
}

int mp_shared_sync_pages(mp_shared *s, mp_pgno first, uint64_t count)
{
    int rc;
    UNDER_WRITE_LOCK(s, p, rc = mp_pager_sync_pages(p, first, count));
    return rc;
}

int mp_shared_get(mp_shared *s, mp_pgno page, const void **out)
{
    int rc;
    if (!out) {
        return MP_EINVAL;
    }
    *out = NULL;
    UNDER_READ_LOCK(s, p, rc = mp_pager_get(p, page, out));
    return rc;
}

int mp_shared_get_mut(mp_shared *s, mp_pgno page, void **out)
{
    int rc;
    if (!out) {
        return MP_EINVAL;
    }
    *out = NULL;
    UNDER_WRITE_LOCK(s, p, rc = mp_pager_get_mut(p, page, out));
    return rc;
}

int mp_shared_page_read(mp_shared *s, mp_pgno page, void *buf, size_t len)
{
    const mp_pager *p;
    const void *src;
    int rc;
    if (!buf) {
        return MP_EINVAL;
    }
    rc = mp_shared_read_lock(s, &p);
    if (rc != MP_OK) {
        return rc;
    }
    if (len > mp_pager_page_size(p)) {
        rc = MP_EINVAL;
    } else {
        rc = mp_pager_get(p, page, &src);
    }
    if (rc == MP_OK) {
        memcpy(buf, src, len);
    }
    mp_shared_read_unlock(s);
    return rc;
}

int mp_shared_protected_alloc(mp_shared *s, mp_protected_id *out)
{
    int rc;
    UNDER_WRITE_LOCK(s, p, rc = mp_protected_alloc(p, out));
    return rc;
}

int mp_shared_protected_free(mp_shared *s, mp_protected_id id)
{
    int rc;
    UNDER_WRITE_LOCK(s, p, rc = mp_protected_free(p, id));
    return rc;
}

int mp_shared_protected_alloc_bulk(mp_shared *s, size_t count,
                                   mp_protected_id *out)
{
    int rc;
    UNDER_WRITE_LOCK(s, p, rc = mp_protected_alloc_bulk(p, count, out));
    return rc;
}

int mp_shared_protected_free_bulk(mp_shared *s, const mp_protected_id *ids,
                                  size_t count)
{
    int rc;
    UNDER_WRITE_LOCK(s, p, rc = mp_protected_free_bulk(p, ids, count));
    return rc;
}

int mp_shared_protected_begin(mp_shared *s, mp_protected_id id, void **staging)
{
    int rc;
    if (!staging) {
        return MP_EINVAL;
    }
    *staging = NULL;
    UNDER_WRITE_LOCK(s, p, rc = mp_protected_begin(p, id, staging));
    return rc;
}

int mp_shared_protected_commit(mp_shared *s, mp_protected_id id)
{
    int rc;
    UNDER_WRITE_LOCK(s, p, rc = mp_protected_commit(p, id));
    return rc;
}

int mp_shared_protected_abort(mp_shared *s, mp_protected_id id)
{
    int rc;
    UNDER_WRITE_LOCK(s, p, rc = mp_protected_abort(p, id));
    return rc;
}

int mp_shared_protected_write(mp_shared *s, mp_protected_id id,
                              const void *data, size_t len)
{
    mp_pager *p;
    void *staging;
    int rc;
    if (!data) {
        return MP_EINVAL;
    }
    rc = mp_shared_write_lock(s, &p);
    if (rc != MP_OK) {
        return rc;
    }
    if (len > mp_pager_page_size(p)) {
        rc = MP_EINVAL;
        goto out_unlock;
    }
    rc = mp_protected_begin(p, id, &staging);
    if (rc != MP_OK) {
        goto out_unlock;
    }
    memcpy(staging, data, len);
    rc = mp_protected_commit(p, id);
    if (rc != MP_OK) {
        /* A failed commit leaves the write staged (protected.h): drop
         * it, or the page would stay claimed by nobody. */
        int ab = mp_protected_abort(p, id);
        (void)ab;
    }
out_unlock:
    mp_shared_write_unlock(s);
    return rc;
}

int mp_shared_protected_read(mp_shared *s, mp_protected_id id, void *buf,
                             size_t len)
{
    const mp_pager *p;
    const void *src;
    int rc;
    if (!buf) {
        return MP_EINVAL;
    }
    rc = mp_shared_read_lock(s, &p);
    if (rc != MP_OK) {
        return rc;
    }
    if (len > mp_pager_page_size(p)) {
        rc = MP_EINVAL;
    } else {
        rc = mp_protected_get(p, id, &src);
    }
    if (rc == MP_OK) {
        memcpy(buf, src, len);
    }
    mp_shared_read_unlock(s);
    return rc;
}

int mp_shared_counts(mp_shared *s, struct mp_shared_counts *c)
{
    const mp_pager *p;
    int rc;
    if (!c) {
        return MP_EINVAL;
    }
    rc = mp_shared_read_lock(s, &p);
    if (rc != MP_OK) {
        return rc;
    }
    c->pages = mp_pager_page_count(p);
    c->free_pages = mp_pager_free_count(p);
    c->protected_pages = mp_protected_count(p);
    c->internal_pages = mp_pager_internal_count(p);
    mp_shared_read_unlock(s);
    return MP_OK;
}
