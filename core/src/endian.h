/*
 * endian.h - little-endian loads and stores. On-disk numbers are read byte
 * by byte (through memcpy) so no alignment or host order is assumed.
 */
#ifndef MP_ENDIAN_H
#define MP_ENDIAN_H

#include <stdint.h>
#include <string.h>

static inline uint32_t mp__le32(const void *p)
{
    const unsigned char *b = p;
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
           (uint32_t)b[3] << 24;
}

static inline uint64_t mp__le64(const void *p)
{
    const unsigned char *b = p;
    return (uint64_t)mp__le32(b) | (uint64_t)mp__le32(b + 4) << 32;
}

static inline uint16_t mp__le16(const void *p)
{
    const unsigned char *b = p;
    return (uint16_t)(b[0] | b[1] << 8);
}

static inline void mp__put16(void *p, uint16_t v)
{
    unsigned char *b = p;
    b[0] = (unsigned char)v;
    b[1] = (unsigned char)(v >> 8);
}

static inline void mp__put32(void *p, uint32_t v)
{
    unsigned char *b = p;
    b[0] = (unsigned char)v;
    b[1] = (unsigned char)(v >> 8);
    b[2] = (unsigned char)(v >> 16);
    b[3] = (unsigned char)(v >> 24);
}

static inline void mp__put64(void *p, uint64_t v)
{
    mp__put32(p, (uint32_t)v);
    mp__put32((unsigned char *)p + 4, (uint32_t)(v >> 32));
}

#endif /* MP_ENDIAN_H */
