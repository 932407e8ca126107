/*
 * shim_calls.c - one short scenario per syscall the shim models, run
 * under libfaultfs_shim.so by shim_calls.sh, which crashes it at every
 * point and checks the images against the model (README.md, "The crash
 * model"). P is the OS page size; FILE exists before the run with 4
 * pages of '.' (durable: opening is trusted).
 *
 * Usage: shim_calls SCENARIO FILE
 *   pwrite    pwrite page 0 'A'; fsync
 *   write     write page 1 'B' at the file offset; writev page 2 'C'+'c'
 *             halves; fdatasync
 *   dsync     O_DSYNC descriptor: pwrite page 0 'D'; pwrite page 5 'E'
 *             (past the end: size 6P)
 *   osync     O_SYNC|O_APPEND descriptor: write one page 'S' (page 4)
 *   rwf       pwritev2 RWF_DSYNC page 0 'R'; pwritev2 without flags
 *             page 1 'r'
 *   sfr       pwrite page 0 'F'; sync_file_range(WAIT_BEFORE|WRITE|
 *             WAIT_AFTER) on it; pwrite page 3 'G'; fsync
 *   falloc    fallocate to 8P; punch a hole in page 1; posix_fallocate
 *             to 10P; fsync
 *   mix       map the file MAP_SHARED; store page 2 'M'; pwrite 'W' over
 *             the first half of page 2; msync page 2; pwrite page 3 'X';
 *             store 'Y' into the second half of page 3; fdatasync
 *   wfail     a pwrite of page 0 that fails (EFAULT); fsync
 *   fopen     open FILE with fopen (glibc's internal open: not seen),
 *             write page 0 'O' through its descriptor; fsync
 *   names     create FILE.tmp, pwrite a page 'N', fsync it, rename it
 *             over FILE, fsync the directory; unlink FILE, fsync the
 *             directory
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

static size_t P;
static unsigned char buf[65536];

static void die(const char *what)
{
    fprintf(stderr, "shim_calls: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void must(int ok, const char *what)
{
    if (!ok) {
        die(what);
    }
}

static const unsigned char *page_of(int c)
{
    memset(buf, c, P);
    return buf;
}

static int open_rw(const char *file, int extra)
{
    int fd = open(file, O_RDWR | extra);
    must(fd >= 0, file);
    return fd;
}

int main(int argc, char **argv)
{
    const char *s, *file;
    int fd;

    if (argc != 3) {
        fprintf(stderr, "usage: shim_calls SCENARIO FILE\n");
        return 2;
    }
    s = argv[1];
    file = argv[2];
    P = (size_t)sysconf(_SC_PAGESIZE);
    if (strcmp(s, "pwrite") == 0) {
        fd = open_rw(file, 0);
        must(pwrite(fd, page_of('A'), P, 0) == (ssize_t)P, "pwrite");
        must(fsync(fd) == 0, "fsync");
    } else if (strcmp(s, "write") == 0) {
        unsigned char half[2][32768];
        struct iovec v[2] = { { half[0], P / 2 }, { half[1], P / 2 } };
        memset(half[0], 'C', P / 2);
        memset(half[1], 'c', P / 2);
        fd = open_rw(file, 0);
        must(lseek(fd, (off_t)P, SEEK_SET) == (off_t)P, "lseek");
        must(write(fd, page_of('B'), P) == (ssize_t)P, "write");
        must(writev(fd, v, 2) == (ssize_t)P, "writev");
        must(fdatasync(fd) == 0, "fdatasync");
    } else if (strcmp(s, "dsync") == 0) {
        fd = open_rw(file, O_DSYNC);
        must(pwrite(fd, page_of('D'), P, 0) == (ssize_t)P, "pwrite");
        must(pwrite(fd, page_of('E'), P, (off_t)(5 * P)) == (ssize_t)P,
             "pwrite");
    } else if (strcmp(s, "osync") == 0) {
        fd = open(file, O_WRONLY | O_SYNC | O_APPEND);
        must(fd >= 0, file);
        must(write(fd, page_of('S'), P) == (ssize_t)P, "write");
    } else if (strcmp(s, "rwf") == 0) {
        struct iovec v = { buf, P };
        fd = open_rw(file, 0);
        page_of('R');
        must(pwritev2(fd, &v, 1, 0, RWF_DSYNC) == (ssize_t)P, "pwritev2");
        page_of('r');
        must(pwritev2(fd, &v, 1, (off_t)P, 0) == (ssize_t)P, "pwritev2");
    } else if (strcmp(s, "sfr") == 0) {
        fd = open_rw(file, 0);
        must(pwrite(fd, page_of('F'), P, 0) == (ssize_t)P, "pwrite");
        must(sync_file_range(fd, 0, (off_t)P,
                             SYNC_FILE_RANGE_WAIT_BEFORE |
                                 SYNC_FILE_RANGE_WRITE |
                                 SYNC_FILE_RANGE_WAIT_AFTER) == 0,
             "sync_file_range");
        must(pwrite(fd, page_of('G'), P, (off_t)(3 * P)) == (ssize_t)P,
             "pwrite");
        must(fsync(fd) == 0, "fsync");
    } else if (strcmp(s, "falloc") == 0) {
        fd = open_rw(file, 0);
        must(fallocate(fd, 0, 0, (off_t)(8 * P)) == 0, "fallocate");
        must(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)P,
                       (off_t)P) == 0,
             "fallocate punch");
        errno = posix_fallocate(fd, 0, (off_t)(10 * P));
        must(errno == 0, "posix_fallocate");
        must(fsync(fd) == 0, "fsync");
    } else if (strcmp(s, "mix") == 0) {
        unsigned char *m;
        fd = open_rw(file, 0);
        m = mmap(NULL, 4 * P, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        must(m != MAP_FAILED, "mmap");
        memset(m + 2 * P, 'M', P);
        must(pwrite(fd, page_of('W'), P / 2, (off_t)(2 * P)) ==
                 (ssize_t)(P / 2),
             "pwrite");
        must(msync(m + 2 * P, P, MS_SYNC) == 0, "msync");
        must(pwrite(fd, page_of('X'), P, (off_t)(3 * P)) == (ssize_t)P,
             "pwrite");
        memset(m + 3 * P + P / 2, 'Y', P / 2);
        must(fdatasync(fd) == 0, "fdatasync");
    } else if (strcmp(s, "wfail") == 0) {
        /* An address no one maps: the kernel refuses with EFAULT. */
        const void *bad = (const void *)(uintptr_t)8;
        fd = open_rw(file, 0);
        must(pwrite(fd, bad, P, 0) == -1 && errno == EFAULT, "pwrite EFAULT");
        must(fsync(fd) == 0, "fsync");
    } else if (strcmp(s, "fopen") == 0) {
        FILE *f = fopen(file, "r+");
        must(f != NULL, file);
        fd = fileno(f);
        must(write(fd, page_of('O'), P) == (ssize_t)P, "write");
        must(fsync(fd) == 0, "fsync");
        must(fclose(f) == 0, "fclose");
    } else if (strcmp(s, "names") == 0) {
        char tmp[4096], dir[4096];
        int dfd;
        snprintf(tmp, sizeof(tmp), "%s.tmp", file);
        snprintf(dir, sizeof(dir), "%s", file);
        fd = open(tmp, O_RDWR | O_CREAT | O_EXCL, 0644);
        must(fd >= 0, tmp);
        must(pwrite(fd, page_of('N'), P, 0) == (ssize_t)P, "pwrite");
        must(fsync(fd) == 0, "fsync");
        must(rename(tmp, file) == 0, "rename");
        dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY);
        must(dfd >= 0, "open directory");
        must(fsync(dfd) == 0, "fsync directory");
        must(unlink(file) == 0, "unlink");
        must(fsync(dfd) == 0, "fsync directory");
    } else {
        fprintf(stderr, "shim_calls: unknown scenario %s\n", s);
        return 2;
    }
    return 0;
}
