/*
 * shim_check_open.c - opens a mappedpages crash image through the public
 * API, as a program recovering after the crash would.
 *
 * Usage: shim_check_open FILE [PROTECTED_TEXT]
 *
 * A missing FILE is fine (a crash before create renamed its file into
 * place leaves none): prints "absent". An existing FILE must open with
 * MP_OK (recovery must never report corrupt metadata on an image the
 * crash model allows) and its pages and protected pages must iterate.
 * With PROTECTED_TEXT, every protected page must read as all zeros (never
 * committed) or as exactly that text followed by zeros: never a mix.
 *
 * Exit status 0 if all holds, 1 if not, 2 on a usage error.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "mappedpages.h"

static const char *reason(int r)
{
    switch (r) {
    case MP_RECOVERY_RECORD:
        return "commit record intact";
    case MP_RECOVERY_TORN_RECORD:
        return "torn commit record";
    case MP_RECOVERY_BAD_SELECTED:
        return "selected copy damaged, used the other";
    default:
        return "other";
    }
}

static int zeros(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i]) {
            return 0;
        }
    }
    return 1;
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : NULL;
    const char *text = argc > 2 ? argv[2] : NULL;
    struct mp_options opt;
    struct mp_recovery_info ri;
    struct stat st;
    uint64_t id, pages = 0, prots = 0;
    mp_pager *p;
    mp_iter it;
    int rc, bad = 0;

    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: shim_check_open FILE [PROTECTED_TEXT]\n");
        return 2;
    }
    if (stat(path, &st) != 0) {
        printf("absent %s\n", path);
        return 0;
    }
    mp_options_init(&opt);
    opt.reserve_bytes = (uint64_t)64 << 20; /* the images are small */
    rc = mp_pager_open(path, 0, &opt, &p);
    if (rc != MP_OK) {
        printf("FAIL %s: open: %s (%s)\n", path, mp_error_name(rc),
               mp_strerror(rc));
        return 1;
    }
    mp_pager_recovery(p, &ri);
    mp_for_each_page(&it, p, id) {
        const void *r;
        if (mp_pager_get(p, id, &r) != MP_OK) {
            printf("FAIL %s: page %" PRIu64 " listed but unreadable\n", path,
                   id);
            bad = 1;
        }
        pages++;
    }
    mp_for_each_protected(&it, p, id) {
        const unsigned char *c;
        size_t ps = mp_pager_page_size(p), n = text ? strlen(text) : 0;
        rc = mp_protected_get(p, id, (const void **)&c);
        if (rc != MP_OK) {
            printf("FAIL %s: protected %" PRIu64 ": %s\n", path,
                   id & ~MP_ID_KIND_MASK, mp_error_name(rc));
            bad = 1;
        } else if (text && !zeros(c, ps) &&
                   !(memcmp(c, text, n) == 0 && zeros(c + n, ps - n))) {
            printf("FAIL %s: protected %" PRIu64
                   " is neither empty nor the committed text\n",
                   path, id & ~MP_ID_KIND_MASK);
            bad = 1;
        }
        prots++;
    }
    if (!bad) {
        printf("ok %s: %" PRIu64 " pages (%" PRIu64 " free), %" PRIu64
               " regular, %" PRIu64 " protected; copy %c, generation %" PRIu64
               " (%s)\n",
               path, mp_pager_page_count(p), mp_pager_free_count(p), pages,
               prots, ri.chosen_copy ? 'B' : 'A', ri.generation,
               reason(ri.reason));
    }
    mp_pager_close(p);
    return bad;
}
