/*
 * shim.h - internals of libfaultfs_shim.so, the LD_PRELOAD crash-testing
 * shim, shared between its source files. Nothing here is public: the
 * library exports only the libc names it interposes (the shim_exports test
 * checks this with nm).
 *
 * Why process-global state: an interposer receives exactly the libc
 * arguments and nothing else, so there is no handle to hang state on. All
 * of it lives in one struct behind one mutex (shim_points.c).
 *
 * Why no malloc, no stdio: mmap is interposed, and allocators call mmap.
 * Every buffer here is static or on the stack, every text is built by
 * shim_text.c, and every memory the shim needs for itself comes from an
 * anonymous mapping made by a raw system call.
 */
#ifndef FAULTFS_SHIM_H
#define FAULTFS_SHIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#define FAULTFS_SHIM_MAX_FILES 64 /* tracked files per process */
#define FAULTFS_SHIM_MAX_OPS   64 /* namespace changes not yet durable */
#define FAULTFS_SHIM_MAX_SEGS  64 /* file ranges one msync may cover */
#define FAULTFS_SHIM_PATH      4096
#define FAULTFS_SHIM_MAX_PAGE  65536 /* largest OS page size handled */

/* ---- text (shim_text.c) ---- */

/* A bounded text buffer; overflow truncates and sets `full`. */
struct faultfs_shim_buf {
    char *p;
    size_t cap;
    size_t len;
    bool full;
};

void faultfs_shim_buf_init(struct faultfs_shim_buf *b, char *mem, size_t cap);
void faultfs_shim_buf_str(struct faultfs_shim_buf *b, const char *s);
void faultfs_shim_buf_chr(struct faultfs_shim_buf *b, char c);
void faultfs_shim_buf_u64(struct faultfs_shim_buf *b, uint64_t v);
void faultfs_shim_buf_hex(struct faultfs_shim_buf *b, uint64_t v);
/* Write the buffer to fd and empty it. 0 or -errno. */
int faultfs_shim_buf_flush(struct faultfs_shim_buf *b, int fd);
/* Write all n bytes (retrying short writes and EINTR). 0 or -errno. */
int faultfs_shim_write_all(int fd, const void *p, size_t n);
/* "faultfs_shim: " + the NULL-terminated strings + newline, to stderr. */
void faultfs_shim_say(const char *first, ...);
/* Decimal or 0x-hex, the whole string, no sign. 0 or -EINVAL. */
int faultfs_shim_parse_u64(const char *s, uint64_t *out);
/* Shell-style glob: * (also across '/'), ?, [a-z], [!x], \ escapes. */
bool faultfs_shim_glob(const char *pat, const char *s);
/*
 * True if path matches one of the ':'-separated patterns of list: a
 * pattern with any of "*?[" is a glob, any other is a path prefix.
 */
bool faultfs_shim_match(const char *list, const char *path);

/* ---- the next definitions of what we interpose (shim_real.c) ---- */

struct faultfs_shim_real {
    int (*open)(const char *, int, ...);
    int (*open64)(const char *, int, ...);
    int (*openat)(int, const char *, int, ...);
    int (*openat64)(int, const char *, int, ...);
    int (*open_2)(const char *, int);
    int (*open64_2)(const char *, int);
    int (*openat_2)(int, const char *, int);
    int (*openat64_2)(int, const char *, int);
    int (*creat)(const char *, mode_t);
    int (*creat64)(const char *, mode_t);
    void *(*mmap)(void *, size_t, int, int, int, off_t);
    void *(*mmap64)(void *, size_t, int, int, int, off_t);
    int (*msync)(void *, size_t, int);
    int (*fsync)(int);
    int (*fdatasync)(int);
    int (*ftruncate)(int, off_t);
    int (*ftruncate64)(int, off_t);
    int (*truncate)(const char *, off_t);
    int (*truncate64)(const char *, off_t);
    int (*rename)(const char *, const char *);
    int (*renameat)(int, const char *, int, const char *);
    int (*renameat2)(int, const char *, int, const char *, unsigned);
    int (*unlink)(const char *);
    int (*unlinkat)(int, const char *, int);
    int (*remove)(const char *);
    ssize_t (*write)(int, const void *, size_t);
    ssize_t (*pwrite)(int, const void *, size_t, off_t);
    ssize_t (*pwrite64)(int, const void *, size_t, off_t);
    ssize_t (*writev)(int, const struct iovec *, int);
    ssize_t (*pwritev)(int, const struct iovec *, int, off_t);
    ssize_t (*pwritev64)(int, const struct iovec *, int, off_t);
    ssize_t (*pwritev2)(int, const struct iovec *, int, off_t, int);
    ssize_t (*pwritev64v2)(int, const struct iovec *, int, off_t, int);
    int (*fallocate)(int, int, off_t, off_t);
    int (*fallocate64)(int, int, off_t, off_t);
    int (*posix_fallocate)(int, off_t, off_t);
    int (*posix_fallocate64)(int, off_t, off_t);
};

/* Filled by faultfs_shim_resolve(); a NULL entry means "use the syscall". */
extern struct faultfs_shim_real faultfs_shim_real;
void faultfs_shim_resolve(void);

/*
 * The shim's own file and memory calls. They go straight to the kernel:
 * calling open() or mmap() by name from inside this library would land
 * in our own interposers.
 */
int faultfs_shim_sys_open(const char *path, int flags, mode_t mode);
int faultfs_shim_sys_openat(int dirfd, const char *path, int flags,
                            mode_t mode);
int faultfs_shim_sys_ftruncate(int fd, off_t len);
int faultfs_shim_sys_fsync(int fd);
int faultfs_shim_sys_fdatasync(int fd);
int faultfs_shim_sys_truncate(const char *path, off_t len);
int faultfs_shim_sys_msync(void *addr, size_t len, int flags);
void *faultfs_shim_sys_mmap(void *addr, size_t len, int prot, int flags, int fd,
                            off_t off);
int faultfs_shim_sys_unlinkat(int dirfd, const char *path, int flags);
int faultfs_shim_sys_renameat2(int odir, const char *from, int ndir,
                               const char *to, unsigned flags);
/* pwritev2 with offset -1 is writev at the file offset; flags RWF_*. */
ssize_t faultfs_shim_sys_pwritev2(int fd, const struct iovec *iov, int cnt,
                                  off_t off, int flags);
int faultfs_shim_sys_fallocate(int fd, int mode, off_t off, off_t len);

/* ---- configuration (shim_config.c) ---- */

enum faultfs_shim_mode {
    FAULTFS_SHIM_COUNT = 1, /* count crash points, report at exit */
    FAULTFS_SHIM_CRASH = 2, /* write images at point crash_at and exit */
};

struct faultfs_shim_config {
    int mode;
    uint64_t crash_at;
    uint64_t seed;
    uint32_t sector;
    uint32_t images;
    int exit_code;
    bool garbage;
    char match[FAULTFS_SHIM_PATH];
    char out[FAULTFS_SHIM_PATH];
    char report[FAULTFS_SHIM_PATH];
    char log[FAULTFS_SHIM_PATH];
};

/*
 * Read the FAULTFS_SHIM_* variables. On a bad value writes one line of
 * explanation to err and returns -EINVAL.
 */
int faultfs_shim_config_read(struct faultfs_shim_config *cfg, size_t page,
                             char *err, size_t errlen);

/* ---- tracked files (shim_files.c) ---- */

struct faultfs_shim_file {
    dev_t dev; /* identity from fstat */
    ino_t ino;
    dev_t map_dev; /* identity /proc/self/maps shows (differs on overlayfs) */
    ino_t map_ino;
    int fd;                /* our own read-only descriptor of the file */
    unsigned char *shadow; /* durable content; zeros past shadow_len */
    uint64_t shadow_cap;   /* bytes of address space behind shadow */
    uint64_t shadow_len;
    uint64_t dur_size;                /* durable file size */
    char dur_name[FAULTFS_SHIM_PATH]; /* durable name; "" = none */
    char cur_name[FAULTFS_SHIM_PATH]; /* current name; "" = unlinked */
};

/* A byte range of a tracked file that a sync call is writing. */
struct faultfs_shim_seg {
    int file;
    uint64_t lo, hi;
};

/* Index of the tracked file fd refers to, or -1. */
int faultfs_shim_file_of_fd(int fd);
/* Index of the tracked file with this fstat identity, or -1. */
int faultfs_shim_file_of_id(dev_t dev, ino_t ino);
/*
 * Start tracking the file open at fd under absolute name abs: its current
 * content and size become its durable state (a new file starts empty and,
 * when is_new, nameless until a directory sync). Returns the index, or -1
 * when fd is not a regular file. Exits the process if the tables are full.
 */
int faultfs_shim_track(int fd, const char *abs, bool is_new);
/* faultfs_shim_file_of_fd, else track fd if its /proc name matches. */
int faultfs_shim_lookup_fd(int fd);
/* Current size of tracked file i (via our descriptor). */
uint64_t faultfs_shim_cur_size(int i);
/* Make bytes [lo, hi) of file i's current content durable. */
void faultfs_shim_make_durable(int i, uint64_t lo, uint64_t hi);
/* Make all of file i durable: content and size (a file sync). */
void faultfs_shim_sync_file(int i);
/* Learn the identity /proc/self/maps shows for the mapping at addr. */
void faultfs_shim_learn_map(int i, const void *addr);
/*
 * Fill segs with the ranges of tracked files that shared mappings in
 * [lo, hi) cover. Returns how many (at most max).
 */
int faultfs_shim_segs_of(uintptr_t lo, uintptr_t hi,
                         struct faultfs_shim_seg *segs, int max);

/* ---- namespace changes (shim_names.c) ---- */

/* Record a change of a tracked file's name (file or victim may be -1). */
void faultfs_shim_name_create(int file, const char *abs);
void faultfs_shim_name_rename(int file, int victim, const char *from_abs,
                              const char *to_abs);
void faultfs_shim_name_unlink(int file, const char *abs);
/*
 * The directory open at fd is being synced: how many pending changes
 * (counted from the oldest) it makes durable; 0 if none involve it.
 */
int faultfs_shim_names_dirsync_covers(int fd);
/* Make the oldest n pending changes durable. */
void faultfs_shim_names_commit(int n);
/* Number of pending changes. */
int faultfs_shim_names_pending(void);
/* File i's name after the oldest n pending changes; "" = no name. */
const char *faultfs_shim_name_after(int i, int n);

/* ---- crash points (shim_points.c) ---- */

struct faultfs_shim_point {
    const char *when; /* "before", "during", "after" */
    const char *call; /* "msync", "fsync", "fdatasync", "ftruncate", ... */
    int file;         /* tracked file the call is on, or -1 */
    const char *what; /* extra label text, or NULL (e.g. directory) */
    /* The ranges the sync covers; in_flight (the "during" point): they
     * are being written, in ascending order. */
    const struct faultfs_shim_seg *segs;
    int nsegs;
    bool in_flight;
};

/* The shim's shared state. */
struct faultfs_shim_state {
    struct faultfs_shim_config cfg;
    uint64_t page; /* OS page size: the unit the kernel writes back */
    uint64_t points;
    int log_fd;
    pid_t owner; /* the process that tracked the first file */
    int nfiles;
    struct faultfs_shim_file files[FAULTFS_SHIM_MAX_FILES];
};

extern struct faultfs_shim_state faultfs_shim_g;

/* True once configured, and not inside the shim on this thread. */
bool faultfs_shim_active(void);
/* Take and release the shim's lock (and mark this thread as inside). */
void faultfs_shim_enter(void);
void faultfs_shim_leave(void);
/* Append "<when> <call> <file> [ranges] [what]" to b. */
void faultfs_shim_label(struct faultfs_shim_buf *b,
                        const struct faultfs_shim_point *pt);
/* Count a crash point; in crash mode, crash there if it is the one. */
void faultfs_shim_point(const struct faultfs_shim_point *pt);
/* Print the message and end the process with status 2. */
_Noreturn void faultfs_shim_fatal(const char *first, ...);

/* ---- what the interposed calls do (shim_ops.c) ---- */

/* Which libc entry point was called: each has its own next definition. */
enum faultfs_shim_call {
    FAULTFS_SHIM_OPEN,
    FAULTFS_SHIM_OPEN64,
    FAULTFS_SHIM_OPENAT,
    FAULTFS_SHIM_OPENAT64,
    FAULTFS_SHIM_OPEN_2,
    FAULTFS_SHIM_OPEN64_2,
    FAULTFS_SHIM_OPENAT_2,
    FAULTFS_SHIM_OPENAT64_2,
    FAULTFS_SHIM_CREAT,
    FAULTFS_SHIM_CREAT64,
    FAULTFS_SHIM_FSYNC,
    FAULTFS_SHIM_FDATASYNC,
    FAULTFS_SHIM_FTRUNCATE,
    FAULTFS_SHIM_FTRUNCATE64,
    FAULTFS_SHIM_TRUNCATE,
    FAULTFS_SHIM_TRUNCATE64,
    FAULTFS_SHIM_RENAME,
    FAULTFS_SHIM_RENAMEAT,
    FAULTFS_SHIM_RENAMEAT2,
    FAULTFS_SHIM_UNLINK,
    FAULTFS_SHIM_UNLINKAT,
    FAULTFS_SHIM_REMOVE,
};

/* Each returns what the real call returned, with its errno. */
int faultfs_shim_do_open(int which, int dirfd, const char *path, int flags,
                         mode_t mode);
void *faultfs_shim_do_mmap(int which, void *addr, size_t len, int prot,
                           int flags, int fd, off_t off);
int faultfs_shim_do_msync(void *addr, size_t len, int flags);
int faultfs_shim_do_fsync(int which, int fd);
int faultfs_shim_do_ftruncate(int which, int fd, off_t len);
int faultfs_shim_do_truncate(int which, const char *path, off_t len);
int faultfs_shim_do_rename(int which, int odir, const char *from, int ndir,
                           const char *to, unsigned flags);
int faultfs_shim_do_unlink(int which, int dirfd, const char *path, int flags);

/* Which write or fallocate entry point was called (shim_write.c). */
enum faultfs_shim_wcall {
    FAULTFS_SHIM_WRITE,
    FAULTFS_SHIM_PWRITE,
    FAULTFS_SHIM_PWRITE64,
    FAULTFS_SHIM_WRITEV,
    FAULTFS_SHIM_PWRITEV,
    FAULTFS_SHIM_PWRITEV64,
    FAULTFS_SHIM_PWRITEV2,
    FAULTFS_SHIM_PWRITEV64V2,
    FAULTFS_SHIM_FALLOCATE,
    FAULTFS_SHIM_FALLOCATE64,
    FAULTFS_SHIM_POSIX_FALLOCATE,
    FAULTFS_SHIM_POSIX_FALLOCATE64,
};

/*
 * Every write variant: iov/cnt the data, off the offset for the
 * positional ones (ignored by write and writev; -1 for pwritev2 means
 * the file offset), rwf the RWF_* flags of pwritev2 (else 0). Returns
 * what the real call returned, with its errno.
 */
ssize_t faultfs_shim_do_write(int which, int fd, const struct iovec *iov,
                              int cnt, off_t off, int rwf);
/* fallocate and posix_fallocate (which returns an error number). */
int faultfs_shim_do_fallocate(int which, int fd, int mode, off_t off,
                              off_t len);

/* ---- crash images (shim_image.c) ---- */

/* Write the configured images and the manifest, then _exit. */
_Noreturn void faultfs_shim_crash(const struct faultfs_shim_point *pt,
                                  uint64_t k);

#endif
