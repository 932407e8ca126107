/*
 * crc32c.h - CRC-32C (Castagnoli), the checksum of every on-disk structure.
 */
#ifndef MP_CRC32C_H
#define MP_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* CRC-32C of buf; chain by passing the previous result as crc (start: 0). */
uint32_t mp__crc32c(uint32_t crc, const void *buf, size_t len);

/* The portable path alone, so tests can check it against the fast one. */
uint32_t mp__crc32c_portable(uint32_t crc, const void *buf, size_t len);

/*
 * The CRC register without the inversions (the linear part, "raw"): the
 * register after buf, from register c. Linear over GF(2), so for payloads
 * A and B of one length, crc(A) ^ crc(B) = raw(0, A ^ B): a payload whose
 * few words changed gets its new CRC from the old one and the changed
 * words, without reading the rest (tree.c).
 */
static inline uint32_t mp__crc32c_raw(uint32_t c, const void *buf, size_t len)
{
    return ~mp__crc32c(~c, buf, len);
}

/*
 * The raw register c after n more zero bytes: c * x^(8n) mod P, in a few
 * multiplications by constants (crc32c_shift_table.h) instead of n bytes
 * of CRC. So raw(0, A ^ B) for a difference that is zero outside a few
 * words costs the words plus one such step per gap.
 */
uint32_t mp__crc32c_zeros(uint32_t c, uint64_t n);

/* The portable path alone (bitwise multiplication), for tests. */
uint32_t mp__crc32c_zeros_portable(uint32_t c, uint64_t n);

#endif /* MP_CRC32C_H */
