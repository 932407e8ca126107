/*
 * ok_typed.c - the positive control of the compile tests: every wrapper
 * MP_DECLARE_PAGE_SIZE makes, for the smallest, a middle and the largest
 * size, used correctly, compiles without a warning (the test builds it
 * with -Wall -Wextra -Wpedantic -Werror). Compiled only, never run;
 * test_typed.c runs the same calls.
 */
#include <stddef.h>

#include <mappedpages.h>

MP_DECLARE_PAGE_SIZE(1024);
MP_DECLARE_PAGE_SIZE(4096);
MP_DECLARE_PAGE_SIZE(16777216);

/* A size through a macro expands before it becomes part of the names. */
#define APP_PAGE_SIZE 65536
MP_DECLARE_PAGE_SIZE(APP_PAGE_SIZE);

static int use_4096(const char *path)
{
    mp_pager_4096 pager;
    mp_pgno_4096 page, pages[2], first = mp_pgno_4096_from(0);
    mp_protected_id_4096 prot, prots[2];
    mp_page_iter_4096 it;
    mp_protected_iter_4096 pit;
    const void *r;
    void *w;
    int rc = mp_pager_4096_create(path, NULL, &pager);

    rc = rc ? rc : mp_pager_4096_alloc(pager, &page);
    rc = rc ? rc : mp_pager_4096_get(pager, page, &r);
    rc = rc ? rc : mp_pager_4096_get_mut(pager, page, &w);
    rc = rc ? rc : mp_pager_4096_sync_pages(pager, first, 0);
    rc = rc ? rc : mp_pager_4096_free(pager, page);
    rc = rc ? rc : mp_pager_4096_alloc_bulk(pager, 2, pages);
    rc = rc ? rc : mp_pager_4096_free_bulk(pager, pages, 2);
    rc = rc ? rc : mp_pager_4096_grow(pager, 64);
    rc = rc ? rc : mp_protected_4096_alloc(pager, &prot);
    rc = rc ? rc : mp_protected_4096_get(pager, prot, &r);
    rc = rc ? rc : mp_protected_4096_begin(pager, prot, &w);
    rc = rc ? rc : mp_protected_4096_abort(pager, prot);
    rc = rc ? rc : mp_protected_4096_begin(pager, prot, &w);
    rc = rc ? rc : mp_protected_4096_commit(pager, prot);
    rc = rc ? rc : mp_protected_4096_free(pager, prot);
    rc = rc ? rc : mp_protected_4096_alloc_bulk(pager, 2, prots);
    rc = rc ? rc : mp_protected_4096_free_bulk(pager, prots, 2);
    if (rc == MP_OK && mp_page_iter_4096_start(&it, pager) == MP_OK) {
        while (mp_page_iter_4096_next(&it, &page)) {
        }
        mp_page_iter_4096_finish(&it);
    }
    if (rc == MP_OK && mp_protected_iter_4096_start(&pit, pager) == MP_OK) {
        while (mp_protected_iter_4096_next(&pit, &prot)) {
        }
        mp_protected_iter_4096_finish(&pit);
    }
    (void)mp_pager_4096_page_count(pager);
    (void)mp_pager_4096_free_count(pager);
    (void)mp_protected_4096_count(pager);
    (void)mp_protected_id_4096_from(MP_ID_KIND_PROTECT);
    mp_pager_4096_close(pager);
    return rc;
}

static int use_others(const char *path)
{
    mp_pager *raw;
    mp_pager_1024 small;
    mp_pager_16777216 big;
    mp_pager_65536 app;
    mp_pgno_1024 a;
    mp_pgno_16777216 b;
    mp_pgno_65536 c;
    int rc = mp_pager_open(path, 0, NULL, &raw);

    rc = rc ? rc : mp_pager_1024_wrap(raw, &small);
    rc = rc ? rc : mp_pager_1024_alloc(small, &a);
    rc = rc ? rc : mp_pager_16777216_open(path, NULL, &big);
    rc = rc ? rc : mp_pager_16777216_alloc(big, &b);
    rc = rc ? rc : mp_pager_65536_open(path, NULL, &app);
    rc = rc ? rc : mp_pager_65536_alloc(app, &c);
    return rc;
}

int main(int argc, char **argv)
{
    return argc > 1 && (use_4096(argv[1]) || use_others(argv[1]));
}
