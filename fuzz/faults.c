/*
 * faults.c - fuzz target "faults": an operation sequence with I/O errors
 * injected (sync failing with none, part or all of its range persisted,
 * growth refused with MP_ENOSPC, map and extend_map with MP_ENOMEM, open,
 * rename, directory sync, lock); every call must report the error
 * cleanly, and the file must then recover the state before or after the
 * failed call (fuzz_faults.c has the rules).
 *
 * Input: flags, two faults of three bytes each (call, nth, mode), a seed,
 * the op stream, FZ_END, tear bytes.
 *   flags bit 0     sub-page ops on
 *   flags bit 1     crash right after the failed call (image from the
 *                   tear bytes); otherwise close and reopen the live disk
 *   flags bit 2     inject the second fault too
 *   flags bits 3-5  disk geometry (fz_disk_from_bits)
 *   flags bit 6     the pager's own allocations fail (failmem)
 *   flags bit 7     one-flush commits (MP_OPEN_ONE_FLUSH)
 *   fault: call (% 12: sync, sync, sync_file, grow, map, extend_map, open,
 *          rename, sync_dir, remove, lock, any); nth (1 + % 48, counted
 *          from before create); mode (bits 0-1 persist none/part/all,
 *          bit 2 sticky, bits 3-4 code natural/EIO/ENOSPC/ENOMEM)
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz_faults_input in;
    if (fz_faults_parse(data, size, &in) != MP_OK) {
        return 0;
    }
    (void)fz_faults_run("faults", &in);
    fz_faults_input_free(&in);
    return 0;
}
