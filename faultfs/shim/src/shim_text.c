/*
 * shim_text.c - text without malloc or stdio: bounded buffers, numbers,
 * messages, and the glob/prefix matcher for FAULTFS_SHIM_MATCH. (glibc's
 * printf and fnmatch may allocate; the shim must not, see shim.h.)
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "shim.h"

void faultfs_shim_buf_init(struct faultfs_shim_buf *b, char *mem, size_t cap)
{
    b->p = mem;
    b->cap = cap;
    b->len = 0;
    b->full = false;
}

void faultfs_shim_buf_chr(struct faultfs_shim_buf *b, char c)
{
    if (b->len < b->cap) {
        b->p[b->len++] = c;
    } else {
        b->full = true;
    }
}

void faultfs_shim_buf_str(struct faultfs_shim_buf *b, const char *s)
{
    while (*s) {
        faultfs_shim_buf_chr(b, *s++);
    }
}

void faultfs_shim_buf_u64(struct faultfs_shim_buf *b, uint64_t v)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n) {
        faultfs_shim_buf_chr(b, tmp[--n]);
    }
}

void faultfs_shim_buf_hex(struct faultfs_shim_buf *b, uint64_t v)
{
    static const char digits[] = "0123456789abcdef";
    faultfs_shim_buf_str(b, "0x");
    for (int shift = 60; shift >= 0; shift -= 4) {
        faultfs_shim_buf_chr(b, digits[(v >> shift) & 15]);
    }
}

int faultfs_shim_write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -errno;
        }
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

int faultfs_shim_buf_flush(struct faultfs_shim_buf *b, int fd)
{
    int rc = faultfs_shim_write_all(fd, b->p, b->len);
    b->len = 0;
    b->full = false;
    return rc;
}

static void say_list(const char *first, va_list ap)
{
    char mem[1024];
    struct faultfs_shim_buf b;
    int saved = errno;

    faultfs_shim_buf_init(&b, mem, sizeof(mem) - 1);
    faultfs_shim_buf_str(&b, "faultfs_shim: ");
    for (const char *s = first; s; s = va_arg(ap, const char *)) {
        faultfs_shim_buf_str(&b, s);
    }
    b.p[b.len++] = '\n'; /* cap leaves room for it */
    (void)faultfs_shim_buf_flush(&b, 2);
    errno = saved;
}

void faultfs_shim_say(const char *first, ...)
{
    va_list ap;
    va_start(ap, first);
    say_list(first, ap);
    va_end(ap);
}

_Noreturn void faultfs_shim_fatal(const char *first, ...)
{
    va_list ap;
    va_start(ap, first);
    say_list(first, ap);
    va_end(ap);
    _exit(2);
}

int faultfs_shim_parse_u64(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    unsigned base = 10;

    if (!s || !*s) {
        return -EINVAL;
    }
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
        if (!*s) {
            return -EINVAL;
        }
    }
    for (; *s; s++) {
        unsigned d;
        if (*s >= '0' && *s <= '9') {
            d = (unsigned)(*s - '0');
        } else if (base == 16 && *s >= 'a' && *s <= 'f') {
            d = (unsigned)(*s - 'a' + 10);
        } else if (base == 16 && *s >= 'A' && *s <= 'F') {
            d = (unsigned)(*s - 'A' + 10);
        } else {
            return -EINVAL;
        }
        if (d >= base || v > (UINT64_MAX - d) / base) {
            return -EINVAL;
        }
        v = v * base + d;
    }
    *out = v;
    return 0;
}

/*
 * Match c against the bracket expression starting just after '[' at *pp.
 * Returns -1 if the expression is not closed (then '[' is literal), else
 * 1 or 0, with *pp moved past the closing ']'.
 */
static int bracket(const char **pp, char c)
{
    const char *p = *pp;
    bool neg = false, hit = false;

    if (*p == '!' || *p == '^') {
        neg = true;
        p++;
    }
    /* A ']' first in the set is a member, not the end. */
    for (bool first = true; *p && (first || *p != ']'); first = false) {
        char lo = *p++, hi = lo;
        if (*p == '-' && p[1] && p[1] != ']') {
            hi = p[1];
            p += 2;
        }
        if (lo <= c && c <= hi) {
            hit = true;
        }
    }
    if (*p != ']') {
        return -1;
    }
    *pp = p + 1;
    return hit != neg;
}

bool faultfs_shim_glob(const char *p, const char *s)
{
    const char *star_p = NULL, *star_s = NULL;

    while (*s) {
        if (*p == '*') {
            star_p = ++p;
            star_s = s;
            continue;
        }
        if (*p == '?') {
            p++;
            s++;
            continue;
        }
        if (*p == '[') {
            const char *q = p + 1;
            int r = bracket(&q, *s);
            if (r == 1) {
                p = q;
                s++;
                continue;
            }
            if (r == 0) {
                goto backtrack;
            }
        }
        if (*p == '\\' && p[1]) {
            p++;
        }
        if (*p == *s) {
            p++;
            s++;
            continue;
        }
backtrack:
        if (!star_p) {
            return false;
        }
        p = star_p;
        s = ++star_s;
    }
    while (*p == '*') {
        p++;
    }
    return *p == 0;
}

bool faultfs_shim_match(const char *list, const char *path)
{
    char pat[FAULTFS_SHIM_PATH];

    while (*list) {
        const char *end = strchr(list, ':');
        size_t n = end ? (size_t)(end - list) : strlen(list);
        if (n > 0 && n < sizeof(pat)) {
            memcpy(pat, list, n);
            pat[n] = 0;
            if (strpbrk(pat, "*?[") ? faultfs_shim_glob(pat, path)
                                    : strncmp(path, pat, n) == 0) {
                return true;
            }
        }
        list += n;
        if (*list == ':') {
            list++;
        }
    }
    return false;
}
