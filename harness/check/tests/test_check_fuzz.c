/*
 * test_check_fuzz.c - damage at random (seeded, deterministic): the checker
 * never fails to run, never reads out of bounds (ASan/valgrind runs), and
 * its prediction always matches what mp_pager_open does with the file.
 * The case is printed on any failure; MPH_FUZZ_ROUNDS scales the rounds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "check_util.h"
#include "crc32c.h"
#include "endian.h"

static uint64_t next(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static int rounds(int dflt)
{
    const char *e = getenv("MPH_FUZZ_ROUNDS");
    return e && atoi(e) > 0 ? atoi(e) : dflt;
}

/* A hostile value for a field of `size` bytes near a sensible one. */
static uint64_t hostile(uint64_t *s, uint64_t sensible)
{
    switch (next(s) % 8) {
    case 0:
        return 0;
    case 1:
        return 1;
    case 2:
        return sensible + 1;
    case 3:
        return sensible - 1;
    case 4:
        return sensible * 2;
    case 5:
        return (uint64_t)1 << (next(s) % 64);
    case 6:
        return next(s) % 64;
    default:
        return next(s);
    }
}

static const unsigned meta_fields[][2] = {
    { 8, 4 },  { 12, 2 }, { 14, 2 }, { 16, 8 }, { 24, 8 }, { 32, 8 }, { 40, 8 },
    { 48, 8 }, { 56, 4 }, { 60, 4 }, { 64, 4 }, { 68, 4 }, { 72, 4 }, { 80, 4 },
};

/* One random damage of work (a copy of a file with page size ps). */
static void damage(const char *work, size_t ps, uint64_t *s, bool first,
                   bool last, char *what, size_t wlen)
{
    uint64_t size = mpt_file_size(work), off;
    unsigned kind = (unsigned)(next(s) % 9);
    int c = (int)(next(s) & 1);

    /* Changing the length comes last: the other kinds need every byte.
     * Edits below the metadata follow references, so they need a file
     * nothing was done to yet. */
    if ((kind == 5 && !last) || (kind >= 7 && !first)) {
        kind = 2;
    }
    if (kind == 8 && cu_get(work, (1 + (uint64_t)c) * ps + 40, 8) == 0) {
        kind = 7; /* no directory yet */
    }
    switch (kind) {
    case 0: /* bytes of page 0 that are read */
        off = next(s) & 1 ? next(s) % 64 : 512 + next(s) % 24;
        mpt_flip(work, off);
        snprintf(what, wlen, "flip page-0 byte %llu", (unsigned long long)off);
        break;
    case 1: /* a metadata header byte (the CRC then fails) */
        off = (uint64_t)(1 + c) * ps + next(s) % 256;
        mpt_flip(work, off);
        snprintf(what, wlen, "flip metadata byte %llu",
                 (unsigned long long)off);
        break;
    case 2: /* anywhere */
        off = next(s) % size;
        mpt_flip(work, off);
        snprintf(what, wlen, "flip byte %llu", (unsigned long long)off);
        break;
    case 3: { /* a header field, checksums made right */
        const unsigned *f = meta_fields[next(s) % (sizeof(meta_fields) /
                                                   sizeof(meta_fields[0]))];
        uint64_t v =
            hostile(s, cu_get(work, (1 + (uint64_t)c) * ps + f[0], f[1]));
        cu_set_meta(work, ps, c, f[0], f[1], v);
        snprintf(what, wlen, "copy %d field @%u = %llu", c, f[0],
                 (unsigned long long)v);
        break;
    }
    case 4: { /* a root reference field, checksums made right */
        unsigned used = (unsigned)cu_get(work, (1 + (uint64_t)c) * ps + 8, 4);
        unsigned nref = used >= 152 && used <= ps ? (used - 128) / 24 : 1;
        unsigned o = 128 + 24 * (unsigned)(next(s) % nref) +
                     (unsigned[]){ 0, 8, 16, 20 }[next(s) % 4];
        unsigned sz = o % 24 >= 16 ? 4 : 8;
        uint64_t v = hostile(s, cu_get(work, (1 + (uint64_t)c) * ps + o, sz));
        cu_set_meta(work, ps, c, o, sz, v);
        snprintf(what, wlen, "copy %d root @%u = %llu", c, o,
                 (unsigned long long)v);
        break;
    }
    case 5: /* truncate or extend */
        off = next(s) % (size + ps);
        assert_int_equal(mpt_truncate(work, off), 0);
        snprintf(what, wlen, "length %llu", (unsigned long long)off);
        break;
    case 7: { /* a bit of the map, checksums made right */
        unsigned byte = (unsigned)(next(s) % 16);
        unsigned char x = (unsigned char)(1u << (next(s) % 8));
        cu_edit_leaf0(work, ps, c, byte, x);
        if (next(s) & 1) { /* and the free count to match, or not */
            uint64_t f = cu_get(work, (1 + (uint64_t)c) * ps + 32, 8);
            cu_set_meta(work, ps, c, 32, 8, next(s) & 1 ? f + 1 : f - 1);
        }
        snprintf(what, wlen, "copy %d map byte %u ^= 0x%02x", c, byte, x);
        break;
    }
    case 8: { /* a directory entry field, checksums made right */
        uint64_t slots = cu_get(work, (1 + (uint64_t)c) * ps + 40, 8);
        unsigned o = 32 * (unsigned)(next(s) % slots) +
                     (unsigned[]){ 0, 8, 16, 20, 24 }[next(s) % 5];
        unsigned sz = o % 32 == 16 || o % 32 == 20 ? 4 : 8;
        uint64_t v = o % 32 == 20 ? next(s) % 4 : hostile(s, 0);
        cu_edit_dir0(work, ps, c, o, sz, v);
        snprintf(what, wlen, "copy %d directory @%u = %llu", c, o,
                 (unsigned long long)v);
        break;
    }
    default: /* the commit record, made consistent with some copy */
        cu_name_copy(work, ps, c);
        if (next(s) & 1) {
            cu_put(work, 520, 8, hostile(s, cu_get(work, 520, 8)));
            {
                unsigned char rec[20];
                assert_int_equal(mpt_peek(work, 512, rec, 20), 0);
                cu_put(work, 532, 4, mp__crc32c(0, rec, 20));
            }
            snprintf(what, wlen, "record names copy %d, generation lies", c);
        } else {
            snprintf(what, wlen, "record names copy %d", c);
        }
        break;
    }
}

static void fuzz_file(const char *base, size_t ps, int n, uint64_t seed)
{
    const char *work = mpt_path("work.mp");
    int verdicts[3] = { 0, 0, 0 };
    for (int i = 0; i < n; i++) {
        struct mph_check_report r;
        uint64_t s = seed * 1000003u + (uint64_t)i;
        char what[160] = "", more[160] = "";
        cu_copy(base, work);
        if (next(&s) % 3 == 0) {
            damage(work, ps, &s, true, false, what, sizeof(what));
            damage(work, ps, &s, false, true, more, sizeof(more));
        } else {
            damage(work, ps, &s, true, true, what, sizeof(what));
        }
        snprintf(cu_context, sizeof(cu_context),
                 "seed %llu case %d (%.100s%s%.100s)", (unsigned long long)seed,
                 i, what, more[0] ? "; " : "", more);
        if (mph_check_file(NULL, work, next(&s) & 1 ? ps : 0, &r) != MP_OK) {
            fail_msg("%s: the check did not run", cu_context);
        }
        cu_assert_agrees(work, r.page_size == ps ? ps : 0, &r);
        verdicts[r.verdict]++;
    }
    cu_context[0] = '\0';
    print_message("%s: %d clean, %d recoverable, %d corrupt\n", base,
                  verdicts[0], verdicts[1], verdicts[2]);
    /* The damage is meant to reach all three verdicts. */
    assert_true(verdicts[1] > 0 && verdicts[2] > 0);
}

static void random_damage_agrees_with_open(void **state)
{
    int n = rounds(150);
    (void)state;
    fuzz_file(cu_two_commits("f_two.mp", 1024), 1024, n, 1);
    fuzz_file(cu_mixed("f_mixed1k.mp", 1024), 1024, n, 2);
    fuzz_file(cu_mixed("f_mixed4k.mp", 4096), 4096, n, 3);
}

/* mph_check_image on every prefix of a file and on random bytes behind a
 * valid superblock: it always runs and never reads past the image. */
static void truncated_and_random_images_never_crash(void **state)
{
    const char *path = cu_mixed("img.mp", 1024);
    uint64_t n = mpt_file_size(path), s = 42;
    unsigned char *img = malloc(n), *buf;
    struct mph_check_report r;
    int rc;
    (void)state;
    assert_non_null(img);
    assert_int_equal(mpt_peek(path, 0, img, n), 0);
    for (uint64_t len = 0; len <= n; len += len < 4096 ? 1 : 97) {
        /* A copy of exactly len bytes: ASan sees any read past it. */
        buf = malloc(len ? len : 1);
        assert_non_null(buf);
        memcpy(buf, img, len);
        rc = mph_check_image(len ? buf : NULL, len, 0, &r);
        assert_int_equal(rc, MP_OK);
        if (len < n) {
            assert_int_not_equal(r.verdict, MPH_CHECK_CLEAN);
        }
        free(buf);
    }
    for (int i = 0; i < rounds(150) * 2; i++) {
        uint64_t len = 64 + next(&s) % (n - 63);
        buf = malloc(len);
        assert_non_null(buf);
        memcpy(buf, img, len);
        /* Keep the superblock (and sometimes the record and a metadata
         * copy's header), randomise the rest. */
        for (uint64_t k = 64 + (next(&s) % 3) * 1024; k < len; k++) {
            buf[k] = (unsigned char)next(&s);
        }
        rc = mph_check_image(buf, len, next(&s) & 1 ? 1024 : 0, &r);
        assert_int_equal(rc, MP_OK);
        assert_true(r.problem_count > 0 || r.verdict == MPH_CHECK_CLEAN);
        free(buf);
    }
    free(img);
}

int main(void)
{
    /* Small files only: small reservations keep valgrind runs fast. */
    mpt_cap_reserve((uint64_t)64 << 20);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(random_damage_agrees_with_open),
        cmocka_unit_test(truncated_and_random_images_never_crash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
