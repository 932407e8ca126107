/*
 * fuzz_codec.c - fuzzer bytes to harness workloads and back.
 *
 * The decoder keeps, as it goes, the refs ($k) each op produced, sorted
 * into lists by kind: live regular pages, live protected pages, live
 * sub-page slots, and the freed ids of each kind. An id byte picks from the
 * list of the op's own kind, so most random inputs are mostly valid call
 * sequences; the special codes reach every error path. The encoder runs
 * the same bookkeeping to find the byte that names a given ref.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

/* Largest count of a bulk call and of an id list. */
#define FZ_MAX_COUNT 24
/* Refs tracked (a workload producing more stops decoding). */
#define FZ_MAX_REFS 1024
/* First special id byte. */
#define FZ_SPECIAL 0xE0

/* Live refs by kind, then freed refs by kind (stale = live + 3). */
enum fz_list {
    FZ_REG = 0,
    FZ_PROT = 1,
    FZ_SUB = 2,
    FZ_STALE = 3,
    FZ_NLISTS = 6
};

/* Special id codes (byte - FZ_SPECIAL) % FZ_NSPECIAL. */
enum fz_special {
    FZ_S_ZERO = 0,   /* page 0: reserved */
    FZ_S_TWO = 1,    /* page 2: reserved */
    FZ_S_LEAF = 2,   /* page 3: a map-leaf copy, internal */
    FZ_S_FAR = 3,    /* page 2^39: out of bounds */
    FZ_S_MAX = 4,    /* MP_MAX_PAGES */
    FZ_S_UNSET = 5,  /* all ones: kind 3 */
    FZ_S_P0 = 6,     /* protected slot 0 */
    FZ_S_PN = 7,     /* protected slot <next byte> */
    FZ_S_PFAR = 8,   /* protected slot 2^30 */
    FZ_S_SUBTAG = 9, /* sub-page id with a tag no allocator has */
    FZ_S_SUB64 = 10, /* sub-page id: 64-byte tag, parent 3, slot 0 */
    FZ_S_ANY = 11,   /* any live ref, <next byte> */
    FZ_S_STALE = 12, /* a freed id of the op's kind, <next byte> */
    FZ_S_RAW = 13,   /* raw page <next byte> % 64 */
    FZ_S_ONE = 14,   /* page 1: reserved */
    FZ_S_KIND3 = 15, /* kind bits 11 */
    FZ_S_RAW64 = 16, /* raw id <next 8 bytes, little-endian> */
    FZ_NSPECIAL = 17
};

#define SUBTAG_ID                                                  \
 (MP_ID_KIND_SUBPAGE | ((uint64_t)0x7FF << MP_SUBPAGE_TAG_SHIFT) | \
  ((uint64_t)3 << MP_SUBPAGE_PAGE_SHIFT))
#define SUB64_ID                                                        \
 (MP_ID_KIND_SUBPAGE | ((uint64_t)(6u << 11) << MP_SUBPAGE_TAG_SHIFT) | \
  ((uint64_t)3 << MP_SUBPAGE_PAGE_SHIFT))

/* Slot sizes a size byte names (% 10): valid ones, then refused ones. */
static const uint32_t slot_sizes[] = { 16,  32,   64,  128, 256,
                                       512, 1024, 100, 8,   0 };
#define NSIZES (sizeof(slot_sizes) / sizeof(slot_sizes[0]))

/* The bookkeeping shared by decoder and encoder. */
struct fz_state {
    const struct fz_codec *c;
    uint64_t list[FZ_NLISTS][FZ_MAX_REFS];
    size_t len[FZ_NLISTS];
    uint64_t nrefs;
    uint64_t used; /* pages asked for so far */
};

static const uint8_t ops_kinds[] = {
    MPH_OP_ALLOC,   MPH_OP_FREE,        MPH_OP_ALLOC_BULK, MPH_OP_FREE_BULK,
    MPH_OP_PALLOC,  MPH_OP_PALLOC_BULK, MPH_OP_PFREE,      MPH_OP_PFREE_BULK,
    MPH_OP_PBEGIN,  MPH_OP_PFILL,       MPH_OP_PCOMMIT,    MPH_OP_PABORT,
    MPH_OP_PWRITE,  MPH_OP_WRITE,       MPH_OP_SYNC,       MPH_OP_REOPEN,
    MPH_OP_ITERATE, MPH_OP_GROW,        MPH_OP_SALLOC,     MPH_OP_SALLOC_BULK,
    MPH_OP_SFREE,   MPH_OP_SFREE_BULK,
};

static const uint8_t subpage_kinds[] = {
    MPH_OP_SALLOC, MPH_OP_SALLOC_BULK, MPH_OP_SFREE, MPH_OP_SFREE_BULK,
    MPH_OP_REOPEN, MPH_OP_ALLOC,       MPH_OP_FREE,  MPH_OP_WRITE,
    MPH_OP_SYNC,   MPH_OP_ITERATE,
};

/* The op opcode i means in codec c: without sub-page ops the sub-page
 * opcodes mean the matching regular calls. */
static int kind_at(const struct fz_codec *c, size_t i)
{
    int k = c->kinds[i];
    if (c->sub) {
        return k;
    }
    switch (k) {
    case MPH_OP_SALLOC:
        return MPH_OP_ALLOC;
    case MPH_OP_SALLOC_BULK:
        return MPH_OP_ALLOC_BULK;
    case MPH_OP_SFREE:
        return MPH_OP_FREE;
    case MPH_OP_SFREE_BULK:
        return MPH_OP_FREE_BULK;
    default:
        return k;
    }
}

void fz_codec_ops(struct fz_codec *c, bool sub)
{
    memset(c, 0, sizeof(*c));
    c->kinds = ops_kinds;
    c->nkinds = sizeof(ops_kinds);
    c->sub = sub;
    c->max_ops = 64;
    c->budget = 400;
}

void fz_codec_subpage(struct fz_codec *c)
{
    memset(c, 0, sizeof(*c));
    c->kinds = subpage_kinds;
    c->nkinds = sizeof(subpage_kinds);
    c->sub = true;
    c->max_ops = 64;
    c->budget = 400;
}

/* ---- reader ----------------------------------------------------------- */

void fz_reader_init(struct fz_reader *r, const uint8_t *data, size_t size)
{
    r->p = data;
    r->n = data ? size : 0;
    r->pos = 0;
}

bool fz_more(const struct fz_reader *r)
{
    return r->pos < r->n;
}

uint8_t fz_u8(struct fz_reader *r)
{
    return r->pos < r->n ? r->p[r->pos++] : 0;
}

uint16_t fz_u16(struct fz_reader *r)
{
    uint16_t lo = fz_u8(r);
    return (uint16_t)(lo | (uint16_t)fz_u8(r) << 8);
}

const uint8_t *fz_rest(const struct fz_reader *r, size_t *len)
{
    *len = r->n - r->pos;
    return r->p + r->pos;
}

/* ---- bookkeeping ----------------------------------------------------------
 */

/* The list an op's id arguments naturally come from. */
static int natural_list(int kind)
{
    switch (kind) {
    case MPH_OP_PFREE:
    case MPH_OP_PFREE_BULK:
    case MPH_OP_PBEGIN:
    case MPH_OP_PFILL:
    case MPH_OP_PCOMMIT:
    case MPH_OP_PABORT:
    case MPH_OP_PWRITE:
        return FZ_PROT;
    case MPH_OP_SFREE:
    case MPH_OP_SFREE_BULK:
        return FZ_SUB;
    default:
        return FZ_REG;
    }
}

/* The list the refs an op produces go to, or -1. */
static int produced_list(int kind)
{
    switch (kind) {
    case MPH_OP_ALLOC:
    case MPH_OP_ALLOC_BULK:
        return FZ_REG;
    case MPH_OP_PALLOC:
    case MPH_OP_PALLOC_BULK:
        return FZ_PROT;
    case MPH_OP_SALLOC:
    case MPH_OP_SALLOC_BULK:
        return FZ_SUB;
    default:
        return -1;
    }
}

static void push(struct fz_state *s, int l, uint64_t ref)
{
    if (s->len[l] < FZ_MAX_REFS) {
        s->list[l][s->len[l]++] = ref;
    }
}

/* Remove ref from list l if there; true if it was. */
static bool take(struct fz_state *s, int l, uint64_t ref)
{
    for (size_t i = 0; i < s->len[l]; i++) {
        if (s->list[l][i] == ref) {
            memmove(&s->list[l][i], &s->list[l][i + 1],
                    (s->len[l] - i - 1) * sizeof(s->list[l][0]));
            s->len[l]--;
            return true;
        }
    }
    return false;
}

static size_t live_count(const struct fz_state *s)
{
    return s->len[FZ_REG] + s->len[FZ_PROT] + s->len[FZ_SUB];
}

/* Entry i of the live lists concatenated (REG, PROT, SUB). */
static uint64_t live_at(const struct fz_state *s, size_t i)
{
    for (int l = FZ_REG; l <= FZ_SUB; l++) {
        if (i < s->len[l]) {
            return s->list[l][i];
        }
        i -= s->len[l];
    }
    return 0;
}

/* After an op ran (as far as the codec knows): lists follow frees and
 * the refs it produced. */
static void account(struct fz_state *s, const struct mph_op *op,
                    const struct mph_arg *args)
{
    int pl = produced_list(op->kind);
    int l = natural_list(op->kind);
    switch (op->kind) {
    case MPH_OP_FREE:
    case MPH_OP_FREE_BULK:
    case MPH_OP_PFREE:
    case MPH_OP_PFREE_BULK:
    case MPH_OP_SFREE:
    case MPH_OP_SFREE_BULK:
        /* Freed as far as the codec knows (the call may yet fail). */
        for (size_t i = 0; i < op->nargs; i++) {
            if (args[i].kind == MPH_ARG_REF && take(s, l, args[i].value)) {
                push(s, FZ_STALE + l, args[i].value);
            }
        }
        break;
    default:
        break;
    }
    if (pl >= 0) {
        for (uint64_t k = 0; k < op->nrefs; k++) {
            push(s, pl, s->nrefs + 1 + k);
        }
    }
    s->nrefs += op->nrefs;
}

/* Pages an op may ask for (an upper bound, for the budget). */
static uint64_t pages_asked(const struct mph_op *op)
{
    switch (op->kind) {
    case MPH_OP_ALLOC:
    case MPH_OP_SALLOC:
        return 1;
    case MPH_OP_PALLOC:
        return 2;
    case MPH_OP_ALLOC_BULK:
    case MPH_OP_SALLOC_BULK:
        return op->count;
    case MPH_OP_PALLOC_BULK:
        return 2 * op->count;
    default:
        return 0;
    }
}

static uint64_t budget_left(const struct fz_state *s)
{
    return s->used < s->c->budget ? s->c->budget - s->used : 0;
}

/* ---- decoder ----------------------------------------------------------- */

static struct mph_arg raw(uint64_t v)
{
    struct mph_arg a = { MPH_ARG_RAW, v };
    return a;
}

static struct mph_arg ref(uint64_t k)
{
    struct mph_arg a = { MPH_ARG_REF, k };
    return a;
}

static struct mph_arg decode_special(struct fz_state *s, struct fz_reader *r,
                                     int l, unsigned code)
{
    size_t n;
    uint8_t b;
    switch (code) {
    case FZ_S_ZERO:
        return raw(0);
    case FZ_S_ONE:
        return raw(1);
    case FZ_S_TWO:
        return raw(2);
    case FZ_S_LEAF:
        return raw(3);
    case FZ_S_FAR:
        return raw((uint64_t)1 << 39);
    case FZ_S_MAX:
        return raw(MP_MAX_PAGES);
    case FZ_S_UNSET:
        return raw(MPH_ID_UNSET);
    case FZ_S_P0:
        return raw(MP_ID_KIND_PROTECT);
    case FZ_S_PN:
        return raw(MP_ID_KIND_PROTECT | fz_u8(r));
    case FZ_S_PFAR:
        return raw(MP_ID_KIND_PROTECT | ((uint64_t)1 << 30));
    case FZ_S_SUBTAG:
        return raw(SUBTAG_ID);
    case FZ_S_SUB64:
        return raw(SUB64_ID);
    case FZ_S_ANY:
        b = fz_u8(r);
        n = live_count(s);
        return n ? ref(live_at(s, b % n)) : raw(MPH_ID_UNSET);
    case FZ_S_STALE:
        b = fz_u8(r);
        n = s->len[FZ_STALE + l];
        if ((s->c->sub && l == FZ_REG) || n == 0) {
            return raw((uint64_t)1 << 39);
        }
        return ref(s->list[FZ_STALE + l][n - 1 - b % n]);
    case FZ_S_RAW:
        b = fz_u8(r);
        return raw(s->c->sub ? 3 : (uint64_t)(b % 64));
    case FZ_S_RAW64: {
        uint64_t v = 0;
        for (int i = 0; i < 8; i++) {
            v |= (uint64_t)fz_u8(r) << (8 * i);
        }
        /* A raw page number could name a sub-page parent. */
        if (s->c->sub && (v & MP_ID_KIND_MASK) == MP_ID_KIND_PAGE) {
            v = (uint64_t)1 << 39;
        }
        return raw(v);
    }
    default:
        return raw(MP_ID_KIND_MASK);
    }
}

static struct mph_arg decode_id(struct fz_state *s, struct fz_reader *r,
                                int kind)
{
    uint8_t a = fz_u8(r);
    int l = natural_list(kind);
    size_t n;
    if (a >= FZ_SPECIAL) {
        return decode_special(s, r, l,
                              (unsigned)(a - FZ_SPECIAL) % FZ_NSPECIAL);
    }
    n = s->len[l];
    if (n) {
        return ref(s->list[l][n - 1 - a % n]);
    }
    n = live_count(s);
    return n ? ref(live_at(s, a % n)) : raw(MPH_ID_UNSET);
}

static uint64_t clamp_count(struct fz_state *s, uint64_t n, uint64_t per)
{
    uint64_t left = budget_left(s) / per;
    return n < left ? n : left;
}

/* Decode one op and its arguments and append it to w. */
static int decode_op(struct fz_state *s, struct fz_reader *r, int kind,
                     struct mph_workload *w)
{
    struct mph_arg args[FZ_MAX_COUNT];
    const struct mph_op *last;
    struct mph_op op;
    size_t nargs = 0;
    uint8_t b;
    int rc;

    memset(&op, 0, sizeof(op));
    op.kind = kind;
    switch (kind) {
    case MPH_OP_FREE:
    case MPH_OP_PFREE:
    case MPH_OP_PBEGIN:
    case MPH_OP_PCOMMIT:
    case MPH_OP_PABORT:
    case MPH_OP_SFREE:
        args[nargs++] = decode_id(s, r, kind);
        break;
    case MPH_OP_FREE_BULK:
    case MPH_OP_PFREE_BULK:
    case MPH_OP_SFREE_BULK:
        b = fz_u8(r);
        for (unsigned i = 0; i < b % (FZ_MAX_COUNT + 1); i++) {
            args[nargs++] = decode_id(s, r, kind);
        }
        break;
    case MPH_OP_ALLOC_BULK:
    case MPH_OP_SALLOC_BULK:
        if (kind == MPH_OP_SALLOC_BULK) {
            op.size = slot_sizes[fz_u8(r) % NSIZES];
        }
        op.count = clamp_count(s, fz_u8(r) % (FZ_MAX_COUNT + 1), 1);
        break;
    case MPH_OP_PALLOC_BULK:
        op.count = clamp_count(s, fz_u8(r) % (FZ_MAX_COUNT + 1), 2);
        break;
    case MPH_OP_SALLOC:
        op.size = slot_sizes[fz_u8(r) % NSIZES];
        break;
    case MPH_OP_PFILL:
        args[nargs++] = decode_id(s, r, kind);
        op.byte = fz_u8(r);
        op.off = 4u * fz_u8(r);
        op.len = 4u * fz_u8(r);
        break;
    case MPH_OP_PWRITE:
        args[nargs++] = decode_id(s, r, kind);
        op.byte = fz_u8(r);
        op.commit = (fz_u8(r) & 1) == 0;
        break;
    case MPH_OP_WRITE:
        args[nargs++] = decode_id(s, r, kind);
        op.byte = fz_u8(r);
        break;
    case MPH_OP_GROW:
        op.count = 2u * fz_u8(r);
        break;
    default:
        break;
    }
    if (pages_asked(&op) > budget_left(s) ||
        s->nrefs + op.count + 1 > FZ_MAX_REFS) {
        /* Out of budget: the op still runs, asking for nothing. */
        if (kind == MPH_OP_ALLOC || kind == MPH_OP_PALLOC ||
            kind == MPH_OP_SALLOC) {
            op.kind = MPH_OP_ITERATE;
        } else {
            op.count = 0;
        }
    }
    rc = mph_workload_add(w, &op, args, nargs);
    if (rc != MP_OK) {
        return rc;
    }
    last = &w->ops[w->nops - 1];
    s->used += pages_asked(last);
    account(s, last, nargs ? w->args + last->first_arg : NULL);
    return MP_OK;
}

int fz_decode(const struct fz_codec *c, struct fz_reader *r,
              struct mph_workload **out)
{
    struct mph_workload *w = NULL;
    struct fz_state *s;
    char ps[16];
    int rc;

    *out = NULL;
    s = calloc(1, sizeof(*s));
    if (!s) {
        return MP_ENOMEM;
    }
    s->c = c;
    rc = mph_workload_new(&w);
    if (rc == MP_OK) {
        snprintf(ps, sizeof(ps), "%u", FZ_PAGE);
        rc = mph_workload_set_directive(w, "page_size", ps);
    }
    while (rc == MP_OK && w->nops < c->max_ops && fz_more(r)) {
        uint8_t b = fz_u8(r);
        if (b == FZ_END) {
            break;
        }
        rc = decode_op(s, r, kind_at(c, b % c->nkinds), w);
    }
    free(s);
    if (rc != MP_OK) {
        mph_workload_free(w);
        return rc;
    }
    *out = w;
    return MP_OK;
}

int fz_decode_ops_and_tear(struct fz_reader *r, bool sub,
                           struct mph_workload **w, const uint8_t **tear,
                           size_t *ntear)
{
    struct fz_codec codec;
    int rc;
    fz_codec_ops(&codec, sub);
    codec.max_ops = 48;
    rc = fz_decode(&codec, r, w);
    if (rc == MP_OK) {
        *tear = fz_rest(r, ntear);
    }
    return rc;
}

/* ---- encoder ----------------------------------------------------------- */

struct fz_writer {
    uint8_t *p;
    size_t cap, len;
    bool full;
};

static void put(struct fz_writer *o, unsigned b)
{
    if (o->len < o->cap) {
        o->p[o->len++] = (uint8_t)b;
    } else {
        o->full = true;
    }
}

static int opcode_of(const struct fz_codec *c, int kind)
{
    for (size_t i = 0; i < c->nkinds; i++) {
        if (kind_at(c, i) == kind) {
            return (int)i;
        }
    }
    return -1;
}

static int encode_raw(const struct fz_state *s, uint64_t v, struct fz_writer *o)
{
    bool page = (v & MP_ID_KIND_MASK) == MP_ID_KIND_PAGE;
    static const struct {
        uint64_t v;
        unsigned code;
    } fixed[] = {
        { 0, FZ_S_ZERO },
        { 1, FZ_S_ONE },
        { 2, FZ_S_TWO },
        { 3, FZ_S_LEAF },
        { (uint64_t)1 << 39, FZ_S_FAR },
        { MP_MAX_PAGES, FZ_S_MAX },
        { MPH_ID_UNSET, FZ_S_UNSET },
        { MP_ID_KIND_PROTECT, FZ_S_P0 },
        { MP_ID_KIND_PROTECT | ((uint64_t)1 << 30), FZ_S_PFAR },
        { SUBTAG_ID, FZ_S_SUBTAG },
        { SUB64_ID, FZ_S_SUB64 },
        { MP_ID_KIND_MASK, FZ_S_KIND3 },
    };
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
        if (fixed[i].v == v) {
            put(o, FZ_SPECIAL + fixed[i].code);
            return MP_OK;
        }
    }
    if ((v & MP_ID_KIND_MASK) == MP_ID_KIND_PROTECT &&
        (v & ~MP_ID_KIND_MASK) < 256) {
        put(o, FZ_SPECIAL + FZ_S_PN);
        put(o, (unsigned)(v & 0xFF));
        return MP_OK;
    }
    if (!s->c->sub && v < 64) {
        put(o, FZ_SPECIAL + FZ_S_RAW);
        put(o, (unsigned)v);
        return MP_OK;
    }
    if (!(s->c->sub && page)) {
        put(o, FZ_SPECIAL + FZ_S_RAW64);
        for (int i = 0; i < 8; i++) {
            put(o, (unsigned)(v >> (8 * i)) & 0xFF);
        }
        return MP_OK;
    }
    return MP_EINVAL;
}

/* Index from the newest of ref in list l, or -1. */
static long from_newest(const struct fz_state *s, int l, uint64_t k)
{
    for (size_t i = 0; i < s->len[l]; i++) {
        if (s->list[l][s->len[l] - 1 - i] == k) {
            return (long)i;
        }
    }
    return -1;
}

static int encode_id(const struct fz_state *s, int kind,
                     const struct mph_arg *a, struct fz_writer *o)
{
    int l = natural_list(kind);
    long i;
    if (a->kind != MPH_ARG_REF) {
        return encode_raw(s, a->value, o);
    }
    i = from_newest(s, l, a->value);
    if (i >= 0 && i < FZ_SPECIAL) {
        put(o, (unsigned)i);
        return MP_OK;
    }
    for (size_t j = 0; j < live_count(s) && j < 256; j++) {
        if (live_at(s, j) == a->value) {
            put(o, FZ_SPECIAL + FZ_S_ANY);
            put(o, (unsigned)j);
            return MP_OK;
        }
    }
    i = from_newest(s, FZ_STALE + l, a->value);
    if (!(s->c->sub && l == FZ_REG) && i >= 0 && i < 256) {
        put(o, FZ_SPECIAL + FZ_S_STALE);
        put(o, (unsigned)i);
        return MP_OK;
    }
    return MP_EINVAL;
}

static int size_code(uint32_t size)
{
    for (size_t i = 0; i < NSIZES; i++) {
        if (slot_sizes[i] == size) {
            return (int)i;
        }
    }
    return -1;
}

static int encode_op(struct fz_state *s, const struct mph_workload *w,
                     const struct mph_op *op, struct fz_writer *o)
{
    const struct mph_arg *a = op->nargs ? w->args + op->first_arg : NULL;
    int code = opcode_of(s->c, op->kind), rc = MP_OK;
    bool bulk = op->kind == MPH_OP_ALLOC_BULK ||
                op->kind == MPH_OP_PALLOC_BULK ||
                op->kind == MPH_OP_SALLOC_BULK;

    if (code < 0 || (bulk && op->count > FZ_MAX_COUNT) ||
        op->nargs > FZ_MAX_COUNT || pages_asked(op) > budget_left(s) ||
        s->nrefs + op->nrefs + 1 > FZ_MAX_REFS) {
        return MP_EINVAL;
    }
    put(o, (unsigned)code);
    switch (op->kind) {
    case MPH_OP_FREE_BULK:
    case MPH_OP_PFREE_BULK:
    case MPH_OP_SFREE_BULK:
        put(o, (unsigned)op->nargs);
        break;
    case MPH_OP_SALLOC:
    case MPH_OP_SALLOC_BULK:
        if (size_code(op->size) < 0) {
            return MP_EINVAL;
        }
        put(o, (unsigned)size_code(op->size));
        break;
    default:
        break;
    }
    for (size_t i = 0; i < op->nargs && rc == MP_OK; i++) {
        rc = encode_id(s, op->kind, &a[i], o);
    }
    if (rc != MP_OK) {
        return rc;
    }
    switch (op->kind) {
    case MPH_OP_ALLOC_BULK:
    case MPH_OP_PALLOC_BULK:
    case MPH_OP_SALLOC_BULK:
        put(o, (unsigned)op->count);
        break;
    case MPH_OP_PFILL:
        if (op->off % 4 || op->len % 4 || op->off > 1020 || op->len > 1020) {
            return MP_EINVAL;
        }
        put(o, op->byte);
        put(o, op->off / 4);
        put(o, op->len / 4);
        break;
    case MPH_OP_PWRITE:
        put(o, op->byte);
        put(o, op->commit ? 0 : 1);
        break;
    case MPH_OP_WRITE:
        put(o, op->byte);
        break;
    case MPH_OP_GROW:
        if (op->count % 2 || op->count > 510) {
            return MP_EINVAL;
        }
        put(o, (unsigned)(op->count / 2));
        break;
    default:
        break;
    }
    s->used += pages_asked(op);
    account(s, op, a);
    return MP_OK;
}

int fz_encode(const struct fz_codec *c, const struct mph_workload *w, bool end,
              uint8_t *out, size_t cap, size_t *len)
{
    struct fz_writer o = { out, cap, 0, false };
    struct fz_state *s;
    int rc = MP_OK;

    *len = 0;
    if (w->nops > c->max_ops) {
        return MP_EINVAL;
    }
    s = calloc(1, sizeof(*s));
    if (!s) {
        return MP_ENOMEM;
    }
    s->c = c;
    for (size_t i = 0; i < w->nops && rc == MP_OK; i++) {
        rc = encode_op(s, w, &w->ops[i], &o);
    }
    free(s);
    if (rc == MP_OK && end) {
        put(&o, FZ_END);
    }
    if (rc == MP_OK && o.full) {
        rc = MP_ELIMIT;
    }
    *len = o.len;
    return rc;
}
