/*
 * fail_size_too_small.c - a power of two below 1024 must not compile.
 * With -DMPT_TWIN the same file declares 1024 and must.
 *
 * EXPECT-GNU: static assertion failed: "mappedpages:
 * MP_DECLARE_PAGE_SIZE\(512\): the page size must be at least 1024"
 * EXPECT-Clang: static_assert failed .*"mappedpages:
 * MP_DECLARE_PAGE_SIZE\(512\): the page size must be at least 1024"
 */
#include <mappedpages.h>

#ifdef MPT_TWIN
MP_DECLARE_PAGE_SIZE(1024);
#else
MP_DECLARE_PAGE_SIZE(512);
#endif

int main(void)
{
    return 0;
}
