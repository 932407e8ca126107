/*
 * internal.h - the pager object and the interfaces between the core's files.
 *
 * State of a pager (see FORMAT.md for the bytes on disk):
 *
 *  (1) The in-memory state (bitmap, trees, directory, counters) always
 *      equals the state named by the last successful commit, plus the
 *      changes of the call in progress; a call that fails after changing
 *      it rolls it back (mp__rollback), whatever the failure.
 *  (2) live_copy/generation/live_crc describe the metadata copy the durable
 *      commit record names. The next commit writes the other copy.
 *  (3) For every A/B node, ref.flags bit 0 names the copy the durable
 *      metadata reaches; the other copy may hold anything.
 *  (4) Bits of the bitmap at or above total are 0; its words cover whole
 *      leaves, so a leaf can be copied out without bounds arithmetic.
 *  (5) failed != 0 means a sync failed (the OS may have dropped pages it
 *      could not write): every mutating call is refused until reopen.
 *      Memory still equals the durable state before the failed call.
 *  (6) repair means page 0 on disk may not name the live copy (recovery
 *      did not follow an intact record, or the static header was taken
 *      from a copy, or one-flush commits left the record behind): the
 *      next two-barrier commit rewrites and syncs page 0 first (FORMAT.md
 *      8.1, I4).
 *  (7) page0_repair means page 0 on disk is damaged: its static header was
 *      taken from a copy at open, or its record is torn. The next commit
 *      rewrites it, a two-barrier one in step 0, a one-flush one in its
 *      barrier (8.2), with a record naming the live copy.
 */
#ifndef MP_INTERNAL_H
#define MP_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mappedpages/pager.h"
#include "mappedpages/protected.h"
#include "pageset.h"

/* Leaves plus at most 8 index levels. */
#define MP__LEVELS      9
#define MP__REF_SIZE    24
#define MP__META_HDR    128 /* = MP__MD_HDR of layout.h */
#define MP__RECORD_OFF  512 /* = MP__REC_OFF */
#define MP__RECORD_SIZE 24  /* = MP__REC_SIZE */
#define MP__MIN_PAGES   8

/* In-memory only flag bits (never encoded). */
#define MP__REF_LIVE   1u
#define MP__REF_DIRTY  0x80000000u
#define MP__ENT_LIVE   1u
#define MP__ENT_INUSE  2u
#define MP__ENT_STAGED 0x80000000u
/* Committed copy failed its checksum at open (rules.h R3; protected.c). */
#define MP__ENT_DAMAGED   0x20000000u
#define MP__ENT_DISK_MASK 3u

enum {
    MP__TREE_MAP = 0,
    MP__TREE_DIR = 1
};

/* A reference to an A/B node (FORMAT.md section 4). */
struct mp__ref {
    uint64_t page[2];
    uint32_t crc;
    uint32_t flags;
};

/* A protected-page directory entry (FORMAT.md section 6). */
struct mp__dirent {
    uint64_t page[2];
    uint32_t crc;
    uint32_t flags;
    uint64_t gen; /* generation of the commit that wrote the content */
};

/* A run of pages [lo, hi) whose disk blocks are reserved (io.c). */
struct mp__span {
    uint64_t lo;
    uint64_t hi;
};

/* One tree of A/B nodes (FORMAT.md section 5). */
struct mp__tree {
    int kind;
    unsigned depth;             /* index levels */
    uint64_t root_cap;          /* R */
    uint64_t count[MP__LEVELS]; /* nodes per level; count[0] = leaves */
    uint64_t cap[MP__LEVELS];   /* allocated refs per level */
    struct mp__ref *refs[MP__LEVELS];
    uint64_t *dirty[MP__LEVELS]; /* indices of dirty nodes per level */
    size_t ndirty[MP__LEVELS];
    size_t dirty_cap[MP__LEVELS];
};

struct mp_pager {
    struct mp_allocator_hooks mem;
    const struct mp_vfs *vfs;
    struct mp_io_file *file;
    unsigned char *base;
    uint64_t reserved;   /* bytes of address space reserved */
    uint64_t mapped;     /* bytes of the file mapped */
    uint64_t file_bytes; /* file length as far as we know */
    size_t page_size;
    unsigned log2;
    bool readonly;

    uint64_t total;      /* pages in the file */
    uint64_t free_pages; /* 0 bits below total */
    uint64_t *bitmap;
    uint64_t bitmap_words;
    uint64_t hint; /* no free page below this */

    struct mp__tree tree[2];
    struct mp__dirent *dir;
    uint64_t slots;
    uint64_t dir_cap;
    uint64_t prot_in_use;
    uint64_t slot_hint; /* no free slot below this */

    struct mp__pageset internal; /* internal pages other than map leaves */

    struct mp_io_device device; /* what create and open went by */
    uint32_t hdr_flags;         /* the static header's flags */
    bool repair;                /* see (6) */
    bool page0_repair;          /* see (7) */
    bool one_flush;             /* MP_OPEN_ONE_FLUSH (FORMAT.md 8.2) */
    uint64_t load_gen;          /* generation of the copy being loaded */

    int live_copy; /* 0: page 1, 1: page 2 */
    uint64_t generation;
    uint32_t live_crc;

    struct mp_io_range *ranges; /* pages written by the commit in progress */
    size_t nranges;
    size_t ranges_cap;

    /*
     * Pages known to have disk blocks (mp_io_methods.reserve): sorted,
     * disjoint, non-touching spans. Only what this pager reserved is
     * listed; blocks reserved before it opened the file are reserved again
     * (cheaply) when next needed.
     */
    struct mp__span *resv;
    uint64_t nresv;
    uint64_t resv_cap;

    struct mp_recovery_info recovery;
    struct mp_pager_stats stats;
    int failed;
    int failed_os;
    atomic_int iterators;
    struct mp_subpage *subpages; /* live sub-page allocators (subpage.c) */
};

/* Memory (mem.c). */
void *mp__alloc(mp_pager *p, size_t size);
void *mp__zalloc(mp_pager *p, size_t size);
void *mp__realloc(mp_pager *p, void *ptr, size_t size);
void mp__free(mp_pager *p, void *ptr);
int mp__grow_array(mp_pager *p, void **arr, size_t elem, uint64_t *cap,
                   uint64_t need);

/* The seam (io.c): the only callers of the backend's methods. */
int mp__io_sync(mp_pager *p, const struct mp_io_range *r, size_t n);
int mp__io_sync_file(mp_pager *p);
int mp__io_grow(mp_pager *p, uint64_t bytes);
int mp__io_extend_map(mp_pager *p, uint64_t bytes);
/* The device under p->file: the backend's answer (version 2), or the
 * version-1 fallback {512, 0}. MP_EINVAL for an answer that is not a power
 * of two. */
int mp__io_device(mp_pager *p, struct mp_io_device *out);
void mp__fail(mp_pager *p, int code);
/*
 * Make sure pages [lo, hi) have disk blocks before anything is stored into
 * them or they are handed out; may reserve up to page `ahead` (exclusive)
 * in the same call when that succeeds, to make the next calls free. Changes
 * no pager state but the list of reserved spans. MP_OK (also with a
 * version-1 backend, which cannot reserve); MP_ENOSPC; MP_ENOMEM; MP_EIO.
 */
int mp__reserve(mp_pager *p, uint64_t lo, uint64_t hi, uint64_t ahead);
/*
 * Before a commit stores anything: blocks for every page it may write (the
 * record's page and the metadata copies, both copies of each dirty node and of
 * the nodes above it, the protected data page). Pages the pager reserved when
 * they were born are found in the spans (after a reopen, reserved again
 * cheaply); this catches pages of files written without reservation (earlier
 * versions, version-1 backends). Same errors as mp__reserve.
 */
int mp__reserve_commit(mp_pager *p, int64_t data_page);
/* Both copies of node i of level l of t and of every node above it. */
int mp__reserve_chain(mp_pager *p, const struct mp__tree *t, unsigned l,
                      uint64_t i);

/* Geometry. */
static inline uint64_t mp__group_pages(const mp_pager *p)
{
    return (uint64_t)p->page_size * 8;
}
static inline uint64_t mp__ref_fanout(const mp_pager *p)
{
    return p->page_size / MP__REF_SIZE;
}
static inline uint64_t mp__leaf_count(const mp_pager *p, uint64_t total)
{
    uint64_t b = mp__group_pages(p);
    return (total + b - 1) / b;
}
static inline uint64_t mp__leaf_page(const mp_pager *p, uint64_t leaf, int copy)
{
    return (leaf == 0 ? 3 : leaf * mp__group_pages(p)) + (uint64_t)copy;
}
static inline unsigned char *mp__page(const mp_pager *p, uint64_t pg)
{
    return p->base + pg * (uint64_t)p->page_size;
}
/* True for the fixed places of map-leaf copies (FORMAT.md section 3). */
static inline bool mp__is_leaf_page(const mp_pager *p, uint64_t pg)
{
    uint64_t b = mp__group_pages(p);
    if (pg < b) {
        return pg == 3 || pg == 4;
    }
    return pg % b < 2;
}
uint64_t mp__root_cap(size_t page_size, int kind);

/* Release every sub-page allocator still live on p (subpage.c). */
void mp__subpage_release_all(mp_pager *p);
uint64_t mp__dir_per_block(const mp_pager *p);

/* Bitmap (bitmap.c). */
static inline bool mp__bit(const mp_pager *p, uint64_t pg)
{
    return (p->bitmap[pg >> 6] >> (pg & 63)) & 1;
}
void mp__bit_set(mp_pager *p, uint64_t pg);
void mp__bit_clear(mp_pager *p, uint64_t pg);
/* Lowest free page at or after p->hint; total if none. */
uint64_t mp__find_free(mp_pager *p);
uint64_t mp__count_free(const mp_pager *p);
int mp__bitmap_resize(mp_pager *p, uint64_t leaves);

/* Trees (tree.c). */
void mp__tree_init(mp_pager *p, struct mp__tree *t, int kind);
void mp__tree_free(mp_pager *p, struct mp__tree *t);
/* Empty t but keep its arrays, so loading it again allocates nothing. */
void mp__tree_clear(struct mp__tree *t);
int mp__tree_mark(mp_pager *p, struct mp__tree *t, unsigned level, uint64_t i);
/* Node pages a resize to `leaves` leaves would allocate from the map. */
uint64_t mp__tree_new_pages(const mp_pager *p, const struct mp__tree *t,
                            uint64_t leaves);
int mp__tree_resize(mp_pager *p, struct mp__tree *t, uint64_t leaves);
int mp__tree_write(mp_pager *p, struct mp__tree *t);
int mp__tree_load(mp_pager *p, struct mp__tree *t, uint64_t leaves,
                  unsigned depth, uint64_t roots, const unsigned char *rootp);
void mp__ref_encode(unsigned char *b, const struct mp__ref *r);
void mp__ref_decode(const unsigned char *b, struct mp__ref *r);

/* Page claiming for structures (alloc.c). */
int mp__take_page(mp_pager *p, uint64_t *out);
/* Make sure `need` pages are free (growing if needed) and that the next
 * `need` free pages, in claiming order, have disk blocks. Nothing of the
 * pager's state changes on failure. */
int mp__ensure_free(mp_pager *p, uint64_t need);
int mp__check_writable(const mp_pager *p);

/* Commit (commit.c). */
int mp__add_range(mp_pager *p, uint64_t pg);
/* Commit the in-memory state; on failure the state is rolled back (I6 in
 * commit.c) and the code returned: MP_ENOMEM leaves the pager usable, a
 * failed sync makes it unavailable. */
int mp__commit(mp_pager *p, int64_t data_page);
/* Undo every in-memory change of the call in progress (I6 in commit.c) and
 * return rc; the pager stays usable unless it had failed already. */
int mp__rollback(mp_pager *p, int rc);
void mp__encode_meta(mp_pager *p, unsigned char *pg, uint64_t generation);
void mp__encode_record(unsigned char *page0, int sel, uint64_t gen,
                       uint32_t crc);
void mp__encode_header(unsigned char *page0, unsigned log2);

/* Recovery (recover.c). */
int mp__recover(mp_pager *p, uint64_t file_bytes);
/*
 * Rebuild the in-memory state from the live metadata copy in the mapping
 * (the durable state), keeping staged writes and damage found at open
 * (rules.h R3) of slots still in use. Needs no memory: every array already
 * holds at least that state.
 * @return MP_OK; MP_ECORRUPT_META (the mapping no longer holds the copy).
 */
int mp__reload(mp_pager *p);

/* Directory (protected.c). */
void mp__dir_encode_block(const mp_pager *p, uint64_t block, unsigned char *out,
                          size_t *len);
int mp__dir_decode_block(mp_pager *p, uint64_t block, const unsigned char *in);
/* After loading a copy of generation p->load_gen: mark each protected page
 * in use whose committed copy fails its checksum (rules.h R3)
 * MP__ENT_DAMAGED. False if one_flush and such a page was committed in
 * generation p->load_gen (the generation check, rules.h R5). */
bool mp__dir_verify(mp_pager *p, bool one_flush);

#endif /* MP_INTERNAL_H */
