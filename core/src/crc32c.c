/*
 * crc32c.c - CRC-32C with the SSE4.2 instruction where the CPU has it and
 * slicing-by-8 tables elsewhere. The tables are constants in the source: the
 * core keeps no global mutable state, not even a lazily built table.
 */
#include "crc32c.h"

#include <string.h>

#include "crc32c_table.h"

uint32_t mp__crc32c_portable(uint32_t crc, const void *buf, size_t len)
{
    const unsigned char *p = buf;
    uint32_t c = ~crc;

    while (len >= 8) {
        uint32_t lo = ((uint32_t)p[0] | (uint32_t)p[1] << 8 |
                       (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24) ^
                      c;
        c = mp__crc32c_table[7][lo & 0xff] ^
            mp__crc32c_table[6][(lo >> 8) & 0xff] ^
            mp__crc32c_table[5][(lo >> 16) & 0xff] ^
            mp__crc32c_table[4][lo >> 24] ^ mp__crc32c_table[3][p[4]] ^
            mp__crc32c_table[2][p[5]] ^ mp__crc32c_table[1][p[6]] ^
            mp__crc32c_table[0][p[7]];
        p += 8;
        len -= 8;
    }
    while (len--) {
        c = mp__crc32c_table[0][(c ^ *p++) & 0xff] ^ (c >> 8);
    }
    return ~c;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
# include <nmmintrin.h>

__attribute__((target("sse4.2"))) static uint32_t
crc32c_sse42(uint32_t crc, const void *buf, size_t len)
{
    const unsigned char *p = buf;
    uint64_t c = ~crc;

    while (len && ((uintptr_t)p & 7)) {
        c = _mm_crc32_u8((uint32_t)c, *p++);
        len--;
    }
    while (len >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        c = _mm_crc32_u64(c, v);
        p += 8;
        len -= 8;
    }
    while (len--) {
        c = _mm_crc32_u8((uint32_t)c, *p++);
    }
    return ~(uint32_t)c;
}

uint32_t mp__crc32c(uint32_t crc, const void *buf, size_t len)
{
    /* libgcc/compiler-rt answer this from data they set up at load time. */
    if (__builtin_cpu_supports("sse4.2")) {
        return crc32c_sse42(crc, buf, len);
    }
    return mp__crc32c_portable(crc, buf, len);
}
#else
uint32_t mp__crc32c(uint32_t crc, const void *buf, size_t len)
{
    return mp__crc32c_portable(crc, buf, len);
}
#endif
