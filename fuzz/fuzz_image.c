/*
 * fuzz_image.c - make the checksums of a mutated file image valid again
 * (core/FORMAT.md sections 2, 4, 6, 7), so the open target reaches the
 * checks behind them. The core never relaxes a check in fuzz builds; the
 * target computes what a writer would have computed.
 *
 * Every offset is checked against the image length before use: the image
 * is fuzzer input.
 */
#include "crc32c.h"
#include "endian.h"
#include "fuzz_common.h"

#define REF_SIZE   24
#define META_HDR   128
#define RECORD_OFF 512
#define RECORD_CRC 20

/* True if [off, off + n) lies inside the image. */
static bool inside(size_t len, uint64_t off, uint64_t n)
{
    return off <= len && n <= len - off;
}

/* Fix the payload CRC in one depth-0 reference: a map leaf (the whole
 * page) or directory block `block` (24 bytes per entry in it). */
static void fix_ref(uint8_t *img, size_t len, uint8_t *ref, size_t ps, bool dir,
                    uint64_t block, uint64_t slots)
{
    uint64_t live =
        (mp__le32(ref + 20) & 1) ? mp__le64(ref + 8) : mp__le64(ref);
    uint64_t payload = ps, per = ps / REF_SIZE;
    if (live > len / ps || !inside(len, live * ps, ps)) {
        return;
    }
    if (dir) {
        uint64_t first = block * per;
        if (first >= slots) {
            return;
        }
        payload = REF_SIZE * (slots - first < per ? slots - first : per);
    }
    mp__put32(ref + 16, mp__crc32c(0, img + live * ps, (size_t)payload));
}

static void fix_meta(uint8_t *img, size_t len, size_t ps, unsigned copy)
{
    uint8_t *m = img + (uint64_t)(1 + copy) * ps;
    uint32_t used, mroots, droots, mdepth, ddepth;
    uint64_t slots;

    if (!inside(len, (uint64_t)(1 + copy) * ps, ps)) {
        return;
    }
    used = mp__le32(m + 8);
    mdepth = mp__le32(m + 60);
    mroots = mp__le32(m + 64);
    ddepth = mp__le32(m + 68);
    droots = mp__le32(m + 72);
    slots = mp__le64(m + 40);
    if (used < META_HDR || used > ps) {
        return;
    }
    /* Root references inside used_len, when they point at leaves. */
    for (uint64_t i = 0; i < mroots && mdepth == 0; i++) {
        uint64_t at = META_HDR + REF_SIZE * i;
        if (at + REF_SIZE > used) {
            break;
        }
        fix_ref(img, len, m + at, ps, false, i, slots);
    }
    for (uint64_t i = 0; i < droots && ddepth == 0; i++) {
        uint64_t at = META_HDR + REF_SIZE * ((uint64_t)mroots + i);
        if (mroots > ps || at + REF_SIZE > used) {
            break;
        }
        fix_ref(img, len, m + at, ps, true, i, slots);
    }
    mp__put32(m + 4, mp__crc32c(0, m + 8, used - 8));
}

void fz_fix_image(uint8_t *img, size_t len, unsigned flags)
{
    uint32_t log2;
    size_t ps;

    if (len < 64) {
        return;
    }
    if (flags & FZ_FIX_HEADER) {
        mp__put32(img + 60, mp__crc32c(0, img, 60));
    }
    log2 = mp__le32(img + 12);
    if (log2 < 10 || log2 > 24) {
        return;
    }
    ps = (size_t)1 << log2;
    if (flags & FZ_FIX_META) {
        fix_meta(img, len, ps, 0);
        fix_meta(img, len, ps, 1);
    }
    if ((flags & FZ_FIX_RECORD) && inside(len, RECORD_OFF, REF_SIZE)) {
        uint8_t *r = img + RECORD_OFF;
        uint32_t sel = mp__le32(r + 4);
        if (sel <= 1 && inside(len, (uint64_t)(1 + sel) * ps, ps)) {
            const uint8_t *m = img + (uint64_t)(1 + sel) * ps;
            mp__put64(r + 8, mp__le64(m + 16));
            mp__put32(r + 16, mp__le32(m + 4));
        }
        mp__put32(r + RECORD_CRC, mp__crc32c(0, r, RECORD_CRC));
    }
}
