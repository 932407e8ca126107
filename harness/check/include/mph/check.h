/*
 * mph/check.h - the file checker: an independent validator of mappedpages
 * files (core/FORMAT.md), used by the mp-check tool, by the crash-state
 * explorer (oracle rule 4 of DESIGN.md) and by tests.
 *
 * The checker reads the file read-only and decodes every structure itself,
 * from FORMAT.md, without the core's decoding code: the superblock, the
 * commit record, both metadata copies, both trees of A/B nodes, every map
 * leaf, every directory block and the committed copy of every protected
 * page. It predicts what mp_pager_open() would do (which copy recovery
 * takes and why, or which error open returns), and then, unless told not
 * to, opens the file read-only with the production core and compares: the
 * recovery choice, the counts, and the two iterators against its own view.
 *
 * Verdicts:
 *  - MPH_CHECK_CLEAN: open follows an intact commit record to a copy that
 *    validates, and everything that copy reaches is consistent.
 *  - MPH_CHECK_RECOVERABLE: open succeeds but has to fall back (a torn
 *    commit record, or a record naming a copy that does not validate), and
 *    the copy it falls back to is consistent. A crash during a commit may
 *    legitimately leave a torn record; anything else here means damage.
 *  - MPH_CHECK_CORRUPT: open fails, or the copy open would use is
 *    inconsistent in a way open does not look for (a protected page whose
 *    committed copy fails its checksum, which mp_protected_get refuses
 *    with MP_ECORRUPT; reserved bytes that are not zero), or the core
 *    disagrees with the checker.
 * Oracle rule 4 ("the file checker passes") means a verdict other than
 * MPH_CHECK_CORRUPT: see mph_check_passed().
 *
 * A report carries the first problem as text, up to MPH_CHECK_MAX_MSGS
 * messages (problems and notes), and the numbers behind the verdict. Notes
 * never change the verdict: they record oddities a crash may legitimately
 * leave (a file longer than its page count after a crash during growth,
 * garbage in ignored bytes of page 0, a stale inactive copy).
 *
 * Every number read from the file is validated before it is used; a
 * hostile file gets a verdict, never an access outside the file.
 *
 * Thread rules: no global state; reports are the caller's. Concurrent
 * checks of different files are fine. The checker takes no file lock
 * unless asked (MPH_CHECK_SHARED_LOCK), so without it a file a writer is
 * changing at the same moment may be reported damaged.
 */
#ifndef MPH_CHECK_H
#define MPH_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mappedpages.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Verdicts (also the exit status of mp-check). */
#define MPH_CHECK_CLEAN       0
#define MPH_CHECK_RECOVERABLE 1
#define MPH_CHECK_CORRUPT     2

/** Messages a report keeps (problems first come first kept). */
#define MPH_CHECK_MAX_MSGS 16
/** Longest message, terminator included. */
#define MPH_CHECK_MSG_LEN 256

/** Flags for mph_check_file_ex(). */
enum mph_check_flags {
    /**
     * Skip the cross-check with a read-only open by the production core
     * (for callers that open the file with the core themselves, such as the
     * crash explorer, and want the check to cost one pass over the file).
     */
    MPH_CHECK_NO_CROSS = 1 << 0,
    /**
     * Hold a shared lock on the file (mp_io_methods.lock) from before the
     * first byte is read until after the cross-check, as a read-only
     * mp_pager_open() does: no writer can commit meanwhile, so the verdict
     * is about one state of the file. If a writer holds the file the check
     * does not run and MP_ELOCKED is returned. (The checker keeps its file
     * open through the cross-check then: the backend must allow two opens
     * of one name, as the posix one does.) mp-check sets this unless told
     * --no-lock. Without it the check takes no lock and a file a writer is
     * changing at that moment may be reported damaged.
     */
    MPH_CHECK_SHARED_LOCK = 1 << 1,
};

/** Outcome of the cross-check with the production core. */
enum mph_cross {
    /** Not run (MPH_CHECK_NO_CROSS, or mph_check_image()). */
    MPH_CROSS_SKIPPED = 0,
    /** The core's open agrees with the checker in every compared number. */
    MPH_CROSS_AGREES = 1,
    /** Some comparison failed; the problems say which. */
    MPH_CROSS_DISAGREES = 2,
    /** The core could not open the file for a reason the checker does not
     *  predict (MP_ENOMEM, MP_EIO, ...); nothing was compared. */
    MPH_CROSS_UNAVAILABLE = 3,
};

/** What the checker found in one metadata copy (page 1 or page 2). */
struct mph_check_copy {
    /** Passes the header checks of FORMAT.md section 9 step 2. */
    bool header_ok;
    /** Validates fully, as recovery judges it (FORMAT.md sections 7 and 9,
     *  the generation check included for a one-flush copy). */
    bool valid;
    /** Commit flags bit 0: written by a one-flush commit (FORMAT.md 8.2).
     *  Meaningful where header_ok. */
    bool one_flush;
    /** Fields as decoded (meaningful where header_ok, else best effort). */
    uint64_t generation;
    uint64_t total_pages;
    uint64_t free_pages;
    uint64_t slots;
    uint64_t protected_in_use;
    uint32_t crc;
    uint32_t used_len;
    unsigned map_depth, map_roots, dir_depth, dir_roots;
    /** Why it does not validate ("" when valid). */
    char why[MPH_CHECK_MSG_LEN];
};

/** One message of a report. */
struct mph_check_msg {
    /**
     * MPH_CHECK_CLEAN (0): a note, which changes nothing;
     * MPH_CHECK_RECOVERABLE (1): damage recovery works around (open falls
     * back to the other metadata copy);
     * MPH_CHECK_CORRUPT (2): damage that fails the file.
     * The verdict is the highest severity of all messages, kept or not.
     */
    int severity;
    char text[MPH_CHECK_MSG_LEN];
};

/** The result of one check. Plain data: copy it, keep it, no cleanup. */
struct mph_check_report {
    /** MPH_CHECK_CLEAN, MPH_CHECK_RECOVERABLE or MPH_CHECK_CORRUPT. */
    int verdict;
    /** Numbers of the copy recovery would choose (0 when none). */
    uint64_t page_size;
    uint64_t page_count;
    uint64_t free_count;
    uint64_t regular_count;   /**< allocated pages that are neither reserved
                                   nor internal: what mp_iter_pages yields */
    uint64_t protected_count; /**< directory entries in use */
    uint64_t internal_count;  /**< as mp_pager_internal_count(): map-leaf
                                   copies, index nodes, directory blocks,
                                   protected backing pages */
    /** The copy the commit record names (0 or 1); -1 if the record is torn
     *  (bad magic, checksum or selector). */
    int selected_copy;
    /** The copy mp_pager_open's recovery would take; -1 if open fails. */
    int recovery_would_choose;
    /** enum mp_recovery_reason open would report; -1 if open fails. */
    int recovery_reason;
    /** What mp_pager_open(path, page_size) would return: MP_OK, or
     *  MP_ECORRUPT_SUPER, MP_EVERSION, MP_EPAGESIZE, MP_ECORRUPT_META. */
    int open_error;
    /** What a read-write open would return: open_error, except MP_EVERSION
     *  for an otherwise sound superblock of a newer format minor (only
     *  read-only opens accept one; the cross-check opens read-only). */
    int open_error_rw;
    /** Generation of the chosen copy (0 when none). */
    uint64_t generation;
    /** File length in bytes. */
    uint64_t file_bytes;
    /** Shape of the chosen copy. */
    uint64_t slots;
    uint64_t map_leaves;
    uint64_t dir_blocks;
    unsigned map_depth;
    unsigned dir_depth;
    /** The commit record (bytes 512-535 of page 0), as decoded. */
    bool record_intact;
    uint32_t record_selector;
    uint64_t record_generation;
    uint32_t record_crc;
    /** Both metadata copies. */
    struct mph_check_copy copy[2];
    /** How recovery would decide, in words. */
    char recovery_why[MPH_CHECK_MSG_LEN];
    /** enum mph_cross. */
    int cross_check;
    /** Problems and notes found (all of them, kept or not). */
    unsigned problem_count;
    unsigned note_count;
    /** First problem, human readable; "" if none. */
    char problem[512];
    /** The first MPH_CHECK_MAX_MSGS messages, in the order found. */
    unsigned msg_count;
    struct mph_check_msg msgs[MPH_CHECK_MAX_MSGS];
    /**
     * The device the core's read-only open reported for the file
     * (mp_pager_device(), FORMAT.md 2.3): its power-fail unit in bytes
     * and struct mp_io_device flags; device_sector is 0 when the
     * cross-check did not open the file.
     */
    uint32_t device_sector;
    uint32_t device_flags;
};

/**
 * Check the file at path: open it read-only through vfs (no lock), map
 * it, validate everything, then cross-check with a read-only, unlocked
 * mp_pager_open() through the same vfs. Same as mph_check_file_ex() with
 * flags 0.
 *
 * @param[in]  vfs        backend; NULL means mp_vfs_posix().
 * @param[in]  path       the file.
 * @param[in]  page_size  the page size the caller expects (as for
 *                        mp_pager_open), or 0 to take the superblock's.
 * @param[out] out        the report; filled whenever MP_OK is returned.
 * @return MP_OK when the check ran (out->verdict says what it found, also
 *         for files too short or too damaged to open); MP_EINVAL (path or
 *         out NULL); MP_EPAGESIZE (page_size not 0 and not a valid page
 *         size); MP_ENOENT; MP_EIO or MP_ENOMEM (the file could not be
 *         opened, sized or mapped, or the checker ran out of memory).
 */
int mph_check_file(const struct mp_vfs *vfs, const char *path, size_t page_size,
                   struct mph_check_report *out);

/** mph_check_file() with enum mph_check_flags. Same errors, and
 *  MP_ELOCKED (MPH_CHECK_SHARED_LOCK: a writer holds the file; nothing was
 *  checked and *out is not filled). */
int mph_check_file_ex(const struct mp_vfs *vfs, const char *path,
                      size_t page_size, unsigned flags,
                      struct mph_check_report *out);

/**
 * Check an image of a file held in memory (bytes long). No cross-check
 * (cross_check is MPH_CROSS_SKIPPED). For fuzz targets and for crash
 * images that are not files.
 * @return MP_OK (verdict in *out); MP_EINVAL (out NULL, or image NULL with
 *         bytes > 0); MP_EPAGESIZE (bad page_size); MP_ENOMEM.
 * The image is only read, and only during the call.
 */
int mph_check_image(const void *image, uint64_t bytes, size_t page_size,
                    struct mph_check_report *out);

/** True if the report passes oracle rule 4: verdict is not CORRUPT. */
bool mph_check_passed(const struct mph_check_report *r);

/** "clean", "recoverable" or "corrupt" ("?" for other values). */
const char *mph_check_verdict_name(int verdict);

/**
 * Print a report: a few readable lines, or (json != 0) one JSON object on
 * one line followed by a newline. The JSON keys are documented in
 * harness/check/README.md.
 * @return MP_OK; MP_EINVAL (f or r NULL); MP_EIO (the stream reported an
 *         error).
 */
int mph_check_print(FILE *f, const struct mph_check_report *r, int json);

/**
 * Print, for a person, every field of the file's superblock and commit
 * record, both metadata copies, each tree as an indented outline (both
 * physical pages of every node, the live copy, the checksum verdict; each
 * map leaf's allocated count; each directory entry in use; long levels are
 * cut at 32 nodes), then the summary of a full check (mph_check_file).
 * @param[in]  page_size  as for mph_check_file (0: the superblock's).
 * @param[out] out        the check's report, or NULL.
 * @return the errors of mph_check_file(); MP_EINVAL (f NULL); MP_EIO if
 *         the stream failed.
 */
int mph_check_dump(FILE *f, const struct mp_vfs *vfs, const char *path,
                   size_t page_size, struct mph_check_report *out);

/** mph_check_dump() with enum mph_check_flags (as mph_check_file_ex()). */
int mph_check_dump_ex(FILE *f, const struct mp_vfs *vfs, const char *path,
                      size_t page_size, unsigned flags,
                      struct mph_check_report *out);

#ifdef __cplusplus
}
#endif
#endif /* MPH_CHECK_H */
