/*
 * fail_pager_of_other_size.c - a 1024-page pager passed where a 4096-page
 * pager is expected must not compile. With -DMPT_TWIN the pager is a
 * 4096-page pager and it must.
 *
 * EXPECT-GNU: error: incompatible type for argument 1 of 'mp_pager_4096_alloc'
 * EXPECT-Clang: error: passing 'mp_pager_1024' \(aka 'struct mp_pager_1024'\)
 * to parameter of incompatible type 'mp_pager_4096'
 */
#include <mappedpages.h>

MP_DECLARE_PAGE_SIZE(1024);
MP_DECLARE_PAGE_SIZE(4096);

int main(void)
{
#ifdef MPT_TWIN
    mp_pager_4096 pager = { NULL };
#else
    mp_pager_1024 pager = { NULL };
#endif
    mp_pgno_4096 id;
    return mp_pager_4096_alloc(pager, &id) != MP_OK;
}
