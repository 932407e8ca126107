/*
 * fail_protected_id_as_page.c - a protected id passed as a regular page of
 * the same size must not compile (kinds are types too). With -DMPT_TWIN the
 * protected id goes to the protected call and it must.
 *
 * EXPECT-GNU: error: incompatible type for argument 2 of 'mp_pager_4096_free'
 * EXPECT-Clang: error: passing 'mp_protected_id_4096' \(aka 'struct
 * mp_protected_id_4096'\) to parameter of incompatible type 'mp_pgno_4096'
 */
#include <mappedpages.h>

MP_DECLARE_PAGE_SIZE(4096);

int main(void)
{
    mp_pager_4096 pager = { NULL };
    mp_protected_id_4096 id = { MP_ID_KIND_PROTECT };
#ifdef MPT_TWIN
    return mp_protected_4096_free(pager, id) != MP_OK;
#else
    return mp_pager_4096_free(pager, id) != MP_OK;
#endif
}
