/*
 * shim_config.c - the FAULTFS_SHIM_* environment variables (the table in
 * faultfs/shim/README.md). A bad value stops the program before main with
 * a message naming the variable: a crash test that silently ran without
 * its faults would report success for nothing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shim.h"

static int bad(char *err, size_t errlen, const char *var, const char *val,
               const char *need)
{
    struct faultfs_shim_buf b;
    faultfs_shim_buf_init(&b, err, errlen - 1);
    faultfs_shim_buf_str(&b, var);
    if (val) {
        faultfs_shim_buf_str(&b, "=");
        faultfs_shim_buf_str(&b, val);
    }
    faultfs_shim_buf_str(&b, ": ");
    faultfs_shim_buf_str(&b, need);
    err[b.len] = 0;
    return -EINVAL;
}

static int get_u64(const char *var, uint64_t lo, uint64_t hi, uint64_t dflt,
                   uint64_t *out, bool *set)
{
    const char *v = getenv(var);
    *set = v && *v;
    if (!*set) {
        *out = dflt;
        return 0;
    }
    if (faultfs_shim_parse_u64(v, out) != 0 || *out < lo || *out > hi) {
        return -EINVAL;
    }
    return 0;
}

/* Relative paths are made absolute now, and put back in the environment
 * that way: the program may chdir later, and a child it starts in another
 * directory (preloaded too) must use the same files. */
static int get_path(const char *var, char *dst, char *err, size_t errlen)
{
    const char *v = getenv(var);
    size_t n = v ? strlen(v) : 0, c = 0;

    if (n && v[0] != '/') {
        if (!getcwd(dst, FAULTFS_SHIM_PATH)) {
            return bad(err, errlen, var, v, "cannot get the working directory");
        }
        c = strlen(dst);
        dst[c++] = '/';
    }
    if (c + n >= FAULTFS_SHIM_PATH) {
        return bad(err, errlen, var, NULL, "longer than 4095 bytes");
    }
    memcpy(dst + c, v ? v : "", n + 1);
    if (c && setenv(var, dst, 1) != 0) {
        return bad(err, errlen, var, v, "cannot update the environment");
    }
    return 0;
}

/* Prefix patterns are compared with absolute paths: a relative one would
 * silently match nothing. */
static int check_match(const char *list, char *err, size_t errlen)
{
    while (*list) {
        const char *end = strchr(list, ':');
        size_t n = end ? (size_t)(end - list) : strlen(list);
        bool glob = false;
        for (size_t i = 0; i < n; i++) {
            glob = glob || strchr("*?[", list[i]);
        }
        if (n && !glob && list[0] != '/') {
            return bad(err, errlen, "FAULTFS_SHIM_MATCH",
                       getenv("FAULTFS_SHIM_MATCH"),
                       "a path prefix must be absolute (or use a glob such "
                       "as */name)");
        }
        list += n;
        list += *list == ':';
    }
    return 0;
}

int faultfs_shim_config_read(struct faultfs_shim_config *cfg, size_t page,
                             char *err, size_t errlen)
{
    uint64_t v;
    bool set, count;
    int rc;
    const char *m = getenv("FAULTFS_SHIM_MATCH");

    memset(cfg, 0, sizeof(*cfg));
    if (m && strlen(m) >= sizeof(cfg->match)) {
        return bad(err, errlen, "FAULTFS_SHIM_MATCH", NULL,
                   "longer than 4095 bytes");
    }
    strcpy(cfg->match, m ? m : "");
    if ((rc = get_path("FAULTFS_SHIM_OUT", cfg->out, err, errlen)) ||
        (rc = get_path("FAULTFS_SHIM_REPORT", cfg->report, err, errlen)) ||
        (rc = get_path("FAULTFS_SHIM_LOG", cfg->log, err, errlen))) {
        return rc;
    }
    if (!cfg->match[0]) {
        return bad(err, errlen, "FAULTFS_SHIM_MATCH", NULL,
                   "not set: give the file(s) to track, as a path prefix "
                   "or a glob (':' separates several)");
    }
    if ((rc = check_match(cfg->match, err, errlen))) {
        return rc;
    }
    if (get_u64("FAULTFS_SHIM_COUNT", 0, 1, 0, &v, &set)) {
        return bad(err, errlen, "FAULTFS_SHIM_COUNT",
                   getenv("FAULTFS_SHIM_COUNT"), "must be 0 or 1");
    }
    count = v == 1;
    if (get_u64("FAULTFS_SHIM_CRASH_AT", 1, UINT64_MAX, 0, &cfg->crash_at,
                &set)) {
        return bad(err, errlen, "FAULTFS_SHIM_CRASH_AT",
                   getenv("FAULTFS_SHIM_CRASH_AT"),
                   "must be a crash point number, 1 or more");
    }
    if (count == set) {
        return bad(err, errlen, "FAULTFS_SHIM_COUNT/FAULTFS_SHIM_CRASH_AT",
                   NULL,
                   count ? "set one of them, not both"
                         : "set FAULTFS_SHIM_COUNT=1 (count crash points) "
                           "or FAULTFS_SHIM_CRASH_AT=<k> (crash at point k)");
    }
    cfg->mode = count ? FAULTFS_SHIM_COUNT : FAULTFS_SHIM_CRASH;
    if (!count && !cfg->out[0]) {
        return bad(err, errlen, "FAULTFS_SHIM_OUT", NULL,
                   "not set: FAULTFS_SHIM_CRASH_AT needs a directory for "
                   "the crash images");
    }
    if (get_u64("FAULTFS_SHIM_SEED", 0, UINT64_MAX, 0, &cfg->seed, &set)) {
        return bad(err, errlen, "FAULTFS_SHIM_SEED",
                   getenv("FAULTFS_SHIM_SEED"),
                   "must be a 64-bit number (decimal or 0x hex)");
    }
    if (get_u64("FAULTFS_SHIM_SECTOR", 1, page, 512, &v, &set) ||
        (v & (v - 1))) {
        return bad(err, errlen, "FAULTFS_SHIM_SECTOR",
                   getenv("FAULTFS_SHIM_SECTOR"),
                   "must be a power of two from 1 to the OS page size");
    }
    cfg->sector = (uint32_t)v;
    if (get_u64("FAULTFS_SHIM_IMAGES", 1, 100000, 1, &v, &set)) {
        return bad(err, errlen, "FAULTFS_SHIM_IMAGES",
                   getenv("FAULTFS_SHIM_IMAGES"), "must be 1 to 100000");
    }
    cfg->images = (uint32_t)v;
    if (get_u64("FAULTFS_SHIM_GARBAGE", 0, 1, 0, &v, &set)) {
        return bad(err, errlen, "FAULTFS_SHIM_GARBAGE",
                   getenv("FAULTFS_SHIM_GARBAGE"), "must be 0 or 1");
    }
    cfg->garbage = v == 1;
    if (get_u64("FAULTFS_SHIM_EXIT_CODE", 1, 255, 77, &v, &set) || v == 2) {
        return bad(err, errlen, "FAULTFS_SHIM_EXIT_CODE",
                   getenv("FAULTFS_SHIM_EXIT_CODE"),
                   "must be 1 to 255, and not 2 (the shim's own error "
                   "status)");
    }
    cfg->exit_code = (int)v;
    return 0;
}
