/*
 * mpt_faultfs.c - the backend hooks of the core's test support (mpt.h)
 * over one process-wide faultfs, so the core's unit tests run unchanged
 * over faultfs with no faults. Test support, not library code: the
 * process-wide instance is the point.
 */
#include <stdio.h>
#include <stdlib.h>

#include "faultfs.h"
#include "mpt.h"

static faultfs *mpt_fs;

static void mpt_fs_free(void)
{
    faultfs_free(mpt_fs);
    mpt_fs = NULL;
}

static faultfs *the_fs(void)
{
    if (!mpt_fs) {
        struct faultfs_config cfg;
        faultfs_config_init(&cfg);
        /* The core's locking tests fork readers that must conflict. */
        cfg.process_locks = true;
        if (faultfs_new(&cfg, &mpt_fs) != MP_OK) {
            fprintf(stderr, "mpt_faultfs: faultfs_new failed\n");
            abort();
        }
        atexit(mpt_fs_free);
    }
    return mpt_fs;
}

void mpt_options(struct mp_options *opt)
{
    mpt_default_options(opt);
    opt->vfs = faultfs_vfs(the_fs());
}

int mpt_peek(const char *path, uint64_t offset, void *buf, size_t len)
{
    return faultfs_file_read(the_fs(), path, false, offset, buf, len) == MP_OK
               ? 0
               : -1;
}

int mpt_poke(const char *path, uint64_t offset, const void *buf, size_t len)
{
    return faultfs_file_write(the_fs(), path, offset, buf, len) == MP_OK ? 0
                                                                         : -1;
}

uint64_t mpt_file_size(const char *path)
{
    uint64_t size;
    return faultfs_file_size(the_fs(), path, &size) == MP_OK ? size
                                                             : UINT64_MAX;
}

int mpt_truncate(const char *path, uint64_t size)
{
    return faultfs_file_truncate(the_fs(), path, size) == MP_OK ? 0 : -1;
}

/*
 * The core tests remove their files with stdio's remove(); the link wraps
 * it (-Wl,--wrap=remove) so the name goes from the faultfs, and from the
 * host too in case the test made a real file.
 */
int __real_remove(const char *path);
int __wrap_remove(const char *path);

int __wrap_remove(const char *path)
{
    int in_fs = faultfs_file_remove(the_fs(), path) == MP_OK;
    int on_host = __real_remove(path) == 0;
    return in_fs || on_host ? 0 : -1;
}
