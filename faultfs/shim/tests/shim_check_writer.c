/*
 * shim_check_writer.c - checks crash images of shim_writer's file against
 * the crash model (see shim_writer.c for the schedule of steps).
 *
 *   shim_check_writer verify IMAGE PROGRESS_LOG [SECTOR]
 *       IMAGE (which may be missing) must hold everything the steps in
 *       the log made durable, and nothing the writer never wrote: every
 *       sector (512 bytes unless given) of every page is one value that
 *       page once held.
 *   shim_check_writer variety PAGE OLD NEW IMAGE...
 *       Across the images, page PAGE is sometimes all OLD, sometimes all
 *       NEW and sometimes torn (sectors of both), and never anything else.
 *   shim_check_writer sizes PAGES_A PAGES_B IMAGE...
 *       Every image is PAGES_A or PAGES_B pages long, and both occur.
 *
 * Exit status 0 if the check holds, 1 if not (with the reason), 2 on a
 * usage error.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static size_t page, sector = 512;

/* The values page i held over the writer's run, in order. */
static const char *history(size_t i)
{
    static const char *const h[12] = { "\0AZ", "\0B", "\0Cbz", "\0Dbz",
                                       "\0b",  "\0b", "\0b",   "\0b",
                                       "\0c",  "\0c", "\0c",   "\0c" };
    return i < 12 ? h[i] : "";
}

static size_t history_len(size_t i)
{
    return i < 12 ? 1 + strlen(history(i) + 1) : 0;
}

/* Read the whole file; *len = its size. NULL if it does not exist. */
static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf;
    struct stat st;

    if (!f) {
        return NULL;
    }
    if (fstat(fileno(f), &st) != 0) {
        perror(path);
        exit(2);
    }
    *len = (size_t)st.st_size;
    buf = malloc(*len + 1);
    if (!buf || fread(buf, 1, *len, f) != *len) {
        perror(path);
        exit(2);
    }
    fclose(f);
    return buf;
}

/* The byte every byte of the sector holds, or -1 if they differ. */
static int sector_value(const unsigned char *s)
{
    for (size_t i = 1; i < sector; i++) {
        if (s[i] != s[0]) {
            return -1;
        }
    }
    return s[0];
}

static int fail(const char *image, const char *why, size_t pg)
{
    printf("FAIL %s: %s (page %zu)\n", image, why, pg);
    return 1;
}

/* Every sector of page pg is one of the values in set (n of them). */
static int page_in(const unsigned char *img, size_t pg, const char *set,
                   size_t n)
{
    for (size_t s = 0; s < page / sector; s++) {
        int v = sector_value(img + pg * page + s * sector);
        if (v < 0 || !memchr(set, v, n)) {
            return 0;
        }
    }
    return 1;
}

static int last_step(const char *log)
{
    FILE *f = fopen(log, "r");
    int n = 0, s;
    if (!f) {
        return 0;
    }
    while (fscanf(f, "%d", &s) == 1) {
        n = s;
    }
    fclose(f);
    return n;
}

static int verify(const char *image, const char *log)
{
    int step = last_step(log);
    size_t len, pages;
    unsigned char *img = slurp(image, &len);
    int bad = 0;

    if (!img) {
        if (step >= 1) {
            return fail(image, "file missing after its directory sync", 0);
        }
        printf("ok %s: absent (step %d)\n", image, step);
        return 0;
    }
    pages = len / page;
    if (len % page || (pages != 0 && pages != 8 && pages != 12)) {
        bad = fail(image, "size is not 0, 8 or 12 pages", pages);
    } else if (step >= 1 && pages < 8) {
        bad = fail(image, "size not durable after fsync", pages);
    } else if (step >= 4 && pages != 12) {
        bad = fail(image, "growth not durable after fsync", pages);
    }
    for (size_t pg = 0; pg < pages && !bad; pg++) {
        if (!page_in(img, pg, history(pg), history_len(pg))) {
            bad = fail(image, "bytes the writer never wrote", pg);
        }
    }
    if (!bad && step >= 2 &&
        (!page_in(img, 0, "AZ", 2) || !page_in(img, 1, "B", 1))) {
        bad = fail(image, "synced pages 0-1 lost", 0);
    }
    if (!bad && step >= 3 && pages == 12 &&
        (!page_in(img, 8, "c", 1) || !page_in(img, 9, "c", 1))) {
        bad = fail(image, "synced pages 8-9 lost", 8);
    }
    for (size_t pg = 2; !bad && step >= 4 && pg < 12; pg++) {
        if (!page_in(img, pg,
                     pg < 4   ? "bz"
                     : pg < 8 ? "b"
                              : "c",
                     pg < 4 ? 2 : 1)) {
            bad = fail(image, "data of the file sync lost", pg);
        }
    }
    if (!bad) {
        printf("ok %s: step %d, %zu pages\n", image, step, pages);
    }
    free(img);
    return bad;
}

static int variety(int argc, char **argv)
{
    size_t pg = strtoul(argv[2], NULL, 10);
    int oldv = argv[3][0], newv = argv[4][0];
    int old = 0, new = 0, torn = 0, bad = 0;

    for (int i = 5; i < argc; i++) {
        size_t len;
        unsigned char *img = slurp(argv[i], &len);
        int o = 0, n = 0, x = 0;
        if (!img || len < (pg + 1) * page) {
            printf("FAIL %s: missing or too short\n", argv[i]);
            bad++;
            free(img);
            continue;
        }
        for (size_t s = 0; s < page / sector; s++) {
            int v = sector_value(img + pg * page + s * sector);
            o += v == oldv;
            n += v == newv;
            x += v != oldv && v != newv;
        }
        old += !x && !n;
        new += !x && !o;
        torn += !x && o && n;
        bad += x != 0;
        free(img);
    }
    printf("page %zu over %d images: %d old, %d new, %d torn, %d other\n", pg,
           argc - 5, old, new, torn, bad);
    if (bad || !old || !new || (page > sector && !torn)) {
        printf("FAIL: want old, new and torn, and nothing else\n");
        return 1;
    }
    return 0;
}

static int sizes(int argc, char **argv)
{
    size_t a = strtoul(argv[2], NULL, 10), b = strtoul(argv[3], NULL, 10);
    int na = 0, nb = 0, other = 0;

    for (int i = 4; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            other++;
            continue;
        }
        na += (size_t)st.st_size == a * page;
        nb += (size_t)st.st_size == b * page;
        other +=
            (size_t)st.st_size != a * page && (size_t)st.st_size != b * page;
    }
    printf("sizes over %d images: %d of %zu pages, %d of %zu pages, %d "
           "other\n",
           argc - 4, na, a, nb, b, other);
    if (other || !na || !nb) {
        printf("FAIL: want both sizes and no other\n");
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    page = (size_t)sysconf(_SC_PAGESIZE);
    if ((argc == 4 || argc == 5) && strcmp(argv[1], "verify") == 0) {
        sector = argc == 5 ? strtoul(argv[4], NULL, 10) : 512;
        if (sector == 0 || page % sector) {
            fprintf(stderr, "shim_check_writer: bad sector size\n");
            return 2;
        }
        return verify(argv[2], argv[3]);
    }
    if (argc >= 6 && strcmp(argv[1], "variety") == 0) {
        return variety(argc, argv);
    }
    if (argc >= 5 && strcmp(argv[1], "sizes") == 0) {
        return sizes(argc, argv);
    }
    fprintf(stderr,
            "usage: shim_check_writer verify IMAGE PROGRESS_LOG [SECTOR]\n"
            "       shim_check_writer variety PAGE OLD NEW IMAGE...\n"
            "       shim_check_writer sizes PAGES_A PAGES_B IMAGE...\n");
    return 2;
}
