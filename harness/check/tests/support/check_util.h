/*
 * check_util.h - support for the checker's tests: files of known shapes,
 * byte-level damage with checksums recomputed, and the agreement check
 * between a report and what mp_pager_open does with the same file.
 */
#ifndef MPH_CHECK_UTIL_H
#define MPH_CHECK_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "mph/check.h"
#include "mpt.h"

/* Said in every failure message of cu_assert_agrees (seed, case...). */
extern char cu_context[256];

/* Run mph_check_file (with the cross-check) and assert it ran. */
void cu_check(const char *path, size_t page_size, struct mph_check_report *r);

/*
 * Assert that the report predicts mp_pager_open exactly: the same return
 * code (read-write: open_error_rw; read-only: open_error) and, on success, the
 * same recovery choice, reason and generation, and the same counts; the
 * regular-page iterator must yield r->regular_count pages. Also asserts the
 * report's own cross-check did not disagree.
 */
void cu_assert_agrees(const char *path, size_t page_size,
                      const struct mph_check_report *r);

/* Assert the verdict, printing the report first if it is not the one. */
void cu_assert_verdict(const struct mph_check_report *r, int verdict);
/* Assert some message (problem or note) contains needle. */
void cu_assert_says(const struct mph_check_report *r, const char *needle);

/* Byte access. */
uint64_t cu_get(const char *path, uint64_t off, unsigned size);
void cu_put(const char *path, uint64_t off, unsigned size, uint64_t v);
/* Recompute metadata copy c's CRC (page 1 + c); returns the new CRC. */
uint32_t cu_fix_meta_crc(const char *path, size_t ps, int c);
/* Rewrite the commit record to name copy c with its current generation
 * and CRC (a record as a commit would write it). */
void cu_name_copy(const char *path, size_t ps, int c);
/* Set a metadata field and make the copy (and, if the record names it,
 * the record) consistent again, so only the field's meaning is wrong. */
void cu_set_meta(const char *path, size_t ps, int c, unsigned off,
                 unsigned size, uint64_t v);
/* The copy the commit record names. */
int cu_selected(const char *path);
/* Page of copy k of a reference at byte off of page pg. */
uint64_t cu_ref_page(const char *path, size_t ps, uint64_t pg, unsigned off,
                     int k);
/* The live copy's page of the reference at byte off of page pg. */
uint64_t cu_ref_live(const char *path, size_t ps, uint64_t pg, unsigned off);
/*
 * Change the live copy of a node and make every checksum above it agree
 * again (metadata CRC; the record too if it names copy c), so only the
 * change's meaning is wrong. Depth-0 trees only.
 *  cu_edit_leaf0: xor byte off of map leaf 0's live copy with x.
 *  cu_edit_dir0: set the size-byte field at off of directory block 0's
 *                live copy to v.
 *  cu_edit_root: set the size-byte field at off of copy c's metadata page
 *                (a root reference, say) to v; same as cu_set_meta.
 */
void cu_edit_leaf0(const char *path, size_t ps, int c, unsigned off,
                   unsigned char x);
void cu_edit_dir0(const char *path, size_t ps, int c, unsigned off,
                  unsigned size, uint64_t v);
/* Copy a file. */
void cu_copy(const char *from, const char *to);

/* Shapes: a file at mpt_path(name) built by the core. */
const char *cu_empty(const char *name, size_t ps);
/* One alloc after create: gen 1 in copy A, gen 2 in copy B. */
const char *cu_two_commits(const char *name, size_t ps);
/* Regular pages, frees, protected pages with content, and a growth. */
const char *cu_mixed(const char *name, size_t ps);

/* True if s is one syntactically valid JSON value (and nothing else but
 * whitespace). */
int cu_json_valid(const char *s);

#endif /* MPH_CHECK_UTIL_H */
