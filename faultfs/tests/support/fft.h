/*
 * fft.h - helpers shared by faultfs's own tests.
 */
#ifndef FFT_H
#define FFT_H

#include <stdint.h>

#include "faultfs.h"
#include "mappedpages.h"

/* A faultfs with the given seed, sector size and garbage flag (4096-byte
 * pages); aborts on failure. */
faultfs *fft_new(uint64_t seed, uint32_t sector, int garbage);

/* Pager options over fs with a small reservation (valgrind-friendly) and
 * fft_open_flags as the flags. */
void fft_options(faultfs *fs, struct mp_options *opt);

/* Flags fft_options() sets (0 unless a test runs a loop in another mode,
 * e.g. MP_OPEN_ONE_FLUSH). */
extern unsigned fft_open_flags;

/* Create `name` through the vfs directly (name made durable with
 * sync_dir, grown to size bytes, not file-synced, mapped) and return the
 * file; *base receives the mapping. Aborts on failure. */
struct mp_io_file *fft_raw_file(faultfs *fs, const char *name, uint64_t size,
                                unsigned char **base);

/* Read one byte of the named file's durable/volatile state. */
unsigned char fft_byte(faultfs *fs, const char *name, int durable,
                       uint64_t off);

/* mp_protected_begin, fill the whole staged page with byte v,
 * mp_protected_commit: the code of the first call that failed, or MP_OK. */
int fft_protected_write(mp_pager *p, mp_protected_id id, int v);

/* The committed state as the public API shows it: every regular page id,
 * then every protected page's id and every `stride`-th byte of it (an
 * FNV-1a hash, never 0). Aborts if a protected page cannot be read. */
uint64_t fft_digest(mp_pager *p, size_t stride);

#endif /* FFT_H */
