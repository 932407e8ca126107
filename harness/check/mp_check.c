/*
 * mp_check.c - mp-check, the file checker's command-line tool.
 *
 *   mp-check [--json] [--page-size N] [--no-lock] FILE
 *   mp-check --dump [--page-size N] [--no-lock] FILE
 *
 * Exit status: 0 clean, 1 recoverable, 2 corrupt, 3 usage or I/O error,
 * 4 the file is being written (a writer holds its lock; nothing checked).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mph/check.h"

#define EXIT_USAGE  3
#define EXIT_LOCKED 4

static void usage(FILE *f)
{
    fprintf(f,
            "usage: mp-check [--json] [--page-size N] [--no-lock] FILE\n"
            "       mp-check --dump [--page-size N] [--no-lock] FILE\n"
            "       mp-check --help\n"
            "\n"
            "Validate a mappedpages file read-only: the superblock and commit\n"
            "record, both metadata copies, which copy recovery would choose\n"
            "and why, the free-space map against the page count and the\n"
            "internal pages, the protected-page directory and every count;\n"
            "then open it read-only with the library and compare. The file\n"
            "is read under a shared lock, as a read-only open takes it: a\n"
            "writer holding the file makes mp-check stop with status 4.\n"
            "\n"
            "  --json          one JSON object on stdout instead of text\n"
            "  --page-size N   the page size the file must have (default:\n"
            "                  the superblock's)\n"
            "  --dump          print every field of the superblock, both\n"
            "                  metadata copies, the trees and the directory,\n"
            "                  then the check's summary\n"
            "  --no-lock       read without the lock, also while a writer\n"
            "                  holds the file; if it commits meanwhile the\n"
            "                  verdict may be racy (a healthy file may look\n"
            "                  damaged)\n"
            "  --help          this text\n"
            "\n"
            "Exit status:\n"
            "  0  clean: open follows an intact commit record, all consistent\n"
            "  1  recoverable: open succeeds but falls back to the other\n"
            "     metadata copy (a torn record after a crash, or damage)\n"
            "  2  corrupt: open fails, or the state open would use is\n"
            "     inconsistent\n"
            "  3  usage error, or the file could not be read\n"
            "  4  the file is being written: a writer holds its lock, so\n"
            "     nothing was checked (retry, or use --no-lock)\n");
}

static int parse_size(const char *s, size_t *out)
{
    char *end;
    unsigned long long v;
    errno = 0;
    v = strtoull(s, &end, 0);
    if (errno || end == s || *end || v == 0 || v > (size_t)-1) {
        return -1;
    }
    *out = (size_t)v;
    return 0;
}

int main(int argc, char **argv)
{
    struct mph_check_report r;
    const char *path = NULL;
    size_t page_size = 0;
    unsigned flags = MPH_CHECK_SHARED_LOCK;
    int json = 0, dump = 0, rc;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--json")) {
            json = 1;
        } else if (!strcmp(argv[i], "--dump")) {
            dump = 1;
        } else if (!strcmp(argv[i], "--no-lock")) {
            flags &= ~(unsigned)MPH_CHECK_SHARED_LOCK;
        } else if (!strcmp(argv[i], "--page-size") && i + 1 < argc) {
            if (parse_size(argv[++i], &page_size) != 0) {
                fprintf(stderr, "mp-check: bad page size '%s'\n", argv[i]);
                return EXIT_USAGE;
            }
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "mp-check: unknown option '%s'\n", argv[i]);
            usage(stderr);
            return EXIT_USAGE;
        } else if (path) {
            fprintf(stderr, "mp-check: one FILE only\n");
            return EXIT_USAGE;
        } else {
            path = argv[i];
        }
    }
    if (!path || (json && dump)) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (!(flags & MPH_CHECK_SHARED_LOCK)) {
        fprintf(stderr,
                "mp-check: %s: read without a lock (--no-lock): if a writer "
                "was committing meanwhile, the verdict may be racy\n",
                path);
    }
    if (dump) {
        rc = mph_check_dump_ex(stdout, NULL, path, page_size, flags, &r);
    } else {
        rc = mph_check_file_ex(NULL, path, page_size, flags, &r);
    }
    if (rc == MP_ELOCKED) {
        fprintf(stderr,
                "mp-check: %s: the file is being written (a writer holds "
                "its lock): not checked; retry later, or use --no-lock\n",
                path);
        return EXIT_LOCKED;
    }
    if (rc != MP_OK) {
        fprintf(stderr, "mp-check: %s: %s (%s)\n", path, mp_strerror(rc),
                mp_error_name(rc));
        return EXIT_USAGE;
    }
    if (!dump) {
        if (!json) {
            printf("%s: ", path);
        }
        if (mph_check_print(stdout, &r, json) != MP_OK) {
            return EXIT_USAGE;
        }
    }
    if (fflush(stdout) != 0) {
        return EXIT_USAGE;
    }
    return r.verdict;
}
