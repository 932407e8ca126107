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

#endif /* MP_CRC32C_H */
