/*
 * test_incremental_crc.c - the incremental CRC-32C of map leaves and index
 * nodes (tree.c invariant 3): the zero-extension step against a CRC over
 * real zero bytes on both paths, every entry of its tables, the
 * three-stream CRC built on it, the identity tree.c relies on, and commits in
 * map trees of depth 1 and 2 that must leave every checksum right (a reopen
 * checks them all).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mpt_valgrind.h"
#include "../src/crc32c.h"
#include "mpt.h"

/* xorshift64*: reproducible from the seed printed on failure. */
static uint64_t rnd(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1Dull;
}

static unsigned char zero_bytes[1 << 17];

/* The raw register after n zero bytes, the slow way. */
static uint32_t raw_zeros(uint32_t c, uint64_t n)
{
    while (n > 0) {
        size_t k = n < sizeof(zero_bytes) ? (size_t)n : sizeof(zero_bytes);
        c = mp__crc32c_raw(c, zero_bytes, k);
        n -= k;
    }
    return c;
}

static void zeros_equal_a_crc_over_zero_bytes_on_both_paths(void **state)
{
    uint64_t seed = 0x5EED0001, s = seed;
    static const uint64_t edges[] = {
        0,    1,     7,     8,     255,     256,      257,     4095,
        4096, 65535, 65536, 65537, 1 << 20, 0xFFFFFF, 1 << 24, (1 << 24) + 9
    };
    (void)state;
    print_message("seed %llu\n", (unsigned long long)seed);
    for (size_t k = 0; k < sizeof(edges) / sizeof(edges[0]); k++) {
        uint32_t c = (uint32_t)rnd(&s);
        uint32_t want = raw_zeros(c, edges[k]);
        assert_int_equal(mp__crc32c_zeros(c, edges[k]), want);
        assert_int_equal(mp__crc32c_zeros_portable(c, edges[k]), want);
    }
    for (int k = 0; k < 300; k++) {
        uint32_t c = (uint32_t)rnd(&s);
        uint64_t n = rnd(&s) % 70000;
        uint32_t want = raw_zeros(c, n);
        assert_int_equal(mp__crc32c_zeros(c, n), want);
        assert_int_equal(mp__crc32c_zeros_portable(c, n), want);
    }
    /* The linear part of nothing stays nothing. */
    assert_int_equal(mp__crc32c_zeros(0, 12345), 0);
}

/* The fast path joins three streams from 384 bytes on: every length and
 * alignment around its edges, and long ones, against the portable path. */
static void three_stream_crc_equals_the_portable_one(void **state)
{
    uint64_t seed = 0x5EED0005, s = seed;
    unsigned char *buf = malloc(200000);
    (void)state;
    print_message("seed %llu\n", (unsigned long long)seed);
    assert_non_null(buf);
    for (size_t i = 0; i < 200000; i++) {
        buf[i] = (unsigned char)rnd(&s);
    }
    for (size_t len = 0; len < 1200; len++) {
        size_t off = len % 11;
        uint32_t c = (uint32_t)len * 0x01000193u;
        assert_int_equal(mp__crc32c(c, buf + off, len),
                         mp__crc32c_portable(c, buf + off, len));
    }
    for (int k = 0; k < 30; k++) {
        size_t len = (size_t)(rnd(&s) % 190000), off = (size_t)(rnd(&s) % 9);
        assert_int_equal(mp__crc32c(0, buf + off, len),
                         mp__crc32c_portable(0, buf + off, len));
    }
    free(buf);
}

/*
 * Every entry: rows 0 and 1 (runs below 2^16 bytes) against real zero
 * bytes; row 2 from its entry 1 (against 2^16 real zero bytes) by
 * induction, entry d being entry d - 1 followed by entry 1.
 */
static void every_table_entry_is_right(void **state)
{
    const uint32_t c = 0x9E3779B9u;
    (void)state;
    for (uint64_t d = 1; d < 256; d++) {
        for (uint64_t k = 0; k < 2; k++) {
            uint64_t n = d << (8 * k);
            uint32_t want = raw_zeros(c, n);
            assert_int_equal(mp__crc32c_zeros(c, n), want);
            assert_int_equal(mp__crc32c_zeros_portable(c, n), want);
        }
    }
    assert_int_equal(mp__crc32c_zeros(c, 1 << 16), raw_zeros(c, 1 << 16));
    for (uint64_t d = 2; d < 256; d++) {
        uint64_t n = d << 16;
        assert_int_equal(
            mp__crc32c_zeros(c, n),
            mp__crc32c_zeros(mp__crc32c_zeros(c, n - (1 << 16)), 1 << 16));
        assert_int_equal(
            mp__crc32c_zeros_portable(c, n),
            mp__crc32c_zeros_portable(
                mp__crc32c_zeros_portable(c, n - (1 << 16)), 1 << 16));
    }
}

/*
 * The identity tree.c uses: change a few words of a payload, and the new
 * CRC is the old one xor the raw CRC of the difference, built from the
 * changed words in order with zero-extension over the gaps and to the end.
 */
static void changed_words_give_the_full_crc(void **state)
{
    uint64_t seed = 0x5EED0002, s = seed;
    unsigned char *a = malloc(65536), *b = malloc(65536);
    (void)state;
    print_message("seed %llu\n", (unsigned long long)seed);
    assert_non_null(a);
    assert_non_null(b);
    for (size_t ps = 1024; ps <= 65536; ps *= 2) {
        for (int round = 0; round < 20; round++) {
            size_t words = ps / 8, n = 1 + rnd(&s) % 12, pos = 0;
            uint32_t acc = 0, old, port = 0;
            for (size_t i = 0; i < ps; i++) {
                a[i] = (unsigned char)rnd(&s);
            }
            memcpy(b, a, ps);
            old = mp__crc32c(0, a, ps);
            for (size_t k = 0; k < n; k++) {
                b[8 * (rnd(&s) % words) + rnd(&s) % 8] ^=
                    (unsigned char)(1 + rnd(&s) % 255);
            }
            for (size_t w = 0; w < words; w++) {
                unsigned char d[8];
                int any = 0;
                for (int j = 0; j < 8; j++) {
                    d[j] = a[8 * w + j] ^ b[8 * w + j];
                    any |= d[j];
                }
                if (!any) {
                    continue;
                }
                acc = mp__crc32c_raw(mp__crc32c_zeros(acc, 8 * w - pos), d, 8);
                port = mp__crc32c_raw(
                    mp__crc32c_zeros_portable(port, 8 * w - pos), d, 8);
                pos = 8 * w + 8;
            }
            assert_int_equal(old ^ mp__crc32c_zeros(acc, ps - pos),
                             mp__crc32c(0, b, ps));
            assert_int_equal(old ^ mp__crc32c_zeros_portable(port, ps - pos),
                             mp__crc32c(0, b, ps));
        }
    }
    free(a);
    free(b);
}

/* ---- commits in deep map trees ---------------------------------------- */

/*
 * The posix backend without block reservation: these tests hand out
 * hundreds of thousands of pages they never write, which stay holes.
 */
static const struct mp_vfs *posix_vfs;
static struct mp_vfs no_reserve_vfs;
static struct mp_io_methods no_reserve_methods;

static int nr_open(const struct mp_vfs *vfs, const char *path, unsigned flags,
                   struct mp_io_file **out, int *os)
{
    int rc = posix_vfs->open(posix_vfs, path, flags, out, os);
    (void)vfs;
    if (rc == MP_OK) {
        no_reserve_methods = *(*out)->methods;
        no_reserve_methods.reserve = NULL;
        (*out)->methods = &no_reserve_methods;
    }
    return rc;
}

static void nr_options(struct mp_options *opt)
{
    mpt_options(opt);
    posix_vfs = opt->vfs ? opt->vfs : mp_vfs_posix();
    no_reserve_vfs = *posix_vfs;
    no_reserve_vfs.open = nr_open;
    opt->vfs = &no_reserve_vfs;
}

#define PS    1024
#define GROUP ((uint64_t)8 * PS)

struct model {
    mp_pager *p;
    const char *path;
    mp_pgno *ids; /* allocated by the test */
    size_t n, cap;
};

static void reopen_and_check(struct model *m)
{
    struct mp_options opt;
    struct mp_recovery_info ri;
    uint64_t pages = mp_pager_page_count(m->p);
    uint64_t free_pages = mp_pager_free_count(m->p);
    assert_int_equal(mp_pager_close(m->p), MP_OK);
    nr_options(&opt);
    assert_int_equal(mp_pager_open(m->path, PS, &opt, &m->p), MP_OK);
    mp_pager_recovery(m->p, &ri);
    /* A wrong CRC in the last commit would fail its metadata copy and
     * fall back to the one before. */
    assert_false(ri.fallback);
    assert_true(ri.copy_valid[ri.chosen_copy]);
    assert_int_equal(mp_pager_page_count(m->p), pages);
    assert_int_equal(mp_pager_free_count(m->p), free_pages);
}

/* Allocate k pages (fewer if fewer are free: growth only comes in the
 * test's own small steps). */
static void take(struct model *m, size_t k)
{
    uint64_t free_pages = mp_pager_free_count(m->p);
    if (k > free_pages) {
        k = (size_t)free_pages;
    }
    if (k == 0) {
        return;
    }
    if (m->n + k > m->cap) {
        m->cap = (m->n + k) * 2;
        m->ids = realloc(m->ids, m->cap * sizeof(*m->ids));
        assert_non_null(m->ids);
    }
    if (k == 1) {
        assert_int_equal(mp_pager_alloc(m->p, &m->ids[m->n]), MP_OK);
    } else {
        assert_int_equal(mp_pager_alloc_bulk(m->p, k, m->ids + m->n), MP_OK);
    }
    m->n += k;
}

/* Free k random pages of the model's, in one call or one by one. */
static void give_back(struct model *m, size_t k, int bulk, uint64_t *s)
{
    mp_pgno batch[64];
    if (k > m->n) {
        k = m->n;
    }
    if (k > 64) {
        k = 64;
    }
    for (size_t i = 0; i < k; i++) {
        size_t j = (size_t)(rnd(s) % m->n);
        batch[i] = m->ids[j];
        m->ids[j] = m->ids[--m->n];
        if (!bulk) {
            assert_int_equal(mp_pager_free(m->p, batch[i]), MP_OK);
        }
    }
    if (bulk && k > 0) {
        assert_int_equal(mp_pager_free_bulk(m->p, batch, k), MP_OK);
    }
}

/*
 * Random single and bulk allocs and frees spread over many leaves, growth
 * that adds leaves to the last index node (and, from `grow_to` leaves, a
 * level), a reopen every few commits. Bulk calls of many pages change
 * many words (the whole-CRC fallback); single ones change one.
 */
/* Index nodes of the map tree, from the internal pages (2 per node). */
static uint64_t index_nodes(mp_pager *p)
{
    uint64_t leaves = (mp_pager_page_count(p) + GROUP - 1) / GROUP;
    return (mp_pager_internal_count(p) - 2 * leaves) / 2;
}

static void churn(uint64_t seed, uint64_t leaves, uint64_t grow_to, int rounds,
                  unsigned depth)
{
    struct model m = { 0 };
    struct mp_options opt;
    uint64_t s = seed;
    mpt_options(&opt);
    if (opt.vfs && opt.vfs != mp_vfs_posix()) {
        /* Hundreds of MiB of sparse file: faultfs would hold them all
         * (its sync compares the whole mapping with its image). */
        skip();
    }
    print_message("seed %llu\n", (unsigned long long)seed);
    m.path = mpt_path("deep.mp");
    nr_options(&opt);
    assert_int_equal(mp_pager_create(m.path, PS, &opt, &m.p), MP_OK);
    assert_int_equal(mp_pager_grow(m.p, leaves * GROUP), MP_OK);
    /* Pages in every group, so frees touch leaves all over the tree. */
    while (mp_pager_free_count(m.p) > GROUP / 2) {
        uint64_t left = mp_pager_free_count(m.p) - GROUP / 4;
        take(&m, left < 60000 ? (size_t)left : 60000);
    }
    give_back(&m, 64, 1, &s);
    if (RUNNING_ON_VALGRIND) {
        rounds /= 5; /* memcheck checks memory, not coverage */
    }
    for (int r = 0; r < rounds; r++) {
        switch (rnd(&s) % 8) {
        case 0:
            take(&m, 1);
            break;
        case 1:
            take(&m, 1 + (size_t)(rnd(&s) % 3000));
            break;
        case 2:
        case 3:
            give_back(&m, 1 + (size_t)(rnd(&s) % 3), 0, &s);
            break;
        case 4:
        case 5:
            give_back(&m, 1 + (size_t)(rnd(&s) % 64), 1, &s);
            break;
        case 6:
            if (mp_pager_page_count(m.p) < grow_to * GROUP) {
                uint64_t to =
                    mp_pager_page_count(m.p) + (1 + rnd(&s) % 8) * GROUP;
                assert_int_equal(mp_pager_grow(m.p, to < grow_to * GROUP
                                                        ? to
                                                        : grow_to * GROUP),
                                 MP_OK);
            }
            break;
        default:
            reopen_and_check(&m);
            break;
        }
    }
    reopen_and_check(&m);
    {
        /* The tree this test meant: one or two index levels of 42. */
        uint64_t l0 = (mp_pager_page_count(m.p) + GROUP - 1) / GROUP;
        uint64_t l1 = (l0 + 41) / 42, l2 = depth > 1 ? (l1 + 41) / 42 : 0;
        assert_int_equal(index_nodes(m.p), l1 + l2);
        assert_true(depth == 1 ? l1 <= 18 : l1 > 18 && l2 <= 18);
    }
    mp_pager_close(m.p);
    free(m.ids);
    remove(m.path);
}

/* 1 KiB pages: 18 map roots, 42 children per index node. 20 leaves need
 * one index level; growth adds leaves to its last node, then a new one.
 * 60 leaves stay within the 512 MiB of address space of memcheck runs. */
static void commits_in_a_map_tree_of_depth_1_keep_every_crc(void **state)
{
    (void)state;
    churn(0x5EED0003, 20, 60, 300, 1);
}

/* 18 * 42 = 756 leaves fill depth 1; growth past them adds a level. About
 * 6 GiB of address space: skipped when the tests run with less (memcheck
 * runs set MPT_RESERVE). */
static void commits_in_a_map_tree_of_depth_2_keep_every_crc(void **state)
{
    const char *r = getenv("MPT_RESERVE");
    (void)state;
    if (r && *r && strtoull(r, NULL, 0) < ((uint64_t)8 << 30)) {
        skip();
    }
    churn(0x5EED0004, 740, 800, 400, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(zeros_equal_a_crc_over_zero_bytes_on_both_paths),
        cmocka_unit_test(every_table_entry_is_right),
        cmocka_unit_test(three_stream_crc_equals_the_portable_one),
        cmocka_unit_test(changed_words_give_the_full_crc),
        cmocka_unit_test(commits_in_a_map_tree_of_depth_1_keep_every_crc),
        cmocka_unit_test(commits_in_a_map_tree_of_depth_2_keep_every_crc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
