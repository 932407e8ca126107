/*
 * fuzz_common.h - what the fuzz targets share: a byte reader, the codec
 * between fuzzer bytes and harness workloads (mph/workload.h), faultfs
 * set-up, the lockstep runs of the crash and faults targets, CRC fix-ups
 * for the open target, and failure reports.
 *
 * Every target judges with the harness's reference model and recovery
 * oracle (harness/crash), so a fuzzer and the crash explorer agree on what
 * "correct" means. Nothing here writes a real file: every pager runs over
 * a faultfs.
 *
 * Thread rules: one thread per call; the only global state is the cached
 * FUZZ_VERBOSE setting.
 */
#ifndef MP_FUZZ_COMMON_H
#define MP_FUZZ_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "faultfs.h"
#include "mappedpages.h"
#include "mph/exec.h"
#include "mph/model.h"
#include "mph/oracle.h"
#include "mph/workload.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The libFuzzer entry points every target defines (the engines call). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/** File name inside every faultfs, and the page size of every file. */
#define FZ_PATH "fuzz.mp"
#define FZ_PAGE 1024u
/** Address reservation per pager: small, so valgrind and munmap stay fast. */
#define FZ_RESERVE ((uint64_t)4 << 20)

/* ---- byte reader ------------------------------------------------------ */

/** A cursor over the input. Reads past the end give 0, never fail. */
struct fz_reader {
    const uint8_t *p;
    size_t n, pos;
};

void fz_reader_init(struct fz_reader *r, const uint8_t *data, size_t size);
/** True while unread bytes remain. */
bool fz_more(const struct fz_reader *r);
uint8_t fz_u8(struct fz_reader *r);
/** Little-endian 16 bits. */
uint16_t fz_u16(struct fz_reader *r);
/** The unread rest (tear bytes, images). */
const uint8_t *fz_rest(const struct fz_reader *r, size_t *len);

/* ---- the op codec ------------------------------------------------------ */

/*
 * Input bytes name operations, one opcode byte each, followed by their
 * arguments (fuzz/README.md, "The op stream"). 0xFF ends the stream; the
 * bytes after it belong to the target (tear pattern bytes). An id argument
 * is one byte: below 0xE0 it picks a live id of the op's own kind, counted
 * from the newest; 0xE0 and above name a special id (reserved, internal,
 * out of range, wrong kind, another kind's live id, a freed page).
 *
 * Sizes are capped from the codec, never from the input: at most max_ops
 * ops, bulk counts and lists up to 24, and at most `budget` pages asked
 * for in the whole workload (counts are clamped to what is left).
 */
struct fz_codec {
    /** Opcode table: byte % nkinds picks kinds[] (without sub, the
     *  sub-page kinds there mean the matching regular calls). */
    const uint8_t *kinds;
    size_t nkinds;
    /**
     * Sub-page ops may run: then no freed regular page and no raw page
     * number is ever passed to a regular call (such a page may have become
     * a sub-page parent, which the library does not guard against).
     */
    bool sub;
    size_t max_ops;
    uint64_t budget;
};

/** The end-of-ops marker. */
#define FZ_END 0xFF

/** Codecs of the targets. sub: whether sub-page ops are on. */
void fz_codec_ops(struct fz_codec *c, bool sub);
void fz_codec_subpage(struct fz_codec *c);

/**
 * Decode ops from r into a new workload (page_size directive FZ_PAGE).
 * Stops at FZ_END (consumed), at the end of the input or after max_ops.
 * @return MP_OK; MP_ENOMEM.
 */
int fz_decode(const struct fz_codec *c, struct fz_reader *r,
              struct mph_workload **out);

/**
 * The tail the crash and faults inputs share: an ops-codec op stream
 * (sub-page ops if sub, at most 48 ops), then the tear bytes (*tear points
 * into r's input, *ntear of them).
 * @return as fz_decode().
 */
int fz_decode_ops_and_tear(struct fz_reader *r, bool sub,
                           struct mph_workload **w, const uint8_t **tear,
                           size_t *ntear);

/**
 * Encode w for codec c into out[0, cap): the inverse of fz_decode, for
 * seeds written as workload text. Appends FZ_END if `end`. *len receives
 * the length.
 * @return MP_OK; MP_EINVAL (an op the codec cannot express: an unknown
 *         kind, a count above 24 or past the budget, a ref not live, a raw
 *         id without a code); MP_ELIMIT (cap too small); MP_ENOMEM.
 */
int fz_encode(const struct fz_codec *c, const struct mph_workload *w, bool end,
              uint8_t *out, size_t cap, size_t *len);

/* ---- faultfs and runs ---------------------------------------------------- */

/** Geometry of a simulated disk. */
struct fz_disk {
    uint64_t seed;
    uint32_t fs_page; /* write-back unit: 4096 or 1024 */
    uint32_t sector;  /* atomic unit: 512 or 64 */
    bool garbage;
    /* enum mp_open_flags of every pager made on this disk (create and
     * open): MP_OPEN_ONE_FLUSH for one-flush commits. 0 from
     * fz_disk_from_bits(). */
    unsigned open_flags;
};

/** A disk from geometry bits (bit 0 garbage, bit 1 sector 64, bit 2
 *  fs_page 1024) and a seed byte. */
void fz_disk_from_bits(struct fz_disk *d, unsigned bits, uint8_t seed);

/** A faultfs of that geometry, fresh or reused (faultfs_reuse). Release
 *  it with fz_fs_free(). @return as faultfs_new(). */
int fz_fs_new(const struct fz_disk *d, faultfs **out);

/** Give back a faultfs from fz_fs_new() or an image (every file closed)
 *  for reuse. Accepts NULL. */
void fz_fs_free(faultfs *fs);

/** Let the next crash image of fs be built in a pooled faultfs
 *  (faultfs_image_spare); release the image with fz_fs_free(). */
void fz_image_spare(faultfs *fs);

/** Executor settings for a file FZ_PATH of FZ_PAGE bytes per page. */
void fz_exec_config(struct mph_exec_config *ec, faultfs *fs);

/** Oracle settings matching fz_exec_config(). */
void fz_oracle_config(struct mph_oracle_config *oc);

/**
 * Run the whole workload on a fresh disk with the model, comparing after
 * every step; then check the closed file (clean verdict). Any difference
 * is a failure (fz_fail). On MP_OK *mp (if not NULL) receives the model
 * (caller frees) and *fsp (if not NULL) the disk (caller releases it
 * with fz_fs_free()).
 * @return MP_OK; MP_ENOMEM (the harness ran out of memory).
 */
int fz_run_checked(const char *target, const struct mph_workload *w,
                   struct mph_model **mp, faultfs **fsp);

/**
 * fz_run_checked() on the POSIX backend (mp_vfs_posix()): a real file in
 * a new directory under $TMPDIR (default /dev/shm, else /tmp), removed
 * when the run ends. @return MP_OK; MP_ENOMEM.
 */
int fz_run_posix(const char *target, const struct mph_workload *w);

/**
 * Two disks running one workload, as the crash and faults targets use
 * them: disk A with the model (executor ea) and, if asked, disk B with an
 * executor of its own and no model (eb), whose pagers get the memory hooks
 * b_mem (NULL: malloc). Both executors open with d->open_flags.
 */
struct fz_pair {
    faultfs *fa, *fb;
    struct mph_model *m;
    struct mph_exec *ea, *eb;
};

/** Make p for w on disks of geometry d. On failure nothing is left to
 *  free. @return MP_OK; MP_ENOMEM. */
int fz_pair_new(struct fz_pair *p, const struct mph_workload *w,
                const struct fz_disk *d, bool want_b,
                const struct mp_allocator_hooks *b_mem);

/** Free p's executors, model and disks (back to the pool); p is zeroed. */
void fz_pair_free(struct fz_pair *p);

/**
 * Judge a crash image with the recovery oracle (checker and rule 6 on).
 * prev may be NULL (crash between ops). Fails the run on a violation.
 * @return MP_OK; MP_ENOMEM.
 */
int fz_judge_image(const char *target, const struct mph_workload *w,
                   faultfs *image, const struct mph_model *m,
                   const struct mph_state *prev, const struct mph_state *cur,
                   unsigned flags, const char *context);

/** fz_judge_image() whose oracle opens with open_flags (enum
 *  mp_open_flags: the mode rule 6 commits in). */
int fz_judge_image_mode(const char *target, const struct mph_workload *w,
                        faultfs *image, const struct mph_model *m,
                        const struct mph_state *prev,
                        const struct mph_state *cur, unsigned flags,
                        unsigned open_flags, const char *context);

/* ---- the crash target ------------------------------------------------- */

/** A decoded input of the crash target. */
struct fz_crash_input {
    struct mph_workload *w;
    struct fz_disk disk;
    int site;      /* enum fz_site */
    uint8_t opsel; /* which op (or gap) */
    uint8_t ptsel; /* which crash point inside it */
    const uint8_t *tear;
    size_t ntear;
};

/** Kinds of crash sites. */
enum fz_site {
    FZ_SITE_OP = 0,     /* a crash point inside an op */
    FZ_SITE_GAP = 1,    /* between two ops */
    FZ_SITE_CREATE = 2, /* a crash point inside create */
};

/** Decode a crash-target input. @return MP_OK; MP_ENOMEM. */
int fz_crash_parse(const uint8_t *data, size_t size, struct fz_crash_input *in);

/** Free what fz_crash_parse() allocated. */
void fz_crash_input_free(struct fz_crash_input *in);

/**
 * Run the workload to the site, crash there, build the image from the
 * tear bytes and judge it with the oracle; any violation is a failure.
 * @return MP_OK; MP_ENOMEM.
 */
int fz_crash_run(const char *target, const struct fz_crash_input *in);

/* ---- the faults target ------------------------------------------------ */

/** A decoded input of the faults target. */
struct fz_faults_input {
    struct mph_workload *w;
    struct fz_disk disk;
    struct faultfs_fault fault[2];
    size_t nfaults;
    bool crash; /* crash after the failure (else reopen the live disk) */
    const uint8_t *tear;
    size_t ntear;
    /*
     * Flag bit 6: fault 0 is no I/O fault but the failure of allocation
     * mem_nth (1-based) of B's pager, counted from create on; sticky: and
     * every later one.
     */
    bool mem;
    bool mem_sticky;
    uint64_t mem_nth;
};

/** Decode a faults-target input. @return MP_OK; MP_ENOMEM. */
int fz_faults_parse(const uint8_t *data, size_t size,
                    struct fz_faults_input *in);

/** Free what fz_faults_parse() allocated. */
void fz_faults_input_free(struct fz_faults_input *in);

/**
 * Run the workload with the faults injected next to a clean run with the
 * model; judge the first call the faults make fail: a clean error code, a
 * pager whose state is unchanged, either usable or (after a failed sync)
 * refusing every write (MP_EUNAVAILABLE); after close a file that shows
 * exactly what memory showed, after a crash (if asked) one that recovers
 * the state before or after the call (oracle).
 * @return MP_OK; MP_ENOMEM.
 */
int fz_faults_run(const char *target, const struct fz_faults_input *in);

/* ---- file images (open target) ----------------------------------------- */

/**
 * The open target: open the image (bytes after the control byte) with
 * the core; judge the result against the checker's prediction, and run a
 * short workload when it opens. Control byte: bits 0-2 enum fz_fix,
 * bit 3 read-only open, bit 4 expect 1024-byte pages (else accept the
 * file's), bit 5 run the workload through mp_shared (else through the
 * generic allocator interface), bit 6 a second byte makes the pager's
 * allocation 1 + (byte & 0x7f) fail (bit 7: and every later one), bit 7
 * reserve no address space beyond the file (growth: MP_ELIMIT).
 * @return MP_OK; MP_ENOMEM.
 */
int fz_open_run(const char *target, const uint8_t *data, size_t size);

/**
 * The subpage target's checks after the workload: rebuild every sub-page
 * allocator from the model's ids on a reopened pager (refusing bad lists
 * first), fill every slot with its own pattern and read all back, free
 * every slot in bulk, and check the file. @return MP_OK; MP_ENOMEM.
 */
int fz_subpage_check(const char *target, const struct mph_workload *w,
                     const struct mph_model *m, faultfs *fs);

/** fz_fix_image() flags: which checksums to make valid. */
enum fz_fix {
    FZ_FIX_HEADER = 1 << 0, /* static header CRC */
    FZ_FIX_META = 1 << 1,   /* both metadata copies, and the map/dir root
                               references they hold (depth 0 leaves) */
    FZ_FIX_RECORD = 1 << 2, /* commit record: CRC, and the CRC of the copy
                               it names */
};

/**
 * Recompute checksums of a file image in place so mutations get past the
 * CRC checks (the core never relaxes them, so the fuzzer computes them).
 * Reads every field with bounds checks; leaves what it cannot place alone.
 */
void fz_fix_image(uint8_t *img, size_t len, unsigned flags);

/* ---- reports ----------------------------------------------------------- */

/** True if FUZZ_VERBOSE is set in the environment (read once). */
bool fz_verbose(void);

/**
 * Report a bug and abort(): the target, the message, and the workload in
 * the text format (which mph-run and mp-explore read) on stderr.
 */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((noreturn, format(printf, 3, 4)))
#endif
void fz_fail(const char *target, const struct mph_workload *w,
             const char *fmt, ...);

/** Print the workload (verbose mode and failures). */
void fz_print_workload(const struct mph_workload *w, FILE *f);

#ifdef __cplusplus
}
#endif
#endif /* MP_FUZZ_COMMON_H */
