/*
 * fail_size_not_power_of_two.c - a page size that is not a power of two
 * must not compile. With -DMPT_TWIN the same file declares 4096 and must.
 *
 * EXPECT-GNU: static assertion failed: "mappedpages:
 * MP_DECLARE_PAGE_SIZE\(3000\): the page size must be a power of two"
 * EXPECT-Clang: static_assert failed .*"mappedpages:
 * MP_DECLARE_PAGE_SIZE\(3000\): the page size must be a power of two"
 */
#include <mappedpages.h>

#ifdef MPT_TWIN
MP_DECLARE_PAGE_SIZE(4096);
#else
MP_DECLARE_PAGE_SIZE(3000);
#endif

int main(void)
{
    return 0;
}
