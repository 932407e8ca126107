/*
 * test_shim_text.c - the shim's malloc-free text helpers: the glob and
 * prefix matcher behind FAULTFS_SHIM_MATCH, number parsing, and bounded
 * buffers. Plain unit tests: they need no LD_PRELOAD, so they also run
 * under the sanitizers and valgrind.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "shim.h"

static void glob_star_crosses_slashes(void **state)
{
    (void)state;
    assert_true(faultfs_shim_glob("*/ex.mp*", "/tmp/d/ex.mp"));
    assert_true(faultfs_shim_glob("*/ex.mp*", "/tmp/d/ex.mp.mp-create"));
    assert_true(faultfs_shim_glob("/tmp/*.db", "/tmp/a/b.db"));
    assert_true(faultfs_shim_glob("*a*b*c", "xaybzc"));
    assert_false(faultfs_shim_glob("*a*b*c", "xaybz"));
    assert_true(faultfs_shim_glob("*", ""));
    assert_false(faultfs_shim_glob("a*", ""));
}

static void glob_question_and_brackets(void **state)
{
    (void)state;
    assert_true(faultfs_shim_glob("/t/?.db", "/t/a.db"));
    assert_false(faultfs_shim_glob("/t/?.db", "/t/ab.db"));
    assert_true(faultfs_shim_glob("/t/[ab].db", "/t/b.db"));
    assert_false(faultfs_shim_glob("/t/[!ab].db", "/t/b.db"));
    assert_true(faultfs_shim_glob("/t/[^ab].db", "/t/c.db"));
    assert_true(faultfs_shim_glob("/t/[a-c]x", "/t/bx"));
    assert_false(faultfs_shim_glob("/t/[a-c]x", "/t/dx"));
    assert_true(faultfs_shim_glob("[]]x", "]x"));
}

static void glob_escapes_and_unclosed_bracket(void **state)
{
    (void)state;
    assert_true(faultfs_shim_glob("\\*x", "*x"));
    assert_false(faultfs_shim_glob("\\*x", "ax"));
    assert_true(faultfs_shim_glob("[x", "[x")); /* '[' without ']' */
}

static void match_prefixes_globs_and_lists(void **state)
{
    (void)state;
    assert_true(faultfs_shim_match("/d/ex.mp", "/d/ex.mp"));
    assert_true(faultfs_shim_match("/d/ex.mp", "/d/ex.mp.mp-create"));
    assert_false(faultfs_shim_match("/d/ex.mp", "/d/ex.m"));
    assert_true(faultfs_shim_match("/tmp/x:/var/y", "/var/y/z"));
    assert_true(faultfs_shim_match("/tmp/x:*.db", "/a/b.db"));
    assert_false(faultfs_shim_match("/tmp/x:*.db", "/a/b.dbx"));
    assert_false(faultfs_shim_match("::", "/a"));
}

static void parse_u64_decimal_and_hex(void **state)
{
    uint64_t v = 0;
    (void)state;
    assert_int_equal(faultfs_shim_parse_u64("0", &v), 0);
    assert_true(v == 0);
    assert_int_equal(faultfs_shim_parse_u64("18446744073709551615", &v), 0);
    assert_true(v == UINT64_MAX);
    assert_int_equal(faultfs_shim_parse_u64("0xFEed", &v), 0);
    assert_true(v == 0xfeed);
}

static void parse_u64_refuses_junk_and_overflow(void **state)
{
    uint64_t v = 7;
    (void)state;
    assert_int_not_equal(faultfs_shim_parse_u64("", &v), 0);
    assert_int_not_equal(faultfs_shim_parse_u64("0x", &v), 0);
    assert_int_not_equal(faultfs_shim_parse_u64("-1", &v), 0);
    assert_int_not_equal(faultfs_shim_parse_u64("12a", &v), 0);
    assert_int_not_equal(faultfs_shim_parse_u64("0x1g", &v), 0);
    assert_int_not_equal(faultfs_shim_parse_u64("18446744073709551616", &v), 0);
    assert_int_not_equal(faultfs_shim_parse_u64("0x10000000000000000", &v), 0);
    assert_true(v == 7);
}

static void buf_formats_numbers(void **state)
{
    char mem[64];
    struct faultfs_shim_buf b;
    (void)state;
    faultfs_shim_buf_init(&b, mem, sizeof(mem));
    faultfs_shim_buf_u64(&b, 0);
    faultfs_shim_buf_chr(&b, ' ');
    faultfs_shim_buf_u64(&b, UINT64_MAX);
    faultfs_shim_buf_chr(&b, ' ');
    faultfs_shim_buf_hex(&b, 0xabc);
    faultfs_shim_buf_chr(&b, 0);
    assert_string_equal(mem, "0 18446744073709551615 0x0000000000000abc");
    assert_false(b.full);
}

static void buf_truncates_when_full(void **state)
{
    char mem[8] = { 0 };
    struct faultfs_shim_buf b;
    (void)state;
    faultfs_shim_buf_init(&b, mem, 4);
    faultfs_shim_buf_str(&b, "abcdef");
    assert_int_equal(b.len, 4);
    assert_true(b.full);
    assert_memory_equal(mem, "abcd\0\0\0\0", 8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(glob_star_crosses_slashes),
        cmocka_unit_test(glob_question_and_brackets),
        cmocka_unit_test(glob_escapes_and_unclosed_bracket),
        cmocka_unit_test(match_prefixes_globs_and_lists),
        cmocka_unit_test(parse_u64_decimal_and_hex),
        cmocka_unit_test(parse_u64_refuses_junk_and_overflow),
        cmocka_unit_test(buf_formats_numbers),
        cmocka_unit_test(buf_truncates_when_full),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
