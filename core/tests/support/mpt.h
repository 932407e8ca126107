/*
 * mpt.h - support for the core's tests: where files go, how they are
 * opened, and byte-level access to them for corruption tests.
 *
 * Backend hook: the tests never name a backend themselves. By default these
 * functions use the posix backend and real files under a private temporary
 * directory. Built with MPT_EXTERNAL_BACKEND defined, mpt.c leaves out
 * mpt_options, mpt_peek, mpt_poke, mpt_file_size and mpt_truncate, and
 * another object (for example faultfs's test glue) provides them, so the
 * same test sources run over another backend.
 */
#ifndef MPT_H
#define MPT_H

#include <stddef.h>
#include <stdint.h>

#include "mappedpages.h"

/* Options the tests open pagers with (backend chosen here). */
void mpt_options(struct mp_options *opt);
/** mp_options_init() plus the MPT_RESERVE override (memcheck runs). */
void mpt_default_options(struct mp_options *opt);
/* Cap the address reservation of every later pager this process opens
 * (0 = no cap). For tests that reopen small files hundreds of times:
 * under valgrind each reservation costs time in proportion to its size. */
void mpt_cap_reserve(uint64_t bytes);

/* A fresh path for a test file named `name`; valid until the next call
 * with a different slot: mpt_path returns one of 8 rotating buffers. */
const char *mpt_path(const char *name);

/* Read or write len bytes at offset of the file at path. 0 or -1. */
int mpt_peek(const char *path, uint64_t offset, void *buf, size_t len);
int mpt_poke(const char *path, uint64_t offset, const void *buf, size_t len);
/* File length, or UINT64_MAX on error. */
uint64_t mpt_file_size(const char *path);
/* Set the file's length. 0 or -1. */
int mpt_truncate(const char *path, uint64_t size);

/* Shorthands. */
mp_pager *mpt_create(const char *path, size_t page_size);
mp_pager *mpt_open(const char *path, size_t page_size);
/* Flip one byte of the file (xor 0xFF). */
void mpt_flip(const char *path, uint64_t offset);

/*
 * A vfs wrapper for fault loops: it forwards to `inner` and fails the
 * fail_at-th failure-capable call (1-based; 0 = never) with `code`, and,
 * if `sticky`, every call after it as well.
 */
struct mpt_faulty {
    struct mp_vfs vfs;
    const struct mp_vfs *inner;
    long calls;
    long fail_at;
    int code;
    int sticky;
};
void mpt_faulty_init(struct mpt_faulty *f, const struct mp_vfs *inner,
                     long fail_at, int code, int sticky);

/*
 * The posix backend's naming calls, for test vfs tables that replace only
 * open (a wrapped file's methods) and keep the real names on disk.
 */
int mpt_posix_remove(const struct mp_vfs *vfs, const char *path, int *os);
int mpt_posix_rename(const struct mp_vfs *vfs, const char *from, const char *to,
                     int *os);
int mpt_posix_sync_dir(const struct mp_vfs *vfs, const char *path, int *os);

#endif /* MPT_H */
