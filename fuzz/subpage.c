/*
 * subpage.c - fuzz target "subpage": the sub-page allocator against its
 * model. Sub-page calls (and some regular ones and reopens) run with the
 * model checking every step; then every allocator is rebuilt from the
 * model's ids on a reopened pager, bad rebuild lists are refused, every
 * slot is filled and read back, and all slots are freed in bulk
 * (fuzz_subpage.c).
 *
 * Input: one flags byte (reserved), then the op stream of the subpage
 * codec (opcodes: salloc, salloc_bulk, sfree, sfree_bulk, reopen, alloc,
 * free, write, sync, iterate).
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mph_workload *w = NULL;
    struct mph_model *m = NULL;
    struct fz_codec codec;
    struct fz_reader r;
    faultfs *fs = NULL;

    fz_reader_init(&r, data, size);
    (void)fz_u8(&r);
    fz_codec_subpage(&codec);
    if (fz_decode(&codec, &r, &w) != MP_OK) {
        return 0;
    }
    if (fz_verbose()) {
        fz_print_workload(w, stderr);
    }
    if (fz_run_checked("subpage", w, &m, &fs) == MP_OK) {
        (void)fz_subpage_check("subpage", w, m, fs);
    }
    mph_model_free(m);
    fz_fs_free(fs);
    mph_workload_free(w);
    return 0;
}
