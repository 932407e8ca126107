/*
 * ops.c - fuzz target "ops": an operation sequence run on the core over
 * faultfs and compared with the reference model after every step.
 *
 * Input: one flags byte (bit 0: sub-page ops on; bit 1: run on the POSIX
 * backend, a real file under $TMPDIR, instead of faultfs), then the op
 * stream (fuzz/README.md). Failure: the model and the pager disagree, or
 * the file is not clean after a clean close.
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mph_workload *w = NULL;
    struct fz_codec codec;
    struct fz_reader r;
    uint8_t flags;

    fz_reader_init(&r, data, size);
    flags = fz_u8(&r);
    fz_codec_ops(&codec, (flags & 1) != 0);
    if (fz_decode(&codec, &r, &w) != MP_OK) {
        return 0;
    }
    if (fz_verbose()) {
        fz_print_workload(w, stderr);
    }
    if (flags & 2) {
        (void)fz_run_posix("ops", w);
    } else {
        (void)fz_run_checked("ops", w, NULL, NULL);
    }
    mph_workload_free(w);
    return 0;
}
