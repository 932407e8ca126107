/*
 * check_internal.h - what the checker's files share: the image being
 * checked, the view of one metadata copy, and message helpers.
 *
 * The checker decodes the format from FORMAT.md by itself; from the core it
 * takes only the CRC-32C and the byte-order helpers, layout.h (the table
 * of header and record offsets, reserved ranges and the header search that
 * open applies too: one rule, one place) and the validity rules of
 * core/src/rules.h (the rules open and the checker must apply alike).
 * Rules every file here keeps:
 *  (1) A number read from the image is validated before it indexes or
 *      sizes anything; a page is only touched once it is known to be below
 *      the file's whole-page count.
 *  (2) The copy's validity (valid) is exactly recovery's predicate
 *      (FORMAT.md sections 7 and 9), so the predicted recovery choice can
 *      be compared with the core's. Everything stricter goes to "deep"
 *      problems, which decide the verdict but not the choice.
 */
#ifndef MPH_CHECK_INTERNAL_H
#define MPH_CHECK_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "mph/check.h"

#define MPH_CK_LEVELS    9 /* leaves plus at most 8 index levels */
#define MPH_CK_REF       24
#define MPH_CK_META_HDR  128
#define MPH_CK_REC_OFF   512
#define MPH_CK_MIN_PAGES 8
#define MPH_CK_NDEEP     4 /* deep problems and notes kept per copy */

enum {
    MPH_CK_TREE_MAP = 0,
    MPH_CK_TREE_DIR = 1
};

/* The bytes under check. */
struct mph__ck_img {
    const unsigned char *base;
    uint64_t bytes;
    size_t ps;           /* page size from the superblock */
    unsigned log2;       /* log2(ps) */
    unsigned minor;      /* format minor of the header in use */
    uint32_t flags;      /* the static header's flags */
    int hdr_from_copy;   /* -1, or the copy page 0's header was taken from */
    uint64_t pages;      /* whole pages in the image */
    FILE *dump;          /* non-NULL: print what is walked */
    unsigned dump_limit; /* nodes or entries printed per list */
};

static inline const unsigned char *mph__ck_page(const struct mph__ck_img *im,
                                                uint64_t pg)
{
    return im->base + pg * (uint64_t)im->ps;
}

/* A decoded 24-byte reference (FORMAT.md section 4) or directory entry. */
struct mph__ck_ref {
    uint64_t page[2];
    uint32_t crc;
    uint32_t flags;
};

/* The header of a metadata copy (FORMAT.md section 7), as decoded. */
struct mph__ck_meta {
    uint32_t crc, used;
    uint16_t major, minor;
    uint64_t generation, total, free_pages, slots, in_use;
    uint32_t log2, map_depth, map_roots, dir_depth, dir_roots;
};

/* The shape of one tree (FORMAT.md section 5). */
struct mph__ck_shape {
    int kind;
    uint64_t leaves;
    uint64_t root_cap;
    unsigned depth;
    uint64_t count[MPH_CK_LEVELS];
};

/* One metadata copy and everything it reaches. */
struct mph__ck_copy {
    int index; /* 0: page 1 (copy A), 1: page 2 (copy B) */
    struct mph__ck_meta h;
    bool header_ok;
    bool one_flush; /* commit flags bit 0: written by a one-flush commit */
    bool valid;     /* recovery's predicate; deep problems do not change it */
    unsigned nfail;
    char why[MPH_CHECK_MSG_LEN];
    unsigned ndeep, nnote;
    char deep[MPH_CK_NDEEP][MPH_CHECK_MSG_LEN];
    char note[MPH_CK_NDEEP][MPH_CHECK_MSG_LEN];

    struct mph__ck_shape tree[2];
    uint64_t words;     /* length of each bit array below, in words */
    uint64_t *map;      /* the free-space map as the leaves say */
    uint64_t *owned;    /* pages some structure owns (reserved included) */
    uint64_t *inset;    /* the core's internal set: non-leaf claims */
    uint64_t *prot;     /* per slot: page of the committed copy, 0 if free */
    uint32_t *prot_crc; /* per slot: the directory's checksum of it */
    bool *prot_bad;     /* per slot: the copy fails it (rules.h R3) */
    uint64_t in_use;    /* directory entries in use */
    uint64_t owned_n;   /* distinct owned pages */
    uint64_t inset_n;   /* distinct pages in inset */
    uint64_t regular;   /* allocated pages nobody owns */
    unsigned dumped[2][MPH_CK_LEVELS]; /* dump: nodes printed per level */
    unsigned dumped_entries;
};

/* Bit helpers over uint64_t arrays (bit n of word n/64). */
static inline bool mph__ck_bit(const uint64_t *a, uint64_t n)
{
    return (a[n >> 6] >> (n & 63)) & 1;
}
/* Population count; zero words (most of a small file's leaf) cost one
 * test, not a libgcc call. */
static inline uint64_t mph__ck_popcount(uint64_t w)
{
    return w ? (uint64_t)__builtin_popcountll(w) : 0;
}
static inline void mph__ck_set(uint64_t *a, uint64_t n)
{
    a[n >> 6] |= (uint64_t)1 << (n & 63);
}

static inline const char *mph__ck_copy_name(int c)
{
    return c ? "copy B" : "copy A";
}

/* Messages (check_msg.c). Severity: MPH_CHECK_CLEAN for a note,
 * MPH_CHECK_RECOVERABLE or MPH_CHECK_CORRUPT for a problem. */
void mph__ck_report_init(struct mph_check_report *r);
void mph__ck_msg(struct mph_check_report *r, int severity, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Copy-level: first failure of recovery's predicate, deep problem, note. */
void mph__ck_fail(struct mph__ck_copy *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void mph__ck_deep(struct mph__ck_copy *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void mph__ck_cnote(struct mph__ck_copy *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void mph__ck_dump(const struct mph__ck_img *im, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Geometry (check_tree.c). */
uint64_t mph__ck_root_cap(size_t ps, int kind);
/* Fill s for `leaves` leaves; false if deeper than the format allows. */
bool mph__ck_shape(size_t ps, int kind, uint64_t leaves,
                   struct mph__ck_shape *s);
bool mph__ck_is_leaf_page(size_t ps, uint64_t pg);
uint64_t mph__ck_leaf_page(size_t ps, uint64_t leaf, int copy);
void mph__ck_ref_decode(const unsigned char *b, struct mph__ck_ref *r);

/* Walk one tree from the references at rootp (check_tree.c). */
void mph__ck_tree_walk(const struct mph__ck_img *im, struct mph__ck_copy *c,
                       int kind, const unsigned char *rootp);
/* Claim a page for a structure; `what` names it for overlap messages. */
void mph__ck_claim(struct mph__ck_copy *c, uint64_t pg, bool internal,
                   const char *what, uint64_t index, int copy);

/* One copy (check_copy.c): decode, walk, count. MP_OK or MP_ENOMEM. */
int mph__ck_copy_check(const struct mph__ck_img *im, int index,
                       struct mph__ck_copy *c);
void mph__ck_copy_free(struct mph__ck_copy *c);

/* The committed copy of every protected page against its checksum
 * (rules.h R3: they do not fail a metadata copy; mp_protected_get refuses a
 * copy that fails). Deep problems; sets prot_bad. */
void mph__ck_copy_content(const struct mph__ck_img *im, struct mph__ck_copy *c);

/* A whole image (check_image.c). want_ps: 0 or the caller's page size.
 * On MP_OK, c[] hold both copies (free with mph__ck_copy_free). */
int mph__ck_image(const void *base, uint64_t bytes, size_t want_ps, FILE *dump,
                  struct mph__ck_copy c[2], struct mph_check_report *r);

/* Cross-check with a read-only open by the core (check_cross.c). */
void mph__ck_cross(const struct mp_vfs *vfs, const char *path, size_t want_ps,
                   const struct mph__ck_copy *chosen,
                   struct mph_check_report *r);

/* Human summary lines (check_print.c), shared with the dump. */
int mph__ck_print_human(FILE *f, const struct mph_check_report *r);

#endif /* MPH_CHECK_INTERNAL_H */
