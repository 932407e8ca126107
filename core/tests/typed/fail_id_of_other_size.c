/*
 * fail_id_of_other_size.c - a 1024-page id passed to a 4096-page pager
 * must not compile. With -DMPT_TWIN the id is a 4096-page id and it must.
 *
 * EXPECT-GNU: error: incompatible type for argument 2 of 'mp_pager_4096_free'
 * EXPECT-Clang: error: passing 'mp_pgno_1024' \(aka 'struct mp_pgno_1024'\) to
 * parameter of incompatible type 'mp_pgno_4096'
 */
#include <mappedpages.h>

MP_DECLARE_PAGE_SIZE(1024);
MP_DECLARE_PAGE_SIZE(4096);

int main(void)
{
    mp_pager_4096 pager;
#ifdef MPT_TWIN
    mp_pgno_4096 id = { 3 };
#else
    mp_pgno_1024 id = { 3 };
#endif
    if (mp_pager_4096_open("unused.mp", NULL, &pager) != MP_OK) {
        return 1;
    }
    return mp_pager_4096_free(pager, id) != MP_OK;
}
