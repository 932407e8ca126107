/*
 * subpage.c - the sub-page (slab) allocator (mappedpages/subpage.h).
 *
 * Invariants:
 *  (1) Every parent record names a page that is allocated in the pager
 *      (taken by this allocator or adopted by rebuild) and has at least one
 *      used slot: a parent whose last slot goes is returned at once.
 *  (2) A parent is on the nonfull stack exactly when it has a free slot,
 *      and its record's nf_pos says where.
 *  (3) Every call that changes slot state first gets whatever it needs
 *      from the pager and from memory, and only then touches the records:
 *      an error leaves the allocator as it was. The pager's own commit is
 *      the only step that can fail after validation, and it runs before
 *      any record changes.
 *  (4) pending bits are zero between calls; free_bulk uses them to spot
 *      an id listed twice without sorting.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "mappedpages/subpage.h"

#define NO_POS UINT64_MAX
#define SMALL  16 /* bulk calls this small need no scratch allocation */

struct parent {
    uint64_t page; /* 0 = empty table slot (page 0 is never a parent) */
    uint64_t used; /* bit s: slot s allocated */
    uint64_t pending;
    uint64_t nf_pos;
};

struct mp_subpage {
    mp_pager *pager;
    struct mp_subpage *next; /* the pager's list of live allocators */
    size_t slot_size;
    unsigned slot_log2;
    unsigned per_parent;
    uint64_t full_mask;
    unsigned tag;
    uint64_t id_tag; /* kind and tag, shifted into place */

    /* Parents by page number: open addressing, linear probing, at most
     * half full, deletion by backward shift (no tombstones). */
    struct parent *tab;
    uint64_t cap;
    uint64_t nparents;

    uint64_t *nonfull; /* pages of parents with a free slot; top = last */
    uint64_t nf_len;
    uint64_t nf_cap;

    uint64_t live;
};

static uint64_t home(const mp_subpage *sp, uint64_t page)
{
    /* Parents are often consecutive pages: scatter them. */
    uint64_t h = page * 0x9E3779B97F4A7C15ull;
    return (h ^ (h >> 29)) & (sp->cap - 1);
}

static struct parent *lookup(const mp_subpage *sp, uint64_t page)
{
    uint64_t i;
    if (sp->cap == 0 || page == 0) {
        return NULL;
    }
    for (i = home(sp, page);; i = (i + 1) & (sp->cap - 1)) {
        if (sp->tab[i].page == page) {
            return &sp->tab[i];
        }
        if (sp->tab[i].page == 0) {
            return NULL;
        }
    }
}

/* Insert a record for page (not present); room must have been reserved. */
static struct parent *insert(mp_subpage *sp, uint64_t page)
{
    uint64_t i = home(sp, page);
    while (sp->tab[i].page != 0) {
        i = (i + 1) & (sp->cap - 1);
    }
    sp->tab[i].page = page;
    sp->tab[i].used = 0;
    sp->tab[i].pending = 0;
    sp->tab[i].nf_pos = NO_POS;
    sp->nparents++;
    return &sp->tab[i];
}

static void remove_at(mp_subpage *sp, struct parent *rec)
{
    uint64_t mask = sp->cap - 1;
    uint64_t i = (uint64_t)(rec - sp->tab), j = i;
    for (;;) {
        uint64_t k;
        j = (j + 1) & mask;
        if (sp->tab[j].page == 0) {
            break;
        }
        k = home(sp, sp->tab[j].page);
        /* Move j into the hole at i unless its home lies in (i, j]. */
        if ((i <= j) ? (i < k && k <= j) : (i < k || k <= j)) {
            continue;
        }
        sp->tab[i] = sp->tab[j];
        i = j;
    }
    memset(&sp->tab[i], 0, sizeof(sp->tab[i]));
    sp->nparents--;
}

/* Make room for `extra` more parents in the table and the nonfull stack. */
static int reserve(mp_subpage *sp, uint64_t extra)
{
    uint64_t need = sp->nparents + extra, ncap;
    struct parent *nt;
    int rc;

    if (extra > UINT64_MAX / 4 - sp->nparents) {
        return MP_ENOMEM;
    }
    rc = mp__grow_array(sp->pager, (void **)&sp->nonfull, sizeof(*sp->nonfull),
                        &sp->nf_cap, need);
    if (rc != MP_OK || need * 2 <= sp->cap) {
        return rc;
    }
    ncap = sp->cap ? sp->cap : 16;
    while (ncap < need * 2) {
        ncap *= 2;
    }
    if (ncap > SIZE_MAX / sizeof(*nt)) {
        return MP_ENOMEM;
    }
    nt = mp__zalloc(sp->pager, (size_t)ncap * sizeof(*nt));
    if (!nt) {
        return MP_ENOMEM;
    }
    {
        struct parent *old = sp->tab;
        uint64_t ocap = sp->cap;
        sp->tab = nt;
        sp->cap = ncap;
        sp->nparents = 0;
        for (uint64_t i = 0; i < ocap; i++) {
            if (old[i].page != 0) {
                *insert(sp, old[i].page) = old[i];
            }
        }
        mp__free(sp->pager, old);
    }
    return MP_OK;
}

static void nf_push(mp_subpage *sp, struct parent *rec)
{
    rec->nf_pos = sp->nf_len;
    sp->nonfull[sp->nf_len++] = rec->page;
}

static void nf_remove(mp_subpage *sp, struct parent *rec)
{
    uint64_t pos = rec->nf_pos, last = sp->nonfull[--sp->nf_len];
    rec->nf_pos = NO_POS;
    if (pos != sp->nf_len) {
        sp->nonfull[pos] = last;
        lookup(sp, last)->nf_pos = pos;
    }
}

static void drop_parent(mp_subpage *sp, struct parent *rec)
{
    if (rec->nf_pos != NO_POS) {
        nf_remove(sp, rec);
    }
    remove_at(sp, rec);
}

static unsigned char *slot_ptr(const mp_subpage *sp, uint64_t page,
                               unsigned slot)
{
    return mp__page(sp->pager, page) + (size_t)slot * sp->slot_size;
}

static mp_subpage_id make_id(const mp_subpage *sp, uint64_t page, unsigned slot)
{
    return sp->id_tag | page << MP_SUBPAGE_PAGE_SHIFT | slot;
}

/* Validate the parts of an id that need no record. */
static int check_shape(const mp_subpage *sp, mp_subpage_id id)
{
    if ((id & MP_ID_KIND_MASK) != MP_ID_KIND_SUBPAGE) {
        return MP_EWRONGKIND;
    }
    if (mp_subpage_id_tag(id) != sp->tag) {
        return MP_ENOTOWNER;
    }
    if (mp_subpage_id_slot(id) >= sp->per_parent) {
        return MP_EOUTOFBOUNDS;
    }
    return MP_OK;
}

/* Validate an id that must name an allocated slot of this allocator. */
static int check_id(const mp_subpage *sp, mp_subpage_id id, struct parent **rec)
{
    int rc = check_shape(sp, id);
    if (rc != MP_OK) {
        return rc;
    }
    *rec = lookup(sp, mp_subpage_id_page(id));
    if (!*rec || !((*rec)->used >> mp_subpage_id_slot(id) & 1)) {
        return MP_EDOUBLEFREE;
    }
    return MP_OK;
}

int mp_subpage_create(mp_pager *pager, size_t slot_size, mp_subpage **out)
{
    uint64_t taken[MP_SUBPAGE_MAX_INSTANCES / 64] = { 0 };
    unsigned log2, inst;
    mp_subpage *sp;

    if (!out) {
        return MP_EINVAL;
    }
    *out = NULL;
    if (!pager) {
        return MP_EINVAL;
    }
    if (slot_size == 0 || (slot_size & (slot_size - 1)) != 0 ||
        slot_size >= pager->page_size ||
        pager->page_size / slot_size > MP_SUBPAGE_MAX_SLOTS) {
        return MP_EPAGESIZE;
    }
    log2 = (unsigned)__builtin_ctzll((unsigned long long)slot_size);
    for (const mp_subpage *o = pager->subpages; o; o = o->next) {
        if (o->slot_log2 == log2) {
            unsigned i = o->tag & (MP_SUBPAGE_MAX_INSTANCES - 1);
            taken[i / 64] |= (uint64_t)1 << (i % 64);
        }
    }
    for (inst = 0; inst < MP_SUBPAGE_MAX_INSTANCES; inst++) {
        if (!(taken[inst / 64] >> (inst % 64) & 1)) {
            break;
        }
    }
    if (inst == MP_SUBPAGE_MAX_INSTANCES) {
        return MP_ELIMIT;
    }
    sp = mp__zalloc(pager, sizeof(*sp));
    if (!sp) {
        return MP_ENOMEM;
    }
    sp->pager = pager;
    sp->slot_size = slot_size;
    sp->slot_log2 = log2;
    sp->per_parent = (unsigned)(pager->page_size / slot_size);
    sp->full_mask = sp->per_parent == 64 ? ~(uint64_t)0
                                         : ((uint64_t)1 << sp->per_parent) - 1;
    sp->tag = log2 << 11 | inst;
    sp->id_tag = MP_ID_KIND_SUBPAGE | (uint64_t)sp->tag << MP_SUBPAGE_TAG_SHIFT;
    sp->next = pager->subpages;
    pager->subpages = sp;
    *out = sp;
    return MP_OK;
}

void mp_subpage_destroy(mp_subpage *sp)
{
    mp_subpage **link;
    if (!sp) {
        return;
    }
    for (link = &sp->pager->subpages; *link; link = &(*link)->next) {
        if (*link == sp) {
            *link = sp->next;
            break;
        }
    }
    mp__free(sp->pager, sp->tab);
    mp__free(sp->pager, sp->nonfull);
    mp__free(sp->pager, sp);
}

void mp__subpage_release_all(mp_pager *p)
{
    while (p->subpages) {
        mp_subpage_destroy(p->subpages);
    }
}

/* Take the lowest free slot of the parent on top of the nonfull stack. */
static mp_subpage_id take_slot(mp_subpage *sp)
{
    uint64_t page = sp->nonfull[sp->nf_len - 1];
    struct parent *rec = lookup(sp, page);
    unsigned s = (unsigned)__builtin_ctzll(~rec->used);

    rec->used |= (uint64_t)1 << s;
    if (rec->used == sp->full_mask) {
        nf_remove(sp, rec);
    }
    sp->live++;
    /* A new slot never shows a previous owner's bytes. */
    memset(slot_ptr(sp, page, s), 0, sp->slot_size);
    return make_id(sp, page, s);
}

int mp_subpage_alloc_bulk(mp_subpage *sp, size_t count, mp_subpage_id *out)
{
    uint64_t small[SMALL], *pages = small;
    uint64_t spare, need, np, next = 0;
    int rc;

    if (count == 0 || (uint64_t)count > MP_BULK_MAX) {
        return MP_ECOUNT;
    }
    if (!out) {
        return MP_EINVAL;
    }
    rc = mp__check_writable(sp->pager);
    if (rc != MP_OK) {
        return rc;
    }
    spare = sp->nparents * sp->per_parent - sp->live;
    need = count > spare ? count - spare : 0;
    np = (need + sp->per_parent - 1) / sp->per_parent;
    if (np > 0) {
        rc = reserve(sp, np);
        if (rc != MP_OK) {
            return rc;
        }
        if (np > SMALL) {
            pages = mp__alloc(sp->pager, (size_t)np * sizeof(*pages));
            if (!pages) {
                return MP_ENOMEM;
            }
        }
        rc = mp_pager_alloc_bulk(sp->pager, (size_t)np, pages);
        if (rc != MP_OK) {
            goto out_pages;
        }
    }
    /* From here on nothing can fail (3). */
    for (size_t i = 0; i < count; i++) {
        if (sp->nf_len == 0) {
            nf_push(sp, insert(sp, pages[next++]));
        }
        out[i] = take_slot(sp);
    }
out_pages:
    if (pages != small) {
        mp__free(sp->pager, pages);
    }
    return rc;
}

int mp_subpage_alloc(mp_subpage *sp, mp_subpage_id *out)
{
    return mp_subpage_alloc_bulk(sp, 1, out);
}

static void clear_pending(mp_subpage *sp, const mp_subpage_id *ids, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct parent *rec = lookup(sp, mp_subpage_id_page(ids[i]));
        if (rec) {
            rec->pending = 0;
        }
    }
}

int mp_subpage_free_bulk(mp_subpage *sp, const mp_subpage_id *ids, size_t count)
{
    uint64_t small[SMALL], *empties = small, ne = 0, room;
    size_t i;
    int rc;

    if (count == 0 || (uint64_t)count > MP_BULK_MAX) {
        return MP_ECOUNT;
    }
    if (!ids) {
        return MP_EINVAL;
    }
    rc = mp__check_writable(sp->pager);
    if (rc != MP_OK) {
        return rc;
    }
    for (i = 0; i < count; i++) {
        struct parent *rec;
        uint64_t bit;
        rc = check_id(sp, ids[i], &rec);
        if (rc != MP_OK) {
            break;
        }
        bit = (uint64_t)1 << mp_subpage_id_slot(ids[i]);
        if (rec->pending & bit) {
            rc = MP_EDUPLICATE;
            break;
        }
        rec->pending |= bit;
    }
    if (rc != MP_OK) {
        clear_pending(sp, ids, i);
        return rc;
    }
    room = count < sp->nparents ? count : sp->nparents;
    if (room > SMALL) {
        empties = mp__alloc(sp->pager, (size_t)room * sizeof(*empties));
        if (!empties) {
            clear_pending(sp, ids, count);
            return MP_ENOMEM;
        }
    }
    /*
     * Parents left empty go back first, in one commit; a parent is listed
     * once because its pending bits are consumed when it is.
     */
    for (i = 0; i < count; i++) {
        struct parent *rec = lookup(sp, mp_subpage_id_page(ids[i]));
        if (rec->pending != 0 && rec->pending == rec->used) {
            empties[ne++] = rec->page;
            rec->pending = 0;
        }
    }
    if (ne > 0) {
        rc = mp_pager_free_bulk(sp->pager, empties, (size_t)ne);
        if (rc != MP_OK) {
            clear_pending(sp, ids, count);
            goto out_empties;
        }
    }
    for (i = 0; i < count; i++) {
        struct parent *rec = lookup(sp, mp_subpage_id_page(ids[i]));
        if (rec->pending != 0) {
            if (rec->used == sp->full_mask) {
                nf_push(sp, rec);
            }
            rec->used &= ~rec->pending;
            rec->pending = 0;
        }
    }
    for (uint64_t k = 0; k < ne; k++) {
        drop_parent(sp, lookup(sp, empties[k]));
    }
    sp->live -= count;
out_empties:
    if (empties != small) {
        mp__free(sp->pager, empties);
    }
    return rc;
}

int mp_subpage_free(mp_subpage *sp, mp_subpage_id id)
{
    return mp_subpage_free_bulk(sp, &id, 1);
}

int mp_subpage_get(const mp_subpage *sp, mp_subpage_id id, const void **out)
{
    struct parent *rec;
    int rc;
    if (!out) {
        return MP_EINVAL;
    }
    *out = NULL;
    rc = check_id(sp, id, &rec);
    if (rc == MP_OK) {
        *out = slot_ptr(sp, rec->page, mp_subpage_id_slot(id));
    }
    return rc;
}

int mp_subpage_get_mut(mp_subpage *sp, mp_subpage_id id, void **out)
{
    struct parent *rec;
    int rc;
    if (!out) {
        return MP_EINVAL;
    }
    *out = NULL;
    if (sp->pager->readonly) {
        return MP_EREADONLY;
    }
    rc = check_id(sp, id, &rec);
    if (rc == MP_OK) {
        *out = slot_ptr(sp, rec->page, mp_subpage_id_slot(id));
    }
    return rc;
}

/* Forget every parent (rebuild's undo; the allocator was empty before). */
static void reset(mp_subpage *sp)
{
    if (sp->tab) {
        memset(sp->tab, 0, (size_t)sp->cap * sizeof(*sp->tab));
    }
    sp->nparents = 0;
    sp->nf_len = 0;
    sp->live = 0;
}

static int check_parent(const mp_subpage *sp, uint64_t page)
{
    const void *bytes;
    int rc = mp_pager_get(sp->pager, page, &bytes);
    if (rc != MP_OK) {
        return rc;
    }
    for (const mp_subpage *o = sp->pager->subpages; o; o = o->next) {
        if (o != sp && lookup(o, page)) {
            return MP_ENOTOWNER;
        }
    }
    return MP_OK;
}

int mp_subpage_rebuild(mp_subpage *sp, const mp_subpage_id *ids, size_t count)
{
    int rc = MP_OK;

    if (sp->nparents != 0) {
        return MP_EINVAL;
    }
    if ((uint64_t)count > MP_BULK_MAX) {
        return MP_ECOUNT;
    }
    if (count > 0 && !ids) {
        return MP_EINVAL;
    }
    for (size_t i = 0; i < count; i++) {
        uint64_t page = mp_subpage_id_page(ids[i]);
        uint64_t bit = (uint64_t)1 << mp_subpage_id_slot(ids[i]);
        struct parent *rec;

        rc = check_shape(sp, ids[i]);
        if (rc != MP_OK) {
            goto out_reset;
        }
        rec = lookup(sp, page);
        if (!rec) {
            rc = check_parent(sp, page);
            if (rc == MP_OK) {
                rc = reserve(sp, 1);
            }
            if (rc != MP_OK) {
                goto out_reset;
            }
            rec = insert(sp, page);
        }
        if (rec->used & bit) {
            rc = MP_EDUPLICATE;
            goto out_reset;
        }
        rec->used |= bit;
        sp->live++;
    }
    for (uint64_t i = 0; i < sp->cap; i++) {
        struct parent *rec = &sp->tab[i];
        if (rec->page != 0 && rec->used != sp->full_mask) {
            nf_push(sp, rec);
        }
    }
    return MP_OK;

out_reset:
    reset(sp);
    return rc;
}

/* Sift v[i] down the max-heap v[0..n). */
static void sift_down(uint64_t *v, size_t i, size_t n)
{
    uint64_t x = v[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) {
            break;
        }
        if (c + 1 < n && v[c + 1] > v[c]) {
            c++;
        }
        if (v[c] <= x) {
            break;
        }
        v[i] = v[c];
        i = c;
    }
    v[i] = x;
}

/*
 * Heapsort: in place (this query allocates nothing), n log n at worst, and
 * no call through a comparison function per step as qsort makes - the
 * harness lists the ids after every operation.
 */
static void sort_ids(uint64_t *v, size_t n)
{
    for (size_t i = n / 2; i-- > 0;) {
        sift_down(v, i, n);
    }
    while (n > 1) {
        uint64_t t = v[0];
        v[0] = v[--n];
        v[n] = t;
        sift_down(v, 0, n);
    }
}

int mp_subpage_ids(const mp_subpage *sp, mp_subpage_id *out, size_t cap,
                   size_t *n)
{
    size_t k = 0;
    if (!n || (sp->live > 0 && (!out || (uint64_t)cap < sp->live))) {
        return MP_EINVAL;
    }
    for (uint64_t i = 0; i < sp->cap; i++) {
        const struct parent *rec = &sp->tab[i];
        for (uint64_t bits = rec->used; bits; bits &= bits - 1) {
            out[k++] = make_id(sp, rec->page, (unsigned)__builtin_ctzll(bits));
        }
    }
    /* Ids share their tag, so id order is (parent, slot) order. */
    sort_ids(out, k);
    *n = k;
    return MP_OK;
}

uint64_t mp_subpage_count(const mp_subpage *sp)
{
    return sp->live;
}

uint64_t mp_subpage_parent_count(const mp_subpage *sp)
{
    return sp->nparents;
}

size_t mp_subpage_slot_size(const mp_subpage *sp)
{
    return sp->slot_size;
}

unsigned mp_subpage_slots_per_parent(const mp_subpage *sp)
{
    return sp->per_parent;
}

unsigned mp_subpage_tag(const mp_subpage *sp)
{
    return sp->tag;
}

mp_pager *mp_subpage_pager(const mp_subpage *sp)
{
    return sp->pager;
}
