/*
 * workload_parse.c - the text format into a workload, with line-numbered
 * messages for every mistake.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mappedpages/pager.h"
#include "mph/workload.h"
#include "workload_shape.h"

struct token {
    const char *s;
    size_t n;
};

struct parser {
    const char *name;
    unsigned line;
    char *err;
    size_t errlen;
    struct mph_workload *w;
    struct mph_arg *args;
    size_t args_cap;
    struct token *toks;
    size_t toks_cap;
};

static int fail(struct parser *ps, const char *fmt, ...)
{
    va_list ap;
    int n = 0;
    if (ps->errlen == 0) {
        return MP_EINVAL;
    }
    if (ps->line) {
        n = snprintf(ps->err, ps->errlen, "%s:%u: ", ps->name, ps->line);
    } else {
        n = snprintf(ps->err, ps->errlen, "%s: ", ps->name);
    }
    if (n >= 0 && (size_t)n < ps->errlen) {
        va_start(ap, fmt);
        vsnprintf(ps->err + n, ps->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return MP_EINVAL;
}

static bool tok_is(const struct token *t, const char *word)
{
    return strlen(word) == t->n && memcmp(t->s, word, t->n) == 0;
}

/* An unsigned number, decimal or 0x-hex, the whole token. */
static bool parse_u64(const struct token *t, uint64_t *v)
{
    char buf[32];
    char *end;
    unsigned long long x;
    if (t->n == 0 || t->n >= sizeof(buf) || t->s[0] == '-' || t->s[0] == '+') {
        return false;
    }
    memcpy(buf, t->s, t->n);
    buf[t->n] = 0;
    errno = 0;
    x = strtoull(buf, &end, 0);
    if (errno || *end) {
        return false;
    }
    *v = x;
    return true;
}

static int parse_id(struct parser *ps, const struct token *t, struct mph_arg *a)
{
    uint64_t v;
    if (t->s[0] == '$') {
        struct token r = { t->s + 1, t->n - 1 };
        if (!parse_u64(&r, &v) || v == 0) {
            return fail(ps, "bad ref '%.*s' (want $1, $2, ...)", (int)t->n,
                        t->s);
        }
        if (v > ps->w->nrefs) {
            return fail(ps,
                        "ref $%llu is not produced yet (only $1..$%llu "
                        "so far)",
                        (unsigned long long)v,
                        (unsigned long long)ps->w->nrefs);
        }
        a->kind = MPH_ARG_REF;
        a->value = v;
        return MP_OK;
    }
    if (t->s[0] == 'P' || t->s[0] == 'p') {
        struct token r = { t->s + 1, t->n - 1 };
        if (!parse_u64(&r, &v) || (v & MP_ID_KIND_MASK)) {
            return fail(ps, "bad protected slot '%.*s'", (int)t->n, t->s);
        }
        a->kind = MPH_ARG_RAW;
        a->value = MP_ID_KIND_PROTECT | v;
        return MP_OK;
    }
    if (!parse_u64(t, &v)) {
        return fail(ps, "bad id '%.*s' (want $k, a number or P<slot>)",
                    (int)t->n, t->s);
    }
    a->kind = MPH_ARG_RAW;
    a->value = v;
    return MP_OK;
}

static int parse_byte(struct parser *ps, const struct token *t, unsigned *b)
{
    uint64_t v;
    if (!parse_u64(t, &v) || v > 255) {
        return fail(ps, "bad byte '%.*s' (want 0..255)", (int)t->n, t->s);
    }
    *b = (unsigned)v;
    return MP_OK;
}

static int parse_count(struct parser *ps, const struct token *t, uint64_t *c)
{
    if (!parse_u64(t, c) || *c > MPH_MAX_COUNT) {
        return fail(ps, "bad count '%.*s' (want 0..%llu)", (int)t->n, t->s,
                    (unsigned long long)MPH_MAX_COUNT);
    }
    return MP_OK;
}

static int want_args(struct parser *ps, const char *op, size_t got, size_t lo,
                     size_t hi, const char *usage)
{
    if (got < lo || got > hi) {
        return fail(ps, "%s takes %s", op, usage);
    }
    return MP_OK;
}

static int parse_directive(struct parser *ps, const char *s, size_t n)
{
    char key[64], val[1024];
    size_t i = 0, k = 0;
    while (i < n && (s[i] == ' ' || s[i] == '\t')) {
        i++;
    }
    while (i < n && s[i] != ' ' && s[i] != '\t' && k + 1 < sizeof(key)) {
        key[k++] = s[i++];
    }
    key[k] = 0;
    while (i < n && (s[i] == ' ' || s[i] == '\t')) {
        i++;
    }
    while (n > i && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r')) {
        n--;
    }
    if (k == 0) {
        return fail(ps, "directive without a key");
    }
    if (n - i >= sizeof(val)) {
        return fail(ps, "directive value too long");
    }
    memcpy(val, s + i, n - i);
    val[n - i] = 0;
    if (mph_workload_set_directive(ps->w, key, val) != MP_OK) {
        return fail(ps, "bad directive");
    }
    return MP_OK;
}

static int parse_line(struct parser *ps, const char *s, size_t n)
{
    struct token *toks;
    struct mph_op op;
    const struct mph__op_shape *sh;
    size_t nt = 0, i = 0, nargs = 0;
    int kind, rc;

    if (n >= 2 && s[0] == '#' && s[1] == '!') {
        return parse_directive(ps, s + 2, n - 2);
    }
    while (i < n) {
        while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r')) {
            i++;
        }
        if (i >= n || s[i] == '#') {
            break;
        }
        if (nt == ps->toks_cap) {
            size_t cap = ps->toks_cap ? ps->toks_cap * 2 : 16;
            struct token *t = realloc(ps->toks, cap * sizeof(*t));
            if (!t) {
                return MP_ENOMEM;
            }
            ps->toks = t;
            ps->toks_cap = cap;
        }
        toks = ps->toks;
        toks[nt].s = s + i;
        while (i < n && s[i] != ' ' && s[i] != '\t' && s[i] != '\r' &&
               s[i] != '#') {
            i++;
        }
        toks[nt].n = (size_t)(s + i - toks[nt].s);
        nt++;
    }
    if (nt == 0) {
        return MP_OK;
    }
    toks = ps->toks;
    kind = mph__op_kind(toks[0].s, toks[0].n);
    if (kind < 0) {
        return fail(ps, "unknown operation '%.*s'", (int)toks[0].n, toks[0].s);
    }
    sh = mph__shape(kind);
    memset(&op, 0, sizeof(op));
    op.kind = kind;
    op.line = ps->line;
    if (nt - 1 > ps->args_cap) {
        struct mph_arg *a = realloc(ps->args, (nt - 1) * sizeof(*a));
        if (!a) {
            return MP_ENOMEM;
        }
        ps->args = a;
        ps->args_cap = nt - 1;
    }
    switch (sh->args) {
    case MPH__A_NONE:
        rc = want_args(ps, sh->name, nt - 1, 0, 0, "no arguments");
        break;
    case MPH__A_COUNT:
        rc = want_args(ps, sh->name, nt - 1, 1, 1, "one count");
        if (rc == MP_OK) {
            rc = parse_count(ps, &toks[1], &op.count);
        }
        break;
    case MPH__A_SIZE:
    case MPH__A_SIZE_COUNT: {
        uint64_t size = 0;
        bool two = sh->args == MPH__A_SIZE_COUNT;
        rc = want_args(ps, sh->name, nt - 1, two ? 2 : 1, two ? 2 : 1,
                       two ? "a slot size and a count" : "a slot size");
        if (rc == MP_OK &&
            (!parse_u64(&toks[1], &size) || size > MP_PAGE_SIZE_MAX)) {
            rc = fail(ps, "bad slot size '%.*s'", (int)toks[1].n, toks[1].s);
        }
        op.size = (uint32_t)size;
        if (rc == MP_OK && two) {
            rc = parse_count(ps, &toks[2], &op.count);
        }
        break;
    }
    case MPH__A_ID:
        rc = want_args(ps, sh->name, nt - 1, 1, 1, "one id");
        if (rc == MP_OK) {
            rc = parse_id(ps, &toks[1], &ps->args[0]);
            nargs = 1;
        }
        break;
    case MPH__A_IDS:
        rc = MP_OK;
        for (size_t t = 1; rc == MP_OK && t < nt; t++) {
            rc = parse_id(ps, &toks[t], &ps->args[t - 1]);
        }
        nargs = nt - 1;
        break;
    case MPH__A_ID_BYTE:
        rc = want_args(ps, sh->name, nt - 1, 2, 2, "an id and a byte");
        if (rc == MP_OK) {
            rc = parse_id(ps, &toks[1], &ps->args[0]);
            nargs = 1;
        }
        if (rc == MP_OK) {
            rc = parse_byte(ps, &toks[2], &op.byte);
        }
        break;
    case MPH__A_ID_BYTE_RANGE: {
        uint64_t off = 0, len = 0;
        rc = want_args(ps, sh->name, nt - 1, 2, 4,
                       "an id, a byte and optionally an offset and length");
        if (rc == MP_OK && nt - 1 == 3) {
            rc = fail(ps, "%s: give both offset and length", sh->name);
        }
        if (rc == MP_OK) {
            rc = parse_id(ps, &toks[1], &ps->args[0]);
            nargs = 1;
        }
        if (rc == MP_OK) {
            rc = parse_byte(ps, &toks[2], &op.byte);
        }
        if (rc == MP_OK && nt == 5 &&
            (!parse_u64(&toks[3], &off) || !parse_u64(&toks[4], &len) ||
             off > MP_PAGE_SIZE_MAX || len > MP_PAGE_SIZE_MAX)) {
            rc = fail(ps, "%s: bad offset or length", sh->name);
        }
        op.off = (uint32_t)off;
        op.len = (uint32_t)len;
        break;
    }
    case MPH__A_ID_BYTE_MODE:
        rc = want_args(ps, sh->name, nt - 1, 2, 3,
                       "an id, a byte and optionally commit or abort");
        if (rc == MP_OK) {
            rc = parse_id(ps, &toks[1], &ps->args[0]);
            nargs = 1;
        }
        if (rc == MP_OK) {
            rc = parse_byte(ps, &toks[2], &op.byte);
        }
        op.commit = true;
        if (rc == MP_OK && nt == 4) {
            if (tok_is(&toks[3], "abort")) {
                op.commit = false;
            } else if (!tok_is(&toks[3], "commit")) {
                rc = fail(ps, "%s: want 'commit' or 'abort', not '%.*s'",
                          sh->name, (int)toks[3].n, toks[3].s);
            }
        }
        break;
    default:
        rc = fail(ps, "internal: unknown shape");
        break;
    }
    if (rc != MP_OK) {
        return rc;
    }
    rc = mph_workload_add(ps->w, &op, ps->args, nargs);
    if (rc == MP_ENOMEM) {
        return rc;
    }
    if (rc != MP_OK) {
        return fail(ps, "bad operation");
    }
    return MP_OK;
}

int mph_workload_parse(const char *text, size_t len, const char *name,
                       struct mph_workload **out, char *err, size_t errlen)
{
    struct parser ps;
    size_t i = 0;
    int rc;

    *out = NULL;
    memset(&ps, 0, sizeof(ps));
    ps.name = name ? name : "<string>";
    ps.err = err;
    ps.errlen = errlen;
    if (errlen) {
        err[0] = 0;
    }
    rc = mph_workload_new(&ps.w);
    if (rc != MP_OK) {
        return rc;
    }
    while (i < len) {
        size_t e = i;
        while (e < len && text[e] != '\n') {
            e++;
        }
        ps.line++;
        if (memchr(text + i, 0, e - i)) {
            rc = fail(&ps, "NUL byte in line");
        } else {
            rc = parse_line(&ps, text + i, e - i);
        }
        if (rc != MP_OK) {
            if (rc == MP_ENOMEM) {
                fail(&ps, "out of memory");
            }
            free(ps.args);
            free(ps.toks);
            mph_workload_free(ps.w);
            return rc;
        }
        i = e + 1;
    }
    free(ps.args);
    free(ps.toks);
    *out = ps.w;
    return MP_OK;
}

int mph_workload_load(const char *path, struct mph_workload **out, char *err,
                      size_t errlen)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int rc;

    *out = NULL;
    if (!f) {
        if (errlen) {
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
        }
        return errno == ENOENT ? MP_ENOENT : MP_EIO;
    }
    for (;;) {
        size_t got;
        if (len == cap) {
            char *nb = realloc(buf, cap ? cap * 2 : 4096);
            if (!nb) {
                rc = MP_ENOMEM;
                goto out;
            }
            buf = nb;
            cap = cap ? cap * 2 : 4096;
        }
        got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) {
            break;
        }
    }
    if (ferror(f)) {
        if (errlen) {
            snprintf(err, errlen, "%s: read error", path);
        }
        rc = MP_EIO;
        goto out;
    }
    rc = mph_workload_parse(buf, len, path, out, err, errlen);
out:
    if (f != stdin) {
        fclose(f);
    }
    free(buf);
    return rc;
}
