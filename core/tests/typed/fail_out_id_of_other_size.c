/*
 * fail_out_id_of_other_size.c - a 1024-page id as the out-parameter of a
 * 4096-page alloc must not compile: an incompatible pointer, an error with
 * -Werror (as here and in the project's builds) and by default from gcc 14.
 * With -DMPT_TWIN the out-parameter is a 4096-page id and it must.
 *
 * EXPECT-GNU: error: passing argument 2 of 'mp_pager_4096_alloc' from
 * incompatible pointer type EXPECT-Clang: error: incompatible pointer types
 * passing 'mp_pgno_1024 \*' \(aka 'struct mp_pgno_1024 \*'\) to parameter of
 * type 'mp_pgno_4096 \*'
 */
#include <mappedpages.h>

MP_DECLARE_PAGE_SIZE(1024);
MP_DECLARE_PAGE_SIZE(4096);

int main(void)
{
    mp_pager_4096 pager = { NULL };
#ifdef MPT_TWIN
    mp_pgno_4096 id;
#else
    mp_pgno_1024 id;
#endif
    return mp_pager_4096_alloc(pager, &id) != MP_OK;
}
