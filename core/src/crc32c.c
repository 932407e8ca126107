/*
 * crc32c.c - CRC-32C with the SSE4.2 instruction where the CPU has it and
 * slicing-by-8 tables elsewhere, and the zero-extension step of the
 * incremental CRC (carry-less multiply where the CPU has it). The tables are
 * constants in the source: the core keeps no global mutable state, not even
 * a lazily built table.
 */
#include "crc32c.h"

#include <string.h>

#include "crc32c_shift_table.h"
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

/* a * b mod P, both reflected (bit 31 is x^0): zlib's multmodp, without
 * branches on the data. */
static uint32_t multmodp(uint32_t a, uint32_t b)
{
    uint32_t p = 0;
    for (uint32_t m = (uint32_t)1 << 31; m; m >>= 1) {
        p ^= b & (0u - (uint32_t)((a & m) != 0));
        b = (b >> 1) ^ (0x82F63B78u & (0u - (b & 1)));
    }
    return p;
}

/* Runs of at most 2^24 - 1 bytes: the tables' three base-256 digits. */
#define ZEROS_RUN ((uint64_t)0xFFFFFF)

uint32_t mp__crc32c_zeros_portable(uint32_t c, uint64_t n)
{
    while (n > 0 && c != 0) {
        uint64_t run = n < ZEROS_RUN ? n : ZEROS_RUN;
        for (int k = 0; k < 3; k++) {
            unsigned d = (unsigned)(run >> (8 * k)) & 0xFF;
            if (d) {
                c = multmodp(mp__crc32c_xpow[k][d], c);
            }
        }
        n -= run;
    }
    return c;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
# include <nmmintrin.h>
# include <wmmintrin.h>

/* c * x^(8 * run): the carry-less product with x^(8 * run - 33), reduced by
 * the CRC instruction, which multiplies by x^33 on the way. */
__attribute__((target("sse4.2,pclmul"))) static uint32_t zeros_clmul(uint32_t c,
                                                                     uint64_t n)
{
    while (n > 0 && c != 0) {
        uint64_t run = n < ZEROS_RUN ? n : ZEROS_RUN;
        for (int k = 0; k < 3; k++) {
            unsigned d = (unsigned)(run >> (8 * k)) & 0xFF;
            if (d) {
                __m128i a = _mm_cvtsi32_si128((int)c);
                __m128i b = _mm_cvtsi32_si128((int)mp__crc32c_xpow33[k][d]);
                uint64_t prod =
                    (uint64_t)_mm_cvtsi128_si64(_mm_clmulepi64_si128(a, b, 0));
                c = (uint32_t)_mm_crc32_u64(0, prod);
            }
        }
        n -= run;
    }
    return c;
}

uint32_t mp__crc32c_zeros(uint32_t c, uint64_t n)
{
    if (__builtin_cpu_supports("sse4.2") && __builtin_cpu_supports("pclmul")) {
        return zeros_clmul(c, n);
    }
    return mp__crc32c_zeros_portable(c, n);
}

/*
 * The CRC instruction takes 3 cycles and can start one per cycle: three
 * independent streams over three adjacent blocks run three times as fast
 * as one, and the block CRCs are joined by zero-extension (the raw register
 * after A B C is zeros(a, |B C|) ^ zeros(b, |C|) ^ c for a started from the
 * incoming register, b and c from 0). Worth it from a few hundred bytes
 * (a metadata copy with many roots, a whole leaf).
 */
# define STREAMS_MIN  ((size_t)3 * 128)
# define STREAM_BLOCK ((size_t)4096)

__attribute__((target("sse4.2,pclmul"))) static uint64_t
crc32c_3way(uint64_t c, const unsigned char **pp, size_t *lenp)
{
    const unsigned char *p = *pp;
    size_t len = *lenp;
    while (len >= STREAMS_MIN) {
        size_t n = len / 24 * 8;
        uint64_t b = 0, d = 0;
        if (n > STREAM_BLOCK) {
            n = STREAM_BLOCK;
        }
        for (size_t i = 0; i < n; i += 8) {
            uint64_t x, y, z;
            memcpy(&x, p + i, 8);
            memcpy(&y, p + n + i, 8);
            memcpy(&z, p + 2 * n + i, 8);
            c = _mm_crc32_u64(c, x);
            b = _mm_crc32_u64(b, y);
            d = _mm_crc32_u64(d, z);
        }
        c = zeros_clmul((uint32_t)c, 2 * n) ^ zeros_clmul((uint32_t)b, n) ^ d;
        p += 3 * n;
        len -= 3 * n;
    }
    *pp = p;
    *lenp = len;
    return c;
}

__attribute__((target("sse4.2"))) static uint32_t
crc32c_sse42(uint32_t crc, const void *buf, size_t len)
{
    const unsigned char *p = buf;
    uint64_t c = ~crc;

    while (len && ((uintptr_t)p & 7)) {
        c = _mm_crc32_u8((uint32_t)c, *p++);
        len--;
    }
    if (len >= STREAMS_MIN && __builtin_cpu_supports("pclmul")) {
        c = crc32c_3way(c, &p, &len);
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

uint32_t mp__crc32c_zeros(uint32_t c, uint64_t n)
{
    return mp__crc32c_zeros_portable(c, n);
}
#endif
