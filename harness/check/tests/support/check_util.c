/*
 * check_util.c - see check_util.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "check_util.h"
#include "crc32c.h"
#include "endian.h"

void cu_check(const char *path, size_t page_size, struct mph_check_report *r)
{
    int rc = mph_check_file(NULL, path, page_size, r);
    if (rc != MP_OK) {
        fail_msg("mph_check_file(%s): %s", path, mp_error_name(rc));
    }
}

void cu_assert_verdict(const struct mph_check_report *r, int verdict)
{
    if (r->verdict != verdict) {
        mph_check_print(stderr, r, 0);
        fail_msg("verdict %s, expected %s", mph_check_verdict_name(r->verdict),
                 mph_check_verdict_name(verdict));
    }
}

void cu_assert_says(const struct mph_check_report *r, const char *needle)
{
    for (unsigned i = 0; i < r->msg_count; i++) {
        if (strstr(r->msgs[i].text, needle)) {
            return;
        }
    }
    mph_check_print(stderr, r, 0);
    fail_msg("no message says '%s'", needle);
}

/* Test-support state: what the current case is, for failure messages. */
char cu_context[256];

static void disagree(const struct mph_check_report *r, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    mph_check_print(stderr, r, 0);
    fail_msg("%s%s%s", cu_context, cu_context[0] ? ": " : "", text);
}

#define CU_EQ(r, a, b)                                                    \
 do {                                                                     \
  uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);                        \
  if (a_ != b_) {                                                         \
   disagree(r, "%s = %llu but %s = %llu", #a, (unsigned long long)a_, #b, \
            (unsigned long long)b_);                                      \
  }                                                                       \
 } while (0)

void cu_assert_agrees(const char *path, size_t page_size,
                      const struct mph_check_report *r)
{
    struct mp_options opt;
    struct mp_recovery_info ri;
    mp_pager *p = NULL;
    mp_iter it;
    uint64_t id, n = 0;
    int rc;

    if (r->cross_check == MPH_CROSS_DISAGREES) {
        disagree(r, "the report's own cross-check disagrees");
    }
    mpt_options(&opt);
    rc = mp_pager_open(path, page_size, &opt, &p);
    if (rc != r->open_error_rw) {
        disagree(r, "a read-write open returns %s, the checker predicts %s",
                 mp_error_name(rc), mp_error_name(r->open_error_rw));
    }
    mp_pager_close(p);
    p = NULL;
    opt.flags |= MP_OPEN_READONLY;
    rc = mp_pager_open(path, page_size, &opt, &p);
    if (rc != r->open_error) {
        disagree(r, "open returns %s, the checker predicts %s",
                 mp_error_name(rc), mp_error_name(r->open_error));
    }
    if (rc != MP_OK) {
        CU_EQ(r, r->recovery_would_choose, -1);
        CU_EQ(r, r->verdict, MPH_CHECK_CORRUPT);
        return;
    }
    mp_pager_recovery(p, &ri);
    CU_EQ(r, ri.chosen_copy, r->recovery_would_choose);
    CU_EQ(r, ri.reason, r->recovery_reason);
    CU_EQ(r, ri.fallback,
          r->recovery_reason != MP_RECOVERY_RECORD &&
              r->recovery_reason != MP_RECOVERY_ONE_FLUSH);
    CU_EQ(r, ri.generation, r->generation);
    CU_EQ(r, mp_pager_page_size(p), r->page_size);
    CU_EQ(r, mp_pager_page_count(p), r->page_count);
    CU_EQ(r, mp_pager_free_count(p), r->free_count);
    CU_EQ(r, mp_protected_count(p), r->protected_count);
    if (r->verdict != MPH_CHECK_CORRUPT) {
        CU_EQ(r, mp_pager_internal_count(p), r->internal_count);
    }
    mp_for_each_page(&it, p, id) {
        n++;
    }
    CU_EQ(r, n, r->regular_count);
    /* Every page is reserved, internal, regular or free. */
    if (r->verdict != MPH_CHECK_CORRUPT) {
        CU_EQ(r, 3 + r->internal_count + r->regular_count + r->free_count,
              r->page_count);
    }
    mp_pager_close(p);
}

uint64_t cu_get(const char *path, uint64_t off, unsigned size)
{
    unsigned char b[8];
    assert_true(size == 2 || size == 4 || size == 8);
    assert_int_equal(mpt_peek(path, off, b, size), 0);
    return size == 8 ? mp__le64(b) : size == 4 ? mp__le32(b) : mp__le16(b);
}

void cu_put(const char *path, uint64_t off, unsigned size, uint64_t v)
{
    unsigned char b[8];
    assert_true(size == 2 || size == 4 || size == 8);
    if (size == 8) {
        mp__put64(b, v);
    } else if (size == 4) {
        mp__put32(b, (uint32_t)v);
    } else {
        mp__put16(b, (uint16_t)v);
    }
    assert_int_equal(mpt_poke(path, off, b, size), 0);
}

uint32_t cu_fix_meta_crc(const char *path, size_t ps, int c)
{
    unsigned char *m = malloc(ps);
    uint32_t used, crc;
    assert_non_null(m);
    assert_int_equal(mpt_peek(path, (uint64_t)(1 + c) * ps, m, ps), 0);
    used = mp__le32(m + 8);
    if (used < 8 || used > ps) {
        used = (uint32_t)ps;
    }
    crc = mp__crc32c(0, m + 8, used - 8);
    mp__put32(m + 4, crc);
    assert_int_equal(mpt_poke(path, (uint64_t)(1 + c) * ps, m, ps), 0);
    free(m);
    return crc;
}

void cu_name_copy(const char *path, size_t ps, int c)
{
    unsigned char rec[24];
    uint64_t meta = (uint64_t)(1 + c) * ps;
    memcpy(rec, "MPCR", 4);
    mp__put32(rec + 4, (uint32_t)c);
    mp__put64(rec + 8, cu_get(path, meta + 16, 8));
    mp__put32(rec + 16, (uint32_t)cu_get(path, meta + 4, 4));
    mp__put32(rec + 20, mp__crc32c(0, rec, 20));
    assert_int_equal(mpt_poke(path, 512, rec, 24), 0);
}

int cu_selected(const char *path)
{
    return (int)cu_get(path, 516, 4);
}

void cu_set_meta(const char *path, size_t ps, int c, unsigned off,
                 unsigned size, uint64_t v)
{
    int named = cu_selected(path) == c;
    cu_put(path, (uint64_t)(1 + c) * ps + off, size, v);
    cu_fix_meta_crc(path, ps, c);
    if (named) {
        cu_name_copy(path, ps, c);
    }
}

uint64_t cu_ref_page(const char *path, size_t ps, uint64_t pg, unsigned off,
                     int k)
{
    return cu_get(path, pg * ps + off + 8 * (unsigned)k, 8);
}

uint64_t cu_ref_live(const char *path, size_t ps, uint64_t pg, unsigned off)
{
    int live = (int)(cu_get(path, pg * ps + off + 20, 4) & 1);
    return cu_ref_page(path, ps, pg, off, live);
}

/* Recompute the CRC of the reference at byte ref of copy c's metadata
 * page, over len payload bytes of its live copy; then fix copy c. */
static void fix_ref(const char *path, size_t ps, int c, unsigned ref,
                    size_t len)
{
    uint64_t meta = (uint64_t)(1 + c);
    uint64_t live = cu_ref_live(path, ps, meta, ref);
    unsigned char *b = malloc(len);
    assert_non_null(b);
    assert_int_equal(mpt_peek(path, live * ps, b, len), 0);
    cu_put(path, meta * ps + ref + 16, 4, mp__crc32c(0, b, len));
    free(b);
    cu_set_meta(path, ps, c, 16, 8, cu_get(path, meta * ps + 16, 8));
}

void cu_edit_leaf0(const char *path, size_t ps, int c, unsigned off,
                   unsigned char x)
{
    uint64_t meta = (uint64_t)(1 + c);
    uint64_t live = cu_ref_live(path, ps, meta, 128);
    unsigned char b;
    assert_int_equal(cu_get(path, meta * ps + 60, 4), 0); /* depth 0 */
    assert_int_equal(mpt_peek(path, live * ps + off, &b, 1), 0);
    b ^= x;
    assert_int_equal(mpt_poke(path, live * ps + off, &b, 1), 0);
    fix_ref(path, ps, c, 128, ps);
}

void cu_edit_dir0(const char *path, size_t ps, int c, unsigned off,
                  unsigned size, uint64_t v)
{
    uint64_t meta = (uint64_t)(1 + c);
    unsigned ref = 128 + 24 * (unsigned)cu_get(path, meta * ps + 64, 4);
    uint64_t slots = cu_get(path, meta * ps + 40, 8), e = ps / 32;
    uint64_t live = cu_ref_live(path, ps, meta, ref);
    assert_int_equal(cu_get(path, meta * ps + 68, 4), 0); /* depth 0 */
    cu_put(path, live * ps + off, size, v);
    fix_ref(path, ps, c, ref, (size_t)(slots < e ? slots : e) * 32);
}

void cu_copy(const char *from, const char *to)
{
    uint64_t n = mpt_file_size(from);
    unsigned char *b = malloc(n ? n : 1);
    FILE *f;
    assert_non_null(b);
    assert_int_equal(mpt_peek(from, 0, b, n), 0);
    remove(to);
    f = fopen(to, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
    free(b);
}

const char *cu_empty(const char *name, size_t ps)
{
    const char *path = mpt_path(name);
    remove(path);
    assert_int_equal(mp_pager_close(mpt_create(path, ps)), MP_OK);
    return path;
}

const char *cu_two_commits(const char *name, size_t ps)
{
    const char *path = mpt_path(name);
    mp_pager *p;
    mp_pgno pg;
    remove(path);
    p = mpt_create(path, ps);
    assert_int_equal(mp_pager_alloc(p, &pg), MP_OK);
    assert_int_equal(mp_pager_close(p), MP_OK);
    return path;
}

const char *cu_mixed(const char *name, size_t ps)
{
    const char *path = mpt_path(name);
    mp_pgno pages[40];
    mp_protected_id prot[3];
    mp_pager *p;
    void *w;
    remove(path);
    p = mpt_create(path, ps);
    assert_int_equal(mp_pager_alloc_bulk(p, 40, pages), MP_OK);
    assert_int_equal(mp_pager_free_bulk(p, pages + 10, 5), MP_OK);
    assert_int_equal(mp_pager_free(p, pages[30]), MP_OK);
    assert_int_equal(mp_protected_alloc_bulk(p, 3, prot), MP_OK);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(mp_protected_begin(p, prot[i], &w), MP_OK);
        memset(w, 'a' + i, ps);
        assert_int_equal(mp_protected_commit(p, prot[i]), MP_OK);
    }
    assert_int_equal(mp_protected_free(p, prot[1]), MP_OK);
    assert_int_equal(mp_pager_close(p), MP_OK);
    return path;
}

/* ---- a JSON syntax checker (RFC 8259 grammar, no semantics) ---------- */

static const char *ws(const char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') {
        s++;
    }
    return s;
}

static const char *value(const char *s, int depth);

static const char *string(const char *s)
{
    if (*s++ != '"') {
        return NULL;
    }
    while (*s != '"') {
        if ((unsigned char)*s < 0x20) {
            return NULL;
        }
        if (*s == '\\') {
            s++;
            if (*s == 'u') {
                for (int i = 1; i <= 4; i++) {
                    if (!strchr("0123456789abcdefABCDEF", s[i]) || !s[i]) {
                        return NULL;
                    }
                }
                s += 4;
            } else if (!*s || !strchr("\"\\/bfnrt", *s)) {
                return NULL;
            }
        }
        s++;
    }
    return s + 1;
}

static const char *number(const char *s)
{
    const char *start;
    if (*s == '-') {
        s++;
    }
    start = s;
    while (*s >= '0' && *s <= '9') {
        s++;
    }
    if (s == start || (*start == '0' && s - start > 1)) {
        return NULL;
    }
    if (*s == '.') {
        start = ++s;
        while (*s >= '0' && *s <= '9') {
            s++;
        }
        if (s == start) {
            return NULL;
        }
    }
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-') {
            s++;
        }
        start = s;
        while (*s >= '0' && *s <= '9') {
            s++;
        }
        if (s == start) {
            return NULL;
        }
    }
    return s;
}

static const char *container(const char *s, int depth, char close)
{
    s = ws(s + 1);
    if (*s == close) {
        return s + 1;
    }
    for (;;) {
        if (close == '}') {
            s = string(ws(s));
            if (!s || *(s = ws(s)) != ':') {
                return NULL;
            }
            s++;
        }
        s = value(s, depth + 1);
        if (!s) {
            return NULL;
        }
        s = ws(s);
        if (*s == close) {
            return s + 1;
        }
        if (*s++ != ',') {
            return NULL;
        }
    }
}

static const char *value(const char *s, int depth)
{
    if (depth > 64) {
        return NULL;
    }
    s = ws(s);
    switch (*s) {
    case '{':
        return container(s, depth, '}');
    case '[':
        return container(s, depth, ']');
    case '"':
        return string(s);
    case 't':
        return strncmp(s, "true", 4) ? NULL : s + 4;
    case 'f':
        return strncmp(s, "false", 5) ? NULL : s + 5;
    case 'n':
        return strncmp(s, "null", 4) ? NULL : s + 4;
    default:
        return number(s);
    }
}

int cu_json_valid(const char *s)
{
    s = value(s, 0);
    return s && *ws(s) == '\0';
}
