/*
 * crash.c - fuzz target "crash": an operation sequence, a crash site and a
 * tear pattern taken from the input; the recovery oracle (DESIGN.md rules
 * 1-6) judges the crash image.
 *
 * Input: flags, op selector, point selector, seed, the op stream, FZ_END,
 * then tear bytes (one per choice of faultfs_image_from_bytes: namespace,
 * sizes, each dirty page old/new/torn, each torn sector).
 *   flags bit 0     sub-page ops on
 *   flags bits 1-3  disk: garbage sectors, 64-byte sectors, 1024-byte
 *                   write-back unit (fz_disk_from_bits)
 *   flags bits 4-5  site: 1 a gap between ops (crash_now), 2 a crash point
 *                   inside create, 0 or 3 a crash point inside an op
 *   flags bit 6     one-flush commits: every pager (and the oracle's) is
 *                   opened with MP_OPEN_ONE_FLUSH
 *   flags bit 7     the sector is the whole write-back unit; with garbage
 *                   and a 4096-byte unit (above the 1024-byte pages)
 *                   create must refuse with MP_EDEVICE (FORMAT.md 2.3)
 * fuzz_crash.c has how the sites are reached.
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz_crash_input in;
    if (fz_crash_parse(data, size, &in) != MP_OK) {
        return 0;
    }
    (void)fz_crash_run("crash", &in);
    fz_crash_input_free(&in);
    return 0;
}
