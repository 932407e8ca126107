/*
 * mappedpages/error.h - error codes shared by every mappedpages call.
 *
 * Every fallible function returns int: MP_OK (0) or one negative MP_E* code.
 * Codes are generated from one list, MP_ERROR_MAP, so the enum, the message
 * and the name can never drift apart. Codes are only ever appended: a value
 * once published is never renumbered or reused. Raw errno values never travel
 * in these ints; they are kept beside them: a pager keeps the OS errno of
 * the failure that made it unavailable (mp_pager_last_failure()), and
 * mp_pager_create() and mp_pager_open(), which fail without a pager to keep
 * it in, leave the errno of the failed OS call in errno (0 when no OS call
 * failed), as pager.h says.
 */
#ifndef MAPPEDPAGES_ERROR_H
#define MAPPEDPAGES_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
# define MP_NODISCARD __attribute__((warn_unused_result))
# define MP_API       __attribute__((visibility("default")))
#else
# define MP_NODISCARD
# define MP_API
#endif

/* X(name, value, message). Append only. */
#define MP_ERROR_MAP(X)                                                     \
 X(OK, 0, "success")                                                        \
 X(EINVAL, -1, "invalid argument")                                          \
 X(ENOMEM, -2, "out of memory")                                             \
 X(EIO, -3, "I/O error")                                                    \
 X(EPAGESIZE, -4, "page size is invalid or does not match the file")        \
 X(ECORRUPT_SUPER, -5, "superblock is corrupt or not a mappedpages file")   \
 X(ECORRUPT_META, -6, "no valid metadata copy: file is corrupt")            \
 X(EOUTOFBOUNDS, -7, "page id is out of range")                             \
 X(ERESERVED, -8, "page id names a reserved page (0-2)")                    \
 X(EDOUBLEFREE, -9, "page or slot is not allocated")                        \
 X(EUNAVAILABLE, -10, "pager refused: an earlier failure; reopen the file") \
 X(ELOCKED, -11, "file is locked by another process")                       \
 X(EREADONLY, -12, "pager is read-only")                                    \
 X(EVERSION, -13, "file has an unsupported format version")                 \
 X(EEXIST, -14, "file already exists")                                      \
 X(ENOENT, -15, "file does not exist")                                      \
 X(ENOSPC, -16, "no space left on the device")                              \
 X(EDUPLICATE, -17, "the same id appears twice in the list")                \
 X(EINTERNAL, -18, "id names a page the pager uses internally")             \
 X(EWRONGKIND, -19, "id is of another kind (regular/protected/sub-page)")   \
 X(ENOTSTAGED, -20, "no write has been begun on this protected page")       \
 X(ESTAGED, -21, "a write is already in progress on this protected page")   \
 X(EITERATING, -22, "an iterator is open on this pager")                    \
 X(ENOTOWNER, -23, "sub-page id belongs to another allocator")              \
 X(EWOULDBLOCK, -24, "operation would block")                               \
 X(ECOUNT, -25, "bulk count is zero or exceeds the limit")                  \
 X(ELIMIT, -26, "a format or address-space limit was reached")              \
 X(ECORRUPT, -27, "file structure is corrupt")                              \
 X(EDEVICE, -28, "page size is smaller than the device's power-fail unit")  \
 X(EACCES, -30, "permission denied by the file system")                     \
 X(EROFS, -31, "the file system is read-only")

/**
 * Error codes. MP_OK is 0; every failure is negative.
 *
 * Where a code's meaning needs more than its message: MP_ECORRUPT is damage
 * to one part of a file that opened (a protected page whose committed copy
 * failed its checksum at open: mp_protected_get(), mp_protected_begin());
 * MP_ECORRUPT_SUPER and MP_ECORRUPT_META are open's, for a file that does
 * not open. MP_EACCES is EACCES or EPERM from the OS (a
 * read-only file opened for writing, a directory the caller may not write
 * to); MP_EROFS is EROFS (a file or directory on a read-only mount opened
 * for writing or created).
 */
enum mp_error {
#define MP__ERROR_ENUM(name, value, msg) MP_##name = (value),
    MP_ERROR_MAP(MP__ERROR_ENUM)
#undef MP__ERROR_ENUM
};

/** The lowest (most negative) code currently defined; for table sizes. */
#define MP_ERROR_MIN (-31)

/**
 * Describe an error code in words.
 *
 * @param[in] err  any int; unknown values get "unknown error".
 * @return a static string, never NULL, never to be freed. Thread-safe.
 */
MP_API const char *mp_strerror(int err);

/**
 * The symbolic name of an error code ("MP_EIO").
 *
 * @param[in] err  any int; unknown values get "MP_E?".
 * @return a static string, never NULL, never to be freed. Thread-safe.
 */
MP_API const char *mp_error_name(int err);

#ifdef __cplusplus
}
#endif
#endif /* MAPPEDPAGES_ERROR_H */
