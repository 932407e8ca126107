/*
 * test_check_tool.c - the mp-check binary: exit status for each verdict
 * and for usage and I/O errors, the shape of --json output, the sections of
 * --dump and the --help text. The files are made here, by the core.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "check_util.h"

#ifndef MPH_CHECK_TOOL
# error "MPH_CHECK_TOOL must name the mp-check binary"
#endif

static char out[1 << 16];

/* Run mp-check with args; its stdout into out; returns the exit status. */
static int run(const char *args)
{
    char cmd[2048];
    FILE *p;
    size_t n;
    int st;
    snprintf(cmd, sizeof(cmd), "'%s' %s 2>/dev/null", MPH_CHECK_TOOL, args);
    p = popen(cmd, "r");
    assert_non_null(p);
    n = fread(out, 1, sizeof(out) - 1, p);
    out[n] = '\0';
    st = pclose(p);
    assert_true(WIFEXITED(st));
    return WEXITSTATUS(st);
}

static int run_on(const char *opts, const char *path)
{
    char args[1024];
    snprintf(args, sizeof(args), "%s '%s'", opts, path);
    return run(args);
}

static void exit_status_follows_the_verdict(void **state)
{
    const char *clean = cu_mixed("tool_clean.mp", 4096);
    const char *path;
    (void)state;
    assert_int_equal(run_on("", clean), 0);
    assert_non_null(strstr(out, "verdict: clean"));
    assert_non_null(strstr(out, "cross-check with the core: agrees"));

    path = cu_two_commits("tool_torn.mp", 4096);
    mpt_flip(path, 512 + 21);
    assert_int_equal(run_on("", path), 1);
    assert_non_null(strstr(out, "verdict: recoverable"));
    assert_non_null(strstr(out, "problem: the commit record is torn"));

    path = cu_two_commits("tool_corrupt.mp", 4096);
    mpt_flip(path, 4096 + 20);
    mpt_flip(path, 2 * 4096 + 20);
    assert_int_equal(run_on("", path), 2);
    assert_non_null(strstr(out, "MP_ECORRUPT_META"));

    assert_int_equal(run_on("--page-size 8192", clean), 2);
    assert_int_equal(run_on("--page-size 4096", clean), 0);
}

static void usage_and_io_errors_exit_3(void **state)
{
    const char *clean = cu_empty("tool_usage.mp", 1024);
    (void)state;
    assert_int_equal(run(""), 3);
    assert_int_equal(run("--bogus"), 3);
    assert_int_equal(run_on("--page-size abc", clean), 3);
    assert_int_equal(run_on("--json --dump", clean), 3);
    assert_int_equal(run_on("", mpt_path("does-not-exist.mp")), 3);
    assert_int_equal(run("--help"), 0);
    assert_non_null(strstr(out, "Exit status"));
    assert_non_null(strstr(out, "3  usage error"));
}

static void json_output_is_one_object_with_the_documented_keys(void **state)
{
    static const char *keys[] = {
        "\"verdict\":",
        "\"verdict_code\":",
        "\"open_error\":",
        "\"page_size\":",
        "\"page_count\":",
        "\"free_count\":",
        "\"regular_count\":",
        "\"protected_count\":",
        "\"internal_count\":",
        "\"file_bytes\":",
        "\"generation\":",
        "\"record\":{\"intact\":",
        "\"selected_copy\":",
        "\"recovery_would_choose\":",
        "\"recovery_reason\":",
        "\"recovery_why\":",
        "\"copies\":[{\"copy\":\"A\"",
        "\"cross_check\":",
        "\"problem_count\":",
        "\"note_count\":",
        "\"problem\":",
        "\"messages\":[",
    };
    const char *path = cu_mixed("tool_json.mp", 1024);
    (void)state;
    assert_int_equal(run_on("--json", path), 0);
    assert_true(cu_json_valid(out));
    assert_non_null(strchr(out, '\n'));
    assert_true(strchr(out, '\n')[1] == '\0'); /* one line */
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        if (!strstr(out, keys[i])) {
            fail_msg("no %s in %s", keys[i], out);
        }
    }
    assert_non_null(strstr(out, "\"verdict\":\"clean\",\"verdict_code\":0"));
    assert_non_null(strstr(out, "\"regular_count\":34,"));
    assert_non_null(strstr(out, "\"protected_count\":2,"));

    /* Damage: still valid JSON, with the problem in it. */
    mpt_flip(path, 512 + 21);
    assert_int_equal(run_on("--json", path), 1);
    assert_true(cu_json_valid(out));
    assert_non_null(strstr(out, "\"recovery_reason\":\"torn_record\""));
    assert_non_null(strstr(out, "{\"severity\":\"recoverable\",\"text\":"));
    assert_int_equal(mpt_truncate(path, 10), 0);
    assert_int_equal(run_on("--json", path), 2);
    assert_true(cu_json_valid(out));
    assert_non_null(strstr(out, "\"recovery_reason\":null"));
}

static void dump_shows_every_structure(void **state)
{
    static const char *parts[] = {
        "superblock: magic \"MAPPEDPG\" version 2.0 log2 12",
        "commit record: magic \"MPCR\"",
        "copy A (page 1): magic \"MPMD\"",
        "copy B (page 2): magic \"MPMD\"",
        "map tree: 1 leaves, depth 0",
        "map leaf 0: pages 3/4",
        "directory block 0: pages",
        "slot 0 (id 0x4000000000000000)",
        "slot 2 (id 0x4000000000000002)",
        "verdict: clean",
    };
    const char *path = cu_mixed("tool_dump.mp", 4096);
    (void)state;
    assert_int_equal(run_on("--dump", path), 0);
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        if (!strstr(out, parts[i])) {
            fail_msg("no '%s' in the dump:\n%s", parts[i], out);
        }
    }
}

/* Run mp-check with args, stdout and stderr both into out. */
static int run_all(const char *opts, const char *path)
{
    char cmd[2048];
    FILE *p;
    size_t n;
    int st;
    snprintf(cmd, sizeof(cmd), "'%s' %s '%s' 2>&1", MPH_CHECK_TOOL, opts, path);
    p = popen(cmd, "r");
    assert_non_null(p);
    n = fread(out, 1, sizeof(out) - 1, p);
    out[n] = '\0';
    st = pclose(p);
    assert_true(WIFEXITED(st));
    return WEXITSTATUS(st);
}

/*
 * Issue 12 item 6: mp-check read without a lock and called a healthy file
 * corrupt while a writer was committing. A real second process opens the
 * file read-write and commits in a loop; every mp-check meanwhile must
 * say the file is being written (status 4), --no-lock must run and warn
 * that its verdict may be racy, and once the writer is gone the file is
 * clean.
 */
static void a_file_being_written_is_not_judged(void **state)
{
    const char *path = cu_mixed("tool_busy.mp", 4096);
    int ready[2], stop[2], st;
    pid_t pid;
    char ch;
    (void)state;
    assert_int_equal(pipe(ready), 0);
    assert_int_equal(pipe(stop), 0);
    fflush(NULL);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct pollfd pf = { stop[0], POLLIN, 0 };
        mp_pager *p = NULL;
        mp_pgno pg;
        long commits = 0;
        int bad = 0;
        alarm(120); /* never outlive a failed parent */
        bad = mp_pager_open(path, 4096, NULL, &p) != MP_OK;
        if (write(ready[1], bad ? "n" : "y", 1) != 1 || bad) {
            _exit(1);
        }
        while (poll(&pf, 1, 0) == 0) {
            if (mp_pager_alloc(p, &pg) != MP_OK ||
                mp_pager_free(p, pg) != MP_OK) {
                _exit(2);
            }
            commits += 2;
        }
        mp_pager_close(p);
        _exit(commits > 0 ? 0 : 3);
    }
    assert_int_equal(read(ready[0], &ch, 1), 1);
    assert_int_equal(ch, 'y');
    for (int i = 0; i < 10; i++) {
        assert_int_equal(run_all("", path), 4);
        assert_non_null(strstr(out, "the file is being written"));
        assert_null(strstr(out, "verdict"));
    }
    assert_int_equal(run_all("--json", path), 4);
    assert_int_equal(run_all("--dump", path), 4);
    for (int i = 0; i < 3; i++) {
        int rc = run_all("--no-lock", path);
        assert_true(rc >= 0 && rc <= 2);
        assert_non_null(strstr(out, "the verdict may be racy"));
        assert_non_null(strstr(out, "verdict: "));
    }
    assert_int_equal(write(stop[1], "s", 1), 1);
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    close(ready[0]);
    close(ready[1]);
    close(stop[0]);
    close(stop[1]);
    assert_int_equal(run_all("", path), 0);
    assert_non_null(strstr(out, "verdict: clean"));
    assert_null(strstr(out, "racy"));
}

int main(void)
{
    /* Small files only: small reservations keep valgrind runs fast. */
    mpt_cap_reserve((uint64_t)64 << 20);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(exit_status_follows_the_verdict),
        cmocka_unit_test(usage_and_io_errors_exit_3),
        cmocka_unit_test(json_output_is_one_object_with_the_documented_keys),
        cmocka_unit_test(dump_shows_every_structure),
        cmocka_unit_test(a_file_being_written_is_not_judged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
