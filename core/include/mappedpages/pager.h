/*
 * mappedpages/pager.h - the pager: one file of fixed-size pages, with
 * crash-consistent allocation state.
 *
 * A file has one page size, fixed at creation: a power of two from
 * MP_PAGE_SIZE_MIN to MP_PAGE_SIZE_MAX. Page 0 is the superblock, pages 1
 * and 2 the two metadata copies; the pager keeps some further pages for
 * itself (the free-space map and the protected-page directory; see
 * FORMAT.md). Every other page is a regular page that alloc hands out.
 *
 * Crash consistency: every call that changes the allocation state (alloc,
 * free, the bulk calls, the protected-page calls, grow) is one atomic
 * commit. When it returns MP_OK the change is durable; if the process or
 * machine dies during it, the next open sees the state before or after the
 * call, never a mix. The bytes of regular pages are the caller's: the pager
 * never syncs them except through mp_pager_sync_pages().
 *
 * Memory tells the truth: after any failed call, everything the pager
 * reports (counts, page count, get/get_mut, iterators, protected reads and
 * the protected directory) is exactly the durable state before the call,
 * which is also what a reopen shows. A failed sync (the commit's, a growth's
 * file sync, or mp_pager_sync_pages) is sticky: the pager then refuses every
 * further mutating call with MP_EUNAVAILABLE until it is closed and the
 * file reopened, while reads keep working; a protected write staged before
 * stays staged (mp_protected_abort drops it). A commit whose sync failed
 * also puts the previous commit record back and syncs it (two-barrier
 * mode) or makes its new metadata copy invalid and syncs that page
 * (one-flush mode, MP_OPEN_ONE_FLUSH), so the disk holds the state before
 * the call whatever the failed sync wrote; if that sync fails as well,
 * opens in a running system still see the state before the call (the
 * restored bytes are in the page cache), but a crash before they reach
 * the disk may recover the state after the call. Any other failure -
 * bad input, MP_ENOMEM from the memory hooks at any point of the call, a
 * growth refused (MP_ELIMIT) or failed in the backend's grow or extend_map
 * (MP_ENOSPC, MP_EIO, MP_ENOMEM) - leaves the pager usable and exactly as
 * it was, page count included, and the same call may simply be made again.
 *
 * Thread rules: a pager is not internally locked. Calls that take a const
 * mp_pager * may run concurrently with each other; everything else needs
 * exclusive access. mappedpages/shared.h wraps a pager in a reader/writer
 * lock.
 */
#ifndef MAPPEDPAGES_PAGER_H
#define MAPPEDPAGES_PAGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mappedpages/error.h"
#include "mappedpages/io.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Smallest and largest page sizes the format accepts. */
#define MP_PAGE_SIZE_MIN ((size_t)1 << 10)
#define MP_PAGE_SIZE_MAX ((size_t)1 << 24)

/** Largest page count of a file (the format's limit): 2^40 pages. */
#define MP_MAX_PAGES ((uint64_t)1 << 40)

/** Pages 0 (superblock), 1 and 2 (metadata copies) are never handed out. */
#define MP_RESERVED_PAGES 3

/** A page number: an index into the file in units of the page size. */
typedef uint64_t mp_pgno;

/*
 * Ids of the three kinds share one 64-bit space and say which kind they
 * are in their top two bits, so passing one kind where another is expected
 * is caught (MP_EWRONGKIND) instead of touching the wrong page.
 */
#define MP_ID_KIND_SHIFT   62
#define MP_ID_KIND_MASK    ((uint64_t)3 << MP_ID_KIND_SHIFT)
#define MP_ID_KIND_PAGE    ((uint64_t)0 << MP_ID_KIND_SHIFT)
#define MP_ID_KIND_PROTECT ((uint64_t)1 << MP_ID_KIND_SHIFT)
#define MP_ID_KIND_SUBPAGE ((uint64_t)2 << MP_ID_KIND_SHIFT)

/** An open file of pages. Opaque. */
typedef struct mp_pager mp_pager;

/** Flags for struct mp_options. */
enum mp_open_flags {
    /** Open read-only: shared lock, read-only map, every mutation refused. */
    MP_OPEN_READONLY = 1 << 0,
    /**
     * Take no file lock (for tools inspecting a file a writer holds; what
     * they read may be changing under them). Only with MP_OPEN_READONLY:
     * a read-write open or a create with it is refused with MP_EINVAL,
     * since two unlocked writers would corrupt the file.
     */
    MP_OPEN_NOLOCK = 1 << 1,
    /**
     * One-flush commits (FORMAT.md 8.2): every commit of this pager is one
     * sync barrier instead of two (mp_pager_stats: one sync call per commit,
     * plus the file sync of a growth), and does not write the commit record
     * (page 0) unless page 0 was damaged at open. Recovery then
     * takes the newest metadata copy that validates completely, protected
     * pages committed in its generation included (FORMAT.md 9), and falls
     * back to the older copy when a crash interrupted the barrier
     * (MP_RECOVERY_ONE_FLUSH_FALLBACK). The default (flag clear) is the
     * original two-barrier protocol (FORMAT.md 8.1). Chosen per create or
     * open: create itself is the same in both modes (FORMAT.md 10); a file
     * may be written in either mode at different times, and every open
     * recovers either (FORMAT.md 8.3). Ignored by a read-only open
     * (mp_pager_one_flush() is then false).
     */
    MP_OPEN_ONE_FLUSH = 1 << 2,
};

/** Memory allocation hooks (zstd's customMem); all NULL = malloc/free. */
struct mp_allocator_hooks {
    void *(*alloc)(void *ctx, size_t size);
    void *(*realloc)(void *ctx, void *ptr, size_t size);
    void (*free)(void *ctx, void *ptr);
    void *ctx;
};

/**
 * Version of struct mp_options described here. Version 2 added `device`
 * and `device_out`; a struct of version 1 (without them) is still accepted.
 */
#define MP_OPTIONS_VERSION 2

/** Options for create and open. Initialise with mp_options_init(). */
struct mp_options {
    int version;
    /** Storage backend; NULL means mp_vfs_posix(). */
    const struct mp_vfs *vfs;
    /** enum mp_open_flags. */
    unsigned flags;
    /**
     * Address space to reserve for the mapping, in bytes; the file can grow
     * to this size without any page moving. 0 means the default: 1 TiB, or
     * twice the file, whichever is larger; the pager takes less if the
     * system refuses (halving down to the file's size) and then fails a
     * growth past it with MP_ELIMIT. Read-only opens ignore it and
     * reserve exactly the file's length: they never grow.
     */
    uint64_t reserve_bytes;
    /** Memory hooks for the pager's own bookkeeping. */
    struct mp_allocator_hooks mem;

    /* Version 2. */

    /**
     * The device under the file, as the caller knows it: sector_size 0
     * (the default) means ask the backend (mp_io_methods.device);
     * otherwise a power of two (else MP_EINVAL) that replaces the
     * backend's whole answer, flags included. The rule it feeds: a file
     * whose page size is below sector_size on a device that is not
     * MP_IO_DEV_POWERSAFE is refused by create and by a read-write open
     * with MP_EDEVICE (FORMAT.md 2.3).
     */
    struct mp_io_device device;
    /**
     * NULL, or where create and open write the device description they go
     * by (the stated one, or the backend's answer) as soon as they know
     * it, also when the call then fails with MP_EDEVICE: the refusal's two
     * sizes are the page size and device_out->sector_size. Written during
     * the call only; the pager keeps no pointer to it.
     */
    struct mp_io_device *device_out;
};

/** Fill *opt with defaults (posix backend, read-write, locked). */
MP_API void mp_options_init(struct mp_options *opt);

/**
 * Create a new file at path and open it read-write.
 *
 * The file is built under a temporary name beside path (path +
 * ".mp-create"), made durable, then renamed into place and its directory
 * synced, so a crash during create leaves either no file or a complete,
 * empty one. The creator holds an exclusive lock on the temporary file
 * throughout: a second creator of the same path meanwhile gets MP_ELOCKED
 * and leaves the first's file alone, and a temporary file whose lock is
 * free (left by a creator that crashed) is removed and built afresh. Every
 * page of the new file gets its disk blocks before any byte is stored (a
 * full device is MP_ENOSPC).
 *
 * @param[in]  path       file name; must not exist.
 * @param[in]  page_size  power of two in [MP_PAGE_SIZE_MIN, MP_PAGE_SIZE_MAX].
 * @param[in]  opt        options, or NULL for defaults; MP_OPEN_READONLY and
 *                        MP_OPEN_NOLOCK are refused with MP_EINVAL.
 * @param[out] out        the new pager; NULL on failure.
 * @return MP_OK; MP_EPAGESIZE (bad page size); MP_EEXIST; MP_ELOCKED
 *         (another process is creating the same path); MP_ENOENT (no such
 *         directory); MP_EACCES (the directory may not be written by the
 *         caller); MP_EROFS (read-only file system); MP_EIO; MP_ENOSPC
 *         (device full: no file and no temporary file is left); MP_ENOMEM;
 *         MP_EINVAL; MP_EDEVICE (page_size is below the device's power-fail
 *         unit and the device is not power-safe: see struct
 *         mp_options.device; nothing is left behind).
 *         On failure errno holds the errno of the OS call that failed, or 0
 *         if none did (there is no pager to keep it in).
 * Ownership: the caller owns *out and releases it with mp_pager_close().
 */
MP_API MP_NODISCARD int mp_pager_create(const char *path, size_t page_size,
                                        const struct mp_options *opt,
                                        mp_pager **out);

/**
 * Open an existing file and run recovery.
 *
 * Recovery validates the superblock (taking the static header from a
 * metadata copy when page 0's is damaged), picks the live metadata copy by
 * the commit record in page 0, checks every checksum of the structures the
 * copy refers to, and falls back to the other copy when the record is torn
 * or the chosen copy does not validate. What it chose is reported by
 * mp_pager_recovery(). Recovery writes nothing; when it did not simply
 * follow an intact record, the first commit of a read-write pager first
 * rewrites page 0 to name the copy in use (FORMAT.md 8, I4). Open then
 * reads the committed copy of every protected page in use once, to verify
 * its checksum; a page that fails is refused by mp_protected_get() with
 * MP_ECORRUPT, the rest of the file stays usable.
 *
 * @param[in]  path       file name.
 * @param[in]  page_size  the page size the caller expects, or 0 to accept
 *                        the file's own.
 * @param[in]  opt        options, or NULL for defaults.
 * @param[out] out        the pager; NULL on failure.
 * @return MP_OK; MP_ENOENT; MP_ELOCKED (another writer holds the file, or
 *         a writer is asked for while readers hold it); MP_ECORRUPT_SUPER
 *         (not a mappedpages file, or truncated below 3 pages);
 *         MP_EVERSION (a major format version other than
 *         MP_FORMAT_MAJOR: format 1 files are refused, not upgraded; or,
 *         for a read-write open, a newer minor version: such a file opens
 *         read-only, since this writer would drop what the newer one
 *         added); MP_EPAGESIZE (page size differs from page_size);
 *         MP_ECORRUPT_META (neither metadata copy validates); MP_EDEVICE
 *         (read-write open of a file whose page size is below the device's
 *         power-fail unit on a device that is not power-safe; a read-only
 *         open is allowed, since it writes nothing); MP_EACCES (a
 *         read-write open of a file the caller may only read, or no
 *         permission to read it); MP_EROFS (a read-write open on a
 *         read-only file system); MP_EIO; MP_ENOMEM; MP_EINVAL (also:
 *         MP_OPEN_NOLOCK without MP_OPEN_READONLY).
 *         On failure errno holds the errno of the OS call that failed, or 0
 *         if none did (there is no pager to keep it in).
 */
MP_API MP_NODISCARD int mp_pager_open(const char *path, size_t page_size,
                                      const struct mp_options *opt,
                                      mp_pager **out);

/**
 * Unmap, unlock and close; free the pager. Syncs nothing: committed state is
 * already durable, and regular page bytes are the caller's business.
 * Accepts NULL. Every pointer into the pager's pages becomes invalid.
 * @return MP_OK, or MP_EIO if the backend reported a close failure (the
 *         pager is freed all the same).
 */
MP_API int mp_pager_close(mp_pager *pager);

/** Page size in bytes. */
MP_API size_t mp_pager_page_size(const mp_pager *pager);

/** Total pages in the file, reserved and internal pages included. */
MP_API uint64_t mp_pager_page_count(const mp_pager *pager);

/** Pages not allocated to anything (the free bits of the map). */
MP_API uint64_t mp_pager_free_count(const mp_pager *pager);

/** True if the pager was opened with MP_OPEN_READONLY. */
MP_API bool mp_pager_is_readonly(const mp_pager *pager);

/**
 * True if the pager commits in one-flush mode: it was created or opened
 * read-write with MP_OPEN_ONE_FLUSH (FORMAT.md 8.2). False for a read-only
 * pager, which commits nothing. Never fails.
 */
MP_API bool mp_pager_one_flush(const mp_pager *pager);

/**
 * Allocate one regular page: the lowest free page, growing the file when
 * none is free. One commit. The page's bytes are whatever the file held
 * (zeros for a page that growth added).
 *
 * Full device: every page handed out, and every page the pager writes for
 * it (map leaves, index nodes, directory blocks, protected copies), gets
 * its disk blocks (mp_io_methods.reserve) before any byte of it is stored,
 * so a store into a page the caller got never faults for want of space.
 * When the device cannot hold them the call is MP_ENOSPC, with nothing
 * written and nothing changed (page count included); the pager stays
 * usable. Only pages handed out or written are reserved (a growth stays
 * sparse), plus up to 1 MiB ahead of the lowest free page when the device
 * has it. A growth refused this way may leave blocks reserved past the old
 * end of the file; the next growth over them uses them. Every commit also
 * checks the pages it will write before it stores into any (see
 * mp_pager_free for files written without reservation).
 *
 * @return MP_OK with *out set; MP_EREADONLY; MP_EUNAVAILABLE; MP_EITERATING;
 *         MP_ENOSPC (device full: see above) or MP_EIO (growth failed:
 *         nothing changed, pager still usable); MP_ELIMIT (format or
 *         address-space limit); MP_EIO (commit sync failed: pager now
 *         unavailable); MP_ENOMEM; MP_EINVAL (out NULL).
 */
MP_API MP_NODISCARD int mp_pager_alloc(mp_pager *pager, mp_pgno *out);

/**
 * Free one regular page. One commit.
 *
 * @return MP_OK; MP_ERESERVED (0-2); MP_EWRONGKIND (a protected or
 *         sub-page id); MP_EOUTOFBOUNDS; MP_EINTERNAL (a page the pager
 *         uses itself); MP_EDOUBLEFREE (not allocated); MP_EREADONLY;
 *         MP_EUNAVAILABLE; MP_EITERATING; MP_EIO (pager now unavailable);
 *         MP_ENOSPC (the commit needs disk blocks for a page of the file
 *         that has none, which only a file written without reservation
 *         has, and the device is full: nothing written, nothing changed,
 *         pager usable). On any other error nothing changed.
 */
MP_API MP_NODISCARD int mp_pager_free(mp_pager *pager, mp_pgno page);

/** The largest count a single bulk call accepts. */
#define MP_BULK_MAX ((size_t)1 << 32)

/**
 * Allocate count regular pages in one commit (growing once, as far as
 * needed). Pages are taken lowest first; out receives them in ascending
 * order. All or nothing: on error no page was allocated.
 *
 * @param[in]  count  1 .. MP_BULK_MAX.
 * @param[out] out    room for count page numbers.
 * @return MP_OK; MP_ECOUNT (count 0 or above MP_BULK_MAX); the errors of
 *         mp_pager_alloc().
 */
MP_API MP_NODISCARD int mp_pager_alloc_bulk(mp_pager *pager, size_t count,
                                            mp_pgno *out);

/**
 * Free count regular pages in one commit. Every id is validated before any
 * is freed; on error nothing changed.
 *
 * @return MP_OK; MP_ECOUNT (count 0 or above MP_BULK_MAX); MP_EDUPLICATE
 *         (an id listed twice); the per-id errors of mp_pager_free() for the
 *         first bad id in list order; MP_EREADONLY; MP_EUNAVAILABLE;
 *         MP_EITERATING; MP_EIO (pager now unavailable).
 */
MP_API MP_NODISCARD int mp_pager_free_bulk(mp_pager *pager,
                                           const mp_pgno *pages, size_t count);

/**
 * Make sure the file has at least min_pages pages, growing it (in one
 * commit) if needed. Useful to preallocate; alloc grows on its own. The
 * new pages stay sparse: only the pages the pager writes for the growth
 * (the new groups' map leaves, index nodes) get disk blocks. The same
 * limit applies as to alloc's own growth: the largest page count within
 * MP_MAX_PAGES and the address reservation (rounded down so that it does
 * not end inside a group's leaf copies).
 * @return MP_OK; MP_ELIMIT (min_pages above that limit); MP_ENOSPC
 *         (device full: nothing changed, pager usable); MP_EIO;
 *         MP_EREADONLY; MP_EUNAVAILABLE; MP_EITERATING; MP_ENOMEM.
 */
MP_API MP_NODISCARD int mp_pager_grow(mp_pager *pager, uint64_t min_pages);

/**
 * Pointer to the bytes of an allocated regular page, for reading.
 *
 * Lifetime: valid until the page is freed or the pager closed; growth never
 * moves pages.
 * @return MP_OK; MP_ERESERVED; MP_EWRONGKIND; MP_EOUTOFBOUNDS; MP_EINTERNAL;
 *         MP_EDOUBLEFREE (page not allocated).
 */
MP_API MP_NODISCARD int mp_pager_get(const mp_pager *pager, mp_pgno page,
                                     const void **out);

/**
 * Pointer to the bytes of an allocated regular page, for writing. Stores
 * reach the file at the kernel's leisure; mp_pager_sync_pages() makes them
 * durable. Same lifetime and errors as mp_pager_get(), plus MP_EREADONLY.
 */
MP_API MP_NODISCARD int mp_pager_get_mut(mp_pager *pager, mp_pgno page,
                                         void **out);

/**
 * Make the bytes of pages [first, first + count) durable. count 0 with
 * first 0 means every page of the file. Pages need not be allocated.
 * @return MP_OK; MP_EOUTOFBOUNDS; MP_EREADONLY; MP_EUNAVAILABLE; MP_EIO
 *         (pager now unavailable).
 */
MP_API MP_NODISCARD int mp_pager_sync_pages(mp_pager *pager, mp_pgno first,
                                            uint64_t count);

/** Why recovery took the copy it took. */
enum mp_recovery_reason {
    /**
     * The commit record was intact and its copy validated (and no
     * one-flush copy one generation newer exists).
     */
    MP_RECOVERY_RECORD = 0,
    /** The commit record was torn; the newest valid copy was taken. */
    MP_RECOVERY_TORN_RECORD = 1,
    /**
     * The record was intact but named a copy that did not validate; the
     * other copy was taken. Never happens after a crash the format
     * guards against: it means damage (or a protocol bug).
     */
    MP_RECOVERY_BAD_SELECTED = 2,
    /** The pager was created by this process; no recovery ran. */
    MP_RECOVERY_CREATED = 3,
    /**
     * The newer metadata copy was written by a one-flush commit and
     * validated completely (FORMAT.md 9); it was taken without the record.
     */
    MP_RECOVERY_ONE_FLUSH = 4,
    /**
     * The newer metadata copy was written by a one-flush commit and did not
     * validate (its commit was in flight at a crash); the older was taken.
     */
    MP_RECOVERY_ONE_FLUSH_FALLBACK = 5,
};

/** What recovery found at open. */
struct mp_recovery_info {
    /** The metadata copy in use: 0 (page 1) or 1 (page 2). */
    int chosen_copy;
    /**
     * True if recovery fell back: the reason is not MP_RECOVERY_RECORD,
     * MP_RECOVERY_CREATED or MP_RECOVERY_ONE_FLUSH (which are how the
     * state of the last commit is normally found).
     */
    bool fallback;
    /** enum mp_recovery_reason. */
    int reason;
    /** Generation of the chosen copy (one per commit since create). */
    uint64_t generation;
    /**
     * Whether each copy passed the checks recovery ran on it: the full
     * validation (header, checksum, every structure) for a copy recovery
     * tried to load, only the header checks for one it did not need.
     */
    bool copy_valid[2];
    /** Generation of each copy, where its header could be read, else 0. */
    uint64_t copy_generation[2];
};

/** Copy what recovery found into *info. Never fails. */
MP_API void mp_pager_recovery(const mp_pager *pager,
                              struct mp_recovery_info *info);

/**
 * The device description the pager went by at create or open: the
 * caller's (struct mp_options.device) or the backend's answer. Never fails.
 */
MP_API void mp_pager_device(const mp_pager *pager, struct mp_io_device *out);

/** Counters of what the pager asked of its backend since open. */
struct mp_pager_stats {
    uint64_t commits;       /**< allocation-state commits */
    uint64_t sync_calls;    /**< mp_io_methods.sync calls (barriers) */
    uint64_t sync_ranges;   /**< ranges passed to those calls */
    uint64_t sync_bytes;    /**< bytes in those ranges */
    uint64_t file_syncs;    /**< mp_io_methods.sync_file calls */
    uint64_t grows;         /**< file growths */
    uint64_t pages_written; /**< metadata/internal pages written */
    uint64_t reserves;      /**< mp_io_methods.reserve calls */
};

/** Copy the counters into *stats. Never fails. */
MP_API void mp_pager_stats(const mp_pager *pager, struct mp_pager_stats *stats);

/**
 * The failure that made the pager unavailable: the MP_E* code it returned,
 * and the OS errno beside it (0 if none). Both 0 while the pager is usable.
 */
MP_API void mp_pager_last_failure(const mp_pager *pager, int *code,
                                  int *os_error);

/** Library version: (major << 16) | (minor << 8) | patch. */
MP_API unsigned mp_version(void);

/** On-disk format version this library writes. */
#define MP_FORMAT_MAJOR 2
#define MP_FORMAT_MINOR 0

#define MP_VERSION_MAJOR 0
#define MP_VERSION_MINOR 1
#define MP_VERSION_PATCH 0

#ifdef __cplusplus
}
#endif
#endif /* MAPPEDPAGES_PAGER_H */
