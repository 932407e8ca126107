/*
 * check_file.c - checking a file through a vfs: open read-only, map, check
 * the image, close, then cross-check with the core.
 *
 * The checker's own mapping is closed before the core opens the file, so a
 * backend that allows one open file per name at a time (an in-memory crash
 * image, say) works too; with MPH_CHECK_SHARED_LOCK the file itself stays
 * open, unmapped, to hold the lock through the cross-check.
 */
#include <string.h>

#include "check_internal.h"

static int check_path(const struct mp_vfs *vfs, const char *path,
                      size_t page_size, unsigned flags, FILE *dump,
                      struct mph_check_report *out)
{
    struct mp_io_file *file = NULL;
    struct mph__ck_copy c[2];
    uint64_t bytes = 0, reserved = 0;
    void *base = NULL;
    int rc, os = 0;

    if (!path || !out) {
        return MP_EINVAL;
    }
    if (page_size &&
        (page_size < MP_PAGE_SIZE_MIN || page_size > MP_PAGE_SIZE_MAX ||
         (page_size & (page_size - 1)))) {
        return MP_EPAGESIZE;
    }
    if (!vfs) {
        vfs = mp_vfs_posix();
    }
    rc = vfs->open(vfs, path, MP_IO_READONLY, &file, &os);
    if (rc != MP_OK) {
        return rc;
    }
    if (flags & MPH_CHECK_SHARED_LOCK) {
        /* As a read-only open: a writer holding the file is MP_ELOCKED,
         * and none can start while the lock is held. */
        rc = file->methods->lock(file, MP_IO_LOCK_SHARED);
        if (rc != MP_OK) {
            file->methods->close(file);
            return rc;
        }
    }
    rc = file->methods->size(file, &bytes);
    /* Too short for a superblock: judged without mapping (an empty
     * mapping is an error on POSIX). */
    if (rc == MP_OK && bytes >= 64) {
        rc = file->methods->map(file, bytes, bytes, &base, &reserved);
    }
    if (rc != MP_OK) {
        file->methods->close(file);
        return rc;
    }
    mph__ck_report_init(out);
    rc = mph__ck_image(base, bytes, page_size, dump, c, out);
    /* Closing unmaps; nothing below reads the image. Under the shared
     * lock the file stays open (locked) until the cross-check is done. */
    if (flags & MPH_CHECK_SHARED_LOCK) {
        file->methods->unmap(file);
    } else {
        file->methods->close(file);
        file = NULL;
    }
    if (rc == MP_OK && !(flags & MPH_CHECK_NO_CROSS)) {
        int k = out->recovery_would_choose;
        mph__ck_cross(vfs, path, page_size, k >= 0 ? &c[k] : NULL, out);
    }
    if (file) {
        file->methods->close(file);
    }
    mph__ck_copy_free(&c[0]);
    mph__ck_copy_free(&c[1]);
    return rc;
}

int mph_check_file_ex(const struct mp_vfs *vfs, const char *path,
                      size_t page_size, unsigned flags,
                      struct mph_check_report *out)
{
    return check_path(vfs, path, page_size, flags, NULL, out);
}

int mph_check_file(const struct mp_vfs *vfs, const char *path, size_t page_size,
                   struct mph_check_report *out)
{
    return check_path(vfs, path, page_size, 0, NULL, out);
}

int mph_check_dump(FILE *f, const struct mp_vfs *vfs, const char *path,
                   size_t page_size, struct mph_check_report *out)
{
    return mph_check_dump_ex(f, vfs, path, page_size, 0, out);
}

int mph_check_dump_ex(FILE *f, const struct mp_vfs *vfs, const char *path,
                      size_t page_size, unsigned flags,
                      struct mph_check_report *out)
{
    struct mph_check_report r;
    int rc;

    if (!f) {
        return MP_EINVAL;
    }
    fprintf(f, "file: %s\n", path ? path : "(null)");
    rc = check_path(vfs, path, page_size, flags, f, &r);
    if (rc != MP_OK) {
        return rc;
    }
    if (out) {
        *out = r;
    }
    fprintf(f, "\n");
    rc = mph__ck_print_human(f, &r);
    if (rc == MP_OK && ferror(f)) {
        rc = MP_EIO;
    }
    return rc;
}
