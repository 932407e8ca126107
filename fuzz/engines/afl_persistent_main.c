/*
 * afl_persistent_main.c - AFL++ persistent mode for a libFuzzer-style
 * target: the forkserver starts once (after LLVMFuzzerInitialize), then
 * each test case arrives in shared memory and runs in the same process,
 * up to 10000 per fork (AFL++'s advice: more buys nothing, and a leak or
 * drift would accumulate).
 *
 * Built with a plain compiler (no afl-clang-*), the AFL macros fall back
 * to reading one input from stdin or from each file named on the command
 * line, so the same binary can be debugged without afl-fuzz.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

#ifdef __AFL_FUZZ_TESTCASE_LEN
__AFL_FUZZ_INIT();
#else
/* Not built by afl-clang-*: run each input once. */
# define __AFL_INIT() \
  do {                \
  } while (0)
# define FZ_NO_AFL 1
#endif

/* Largest input taken (the .options files cap max_len far below it). */
#define FZ_AFL_MAX (1u << 20)

static uint8_t *read_stream(FILE *f, size_t *len)
{
    uint8_t *buf = malloc(FZ_AFL_MAX);
    *len = buf ? fread(buf, 1, FZ_AFL_MAX, f) : 0;
    return buf;
}

static void run_copy(const uint8_t *data, size_t len)
{
    /* An exact-size heap copy: ASan builds then see reads past the end,
     * which the shared-memory buffer would hide. */
    uint8_t *in = malloc(len ? len : 1);
    if (!in) {
        abort();
    }
    if (len) {
        memcpy(in, data, len);
    }
    LLVMFuzzerTestOneInput(in, len);
    free(in);
}

static int replay_files(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        size_t len;
        uint8_t *buf;
        if (!f) {
            perror(argv[i]);
            return 2;
        }
        buf = read_stream(f, &len);
        fclose(f);
        if (!buf) {
            return 2;
        }
        run_copy(buf, len);
        free(buf);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (LLVMFuzzerInitialize) {
        LLVMFuzzerInitialize(&argc, &argv);
    }
    __AFL_INIT();
    /* File arguments without a shared-memory test case: afl-showmap,
     * afl-cmin and afl-tmin with @@, or a person replaying inputs. */
    if (argc > 1 && getenv("__AFL_SHM_FUZZ_ID") == NULL) {
        return replay_files(argc, argv);
    }
#ifndef FZ_NO_AFL
    {
        unsigned char *shm = __AFL_FUZZ_TESTCASE_BUF;
        while (__AFL_LOOP(10000)) {
            run_copy(shm, (size_t)__AFL_FUZZ_TESTCASE_LEN);
        }
    }
#else
    {
        size_t len;
        uint8_t *buf = read_stream(stdin, &len);
        if (!buf) {
            return 2;
        }
        run_copy(buf, len);
        free(buf);
    }
#endif
    return 0;
}
