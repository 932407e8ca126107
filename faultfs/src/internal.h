/*
 * internal.h - faultfs's shared structures (not public; prefix faultfs__).
 *
 * Storage in three layers, each with one job:
 *  - store.c: the durable image of a file, page-granular and copy-on-write:
 *    an immutable shared base (a memfd) plus an overlay of refcounted page
 *    blocks;
 *  - region.c: the volatile state, one reserved address range per file
 *    that every open of it maps (so pointers never move);
 *  - snapshot.c / image.c: what a crash froze, and images built from it
 *    that share the base and copy only their dirty pages.
 *
 * Locking: every public entry point takes faultfs.mu; everything here
 * assumes it is held. Blocks and bases are refcounted atomically because
 * images on other threads share them.
 */
#ifndef FAULTFS_INTERNAL_H
#define FAULTFS_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "faultfs.h"

/* ---- durable storage (store.c) ---------------------------------------- */

/** One page of durable bytes; immutable while refs > 1. */
struct faultfs__block {
    atomic_uint refs;
    unsigned char data[];
};

/** Immutable durable bytes shared by images: a memfd and a read mapping. */
struct faultfs__base {
    atomic_uint refs;
    int fd;             /* memfd, or -1 (then mem is plain memory) */
    unsigned char *mem; /* the bytes, read-only */
    uint64_t len;       /* bytes held (a multiple of the OS page) */
};

/** page index -> block, open addressing. */
struct faultfs__pmap {
    uint64_t *keys; /* UINT64_MAX = empty */
    struct faultfs__block **vals;
    size_t cap; /* 0 or a power of two */
    size_t n;
};

/** A file's durable image: base[0, base_len) overlaid by `over`. */
struct faultfs__durable {
    struct faultfs__base *base;
    uint64_t base_len; /* multiple of the page size, <= base->len */
    struct faultfs__pmap over;
};

struct faultfs__block *faultfs__block_new(size_t page);
void faultfs__block_ref(struct faultfs__block *b);
void faultfs__block_unref(struct faultfs__block *b);

void faultfs__base_ref(struct faultfs__base *b);
void faultfs__base_unref(struct faultfs__base *b);
/* A base of len bytes (rounded up to the OS page), zero-filled, writable
 * through ->mem until faultfs__base_seal(). */
int faultfs__base_new(uint64_t len, struct faultfs__base **out);
void faultfs__base_seal(struct faultfs__base *b);

struct faultfs__block *faultfs__pmap_get(const struct faultfs__pmap *m,
                                         uint64_t key);
/* Stores b (taking over the caller's reference), dropping any old one. */
int faultfs__pmap_put(struct faultfs__pmap *m, uint64_t key,
                      struct faultfs__block *b);
void faultfs__pmap_free(struct faultfs__pmap *m);
/* Drop every entry with key >= first. */
int faultfs__pmap_cut(struct faultfs__pmap *m, uint64_t first);
/* A copy sharing the blocks. */
int faultfs__pmap_copy(struct faultfs__pmap *dst,
                       const struct faultfs__pmap *src);
/* Largest key + 1, or 0 when empty. */
uint64_t faultfs__pmap_extent(const struct faultfs__pmap *m);

/* Durable bytes of page pg, or NULL when they are all zero. */
const unsigned char *faultfs__durable_page(const struct faultfs__durable *d,
                                           uint64_t pg, size_t page);
/* Set page pg's durable bytes to src (page bytes). */
int faultfs__durable_put(struct faultfs__durable *d, uint64_t pg,
                         const unsigned char *src, size_t page);
/* Forget durable bytes at and past `bytes` (zero-fill the cut page). */
int faultfs__durable_cut(struct faultfs__durable *d, uint64_t bytes,
                         size_t page);
/* Pages that may hold non-zero durable bytes: [0, extent). */
uint64_t faultfs__durable_extent(const struct faultfs__durable *d, size_t page);
void faultfs__durable_free(struct faultfs__durable *d);
int faultfs__durable_copy(struct faultfs__durable *dst,
                          const struct faultfs__durable *src);
/* One base holding all of d's bytes (NULL if none): for images. */
int faultfs__durable_merge(const struct faultfs__durable *d, size_t page,
                           struct faultfs__base **out, uint64_t *len);

/* ---- files ------------------------------------------------------------ */

/** Volatile memory of a file: one reservation shared by its mappings. */
struct faultfs__region {
    unsigned char *mem; /* NULL until first needed */
    uint64_t reserved;  /* bytes reserved at mem for this file */
    uint64_t maplen;    /* bytes mapped at mem (>= reserved: a reused
                           region may be larger than this file asked) */
    uint64_t acc;       /* [0, acc) is accessible (OS-page multiple) */
    uint64_t anon_from; /* [anon_from, reserved) is anonymous memory */
    bool warm;          /* reused: its pages are in the page table */
    int prot;           /* protection of [0, acc) */
};

struct faultfs__inode {
    struct faultfs__inode *next;
    uint64_t id; /* creation order */
    /* durable state */
    uint64_t dsize;
    struct faultfs__durable dur;
    /* volatile state: equals the durable bytes cut at vsize until the
     * region exists */
    uint64_t vsize;
    struct faultfs__region reg;
    /* opens, locks, mappings */
    unsigned handles;
    unsigned lock_shared;
    unsigned lock_excl;
    unsigned maps_rw;
    unsigned maps_ro;
    int lock_fd; /* memfd for process_locks, or -1 */
};

/** A name -> inode binding. */
struct faultfs__name {
    char *name;
    struct faultfs__inode *ino;
};

struct faultfs__names {
    struct faultfs__name *v;
    size_t n;
    size_t cap;
};

enum faultfs__nsop_kind {
    FAULTFS__NS_CREATE,
    FAULTFS__NS_REMOVE,
    FAULTFS__NS_RENAME,
};

/** A name operation not yet durable. */
struct faultfs__nsop {
    int kind;
    char *a; /* the name (create, remove) or the source (rename) */
    char *b; /* rename target */
    struct faultfs__inode *ino;
};

/** An open file. */
struct faultfs__handle {
    struct mp_io_file base;
    faultfs *fs;
    struct faultfs__inode *ino;
    char *name; /* the name it was opened by (trace) */
    bool readonly;
    int lock;
    int lock_fd; /* own description of ino->lock_fd, or -1 */
    bool mapped;
    uint64_t map_bytes;
    uint64_t reserved;
};

/* ---- crash snapshot (snapshot.c) -------------------------------------- */

struct faultfs__dirty {
    uint64_t pg;
    struct faultfs__block *newb; /* volatile bytes, zero past vsize */
    uint32_t nsect;              /* differing sectors (whole page) */
    uint32_t *sect;              /* their indices, ascending */
    uint32_t nd[2];              /* of them, those that count at size
                                    choice 0 (durable) / 1 (current) */
    size_t digit;                /* first digit in a choice vector */
};

struct faultfs__sfile {
    uint64_t ino_id;
    uint64_t size[2]; /* durable, current */
    struct faultfs__durable dur;
    struct faultfs__base *merged; /* made on first use */
    uint64_t merged_len;
    bool merged_done;
    size_t ndirty;
    struct faultfs__dirty *dirty;
};

struct faultfs__sname {
    char *name;
    size_t file;
};

struct faultfs__sop {
    int kind;
    char *a;
    char *b;
    size_t file;
};

struct faultfs__snap {
    uint64_t point;
    int call;
    int when;
    size_t nfiles;
    struct faultfs__sfile *files;
    size_t ndur;
    struct faultfs__sname *dur;
    size_t nops;
    struct faultfs__sop *ops;
    size_t ndigits; /* total differing sectors: length of a choice vector */
};

/** One image's choices. */
struct faultfs__choice {
    uint64_t ns;
    unsigned char *size_cur; /* per file: 0 durable, 1 current */
    unsigned char *digit;    /* per differing sector: 0 old 1 new 2 garb */
};

/* ---- the faultfs ------------------------------------------------------ */

struct faultfs__armed_fault {
    struct faultfs_fault f;
    uint64_t seen;
    bool fired;
};

struct faultfs {
    struct mp_vfs vfs;
    struct faultfs_config cfg;
    pthread_mutex_t mu;
    size_t page;
    size_t sector;

    struct faultfs__inode *inodes;
    uint64_t next_ino;
    struct faultfs__names cur; /* current namespace */
    struct faultfs__names dur; /* durable namespace */
    struct faultfs__nsop *ops; /* pending, in order */
    size_t nops;
    size_t ops_cap;

    /* crash points and faults */
    uint64_t points;
    uint64_t seq;
    bool armed;
    uint64_t arm_point;
    bool arm_step;
    int arm_call;
    uint64_t arm_left;
    int arm_when;
    struct faultfs__armed_fault faults[FAULTFS_MAX_FAULTS];
    size_t nfaults;
    bool crashed;
    struct faultfs__snap *snap;

    /* trace ring and counters */
    struct faultfs_trace_entry *trace; /* grows up to cfg.trace_max */
    size_t trace_cap;
    size_t trace_head;
    size_t trace_n;
    struct faultfs_trace_entry trace_spare; /* when growing fails */
    struct faultfs_stats stats;

    /* set on images */
    char *pattern;

    /* a cleared region of a freed file, PROT_NONE, for the next file that
     * asks for a reservation of the same size (faultfs_reuse) */
    struct faultfs__region spare;
    /* where the next image is built (faultfs_image_spare), or NULL */
    faultfs *image_spare;

    /* /proc/self/pagemap of the process that opened it (-1: not yet,
     * -2: unavailable), for faultfs__region_untouched() */
    int pagemap_fd;
    long pagemap_pid;
};

/* fs.c, vfs.c */
void faultfs__vfs_init(faultfs *fs);
struct faultfs__inode *faultfs__lookup(const faultfs *fs, const char *name);
int faultfs__inode_new(faultfs *fs, struct faultfs__inode **out);
void faultfs__gc(faultfs *fs);
int faultfs__names_add(struct faultfs__names *ns, const char *name,
                       struct faultfs__inode *ino);
/* A new faultfs with fs's configuration for an image: fs's image spare
 * (faultfs_image_spare) if it has one. */
int faultfs__new_like(faultfs *fs, faultfs **out);
char *faultfs__strdup(const char *s);

/* region.c */
size_t faultfs__os_page(void);
/* Make sure the region exists with room for at least `need` bytes,
 * reserving `reserve` (halving on refusal) when it has to be made. */
int faultfs__region_need(faultfs *fs, struct faultfs__inode *ino,
                         uint64_t reserve, uint64_t need);
/* Follow a change of ino->vsize (old -> new). */
int faultfs__region_resize(faultfs *fs, struct faultfs__inode *ino,
                           uint64_t old_size);
/* Apply the protection the current mappings call for. */
void faultfs__region_protect(struct faultfs__inode *ino);
/*
 * Mark in zero[0..n) (1 = yes) the pages first.. of ino's volatile state
 * that read as zero without being looked at: pages of the anonymous part
 * of the region that nothing has touched since it was reserved (neither
 * present nor swapped out in the page table). Looking at them instead
 * would fault each in, then fault again on the program's first store.
 * Leaves zero[] all 0 when the page table cannot be read.
 */
void faultfs__region_untouched(faultfs *fs, const struct faultfs__inode *ino,
                               uint64_t first, uint64_t n, unsigned char *zero);
/* faultfs__region_untouched() over a run of pages, a window at a time. */
#define FAULTFS__ZW_PAGES 1024
struct faultfs__zero_window {
    uint64_t start, n; /* pages [start, start + n); n = 0: none yet */
    unsigned char zero[FAULTFS__ZW_PAGES];
};
/* Page pg (< last) of ino reads as zero without being looked at; pages
 * must be asked in ascending order. */
bool faultfs__untouched_at(faultfs *fs, const struct faultfs__inode *ino,
                           uint64_t pg, uint64_t last,
                           struct faultfs__zero_window *w);
/* Close what faultfs__region_untouched() opened. */
void faultfs__pagemap_close(faultfs *fs);
void faultfs__region_free(struct faultfs__inode *ino);
/* Free ino's region, or keep it cleared as fs->spare (when the page table
 * can be read, so clearing costs the touched pages only). */
void faultfs__region_retire(faultfs *fs, struct faultfs__inode *ino);
/* Volatile bytes of page pg (zero past vsize); may point into scratch. */
const unsigned char *faultfs__volatile_page(faultfs *fs,
                                            struct faultfs__inode *ino,
                                            uint64_t pg,
                                            unsigned char *scratch);

/* points.c */
uint64_t faultfs__mix(uint64_t a, uint64_t b);
uint64_t faultfs__rand(const faultfs *fs, uint64_t point, uint64_t purpose);
void faultfs__garbage(uint64_t seed, unsigned char *dst, size_t len);
/* Pass one crash point of `call` at `when`; true if the crash fires. */
bool faultfs__point(faultfs *fs, int call, int when);
/* Count a failure-capable (or lock) call against the faults; returns the
 * fault to apply or NULL. */
struct faultfs__armed_fault *faultfs__fault_check(faultfs *fs, int call);
int faultfs__natural_code(int call);
bool faultfs__is_point_call(int call);

/* persist.c */
int faultfs__sync_ranges(faultfs *fs, struct faultfs__handle *h,
                         const struct mp_io_range *r, size_t n, int persist,
                         uint64_t point, uint64_t *pages, uint64_t *bytes);
int faultfs__sync_inode(faultfs *fs, struct faultfs__inode *ino, int persist,
                        uint64_t point, uint64_t *pages, uint64_t *bytes);
void faultfs__ns_commit(faultfs *fs);

/* snapshot.c */
int faultfs__crash(faultfs *fs, int call, int when);
void faultfs__snap_free(struct faultfs__snap *s);
int faultfs__sfile_merged(struct faultfs__sfile *f, size_t page);

/* trace.c */
struct faultfs_trace_entry *faultfs__trace_add(faultfs *fs, int call,
                                               const char *file);

#endif /* FAULTFS_INTERNAL_H */
