/*
 * standalone_main.c - the replayer: runs a fuzz target on files, or on
 * every file under directories, once each, with no fuzzing engine. ctest
 * uses it to replay corpora/<target>/ and corpora/regressions/<target>/
 * in ordinary, sanitizer and valgrind builds.
 *
 * Usage: fuzz_<target> [-v] [-r N] FILE|DIR...
 *   -v prints each input's name; -r N runs each input N times (for
 *   measuring executions per second without an engine).
 *   Files in a directory run in name order (so runs are reproducible);
 *   names starting with '.' and README files are skipped. A bug makes the
 *   target abort, which fails the run with the input's name printed
 *   first. Exit status 0 when every input ran, 2 on a usage or I/O error.
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static unsigned long long runs;
static unsigned long repeat = 1;
static int verbose;

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    int rc = 0;

    if (!f) {
        perror(path);
        return 2;
    }
    for (;;) {
        size_t got;
        if (len == cap) {
            uint8_t *b;
            cap = cap ? cap * 2 : 4096;
            b = realloc(buf, cap);
            if (!b) {
                rc = 2;
                break;
            }
            buf = b;
        }
        got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) {
            break;
        }
    }
    if (ferror(f)) {
        perror(path);
        rc = 2;
    }
    fclose(f);
    if (rc == 0) {
        /* An exact-size copy, so sanitizers see any read past the end. */
        uint8_t *in = malloc(len ? len : 1);
        if (!in) {
            free(buf);
            return 2;
        }
        if (len) {
            memcpy(in, buf, len);
        }
        if (verbose) {
            fprintf(stderr, "running %s (%zu bytes)\n", path, len);
        }
        fflush(stderr);
        for (unsigned long i = 0; i < repeat; i++) {
            LLVMFuzzerTestOneInput(in, len);
            runs++;
        }
        free(in);
    }
    free(buf);
    return rc;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_path(const char *path);

static int run_dir(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *e;
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;

    if (!d) {
        perror(path);
        return 2;
    }
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || strncmp(e->d_name, "README", 6) == 0) {
            continue;
        }
        if (n == cap) {
            char **nn;
            cap = cap ? cap * 2 : 64;
            nn = realloc(names, cap * sizeof(*names));
            if (!nn) {
                rc = 2;
                break;
            }
            names = nn;
        }
        names[n] = malloc(strlen(path) + strlen(e->d_name) + 2);
        if (!names[n]) {
            rc = 2;
            break;
        }
        sprintf(names[n], "%s/%s", path, e->d_name);
        n++;
    }
    closedir(d);
    if (n) {
        qsort(names, n, sizeof(*names), by_name);
    }
    for (size_t i = 0; i < n; i++) {
        if (rc == 0) {
            rc = run_path(names[i]);
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

static int run_path(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        perror(path);
        return 2;
    }
    return S_ISDIR(st.st_mode) ? run_dir(path) : run_file(path);
}

int main(int argc, char **argv)
{
    struct timespec t0, t1;
    int rc = 0, first = 1;
    double secs;

    if (LLVMFuzzerInitialize) {
        LLVMFuzzerInitialize(&argc, &argv);
    }
    for (; first < argc && argv[first][0] == '-'; first++) {
        if (strcmp(argv[first], "-v") == 0) {
            verbose = 1;
        } else if (strcmp(argv[first], "-r") == 0 && first + 1 < argc) {
            repeat = strtoul(argv[++first], NULL, 10);
        } else {
            break;
        }
    }
    if (argc <= first || repeat == 0) {
        fprintf(stderr, "usage: %s [-v] [-r N] FILE|DIR...\n", argv[0]);
        return 2;
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = first; i < argc && rc == 0; i++) {
        rc = run_path(argv[i]);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    secs = (double)(t1.tv_sec - t0.tv_sec) +
           (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("%s: %llu runs in %.3f s (%.0f/s)%s\n", argv[0], runs, secs,
           secs > 0 ? (double)runs / secs : 0.0,
           rc ? " (stopped by an error)" : "");
    return rc;
}
