/*
 * layout.h - the byte layout of format 2.0 that open and the checker must
 * agree on (FORMAT.md sections 2, 7 and 9.1): field offsets of the static
 * header, the commit record and the fixed part of a metadata copy, the
 * reserved ranges and their rule, and the search for the static header in
 * the metadata copies when page 0 is damaged.
 *
 * Included by the core (pager.c, recover.c, commit.c) and by the checker
 * (harness/check), so one table states each fact. Everything here is
 * static and const: no state, no allocation.
 *
 * Callers must include crc32c.h and endian.h first (both are here beside).
 */
#ifndef MP_LAYOUT_H
#define MP_LAYOUT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "crc32c.h"
#include "endian.h"
#include "mappedpages/pager.h"

/* Static header, page 0 bytes [0, 64) (FORMAT.md 2.1). */
#define MP__HDR_SIZE      64
#define MP__HDR_MAGIC     "MAPPEDPG"
#define MP__HDR_MAJOR     8
#define MP__HDR_MINOR     10
#define MP__HDR_LOG2      12
#define MP__HDR_FLAGS     16
#define MP__HDR_CRC       60
#define MP__HDR_KNOWN_FLG 0u /* no flag bit is defined */

/* Commit record, page 0 bytes [512, 536) (FORMAT.md 2.2). */
#define MP__REC_OFF      512
#define MP__REC_SIZE     24
#define MP__REC_MAGIC    "MPCR"
#define MP__REC_SELECTOR 4 /* relative to MP__REC_OFF */
#define MP__REC_GEN      8
#define MP__REC_COPY_CRC 16
#define MP__REC_CRC      20

/* The fixed part of a metadata copy, bytes [0, 128) (FORMAT.md 7). */
#define MP__MD_MAGIC      "MPMD"
#define MP__MD_CRC        4
#define MP__MD_USED       8
#define MP__MD_MAJOR      12
#define MP__MD_MINOR      14
#define MP__MD_GEN        16
#define MP__MD_TOTAL      24
#define MP__MD_FREE       32
#define MP__MD_SLOTS      40
#define MP__MD_IN_USE     48
#define MP__MD_LOG2       56
#define MP__MD_MAP_DEPTH  60
#define MP__MD_MAP_ROOTS  64
#define MP__MD_DIR_DEPTH  68
#define MP__MD_DIR_ROOTS  72
#define MP__MD_FILE_MAGIC 76 /* the static header's magic, 8 bytes */
#define MP__MD_FLAGS      84 /* the static header's flags */
#define MP__MD_COMMIT     88 /* commit flags (4 bytes); 92-127 reserved */
#define MP__MD_HDR        128

/* Commit flags of a metadata copy (FORMAT.md 7): bit 0 = written by a
 * one-flush commit (8.2). A copy with any other bit does not validate. */
#define MP__CF_ONE_FLUSH 1u
#define MP__CF_KNOWN     1u

/* A protected-directory entry (FORMAT.md 6): 32 bytes. */
#define MP__ENT_SIZE  32
#define MP__ENT_PAGE0 0
#define MP__ENT_PAGE1 8
#define MP__ENT_CRC   16
#define MP__ENT_FLAGS 20
#define MP__ENT_GEN   24 /* generation of the commit that wrote the content */

/* E: directory entries per block (FORMAT.md 5 and 6). */
static inline uint64_t mp__dir_entries(size_t page_size)
{
    return page_size / MP__ENT_SIZE;
}

/* A byte range [from, to) of a structure. */
struct mp__range32 {
    uint32_t from, to;
};

/*
 * Reserved bytes (FORMAT.md 2.1 and 7). The rule, the same for both: a
 * structure whose own minor version is at most MP_FORMAT_MINOR has zeros
 * there, or it is not valid; a newer minor may have defined them, so they
 * are not looked at.
 */
static const struct mp__range32 mp__hdr_reserved = { 20, 60 };
static const struct mp__range32 mp__md_reserved = { 92, 128 };

static inline bool mp__reserved_ok(const unsigned char *b, struct mp__range32 r,
                                   unsigned minor)
{
    if (minor > MP_FORMAT_MINOR) {
        return true;
    }
    for (uint32_t i = r.from; i < r.to; i++) {
        if (b[i]) {
            return false;
        }
    }
    return true;
}

/* What the static header says, in the order open checks it (2.1). */
enum mp__hdr_verdict {
    MP__HV_OK = 0,
    MP__HV_DAMAGED,  /* magic or CRC wrong: take it from a copy (9.1) */
    MP__HV_VERSION,  /* intact, but a major this reader does not know */
    MP__HV_FLAGS,    /* intact, but an unknown flag bit */
    MP__HV_RESERVED, /* intact, but non-zero reserved bytes */
    MP__HV_LOG2,     /* intact, but log2(P) outside [10, 24] */
};

static inline enum mp__hdr_verdict mp__hdr_check(const unsigned char *h)
{
    if (memcmp(h, MP__HDR_MAGIC, 8) != 0 ||
        mp__crc32c(0, h, MP__HDR_CRC) != mp__le32(h + MP__HDR_CRC)) {
        return MP__HV_DAMAGED;
    }
    if (mp__le16(h + MP__HDR_MAJOR) != MP_FORMAT_MAJOR) {
        return MP__HV_VERSION;
    }
    if (mp__le32(h + MP__HDR_FLAGS) & ~MP__HDR_KNOWN_FLG) {
        return MP__HV_FLAGS;
    }
    if (!mp__reserved_ok(h, mp__hdr_reserved, mp__le16(h + MP__HDR_MINOR))) {
        return MP__HV_RESERVED;
    }
    if (mp__le32(h + MP__HDR_LOG2) < 10 || mp__le32(h + MP__HDR_LOG2) > 24) {
        return MP__HV_LOG2;
    }
    return MP__HV_OK;
}

/* The fields of the static header, from page 0 or from a copy. */
struct mp__hdr_info {
    unsigned major, minor, log2;
    uint32_t flags;
    int from_copy; /* -1: page 0; 0 or 1: the copy they were taken from */
};

static inline void mp__hdr_decode(const unsigned char *h,
                                  struct mp__hdr_info *out)
{
    out->major = mp__le16(h + MP__HDR_MAJOR);
    out->minor = mp__le16(h + MP__HDR_MINOR);
    out->log2 = mp__le32(h + MP__HDR_LOG2);
    out->flags = mp__le32(h + MP__HDR_FLAGS);
    out->from_copy = -1;
}

/*
 * True if the page m of a file with pages of 2^log2 bytes is a metadata
 * copy whose own checksum holds and that carries the static header for
 * that page size: the test of FORMAT.md 9.1 step 2. Reads at most page
 * bytes of m.
 */
static inline bool mp__md_carries_header(const unsigned char *m, unsigned log2)
{
    uint32_t used = mp__le32(m + MP__MD_USED);
    if (memcmp(m, MP__MD_MAGIC, 4) != 0 || used < MP__MD_HDR ||
        used > ((uint32_t)1 << log2)) {
        return false;
    }
    return memcmp(m + MP__MD_FILE_MAGIC, MP__HDR_MAGIC, 8) == 0 &&
           mp__le32(m + MP__MD_LOG2) == log2 &&
           mp__crc32c(0, m + MP__MD_CRC + 4, used - 8) ==
               mp__le32(m + MP__MD_CRC);
}

/*
 * Page 0's header is damaged: find the static header in the metadata
 * copies (FORMAT.md 9.1). For each page size from 1 KiB up whose three
 * first pages fit in the bytes, copy A then copy B. True with *out filled
 * from the first copy that carries it.
 */
static inline bool mp__hdr_from_copies(const unsigned char *base,
                                       uint64_t bytes, struct mp__hdr_info *out)
{
    for (unsigned l = 10; l <= 24; l++) {
        uint64_t ps = (uint64_t)1 << l;
        if (bytes < 3 * ps) {
            break;
        }
        for (int c = 0; c < 2; c++) {
            const unsigned char *m = base + (1 + (uint64_t)c) * ps;
            if (mp__md_carries_header(m, l)) {
                out->major = mp__le16(m + MP__MD_MAJOR);
                out->minor = mp__le16(m + MP__MD_MINOR);
                out->log2 = l;
                out->flags = mp__le32(m + MP__MD_FLAGS);
                out->from_copy = c;
                return true;
            }
        }
    }
    return false;
}

/*
 * The static-header fields a metadata copy carries (magic, flags) agree
 * with the header in use, its commit flags have no unknown bit and its
 * reserved bytes keep the rule: part of a copy's header checks (FORMAT.md
 * 7). The caller has checked magic, CRC and log2.
 */
static inline bool mp__md_static_ok(const unsigned char *m, uint32_t flags)
{
    return memcmp(m + MP__MD_FILE_MAGIC, MP__HDR_MAGIC, 8) == 0 &&
           mp__le32(m + MP__MD_FLAGS) == flags &&
           !(mp__le32(m + MP__MD_COMMIT) & ~MP__CF_KNOWN) &&
           mp__reserved_ok(m, mp__md_reserved, mp__le16(m + MP__MD_MINOR));
}

/* True if metadata copy m was written by a one-flush commit (FORMAT.md
 * 8.2); meaningful once the copy passed mp__md_static_ok. */
static inline bool mp__md_one_flush(const unsigned char *m)
{
    return (mp__le32(m + MP__MD_COMMIT) & MP__CF_ONE_FLUSH) != 0;
}

#endif /* MP_LAYOUT_H */
