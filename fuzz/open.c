/*
 * open.c - fuzz target "open": arbitrary or mutated file images opened by
 * the core. Either a clean error that the checker predicts, or a
 * successful open that the checker agrees with and on which a short
 * workload works; never a crash, a hang, a leak or an access out of
 * bounds (fuzz_open.c).
 *
 * Input: a control byte (bits 0-2: recompute the header, metadata and
 * record checksums; bit 3: open read-only; bit 4: expect 1024-byte
 * pages; bit 5: run the workload through the thread-safe wrapper instead
 * of the generic allocator interface; bit 6: a byte follows that makes
 * allocation number 1 + (byte & 0x7f) of the pager fail, and with bit 7
 * of that byte every later one too; bit 7: reserve no address space
 * beyond the file, so growth fails with MP_ELIMIT), then the file image.
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    (void)fz_open_run("open", data, size);
    return 0;
}
