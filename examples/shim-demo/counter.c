/*
 * counter.c - a small program that keeps one record (a counter and a
 * payload that spans two OS pages) in a memory-mapped file: the program
 * docs/crash-test-your-program.md crash-tests with the faultfs shim.
 * It uses nothing from mappedpages: any mmap + msync program will do.
 *
 *   counter run FILE N [--in-place]   count from 1 to N, one msync each
 *   counter check FILE                is the file sound after a crash?
 *
 * run creates FILE the safe way (written and fsynced under FILE.tmp,
 * renamed, directory fsynced), so FILE, once it exists, holds record 0.
 * Each update then writes record i and msyncs it:
 *   default     into the slot not holding the newest record (two slots,
 *               like the pager's metadata copies A and B): a crash can tear
 *               only the slot being written, the other stays intact.
 *   --in-place  over the one record: a crash in or before the msync can
 *               leave it torn, half old and half new. The bug the guide
 *               finds.
 * check exits 0 if FILE is absent (the crash came before the rename was
 * durable) or holds an intact record (printed), 1 if no slot holds an
 * intact record, 2 on usage or I/O errors.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define SLOT_SIZE 8192u /* one record: two 4 KiB pages */
#define NSLOTS    2u
#define FILE_SIZE (SLOT_SIZE * NSLOTS)
#define MAGIC     0x52544e43u /* "CNTR" */

struct record {
    uint32_t magic;
    uint32_t sum; /* of seq and the payload */
    uint64_t seq; /* the counter */
    uint8_t payload[SLOT_SIZE - 16];
};

static uint32_t checksum(const struct record *r)
{
    /* FNV-1a over seq and payload: enough to see a torn record. */
    uint32_t h = 2166136261u;
    const uint8_t *p = (const uint8_t *)&r->seq;
    size_t n = sizeof(r->seq) + sizeof(r->payload);
    for (size_t i = 0; i < n; i++) {
        h = (h ^ p[i]) * 16777619u;
    }
    return h;
}

static void fill(struct record *r, uint64_t seq)
{
    r->magic = MAGIC;
    r->seq = seq;
    for (size_t i = 0; i < sizeof(r->payload); i++) {
        r->payload[i] = (uint8_t)(seq * 131u + i);
    }
    r->sum = checksum(r);
}

static int intact(const struct record *r)
{
    return r->magic == MAGIC && r->sum == checksum(r);
}

static int die(const char *what, const char *path)
{
    fprintf(stderr, "counter: %s %s: %s\n", what, path, strerror(errno));
    return 2;
}

/* Create FILE holding record 0: write it under FILE.tmp, fsync, rename,
 * fsync the directory. A crash leaves FILE absent or complete. */
static int create(const char *path)
{
    char tmp[4096], dir[4096];
    struct record *slots;
    int fd, dfd;

    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    snprintf(dir, sizeof(dir), "%s", path);
    fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || ftruncate(fd, FILE_SIZE) != 0) {
        return die("create", tmp);
    }
    slots = mmap(NULL, FILE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (slots == MAP_FAILED) {
        return die("mmap", tmp);
    }
    fill(&slots[0], 0);
    if (msync(slots, FILE_SIZE, MS_SYNC) != 0 || fsync(fd) != 0) {
        return die("sync", tmp);
    }
    munmap(slots, FILE_SIZE);
    close(fd);
    if (rename(tmp, path) != 0) {
        return die("rename", tmp);
    }
    dfd = open(dirname(dir), O_RDONLY);
    if (dfd < 0 || fsync(dfd) != 0) {
        return die("fsync directory of", path);
    }
    close(dfd);
    return 0;
}

static int run(const char *path, uint64_t n, int in_place)
{
    struct record *slots;
    int fd, rc;

    unlink(path); /* every run starts from the same state */
    if ((rc = create(path)) != 0) {
        return rc;
    }
    fd = open(path, O_RDWR);
    if (fd < 0) {
        return die("open", path);
    }
    slots = mmap(NULL, FILE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (slots == MAP_FAILED) {
        return die("mmap", path);
    }
    for (uint64_t i = 1; i <= n; i++) {
        /* Newest record in slot (i - 1) % 2: write the other one. */
        struct record *r = in_place ? &slots[0] : &slots[i % NSLOTS];
        fill(r, i);
        if (msync(r, SLOT_SIZE, MS_SYNC) != 0) {
            return die("msync", path);
        }
    }
    munmap(slots, FILE_SIZE);
    close(fd);
    printf("counted to %llu\n", (unsigned long long)n);
    return 0;
}

static int check(const char *path)
{
    static struct record slots[NSLOTS];
    uint64_t best = 0;
    int found = 0;
    ssize_t got;
    int fd = open(path, O_RDONLY);

    if (fd < 0 && errno == ENOENT) {
        printf("absent %s\n", path);
        return 0;
    }
    if (fd < 0) {
        return die("open", path);
    }
    got = pread(fd, slots, sizeof(slots), 0);
    close(fd);
    if (got < 0) {
        return die("read", path);
    }
    if ((size_t)got < sizeof(slots)) {
        memset((char *)slots + got, 0, sizeof(slots) - (size_t)got);
    }
    for (unsigned s = 0; s < NSLOTS; s++) {
        if (intact(&slots[s]) && (!found || slots[s].seq > best)) {
            best = slots[s].seq;
            found = 1;
        }
    }
    if (!found) {
        printf("VIOLATION %s: no intact record (%zd bytes; slot 0 "
               "magic %#x seq %llu)\n",
               path, got, slots[0].magic, (unsigned long long)slots[0].seq);
        return 1;
    }
    printf("ok %s: counter %llu\n", path, (unsigned long long)best);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 4 && argc <= 5 && strcmp(argv[1], "run") == 0 &&
        (argc == 4 || strcmp(argv[4], "--in-place") == 0)) {
        return run(argv[2], strtoull(argv[3], NULL, 10), argc == 5);
    }
    if (argc == 3 && strcmp(argv[1], "check") == 0) {
        return check(argv[2]);
    }
    fprintf(stderr, "usage: counter run FILE N [--in-place]\n"
                    "       counter check FILE\n");
    return 2;
}
