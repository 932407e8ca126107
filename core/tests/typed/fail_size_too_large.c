/*
 * fail_size_too_large.c - a power of two above the format's largest page
 * size (16 MiB) must not compile. With -DMPT_TWIN the same file declares
 * 16777216 and must.
 *
 * EXPECT-GNU: static assertion failed: "mappedpages:
 * MP_DECLARE_PAGE_SIZE\(33554432\): the page size must be at most 16777216"
 * EXPECT-Clang: static_assert failed .*"mappedpages:
 * MP_DECLARE_PAGE_SIZE\(33554432\): the page size must be at most 16777216"
 */
#include <mappedpages.h>

#ifdef MPT_TWIN
MP_DECLARE_PAGE_SIZE(16777216);
#else
MP_DECLARE_PAGE_SIZE(33554432);
#endif

int main(void)
{
    return 0;
}
