/*
 * faultfs.h - a fault-injecting, in-memory implementation of the core's I/O
 * seam (mappedpages/io.h) that simulates crashes, torn writes, lost
 * unsynced pages and I/O errors, deterministically from a 64-bit seed.
 *
 * THE MODEL (../shared/DESIGN.md, "The crash model faultfs simulates")
 *
 * A faultfs handle is one simulated disk holding named files. Each file has
 *  - a durable image and a durable size (what survives a crash), and
 *  - a volatile state: the current size and the bytes of the mapping (the
 *    "page cache"), which is the memory map() hands to the program.
 * The program stores into the mapping. sync(ranges) makes the pages of those
 * ranges durable; sync_file() makes every page and the size durable. Growth
 * changes only the current size until sync_file(). Names are a small journal:
 * open(MP_IO_CREATE), rename and remove change the current namespace at once
 * and the durable one in order; sync_dir() of any path makes all of them
 * durable (one journal for the whole namespace, as ext4 has).
 *
 * A page (the write-back unit, faultfs_config.page_size, 4096 by default)
 * is dirty when its volatile bytes differ from its durable bytes. At a
 * crash each dirty page may be old, new or torn: mixed per sector
 * (faultfs_config.sector_size, 512 by default, 1 .. page_size) of old and
 * new bytes, and, with faultfs_config.garbage, garbage. Only sectors whose
 * old and new bytes differ are choices; unchanged sectors are kept. Each
 * file's size is its durable or its current size; bytes past the chosen
 * size are cut, bytes past the durable content read as zeros. The
 * namespace is the durable one with the first k pending name operations
 * applied, 0 <= k <= pending. A crash image is one such choice.
 *
 * CRASH POINTS
 *
 * Every failure-capable call passes numbered crash points (0, 1, 2, ...):
 *  - sync and sync_file: BEFORE (nothing of the call persisted), DURING (a
 *    prefix, chosen from the seed, of the call's dirty sectors persisted)
 *    and AFTER (the call completed);
 *  - open, remove, rename, sync_dir, grow, map, extend_map: BEFORE, AFTER.
 * lock, size, unmap and close are not crash points. The numbering depends
 * only on the sequence of calls, never on faults or arming, so a run that
 * is repeated with the same seed passes the same points. When an armed
 * point is reached faultfs crashes: it freezes a snapshot of the disk
 * (durable state, the dirty pages with their new bytes, both sizes, the
 * pending names) and from then on every failure-capable call and every lock
 * acquisition fails with MP_EIO ("device gone"), so the program unwinds.
 * A crash at BEFORE or DURING makes the call itself fail with MP_EIO; at
 * AFTER the call returns its own result. size, unmap, close and unlocking
 * keep working so the program can close its pager normally.
 *
 * CRASH IMAGES
 *
 * A crashed faultfs hands out images: each is a new faultfs whose files'
 * durable and volatile states both equal the image (as after a reboot),
 * ready for the program to open through faultfs_vfs() and recover. Images
 * share the untouched pages of the snapshot copy-on-write, so making and
 * opening one costs about a copy of its dirty pages, not of the file.
 * Images can be enumerated (every choice), drawn at random from a seed or
 * from fuzzer bytes, and printed as a tear pattern that rebuilds the same
 * image (faultfs_image_from_pattern) for a reproducer.
 *
 * FAULTS WITHOUT A CRASH
 *
 * faultfs_inject() fails the N-th call of a kind (or the N-th
 * failure-capable call), once or from then on: a sync failing with MP_EIO
 * having persisted none, part or all of its range; grow failing with
 * MP_ENOSPC; map or extend_map with MP_ENOMEM; a lock reported held
 * (MP_ELOCKED); or any code you choose.
 *
 * LOCKS AND MAPPINGS
 *
 * Locks follow flock(2): per open file, shared locks coexist, an exclusive
 * lock conflicts with every other open of the same file (in this faultfs,
 * and with faultfs_config.process_locks also in forked copies of it),
 * conversion is allowed when nobody else holds it, and MP_ELOCKED is
 * returned instead of blocking. All opens of one file share one mapping
 * address (as pages of one page cache do): each map() returns the same base
 * pointer and a reservation no larger than the first one obtained for the
 * file. The mapping is read-only while only MP_IO_READONLY opens have it
 * mapped, and writable once any read-write open maps it.
 *
 * DETERMINISM AND THREADS
 *
 * Given the same seed, configuration and sequence of calls, faultfs passes
 * the same points, makes the same choices and produces byte-identical
 * images. Random choices are derived from (seed, point, purpose), never
 * from a running stream, so arming a crash does not change them. Each
 * faultfs has a mutex: its vfs may be used by several pagers and threads at
 * once (as io.h requires), but determinism then needs a deterministic call
 * order. Different faultfs handles are independent (images of one crashed
 * faultfs may be made and used on different threads; the crashed faultfs
 * must outlive the calls that make them, not the images).
 *
 * ERRORS AND OWNERSHIP
 *
 * Every fallible function returns MP_OK or a negative MP_E* code from
 * mappedpages/error.h. Output pointers are set only on MP_OK unless stated.
 * Every faultfs * handed out is owned by the caller and released with
 * faultfs_free().
 *
 * Linux only (memfd, mmap with MAP_NORESERVE).
 */
#ifndef FAULTFS_H
#define FAULTFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mappedpages/error.h"
#include "mappedpages/io.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
# define FAULTFS_API __attribute__((visibility("default")))
#else
# define FAULTFS_API
#endif

/** One simulated disk. Opaque. */
typedef struct faultfs faultfs;

/* ---- configuration -------------------------------------------------- */

/** Version of struct faultfs_config described here. */
#define FAULTFS_CONFIG_VERSION 1

/** Defaults. */
#define FAULTFS_DEFAULT_PAGE_SIZE   4096u
#define FAULTFS_DEFAULT_SECTOR_SIZE 512u
#define FAULTFS_DEFAULT_TRACE_MAX   4096u

/** Configuration of a faultfs. Initialise with faultfs_config_init(). */
struct faultfs_config {
    int version;
    /** Seed of every random choice (DURING splits, garbage, sampling). */
    uint64_t seed;
    /**
     * Write-back unit in bytes: the granularity of dirty tracking and of
     * the old/new/torn choice. Power of two, 512 .. 1 MiB; 0 = 4096 (the
     * kernel writes back mmap pages one OS page at a time).
     */
    uint32_t page_size;
    /**
     * Atomic write unit in bytes: a torn page mixes whole sectors. Power of
     * two, 1 .. page_size; 0 = 512. sector_size == page_size models an
     * "atomic page" device (no tears).
     */
    uint32_t sector_size;
    /** A torn sector may also hold garbage (3 choices instead of 2). */
    bool garbage;
    /** Trace entries kept (the most recent ones); 0 = 4096. */
    size_t trace_max;
    /**
     * Also take a real flock(2) lock for every lock() call, on a private
     * description of a per-file memfd, so opens in forked processes (each
     * with its own copy of this faultfs) conflict as with the posix
     * backend. Costs a memfd per locked file and a descriptor per open.
     * Without it locks conflict only within this process.
     */
    bool process_locks;
};

/** Fill *cfg with defaults: seed 0, 4096-byte pages, 512-byte sectors,
 *  no garbage, 4096 trace entries. */
FAULTFS_API void faultfs_config_init(struct faultfs_config *cfg);

/**
 * Create an empty simulated disk.
 *
 * @param[in]  cfg  configuration, or NULL for the defaults.
 * @param[out] out  the new faultfs.
 * @return MP_OK; MP_EINVAL (bad version, sizes not powers of two or out of
 *         range, out NULL); MP_ENOMEM.
 */
FAULTFS_API MP_NODISCARD int faultfs_new(const struct faultfs_config *cfg,
                                         faultfs **out);

/**
 * Free a faultfs and everything it holds. Accepts NULL. Every file opened
 * through its vfs must be closed first (their mappings die with it).
 * Images made from it stay valid (they hold their own references).
 */
FAULTFS_API void faultfs_free(faultfs *fs);

/**
 * Make fs what faultfs_new(cfg) would make - no files, names, crash,
 * faults, trace or counters - keeping memory it can use again: the region
 * of one freed file, cleared, for the next file whose mapping asks for the
 * same reservation. For loops that make one disk per run (fuzz targets):
 * a fresh region costs a kernel page fault on the first store into each
 * page, about a fifth of a short fuzz run; a reused one only the clearing
 * of the pages the last run touched (found in /proc/self/pagemap; without
 * it the region is freed instead). Images made from fs before stay valid.
 * The vfs pointer stays the same.
 * @return MP_OK; MP_EINVAL (fs NULL, bad cfg, or a file of fs still open:
 *         fs unchanged).
 */
FAULTFS_API MP_NODISCARD int faultfs_reuse(faultfs *fs,
                                           const struct faultfs_config *cfg);

/**
 * Hand fs a faultfs to build its next crash image in: the next
 * faultfs_image_* call resets `spare` as faultfs_reuse() would (with fs's
 * configuration) and returns it as the image, instead of making a new
 * faultfs - so a loop that opens one image per run reuses the image's
 * memory too (a reused region takes a base of up to 4 MiB as a copy
 * rather than mapping it, as its pages are already in the page table).
 * fs owns spare from now on (an earlier spare not yet used is freed; so
 * is this one by faultfs_free(fs) if no image is made). spare must have
 * no open file. Accepts fs NULL (spare is freed) and spare NULL.
 */
FAULTFS_API void faultfs_image_spare(faultfs *fs, faultfs *spare);

/**
 * The I/O backend to put in mp_options.vfs. Valid until faultfs_free(fs).
 * Paths are names in this faultfs's flat namespace (any string; the part
 * before the last '/' is the directory only for messages).
 */
FAULTFS_API const struct mp_vfs *faultfs_vfs(faultfs *fs);

/** The configuration fs was made with (defaults filled in). */
FAULTFS_API void faultfs_get_config(const faultfs *fs,
                                    struct faultfs_config *cfg);

/* ---- calls, crash points ------------------------------------------- */

/** Kinds of seam calls (for faults, arming and the trace). */
enum faultfs_call {
    /** In faults and arming: any failure-capable call (see below). */
    FAULTFS_CALL_ANY = 0,
    FAULTFS_CALL_OPEN = 1,
    FAULTFS_CALL_REMOVE = 2,
    FAULTFS_CALL_RENAME = 3,
    FAULTFS_CALL_SYNC_DIR = 4,
    FAULTFS_CALL_LOCK = 5,
    FAULTFS_CALL_SIZE = 6,
    FAULTFS_CALL_GROW = 7,
    FAULTFS_CALL_MAP = 8,
    FAULTFS_CALL_EXTEND_MAP = 9,
    FAULTFS_CALL_SYNC = 10,
    FAULTFS_CALL_SYNC_FILE = 11,
    FAULTFS_CALL_UNMAP = 12,
    FAULTFS_CALL_CLOSE = 13,
    /** Not a seam call: faultfs_crash_now(). */
    FAULTFS_CALL_NONE = 14,
    /** mp_io_methods.reserve (io.h version 2). */
    FAULTFS_CALL_RESERVE = 15,
};
/*
 * Failure-capable calls (crash points; counted by FAULTFS_CALL_ANY): open,
 * remove, rename, sync_dir, grow, map, extend_map, sync, sync_file. Lock
 * acquisition can be failed by faultfs_inject() with FAULTFS_CALL_LOCK but
 * is not a crash point and not counted by FAULTFS_CALL_ANY (it changes no
 * disk state), which matches the core tests' fault-loop counting.
 *
 * reserve (block reservation) is the same kind of call: the simulated disk
 * has no capacity, so reserving changes nothing a crash could show and it
 * is not a crash point; it checks its range (MP_EINVAL outside the current
 * size, or empty), fails with MP_EIO once crashed, and faultfs_inject()
 * with FAULTFS_CALL_RESERVE fails it, with MP_ENOSPC by default: a full
 * device, as the pager must survive it (nothing stored, pager unchanged).
 * It is traced (offset, length) like the other calls.
 */

/** Where in a call a crash point lies. */
enum faultfs_when {
    FAULTFS_BEFORE = 0,
    /** sync and sync_file only; elsewhere DURING means BEFORE. */
    FAULTFS_DURING = 1,
    FAULTFS_AFTER = 2,
};

/** Name of a call kind ("sync") or a when ("during"); static strings. */
FAULTFS_API const char *faultfs_call_name(int call);
FAULTFS_API const char *faultfs_when_name(int when);

/** Crash points passed so far (the index the next point will get). Stops
 *  counting once crashed. */
FAULTFS_API uint64_t faultfs_point_count(const faultfs *fs);

/**
 * Crash when point `point` (0-based, as counted by faultfs_point_count())
 * is reached. Replaces any earlier arming.
 * @return MP_OK; MP_EINVAL if already crashed or the point has passed.
 */
FAULTFS_API MP_NODISCARD int faultfs_arm_crash(faultfs *fs, uint64_t point);

/**
 * Crash at a named step: the `when` point of the nth call of kind `call`
 * (FAULTFS_CALL_ANY = any failure-capable call) counted from now, 1-based.
 * Example: the commit record of mappedpages is written by the second sync
 * of a commit, so (FAULTFS_CALL_SYNC, 2, FAULTFS_DURING) tears it.
 * Replaces any earlier arming.
 * @return MP_OK; MP_EINVAL (crashed, nth 0, call not failure-capable, bad
 *         when).
 */
FAULTFS_API MP_NODISCARD int faultfs_arm_crash_at(faultfs *fs, int call,
                                                  uint64_t nth, int when);

/** Cancel arming. */
FAULTFS_API void faultfs_disarm(faultfs *fs);

/**
 * Crash now, between calls (e.g. between two operations of a workload).
 * The snapshot records point faultfs_point_count() and call
 * FAULTFS_CALL_NONE. @return MP_OK; MP_EINVAL if already crashed.
 */
FAULTFS_API MP_NODISCARD int faultfs_crash_now(faultfs *fs);

/** True once a crash fired. */
FAULTFS_API bool faultfs_crashed(const faultfs *fs);

/** What a crash froze. */
struct faultfs_crash_info {
    /** The point the crash fired at. */
    uint64_t point;
    /** enum faultfs_call of the call it fired in (FAULTFS_CALL_NONE for
     *  faultfs_crash_now), and enum faultfs_when. */
    int call;
    int when;
    /** Files in the snapshot (named in some reachable namespace). */
    size_t files;
    /** Dirty pages over all files, and sectors that differ in them. */
    uint64_t dirty_pages;
    uint64_t dirty_sectors;
    /** Name operations not yet durable (namespace choices = this + 1). */
    uint64_t pending_names;
    /** Files whose current size differs from their durable size. */
    size_t size_choices;
};

/** @return MP_OK; MP_EINVAL if fs has not crashed. */
FAULTFS_API MP_NODISCARD int
faultfs_crash_info(const faultfs *fs, struct faultfs_crash_info *info);

/* ---- faults without a crash ---------------------------------------- */

/** How much of its range a failing sync (or sync_file) persisted. */
enum faultfs_persist {
    FAULTFS_PERSIST_NONE = 0,
    /** A prefix, chosen from the seed, of the call's dirty sectors. */
    FAULTFS_PERSIST_PART = 1,
    FAULTFS_PERSIST_ALL = 2,
};

/** A fault to inject. */
struct faultfs_fault {
    /** enum faultfs_call: the kind to fail, or FAULTFS_CALL_ANY for any
     *  failure-capable call. Size, unmap and close cannot fail. */
    int call;
    /** Fail the nth matching call from now, 1-based. */
    uint64_t nth;
    /**
     * The error returned; 0 = the natural one: MP_ENOSPC for grow and
     * reserve, MP_ENOMEM for map and extend_map, MP_ELOCKED for lock, MP_EIO
     * for the rest. A failed call changes nothing (except a sync's persist).
     */
    int code;
    /** enum faultfs_persist, for sync and sync_file (ignored elsewhere). */
    int persist;
    /** Also fail every later matching call. */
    bool sticky;
};

/** Faults active at once. */
#define FAULTFS_MAX_FAULTS 8

/**
 * Add a fault. A call matched by several faults fails with the first one
 * added. Faults fire the same way whether or not a crash is armed; a crash
 * point in a failed call still counts and fires (with the failed call's
 * state).
 * @return MP_OK; MP_EINVAL (nth 0, code not negative, unknown call or a
 *         call that cannot fail); MP_ELIMIT (FAULTFS_MAX_FAULTS active).
 */
FAULTFS_API MP_NODISCARD int faultfs_inject(faultfs *fs,
                                            const struct faultfs_fault *fault);

/** Remove every fault (fired or not). */
FAULTFS_API void faultfs_clear_faults(faultfs *fs);

/* ---- crash images ---------------------------------------------------- */

/** Which choices an enumeration walks. */
enum faultfs_space {
    /** Everything the model allows: per dirty page every mix of its
     *  differing sectors (old/new, and garbage if configured). */
    FAULTFS_SPACE_TORN = 0,
    /** Each dirty page wholly old or wholly new (no tears). */
    FAULTFS_SPACE_PAGES = 1,
};

/**
 * Number of distinct choices (images) of a crashed faultfs in `space`:
 * the sum over namespace prefixes of the product over the files it names
 * of (sum over the file's size choices of the product over its dirty
 * pages of 2^d, or 3^d with garbage, d = the page's differing sectors
 * below that size; 2 per page in FAULTFS_SPACE_PAGES).
 *
 * Index 0 is always "nothing unsynced survived": durable names, durable
 * sizes, every dirty page old.
 *
 * @return MP_OK with the exact count; MP_ELIMIT when it does not fit in
 *         64 bits (*count = UINT64_MAX; sample instead); MP_EINVAL (not
 *         crashed, bad space).
 */
FAULTFS_API MP_NODISCARD int faultfs_image_count(const faultfs *fs, int space,
                                                 uint64_t *count);

/**
 * Build image number `index` of `space` (0 <= index < count).
 * Digit order, most significant first: namespace prefix (0 = durable
 * names), then files in snapshot order, each: size choice (durable first,
 * then current), then its dirty pages in ascending order, each: its
 * differing sectors in ascending order with digit 0 old, 1 new, 2 garbage.
 * @return MP_OK; MP_EINVAL (not crashed, index out of range, bad space);
 *         MP_ELIMIT (the count is not exact: use sampling); MP_ENOMEM.
 */
FAULTFS_API MP_NODISCARD int
faultfs_image_by_index(faultfs *fs, int space, uint64_t index, faultfs **out);

/**
 * Draw one image from `seed`: namespace prefix and size choices uniform;
 * each dirty page old, new or torn with probability 1/3 each (torn: each
 * differing sector old, new or (if configured) garbage, uniformly).
 * @return MP_OK; MP_EINVAL (not crashed); MP_ENOMEM.
 */
FAULTFS_API MP_NODISCARD int faultfs_image_random(faultfs *fs, uint64_t seed,
                                                  faultfs **out);

/**
 * Like faultfs_image_random() with every choice taken from `bytes` (one
 * byte per choice, modulo the number of options; 0 once exhausted), for
 * fuzz targets. Choices in order, skipping those with one option: the
 * namespace prefix (pending + 1 options); then for each file in snapshot
 * order its size (2 if durable != current) and for each of its dirty pages
 * that has differing sectors below that size its kind (0 old, 1 new,
 * 2 torn), and if torn one byte per such sector (old, new, garbage).
 * @return as faultfs_image_random().
 */
FAULTFS_API MP_NODISCARD int faultfs_image_from_bytes(faultfs *fs,
                                                      const void *bytes,
                                                      size_t len,
                                                      faultfs **out);

/**
 * Rebuild the image a tear pattern describes (see faultfs_image_pattern).
 * Grammar: space-separated tokens, later ones override earlier ones:
 *   all=old | all=new   defaults for everything not named (all=old when
 *                       absent; all=new = every pending name, every current
 *                       size, every dirty page new)
 *   ns=K                apply the first K pending name operations
 *   fI=d | fI=c         file I (snapshot order) at its durable / current size
 *   fI.pP=o | n         dirty page P of file I old / new
 *   fI.pP=t<chars>      torn: one char per sector of the page: o old, n new,
 *                       g garbage, '-' for sectors that do not differ
 * @return MP_OK; MP_EINVAL (not crashed, syntax, a page that is not dirty,
 *         a file or sector out of range, g without garbage configured);
 *         MP_ENOMEM.
 */
FAULTFS_API MP_NODISCARD int
faultfs_image_from_pattern(faultfs *fs, const char *pattern, faultfs **out);

/**
 * The canonical tear pattern of an image: every choice that is not the
 * default (old) written out, e.g. "ns=1 f0=c f0.p3=n f0.p5=tnn-oo---".
 * The empty string is image 0. Feeding it to faultfs_image_from_pattern()
 * on the same crashed faultfs (same seed, same workload, same crash
 * point) rebuilds a byte-identical image.
 * @return a string owned by `image`, valid until faultfs_free(image); NULL
 *         if `image` is not an image.
 */
FAULTFS_API const char *faultfs_image_pattern(const faultfs *image);

/* ---- files (harness, checker, bug reports, fuzzers) ------------------- */

/** Files currently named (current namespace), in creation order. */
FAULTFS_API size_t faultfs_file_count(const faultfs *fs);

/** Name of file i (0 <= i < faultfs_file_count()); owned by fs, valid
 *  until the next call that changes the namespace. NULL if out of range. */
FAULTFS_API const char *faultfs_file_name(const faultfs *fs, size_t i);

/**
 * Current (volatile) size of the named file.
 * @return MP_OK; MP_ENOENT.
 */
FAULTFS_API MP_NODISCARD int
faultfs_file_size(const faultfs *fs, const char *name, uint64_t *size);

/** Durable size of the named file. @return MP_OK; MP_ENOENT. */
FAULTFS_API MP_NODISCARD int
faultfs_file_durable_size(const faultfs *fs, const char *name, uint64_t *size);

/**
 * Read len bytes at offset of the volatile state (what pread(2) would
 * return: the mapping's bytes) or, with durable, of the durable image.
 * Not a seam call: no point, no fault, allowed after a crash.
 * @return MP_OK; MP_ENOENT; MP_EINVAL (range past the size, buf NULL).
 */
FAULTFS_API MP_NODISCARD int faultfs_file_read(faultfs *fs, const char *name,
                                               bool durable, uint64_t offset,
                                               void *buf, size_t len);

/**
 * Write len bytes at offset into the volatile state, like pwrite(2) into
 * the page cache: visible through every mapping, not durable, extends the
 * current size if it ends past it. Not a seam call.
 * @return MP_OK; MP_ENOENT; MP_EINVAL; MP_ENOMEM (no room in an active
 *         mapping's reservation).
 */
FAULTFS_API MP_NODISCARD int faultfs_file_write(faultfs *fs, const char *name,
                                                uint64_t offset,
                                                const void *buf, size_t len);

/**
 * Set the current size (shrink or extend), like truncate(2); not durable.
 * @return MP_OK; MP_ENOENT; MP_EINVAL (shrinking below what an open file
 *         has mapped); MP_ENOMEM.
 */
FAULTFS_API MP_NODISCARD int
faultfs_file_truncate(faultfs *fs, const char *name, uint64_t size);

/**
 * Remove a name at once and durably (like rm followed by a directory
 * sync). Open files keep their data. Not a seam call.
 * @return MP_OK; MP_ENOENT.
 */
FAULTFS_API MP_NODISCARD int faultfs_file_remove(faultfs *fs, const char *name);

/**
 * Make everything durable at once: every file's bytes and size, and the
 * namespace (like sync(1)). Not a seam call: no point, no trace.
 * @return MP_OK; MP_EINVAL after a crash; MP_ENOMEM.
 */
FAULTFS_API MP_NODISCARD int faultfs_sync_all(faultfs *fs);

/**
 * Write the durable image of the named file (durable size, durable bytes)
 * as the real file host_path (created or truncated).
 * @return MP_OK; MP_ENOENT (no such name); MP_EIO (host I/O; errno kept).
 */
FAULTFS_API MP_NODISCARD int faultfs_write_file(faultfs *fs, const char *name,
                                                const char *host_path);

/**
 * Import the real file host_path as the named file, durable and volatile
 * (as if written and synced long ago). Replaces an existing file of that
 * name unless it is open.
 * @return MP_OK; MP_EIO (host I/O); MP_EEXIST (the name is open);
 *         MP_ENOMEM; MP_EINVAL after a crash.
 */
FAULTFS_API MP_NODISCARD int faultfs_load_file(faultfs *fs, const char *name,
                                               const char *host_path);

/** Like faultfs_load_file() from memory (fuzz targets). */
FAULTFS_API MP_NODISCARD int faultfs_load_bytes(faultfs *fs, const char *name,
                                                const void *bytes, size_t len);

/* ---- trace and statistics -------------------------------------------- */

/** One seam call as the trace records it. */
struct faultfs_trace_entry {
    /** Call number in this faultfs, 0-based. */
    uint64_t seq;
    /** enum faultfs_call. */
    int call;
    /** What the call returned. */
    int result;
    /** Index of the call's BEFORE point, or UINT64_MAX if none. */
    uint64_t point;
    /** The last characters of the file name (NUL-terminated). */
    char file[48];
    /**
     * Arguments: sync: first range offset and total length, `count`
     * ranges; grow: new size in `length`; map/extend_map: bytes in
     * `length`, reservation in `offset`; lock: mode in `count`.
     */
    uint64_t offset;
    uint64_t length;
    uint64_t count;
    /** Pages (write-back units) and bytes of them this call made durable
     *  that differed on the disk before. */
    uint64_t durable_pages;
    uint64_t durable_bytes;
    /** sync_file: the size it made durable (else UINT64_MAX). */
    uint64_t durable_size;
    /** An injected fault (its code in result), or the crash, hit here. */
    bool fault;
    bool crash;
};

/** Entries held (at most trace_max; older ones are dropped). */
FAULTFS_API size_t faultfs_trace_count(const faultfs *fs);

/** Entry i, oldest first. @return MP_OK; MP_EINVAL if out of range. */
FAULTFS_API MP_NODISCARD int faultfs_trace_get(const faultfs *fs, size_t i,
                                               struct faultfs_trace_entry *e);

/** Print the trace for a person, one call per line. */
FAULTFS_API void faultfs_trace_print(const faultfs *fs, FILE *out);

/** Counters since faultfs_new(). */
struct faultfs_stats {
    /** Seam calls of every kind. */
    uint64_t calls;
    /** Crash points passed. */
    uint64_t points;
    uint64_t syncs;
    uint64_t sync_files;
    uint64_t grows;
    uint64_t opens;
    /** Bytes of the ranges passed to sync. */
    uint64_t bytes_synced;
    /** Bytes made durable that differed (whole pages). */
    uint64_t bytes_made_durable;
    /** Pages found dirty: made durable by a sync, or dirty at the crash. */
    uint64_t pages_dirtied;
    /** Faults that fired. */
    uint64_t faults_injected;
    /** 1 once crashed. */
    uint64_t crashes;
    /** Crash images made from this faultfs. */
    uint64_t images;
};

/** Copy the counters. */
FAULTFS_API void faultfs_stats(const faultfs *fs, struct faultfs_stats *out);

#ifdef __cplusplus
}
#endif
#endif /* FAULTFS_H */
