/*
 * test_shim_config.c - reading the FAULTFS_SHIM_* variables: defaults,
 * each refusal (with the variable named in the message), and relative
 * paths made absolute in the environment too. Needs no LD_PRELOAD.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "shim.h"

#define PAGE 4096

static const char *const vars[] = {
    "FAULTFS_SHIM_MATCH",   "FAULTFS_SHIM_COUNT",     "FAULTFS_SHIM_CRASH_AT",
    "FAULTFS_SHIM_OUT",     "FAULTFS_SHIM_REPORT",    "FAULTFS_SHIM_LOG",
    "FAULTFS_SHIM_SEED",    "FAULTFS_SHIM_SECTOR",    "FAULTFS_SHIM_IMAGES",
    "FAULTFS_SHIM_GARBAGE", "FAULTFS_SHIM_EXIT_CODE",
};

static struct faultfs_shim_config cfg;
static char err[FAULTFS_SHIM_PATH + 256];

static int clear(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
        unsetenv(vars[i]);
    }
    err[0] = 0;
    return 0;
}

static int read_cfg(void)
{
    return faultfs_shim_config_read(&cfg, PAGE, err, sizeof(err));
}

/* Refused, and the message names what was wrong. */
static void refused(const char *text)
{
    assert_int_not_equal(read_cfg(), 0);
    assert_non_null(strstr(err, text));
}

static void count_mode_defaults(void **state)
{
    (void)state;
    setenv("FAULTFS_SHIM_MATCH", "/d/f", 1);
    setenv("FAULTFS_SHIM_COUNT", "1", 1);
    assert_int_equal(read_cfg(), 0);
    assert_int_equal(cfg.mode, FAULTFS_SHIM_COUNT);
    assert_int_equal(cfg.sector, 512);
    assert_int_equal(cfg.images, 1);
    assert_int_equal(cfg.exit_code, 77);
    assert_false(cfg.garbage);
    assert_true(cfg.seed == 0);
    assert_string_equal(cfg.match, "/d/f");
}

static void crash_mode_reads_every_variable(void **state)
{
    (void)state;
    setenv("FAULTFS_SHIM_MATCH", "*/f", 1);
    setenv("FAULTFS_SHIM_CRASH_AT", "12", 1);
    setenv("FAULTFS_SHIM_OUT", "/o", 1);
    setenv("FAULTFS_SHIM_SEED", "0x10", 1);
    setenv("FAULTFS_SHIM_SECTOR", "4096", 1);
    setenv("FAULTFS_SHIM_IMAGES", "9", 1);
    setenv("FAULTFS_SHIM_GARBAGE", "1", 1);
    setenv("FAULTFS_SHIM_EXIT_CODE", "99", 1);
    assert_int_equal(read_cfg(), 0);
    assert_int_equal(cfg.mode, FAULTFS_SHIM_CRASH);
    assert_true(cfg.crash_at == 12 && cfg.seed == 16);
    assert_int_equal(cfg.sector, 4096);
    assert_int_equal(cfg.images, 9);
    assert_true(cfg.garbage);
    assert_int_equal(cfg.exit_code, 99);
    assert_string_equal(cfg.out, "/o");
}

static void match_is_required(void **state)
{
    (void)state;
    setenv("FAULTFS_SHIM_COUNT", "1", 1);
    refused("FAULTFS_SHIM_MATCH: not set");
}

static void relative_prefix_is_refused(void **state)
{
    (void)state;
    setenv("FAULTFS_SHIM_COUNT", "1", 1);
    setenv("FAULTFS_SHIM_MATCH", "/ok:rel/f", 1);
    refused("must be absolute");
    setenv("FAULTFS_SHIM_MATCH", "/ok:rel/*", 1); /* a glob may be relative */
    assert_int_equal(read_cfg(), 0);
}

static void exactly_one_mode(void **state)
{
    (void)state;
    setenv("FAULTFS_SHIM_MATCH", "/d/f", 1);
    refused("set FAULTFS_SHIM_COUNT=1");
    setenv("FAULTFS_SHIM_COUNT", "1", 1);
    setenv("FAULTFS_SHIM_CRASH_AT", "1", 1);
    setenv("FAULTFS_SHIM_OUT", "/o", 1);
    refused("not both");
    setenv("FAULTFS_SHIM_COUNT", "0", 1);
    assert_int_equal(read_cfg(), 0);
}

static void crash_needs_out(void **state)
{
    (void)state;
    setenv("FAULTFS_SHIM_MATCH", "/d/f", 1);
    setenv("FAULTFS_SHIM_CRASH_AT", "3", 1);
    refused("FAULTFS_SHIM_OUT: not set");
}

static void bad_numbers_are_refused(void **state)
{
    static const char *const bad[][3] = {
        { "FAULTFS_SHIM_SECTOR", "3", "power of two" },
        { "FAULTFS_SHIM_SECTOR", "0", "power of two" },
        { "FAULTFS_SHIM_SECTOR", "8192", "power of two" },
        { "FAULTFS_SHIM_IMAGES", "0", "1 to 100000" },
        { "FAULTFS_SHIM_IMAGES", "100001", "1 to 100000" },
        { "FAULTFS_SHIM_GARBAGE", "2", "0 or 1" },
        { "FAULTFS_SHIM_EXIT_CODE", "2", "not 2" },
        { "FAULTFS_SHIM_EXIT_CODE", "256", "1 to 255" },
        { "FAULTFS_SHIM_SEED", "x", "64-bit number" },
        { "FAULTFS_SHIM_CRASH_AT", "0", "1 or more" },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        clear(state);
        setenv("FAULTFS_SHIM_MATCH", "/d/f", 1);
        setenv("FAULTFS_SHIM_OUT", "/o", 1);
        if (strcmp(bad[i][0], "FAULTFS_SHIM_CRASH_AT") != 0) {
            setenv("FAULTFS_SHIM_COUNT", "1", 1);
        }
        setenv(bad[i][0], bad[i][1], 1);
        refused(bad[i][0]);
        assert_non_null(strstr(err, bad[i][2]));
    }
}

static void relative_paths_become_absolute(void **state)
{
    char cwd[FAULTFS_SHIM_PATH], want[FAULTFS_SHIM_PATH + 16];
    (void)state;
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    setenv("FAULTFS_SHIM_MATCH", "/d/f", 1);
    setenv("FAULTFS_SHIM_COUNT", "1", 1);
    setenv("FAULTFS_SHIM_REPORT", "count.txt", 1);
    setenv("FAULTFS_SHIM_LOG", "/abs/log", 1);
    assert_int_equal(read_cfg(), 0);
    strcpy(want, cwd);
    strcat(want, "/count.txt");
    assert_string_equal(cfg.report, want);
    /* Children started in another directory see the same file. */
    assert_string_equal(getenv("FAULTFS_SHIM_REPORT"), want);
    assert_string_equal(cfg.log, "/abs/log");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(count_mode_defaults, clear),
        cmocka_unit_test_setup(crash_mode_reads_every_variable, clear),
        cmocka_unit_test_setup(match_is_required, clear),
        cmocka_unit_test_setup(relative_prefix_is_refused, clear),
        cmocka_unit_test_setup(exactly_one_mode, clear),
        cmocka_unit_test_setup(crash_needs_out, clear),
        cmocka_unit_test_setup(bad_numbers_are_refused, clear),
        cmocka_unit_test_setup(relative_paths_become_absolute, clear),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
