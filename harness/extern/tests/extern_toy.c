/*
 * extern_toy.c - a tiny record appender with a known durability promise,
 * the subject of extern_oracle.sh (mp-extern's own test).
 *
 * Usage: extern_toy MODE FILE N
 * Appends "rec <i>\n" for i = 1..N to FILE (each record written at the
 * end of the file with pwrite) and prints "ack <i>" on stdout (one
 * write(2)) when MODE's promise is met:
 *   honest  after fdatasync: every acked record is durable
 *   liar    before fdatasync: the ack comes first, so a crash in the
 *           following sync may lose exactly the last acked record
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void ack(int i)
{
    char line[32];
    int n = snprintf(line, sizeof(line), "ack %d\n", i);
    if (write(STDOUT_FILENO, line, (size_t)n) != n) {
        exit(1);
    }
}

int main(int argc, char **argv)
{
    int fd, n, liar;
    struct stat st;

    if (argc != 4) {
        fprintf(stderr, "usage: extern_toy honest|liar FILE N\n");
        return 2;
    }
    liar = strcmp(argv[1], "liar") == 0;
    n = atoi(argv[3]);
    fd = open(argv[2], O_RDWR | O_CREAT, 0644);
    if (fd < 0 || fstat(fd, &st) != 0) {
        perror(argv[2]);
        return 1;
    }
    for (int i = 1; i <= n; i++) {
        char rec[32];
        int len = snprintf(rec, sizeof(rec), "rec %d\n", i);
        if (pwrite(fd, rec, (size_t)len, st.st_size) != len) {
            perror("pwrite");
            return 1;
        }
        st.st_size += len;
        if (liar) {
            ack(i);
        }
        if (fdatasync(fd) != 0) {
            perror("fdatasync");
            return 1;
        }
        if (!liar) {
            ack(i);
        }
    }
    return 0;
}
