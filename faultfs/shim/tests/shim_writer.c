/*
 * shim_writer.c - a program with a known schedule of writes and syncs,
 * run under libfaultfs_shim.so by the shim tests. It keeps its file the
 * way the mappedpages posix backend does: a PROT_NONE reservation, the
 * file mapped MAP_SHARED|MAP_FIXED into it, grown with ftruncate and a
 * second MAP_FIXED map. After each step whose syncs returned it appends
 * the step number to a progress log (not tracked by the shim), so the
 * checker knows what must be durable in a crash image.
 *
 * Usage: shim_writer FILE PROGRESS_LOG
 *
 * Pages (P = OS page size; every byte of page i is the letter given):
 *   step 1: file created, 8 pages of zeros, size and name durable
 *   step 2: pages 0-3 = A B C D; pages 0-1 synced
 *   step 3: pages 2-7 = b; grown to 12 pages; pages 8-11 = c; 8-9 synced
 *   step 4: fsync: size 12 pages and all of the above durable
 *   step 5: page 0 = Z, pages 2-3 = z, then a sync of page 11 only
 *
 * Crash points under the shim, in order: 1 ftruncate; 2-4 fsync;
 * 5-6 directory fsync; 7-9 msync; 10 ftruncate; 11-13 msync; 14-16
 * fsync; 17-19 msync: 19 in all.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int log_fd = -1;

static void die(const char *what)
{
    fprintf(stderr, "shim_writer: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void step(int n)
{
    char line[16];
    int len = snprintf(line, sizeof(line), "%d\n", n);
    if (write(log_fd, line, (size_t)len) != len) {
        die("progress log");
    }
}

static void fill(unsigned char *base, size_t page, int first, int last,
                 int byte)
{
    for (int i = first; i <= last; i++) {
        memset(base + (size_t)i * page, byte, page);
    }
}

static void sync_pages(unsigned char *base, size_t page, int first, int n)
{
    if (msync(base + (size_t)first * page, (size_t)n * page, MS_SYNC) != 0) {
        die("msync");
    }
}

int main(int argc, char **argv)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    char dir[4096];
    unsigned char *base;
    char *slash;
    int fd, dfd;

    if (argc != 3) {
        fprintf(stderr, "usage: shim_writer FILE PROGRESS_LOG\n");
        return 2;
    }
    log_fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
    if (log_fd < 0) {
        die(argv[2]);
    }
    snprintf(dir, sizeof(dir), "%s", argv[1]);
    slash = strrchr(dir, '/');
    if (slash) {
        *slash = 0;
    } else {
        strcpy(dir, ".");
    }
    if (unlink(argv[1]) != 0 && errno != ENOENT) {
        die("unlink");
    }
    fd = open(argv[1], O_RDWR | O_CREAT | O_EXCL, 0644);
    dfd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0 || dfd < 0) {
        die("open");
    }
    if (ftruncate(fd, (off_t)(8 * page)) != 0 || fsync(fd) != 0 ||
        fsync(dfd) != 0) {
        die("create");
    }
    step(1);

    base = mmap(NULL, 64 * page, PROT_NONE,
                MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base == MAP_FAILED ||
        mmap(base, 8 * page, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd,
             0) == MAP_FAILED) {
        die("mmap");
    }
    for (int i = 0; i < 4; i++) {
        fill(base, page, i, i, 'A' + i);
    }
    sync_pages(base, page, 0, 2);
    step(2);

    fill(base, page, 2, 7, 'b');
    if (ftruncate(fd, (off_t)(12 * page)) != 0) {
        die("ftruncate");
    }
    if (mmap(base + 8 * page, 4 * page, PROT_READ | PROT_WRITE,
             MAP_SHARED | MAP_FIXED, fd, (off_t)(8 * page)) == MAP_FAILED) {
        die("mmap grow");
    }
    fill(base, page, 8, 11, 'c');
    sync_pages(base, page, 8, 2);
    step(3);

    if (fsync(fd) != 0) {
        die("fsync");
    }
    step(4);

    fill(base, page, 0, 0, 'Z');
    fill(base, page, 2, 3, 'z');
    sync_pages(base, page, 11, 1);
    step(5);

    munmap(base, 64 * page);
    close(fd);
    close(dfd);
    close(log_fd);
    return 0;
}
