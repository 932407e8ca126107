/*
 * commit.c - the commit protocols (FORMAT.md section 8): two-barrier (8.1,
 * the default) and one-flush (8.2, MP_OPEN_ONE_FLUSH).
 *
 * Invariants kept here (two-barrier; the one-flush mode keeps I2, I3, I5
 * and I6 with "the live copy" for "the copy the record names", and O2/O4
 * below instead of I1/I4):
 *  I1. The commit record always names a metadata copy that is durable and
 *      validates.
 *  I2. No byte reachable from the live metadata copy is written before the
 *      record stops naming that copy.
 *  I3. The file length a durable metadata copy counts on is durable before
 *      that copy is (kept by the growth path in alloc.c, which syncs the
 *      file before any commit can reference new pages).
 *  I4. Before a commit writes anything, the durable record names the live
 *      copy. After an open that did not follow an intact record (torn
 *      record, record naming a copy that failed, or a damaged header), the
 *      first commit rewrites page 0 and syncs it first: otherwise a crash
 *      in its barrier 1 would again find no record, and "the newest valid
 *      copy" would be that unfinished commit.
 *  I5. No write shares a power-fail unit with bytes the live state needs:
 *      every structure is a page of its own and the page is at least the
 *      unit (or the device is power-safe; pager.c refuses the rest). Page
 *      0's header shares the record's unit; each metadata copy carries it.
 *  I6. Memory tells the truth: when a call fails after it changed the
 *      in-memory state, that state is rebuilt from the live copy, which I2
 *      kept intact in the mapping (mp__rollback), so the pager reports
 *      exactly what a reopen would show.
 *
 *  O2. (one-flush) Every page a commit writes is checked by recovery
 *      before its copy is taken: nodes by their references' CRCs, the data
 *      pages of protected pages by their entries' CRCs and generation (the
 *      generation check, rules.h R5). So no record is needed, and a copy
 *      torn anywhere falls back to the other.
 *  O4. (one-flush) After a failed barrier the new copy is made invalid and
 *      synced before memory rolls back (I6): recovery takes a valid
 *      one-flush copy without any record, so leaving it would let a reopen
 *      show the state memory rolled back from.
 *
 * A two-barrier commit is two sync barriers whatever its size: barrier 1
 * makes every node, the new metadata copy and any protected data page
 * durable; barrier 2 makes the record that points at them durable. A
 * one-flush commit is the first barrier alone.
 */
#include <stdlib.h>
#include <string.h>

#include "crc32c.h"
#include "endian.h"
#include "internal.h"
#include "layout.h"
#include "mutant.h"

int mp__add_range(mp_pager *p, uint64_t pg)
{
    if (p->nranges == p->ranges_cap) {
        uint64_t cap = p->ranges_cap;
        int rc = mp__grow_array(p, (void **)&p->ranges, sizeof(*p->ranges),
                                &cap, cap + 1);
        if (rc != MP_OK) {
            return rc;
        }
        p->ranges_cap = (size_t)cap;
    }
    p->ranges[p->nranges].offset = pg * (uint64_t)p->page_size;
    p->ranges[p->nranges].length = p->page_size;
    p->nranges++;
    return MP_OK;
}

void mp__encode_meta(mp_pager *p, unsigned char *pg, uint64_t generation)
{
    const struct mp__tree *m = &p->tree[MP__TREE_MAP];
    const struct mp__tree *d = &p->tree[MP__TREE_DIR];
    uint64_t mroots = m->count[m->depth], droots = d->count[d->depth];
    uint32_t used = (uint32_t)(MP__META_HDR + MP__REF_SIZE * (mroots + droots));
    unsigned char *r;

    memset(pg, 0, MP__META_HDR);
    memcpy(pg, "MPMD", 4);
    mp__put32(pg + 8, used);
    mp__put16(pg + 12, MP_FORMAT_MAJOR);
    mp__put16(pg + 14, MP_FORMAT_MINOR);
    mp__put64(pg + 16, generation);
    mp__put64(pg + 24, p->total);
    mp__put64(pg + 32, p->free_pages);
    mp__put64(pg + 40, p->slots);
    mp__put64(pg + 48, p->prot_in_use);
    mp__put32(pg + 56, p->log2);
    mp__put32(pg + 60, m->depth);
    mp__put32(pg + 64, (uint32_t)mroots);
    mp__put32(pg + 68, d->depth);
    mp__put32(pg + 72, (uint32_t)droots);
    /* The static header rides along (I5): page 0 may be torn. */
    memcpy(pg + MP__MD_FILE_MAGIC, MP__HDR_MAGIC, 8);
    mp__put32(pg + MP__MD_FLAGS, p->hdr_flags);
    /* Recovery's generation check (FORMAT.md 9) keys on this bit. */
    mp__put32(pg + MP__MD_COMMIT, p->one_flush ? MP__CF_ONE_FLUSH : 0);
    r = pg + MP__META_HDR;
    for (uint64_t i = 0; i < mroots; i++, r += MP__REF_SIZE) {
        mp__ref_encode(r, &m->refs[m->depth][i]);
    }
    for (uint64_t i = 0; i < droots; i++, r += MP__REF_SIZE) {
        mp__ref_encode(r, &d->refs[d->depth][i]);
    }
    mp__put32(pg + 4, mp__crc32c(0, pg + 8, used - 8));
}

void mp__encode_record(unsigned char *page0, int sel, uint64_t gen,
                       uint32_t crc)
{
    unsigned char *r = page0 + MP__RECORD_OFF;
    memcpy(r, "MPCR", 4);
    mp__put32(r + 4, (uint32_t)sel);
    mp__put64(r + 8, gen);
    mp__put32(r + 16, crc);
    mp__put32(r + 20, mp__crc32c(0, r, 20));
}

void mp__encode_header(unsigned char *h, unsigned log2)
{
    memset(h, 0, MP__HDR_SIZE);
    memcpy(h, MP__HDR_MAGIC, 8);
    mp__put16(h + MP__HDR_MAJOR, MP_FORMAT_MAJOR);
    mp__put16(h + MP__HDR_MINOR, MP_FORMAT_MINOR);
    mp__put32(h + MP__HDR_LOG2, log2);
    mp__put32(h + MP__HDR_FLAGS, 0);
    mp__put32(h + MP__HDR_CRC, mp__crc32c(0, h, MP__HDR_CRC));
}

/*
 * I4: make page 0 name the live copy, with an intact header, before the
 * commit writes anything. A crash while this is in flight leaves page 0
 * torn again, and recovery takes the newest valid copy: the live one,
 * since nothing newer has been written.
 */
static int repair_page0(mp_pager *p)
{
    static const struct mp_io_range head = { 0,
                                             MP__RECORD_OFF + MP__RECORD_SIZE };
    mp__encode_header(p->base, p->log2);
    mp__encode_record(p->base, p->live_copy, p->generation, p->live_crc);
    return mp__io_sync(p, &head, 1);
}

static int cmp_range(const void *a, const void *b)
{
    uint64_t x = ((const struct mp_io_range *)a)->offset;
    uint64_t y = ((const struct mp_io_range *)b)->offset;
    return x < y ? -1 : x > y;
}

static void sort_ranges(struct mp_io_range *r, size_t n)
{
    if (n > 32) {
        qsort(r, n, sizeof(*r), cmp_range);
        return;
    }
    for (size_t i = 1; i < n; i++) {
        struct mp_io_range v = r[i];
        size_t j = i;
        while (j > 0 && r[j - 1].offset > v.offset) {
            r[j] = r[j - 1];
            j--;
        }
        r[j] = v;
    }
}

int mp__rollback(mp_pager *p, int rc)
{
    p->nranges = 0;
    /* Generation 0 is a create's first commit: no state to go back to,
     * and the create fails with rc. */
    if (p->generation == 0 || mp__reload(p) != MP_OK) {
        /* Only a mapping overwritten behind the pager's back gets here. */
        mp__fail(p, rc);
    }
    return rc;
}

/*
 * A sync of the commit failed: the pager refuses writes from now on (the
 * OS may have dropped the dirty pages it could not write). Barrier 1 left
 * the durable record naming the live copy; barrier 2 may have made the new
 * record durable, wholly or not at all (it is one sector). Put the record
 * naming the live copy back into the mapping and sync it, so that the disk
 * converges to the state before the call whatever the failed sync
 * persisted; then memory goes back to that state too (I6). If that sync
 * fails as well, every later open still reads the restored record from the
 * page cache; only a crash before the page reaches the disk could show the
 * state after the call.
 *
 * A one-flush commit's barrier (FORMAT.md 8.2) may have persisted its new
 * metadata copy, `fresh`, which recovery takes without any record: that
 * copy is made invalid instead (magic and checksum zeroed in the mapping,
 * its page synced), same reasoning, same last resort; page 0 is left as it
 * is unless the barrier rewrote it (page0). fresh < 0: a two-barrier
 * commit.
 */
static int sync_failed(mp_pager *p, int rc, int fresh, bool page0)
{
    static const struct mp_io_range record = { MP__RECORD_OFF,
                                               MP__RECORD_SIZE };
    unsigned char was[MP__RECORD_SIZE];

    mp__fail(p, rc); /* first: keep the OS error of the failed sync */
    if (fresh >= 0 && !MP_MUTANT(MP_MUT_ONE_FLUSH_NO_INVALIDATE)) {
        struct mp_io_range r = { (1 + (uint64_t)fresh) * p->page_size,
                                 p->page_size };
        int ignored;
        memset(mp__page(p, 1 + (uint64_t)fresh), 0, MP__MD_USED);
        ignored = mp__io_sync(p, &r, 1);
        (void)ignored; /* the pager is failed already */
    }
    if (page0 && p->generation > 0) {
        memcpy(was, p->base + MP__RECORD_OFF, sizeof(was));
        mp__encode_record(p->base, p->live_copy, p->generation, p->live_crc);
        if (memcmp(was, p->base + MP__RECORD_OFF, sizeof(was)) != 0) {
            int ignored = mp__io_sync(p, &record, 1);
            (void)ignored; /* the pager is failed already */
        }
    }
    return mp__rollback(p, rc);
}

/*
 * The one-flush commit (FORMAT.md 8.2), from step 5 on: everything is
 * written and in p->ranges (nodes, the new metadata copy `target`, the
 * data page). One barrier makes it all durable; recovery takes the newest
 * copy that validates completely, so no record is needed. Only when page
 * 0 is damaged (header taken from a copy, or record torn) does it ride
 * along, repaired: the header and a record naming the live copy, the one
 * before this commit. Whatever of it a crash keeps, recovery finds this
 * commit complete or the live copy (FORMAT.md 9 steps 4 and 5); a record
 * naming the new copy could name a torn copy.
 */
static int commit_one_flush(mp_pager *p, int target, uint64_t gen, uint32_t crc)
{
    bool page0 = p->page0_repair; /* its range is in p->ranges already */
    int rc;

    if (page0) {
        mp__encode_header(p->base, p->log2);
        mp__encode_record(p->base, p->live_copy, p->generation, p->live_crc);
    }
    rc = mp__io_sync(p, p->ranges, p->nranges);
    if (rc != MP_OK) {
        return sync_failed(p, rc, target, page0);
    }
    p->nranges = 0;
    /* Page 0 is intact, but its record names the copy before (I4 owed). */
    p->repair = true;
    p->page0_repair = false;
    p->live_copy = target;
    p->generation = gen;
    p->live_crc = crc;
    p->stats.commits++;
    return MP_OK;
}

int mp__commit(mp_pager *p, int64_t data_page)
{
    static const struct mp_io_range record = { MP__RECORD_OFF,
                                               MP__RECORD_SIZE };
    int target =
        MP_MUTANT(MP_MUT_META_IN_PLACE) ? p->live_copy : 1 - p->live_copy;
    uint64_t gen = p->generation + 1;
    unsigned char *meta = mp__page(p, 1 + (uint64_t)target);
    uint32_t crc;
    int rc;

    /* Nothing is stored into a page without disk blocks (a full device
     * would make the store SIGBUS): refused here, nothing is written, so
     * memory goes back to the durable state and the pager stays usable. */
    rc = mp__reserve_commit(p, data_page);
    if (rc != MP_OK) {
        return mp__rollback(p, rc);
    }

    /* Step 0 (I4), two-barrier commits only: a one-flush commit never
     * relies on the record (8.2). */
    if (p->repair && !p->one_flush && !MP_MUTANT(MP_MUT_NO_RECORD_REPAIR)) {
        rc = repair_page0(p);
        if (rc != MP_OK) {
            return sync_failed(p, rc, -1, true);
        }
        p->repair = false;
        p->page0_repair = false;
    }

    /* Steps 3 and 4: nodes, then metadata, all into non-live copies (I2). */
    rc = mp__tree_write(p, &p->tree[MP__TREE_MAP]);
    if (rc == MP_OK) {
        rc = mp__tree_write(p, &p->tree[MP__TREE_DIR]);
    }
    /* The ranges before the metadata: in one-flush mode a new copy in the
     * mapping is a commit to recovery, so no failure may follow it but the
     * barrier's, which sync_failed() answers. */
    if (rc == MP_OK) {
        rc = mp__add_range(p, 1 + (uint64_t)target);
    }
    if (rc == MP_OK && data_page >= 0 &&
        !MP_MUTANT(MP_MUT_PROTECTED_NO_DATA_SYNC)) {
        rc = mp__add_range(p, (uint64_t)data_page);
    }
    if (rc == MP_OK && p->one_flush && p->page0_repair) {
        rc = mp__add_range(p, 0); /* commit_one_flush() rewrites page 0 */
    }
    if (rc != MP_OK) {
        return mp__rollback(p, rc); /* MP_ENOMEM: nothing synced yet */
    }
    mp__encode_meta(p, meta, gen);
    crc = mp__le32(meta + 4);
    p->stats.pages_written++;
    sort_ranges(p->ranges, p->nranges);
    if (p->one_flush) {
        return commit_one_flush(p, target, gen, crc);
    }
    if (MP_MUTANT(MP_MUT_FLIP_BEFORE_DURABLE)) {
        mp__encode_record(p->base, target, gen, crc);
    }

    /*
     * Step 5, barrier 1 (I1): everything the new record will reach must be
     * durable first, or a crash after the record lands would leave it
     * naming a torn copy.
     */
    if (!MP_MUTANT(MP_MUT_SKIP_META_SYNC)) {
        rc = mp__io_sync(p, p->ranges, p->nranges);
        if (rc != MP_OK) {
            return sync_failed(p, rc, -1, true);
        }
    }
    p->nranges = 0;

    /*
     * Steps 6 and 7, barrier 2: the record is the commit point. A crash
     * while it is in flight tears at most these 24 bytes, which recovery
     * detects by their checksum and answers with the newer valid copy.
     */
    mp__encode_record(p->base, target, gen, crc);
    rc = mp__io_sync(p, &record, 1);
    if (rc != MP_OK) {
        return sync_failed(p, rc, -1, true);
    }
    p->live_copy = target;
    p->generation = gen;
    p->live_crc = crc;
    p->stats.commits++;
    return MP_OK;
}
