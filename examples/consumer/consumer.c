/*
 * consumer.c - a program outside the tree that uses an installed
 * mappedpages: create a file, allocate and write pages, commit a protected
 * page, close, reopen and check every byte. Built by CMakeLists.txt
 * (find_package) and by Makefile (pkg-config); ci/check-install.sh runs it
 * against a staged install, statically and dynamically linked.
 *
 * Usage: consumer FILE     Exit status 0 when everything read back.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <mappedpages.h>

static int fail(int rc, const char *what)
{
    fprintf(stderr, "consumer: %s: %s (%s)\n", what, mp_strerror(rc),
            mp_error_name(rc));
    return 1;
}

int main(int argc, char **argv)
{
    const unsigned built =
        (MP_VERSION_MAJOR << 16) | (MP_VERSION_MINOR << 8) | MP_VERSION_PATCH;
    mp_pager *p;
    mp_pgno pages[4];
    mp_protected_id prot;
    void *w;
    const void *r;
    int rc;

    if (argc != 2) {
        fprintf(stderr, "usage: consumer FILE\n");
        return 2;
    }
    /* Headers and library from the same install: a stale library would
     * show here before it shows as a crash. */
    if (mp_version() != built) {
        fprintf(stderr, "consumer: library version %#x, headers %#x\n",
                mp_version(), built);
        return 1;
    }
    printf("mappedpages %u.%u.%u\n", MP_VERSION_MAJOR, MP_VERSION_MINOR,
           MP_VERSION_PATCH);

    remove(argv[1]);
    rc = mp_pager_create(argv[1], 4096, NULL, &p);
    if (rc != MP_OK) {
        return fail(rc, "create");
    }
    rc = mp_pager_alloc_bulk(p, 4, pages);
    if (rc != MP_OK) {
        return fail(rc, "alloc_bulk");
    }
    for (int i = 0; i < 4; i++) {
        rc = mp_pager_get_mut(p, pages[i], &w);
        if (rc != MP_OK) {
            return fail(rc, "get_mut");
        }
        snprintf(w, 64, "page %" PRIu64, pages[i]);
    }
    if ((rc = mp_pager_sync_pages(p, 0, 0)) != MP_OK) {
        return fail(rc, "sync_pages");
    }
    if ((rc = mp_protected_alloc(p, &prot)) != MP_OK ||
        (rc = mp_protected_begin(p, prot, &w)) != MP_OK) {
        return fail(rc, "protected_alloc/begin");
    }
    strcpy(w, "committed atomically");
    if ((rc = mp_protected_commit(p, prot)) != MP_OK) {
        return fail(rc, "protected_commit");
    }
    mp_pager_close(p);

    rc = mp_pager_open(argv[1], 4096, NULL, &p);
    if (rc != MP_OK) {
        return fail(rc, "open");
    }
    for (int i = 0; i < 4; i++) {
        char want[64];
        snprintf(want, sizeof(want), "page %" PRIu64, pages[i]);
        rc = mp_pager_get(p, pages[i], &r);
        if (rc != MP_OK) {
            return fail(rc, "get");
        }
        if (strcmp(r, want) != 0) {
            fprintf(stderr, "consumer: page %" PRIu64 " reads \"%.64s\"\n",
                    pages[i], (const char *)r);
            return 1;
        }
    }
    rc = mp_protected_get(p, prot, &r);
    if (rc != MP_OK) {
        return fail(rc, "protected_get");
    }
    if (strcmp(r, "committed atomically") != 0) {
        fprintf(stderr, "consumer: protected page reads \"%.64s\"\n",
                (const char *)r);
        return 1;
    }
    printf("reopened %s: %" PRIu64 " pages, %" PRIu64
           " free; 4 pages and 1 protected page read back\n",
           argv[1], mp_pager_page_count(p), mp_pager_free_count(p));
    mp_pager_close(p);
    return 0;
}
