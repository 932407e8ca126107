/*
 * gen.c - random workloads. The generator tracks, by ref, which pages it
 * believes are live, so most calls it writes are valid; it never looks at
 * a pager.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mappedpages/pager.h"
#include "mph/gen.h"

static const char *const mix_names[MPH_MIX__COUNT] = {
    "alloc",  "free",    "bulk", "prot", "write", "sync",
    "reopen", "iterate", "grow", "sub",  "error",
};

const char *mph_gen_mix_name(int k)
{
    return k >= 0 && k < MPH_MIX__COUNT ? mix_names[k] : NULL;
}

void mph_gen_params_init(struct mph_gen_params *p)
{
    static const unsigned w[MPH_MIX__COUNT] = {
        6, 4, 2, 4, 2, 1, 1, 1, 1, 0, 1
    };
    memset(p, 0, sizeof(*p));
    p->seed = 1;
    p->nops = 40;
    p->page_size = 1024;
    p->max_pages = 40;
    p->max_bulk = 6;
    memcpy(p->weight, w, sizeof(w));
}

int mph_gen_parse_mix(struct mph_gen_params *p, const char *mix)
{
    const char *s = mix;
    while (*s) {
        const char *eq = strchr(s, '='), *end;
        char *num_end;
        unsigned long v;
        int k;
        if (!eq) {
            return MP_EINVAL;
        }
        for (k = 0; k < MPH_MIX__COUNT; k++) {
            if (strlen(mix_names[k]) == (size_t)(eq - s) &&
                strncmp(mix_names[k], s, (size_t)(eq - s)) == 0) {
                break;
            }
        }
        if (k == MPH_MIX__COUNT) {
            return MP_EINVAL;
        }
        v = strtoul(eq + 1, &num_end, 10);
        end = num_end;
        if (end == eq + 1 || v > 1000000 || (*end && *end != ',')) {
            return MP_EINVAL;
        }
        p->weight[k] = (unsigned)v;
        s = *end ? end + 1 : end;
    }
    return MP_OK;
}

struct vec {
    uint64_t *v;
    size_t n, cap;
};

static int vpush(struct vec *a, uint64_t x)
{
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 16;
        uint64_t *v = realloc(a->v, cap * sizeof(*v));
        if (!v) {
            return MP_ENOMEM;
        }
        a->v = v;
        a->cap = cap;
    }
    a->v[a->n++] = x;
    return MP_OK;
}

static uint64_t vtake(struct vec *a, size_t i)
{
    uint64_t x = a->v[i];
    a->v[i] = a->v[--a->n];
    return x;
}

struct gen {
    const struct mph_gen_params *p;
    uint64_t rng;
    struct mph_workload *w;
    struct vec reg, freed;    /* refs of live / freed regular pages */
    struct vec prot, staged;  /* refs of live protected pages; staged: 0/1 */
    struct vec pfreed;        /* refs of freed protected pages */
    struct vec sub, sub_size; /* refs of live sub-page slots, their size */
    struct vec args;
    unsigned reopens; /* every second reopen is a switch of commit mode */
    int rc;
};

static uint64_t rnd(struct gen *g)
{
    uint64_t z = (g->rng += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t below(struct gen *g, uint64_t n)
{
    return n ? rnd(g) % n : 0;
}

static uint64_t live_pages(const struct gen *g)
{
    uint64_t subs = 0;
    for (size_t i = 0; i < g->sub.n; i++) {
        subs += g->sub_size.v[i];
    }
    return g->reg.n + 2 * g->prot.n + subs / g->p->page_size + 3;
}

static uint64_t room(const struct gen *g)
{
    uint64_t live = live_pages(g);
    return live < g->p->max_pages ? g->p->max_pages - live : 0;
}

/* Append an op whose id args are in g->args; returns its first ref. */
static uint64_t emit(struct gen *g, struct mph_op *op)
{
    size_t n = g->args.n;
    struct mph_arg *a = malloc((n ? n : 1) * sizeof(*a));
    g->args.n = 0;
    if (!a) {
        g->rc = MP_ENOMEM;
    }
    if (g->rc != MP_OK) {
        free(a);
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        a[i].kind = (g->args.v[i] >> 63) ? MPH_ARG_RAW : MPH_ARG_REF;
        a[i].value = g->args.v[i] & ~((uint64_t)1 << 63);
    }
    g->rc = mph_workload_add(g->w, op, a, n);
    free(a);
    return g->w->nops ? g->w->ops[g->w->nops - 1].first_ref : 0;
}

static void arg_ref(struct gen *g, uint64_t ref)
{
    if (g->rc == MP_OK) {
        g->rc = vpush(&g->args, ref);
    }
}

/* Raw ids are marked with the top bit (never a valid ref); protected and
 * sub-page ids lose it, which only matters for the wrong-kind cases. */
static void arg_raw(struct gen *g, uint64_t id)
{
    if (g->rc == MP_OK) {
        g->rc = vpush(&g->args, id | (uint64_t)1 << 63);
    }
}

static struct mph_op new_op(int kind)
{
    struct mph_op op;
    memset(&op, 0, sizeof(op));
    op.kind = kind;
    return op;
}

static void push(struct gen *g, struct vec *v, uint64_t x)
{
    if (g->rc == MP_OK) {
        g->rc = vpush(v, x);
    }
}

static void gen_alloc(struct gen *g)
{
    struct mph_op op = new_op(MPH_OP_ALLOC);
    if (room(g) == 0) {
        return;
    }
    push(g, &g->reg, emit(g, &op));
}

static void gen_free(struct gen *g)
{
    struct mph_op op = new_op(MPH_OP_FREE);
    uint64_t r;
    if (g->reg.n == 0) {
        gen_alloc(g);
        return;
    }
    r = vtake(&g->reg, (size_t)below(g, g->reg.n));
    arg_ref(g, r);
    emit(g, &op);
    push(g, &g->freed, r);
}

static void gen_bulk(struct gen *g)
{
    struct mph_op op;
    if (g->reg.n < 2 || below(g, 2)) {
        uint64_t n = 1 + below(g, g->p->max_bulk), first;
        if (n > room(g)) {
            n = room(g);
        }
        if (n == 0) {
            return;
        }
        op = new_op(MPH_OP_ALLOC_BULK);
        op.count = n;
        first = emit(g, &op);
        for (uint64_t i = 0; i < n; i++) {
            push(g, &g->reg, first + i);
        }
        return;
    }
    op = new_op(MPH_OP_FREE_BULK);
    for (uint64_t n = 1 + below(g, g->reg.n < g->p->max_bulk ? g->reg.n
                                                             : g->p->max_bulk);
         n > 0 && g->reg.n > 0; n--) {
        uint64_t r = vtake(&g->reg, (size_t)below(g, g->reg.n));
        arg_ref(g, r);
        push(g, &g->freed, r);
    }
    emit(g, &op);
}

static size_t pick_prot(struct gen *g, int staged)
{
    size_t n = 0, k;
    for (size_t i = 0; i < g->prot.n; i++) {
        n += (g->staged.v[i] != 0) == (staged != 0);
    }
    if (n == 0) {
        return SIZE_MAX;
    }
    k = (size_t)below(g, n);
    for (size_t i = 0; i < g->prot.n; i++) {
        if ((g->staged.v[i] != 0) == (staged != 0) && k-- == 0) {
            return i;
        }
    }
    return SIZE_MAX;
}

static void gen_palloc(struct gen *g)
{
    struct mph_op op;
    uint64_t n = below(g, 4) ? 1 : 1 + below(g, 3), first;
    if (room(g) < 2 * n) {
        return;
    }
    op = new_op(n == 1 && below(g, 2) ? MPH_OP_PALLOC : MPH_OP_PALLOC_BULK);
    op.count = op.kind == MPH_OP_PALLOC ? 0 : n;
    first = emit(g, &op);
    for (uint64_t i = 0; i < (op.kind == MPH_OP_PALLOC ? 1 : n); i++) {
        push(g, &g->prot, first + i);
        push(g, &g->staged, 0);
    }
}

static void gen_pfree(struct gen *g)
{
    struct mph_op op = new_op(below(g, 3) ? MPH_OP_PFREE : MPH_OP_PFREE_BULK);
    uint64_t n = op.kind == MPH_OP_PFREE ? 1 : 1 + below(g, 2);
    for (; n > 0 && g->prot.n > 0; n--) {
        size_t i = (size_t)below(g, g->prot.n);
        uint64_t r = vtake(&g->prot, i);
        vtake(&g->staged, i);
        arg_ref(g, r);
        push(g, &g->pfreed, r);
    }
    emit(g, &op);
}

static void gen_prot(struct gen *g)
{
    uint64_t what = below(g, 10);
    size_t i;
    struct mph_op op;

    if (g->prot.n == 0 || what == 0) {
        gen_palloc(g);
        return;
    }
    if (what == 1) {
        gen_pfree(g);
        return;
    }
    i = pick_prot(g, 1);
    if (i != SIZE_MAX && what < 6) {
        /* Continue a staged write: fill a range, or end it. */
        uint64_t how = below(g, 3);
        op = new_op(how == 0      ? MPH_OP_PFILL
                    : how == 1    ? MPH_OP_PCOMMIT
                    : below(g, 4) ? MPH_OP_PCOMMIT
                                  : MPH_OP_PABORT);
        if (op.kind == MPH_OP_PFILL) {
            op.byte = (unsigned)below(g, 256);
            op.off = (uint32_t)below(g, g->p->page_size);
            op.len = (uint32_t)(1 + below(g, g->p->page_size - op.off));
        } else {
            g->staged.v[i] = 0;
        }
        arg_ref(g, g->prot.v[i]);
        emit(g, &op);
        return;
    }
    i = pick_prot(g, 0);
    if (i == SIZE_MAX) {
        return;
    }
    if (below(g, 3) == 0) {
        op = new_op(MPH_OP_PBEGIN);
        g->staged.v[i] = 1;
    } else {
        op = new_op(MPH_OP_PWRITE);
        op.byte = (unsigned)below(g, 256);
        op.commit = below(g, 5) != 0;
    }
    arg_ref(g, g->prot.v[i]);
    emit(g, &op);
}

static void gen_write(struct gen *g)
{
    struct mph_op op = new_op(MPH_OP_WRITE);
    if (g->reg.n == 0) {
        gen_alloc(g);
        return;
    }
    op.byte = (unsigned)below(g, 256);
    arg_ref(g, g->reg.v[below(g, g->reg.n)]);
    emit(g, &op);
}

static void gen_simple(struct gen *g, int kind)
{
    struct mph_op op = new_op(kind);
    if (kind == MPH_OP_REOPEN || kind == MPH_OP_SWITCH) {
        for (size_t i = 0; i < g->staged.n; i++) {
            g->staged.v[i] = 0;
        }
    }
    if (kind == MPH_OP_GROW) {
        op.count = 8 + below(g, 2 * g->p->max_pages);
    }
    emit(g, &op);
}

static void gen_sub(struct gen *g)
{
    static const unsigned div[] = { 64, 16, 4, 2 };
    struct mph_op op;
    if (g->sub.n == 0 || below(g, 2)) {
        uint64_t size = g->p->page_size / div[below(g, 4)], first;
        if (room(g) == 0) {
            return;
        }
        op = new_op(below(g, 3) ? MPH_OP_SALLOC : MPH_OP_SALLOC_BULK);
        op.size = (uint32_t)size;
        op.count = op.kind == MPH_OP_SALLOC ? 0 : 1 + below(g, g->p->max_bulk);
        first = emit(g, &op);
        for (uint64_t i = 0; i < (op.count ? op.count : 1); i++) {
            push(g, &g->sub, first + i);
            push(g, &g->sub_size, size);
        }
        return;
    }
    op = new_op(below(g, 2) ? MPH_OP_SFREE : MPH_OP_SFREE_BULK);
    {
        /* A bulk free names slots of one allocator (the first id's). */
        size_t i = (size_t)below(g, g->sub.n);
        uint64_t size = g->sub_size.v[i];
        uint64_t n = op.kind == MPH_OP_SFREE ? 1 : 1 + below(g, 3);
        arg_ref(g, vtake(&g->sub, i));
        vtake(&g->sub_size, i);
        for (size_t k = 0; --n > 0 && k < g->sub.n;) {
            if (g->sub_size.v[k] == size) {
                arg_ref(g, vtake(&g->sub, k));
                vtake(&g->sub_size, k);
            } else {
                k++;
            }
        }
    }
    emit(g, &op);
}

static void gen_error(struct gen *g)
{
    struct mph_op op;
    /*
     * A stale ref may name a page that was reused since; that is fine for
     * the model, except when the page became a sub-page parent: freeing a
     * parent through the pager is a misuse the library does not guard
     * (subpage.h), so with sub-pages in the mix stale refs are not used.
     */
    uint64_t pick = below(g, 12);
    if (g->p->weight[MPH_MIX_SUB] && (pick == 0 || pick == 11)) {
        pick = 1;
    }
    switch (pick) {
    case 0: /* double free */
        if (g->freed.n) {
            op = new_op(MPH_OP_FREE);
            arg_ref(g, g->freed.v[below(g, g->freed.n)]);
            emit(g, &op);
            return;
        }
        break;
    case 1: /* a live page listed twice: nothing may be freed */
        if (g->reg.n) {
            uint64_t r = g->reg.v[below(g, g->reg.n)];
            op = new_op(MPH_OP_FREE_BULK);
            arg_ref(g, r);
            arg_ref(g, r);
            emit(g, &op);
            return;
        }
        break;
    case 2: /* reserved pages */
        op = new_op(MPH_OP_FREE);
        arg_raw(g, below(g, 3));
        emit(g, &op);
        return;
    case 3: /* far out of range, after a valid id */
        op = new_op(MPH_OP_FREE_BULK);
        if (g->reg.n) {
            arg_ref(g, g->reg.v[below(g, g->reg.n)]);
        }
        arg_raw(g, (uint64_t)1 << 39);
        emit(g, &op);
        return;
    case 4: /* a protected id where a page is expected */
        if (g->prot.n) {
            op = new_op(MPH_OP_FREE);
            arg_ref(g, g->prot.v[below(g, g->prot.n)]);
            emit(g, &op);
            return;
        }
        break;
    case 5: /* a page where a protected id is expected */
        if (g->reg.n) {
            op = new_op(MPH_OP_PFREE);
            arg_ref(g, g->reg.v[below(g, g->reg.n)]);
            emit(g, &op);
            return;
        }
        break;
    case 6: /* freed protected page */
        if (g->pfreed.n) {
            op = new_op(below(g, 2) ? MPH_OP_PFREE : MPH_OP_PBEGIN);
            arg_ref(g, g->pfreed.v[below(g, g->pfreed.n)]);
            emit(g, &op);
            return;
        }
        break;
    case 7: { /* commit or abort without a write */
        size_t i = pick_prot(g, 0);
        if (i != SIZE_MAX) {
            op = new_op(below(g, 2) ? MPH_OP_PCOMMIT : MPH_OP_PABORT);
            arg_ref(g, g->prot.v[i]);
            emit(g, &op);
            return;
        }
        break;
    }
    case 8: { /* begin twice */
        size_t i = pick_prot(g, 1);
        if (i != SIZE_MAX) {
            op = new_op(below(g, 2) ? MPH_OP_PBEGIN : MPH_OP_PWRITE);
            arg_ref(g, g->prot.v[i]);
            emit(g, &op);
            return;
        }
        break;
    }
    case 9: /* zero counts */
        op = new_op(below(g, 2) ? MPH_OP_ALLOC_BULK : MPH_OP_FREE_BULK);
        emit(g, &op);
        return;
    case 10: /* a slot past the directory */
        op = new_op(MPH_OP_PFREE);
        arg_raw(g, MP_ID_KIND_PROTECT | 100000);
        emit(g, &op);
        return;
    default: /* write to a freed page */
        if (g->freed.n) {
            op = new_op(MPH_OP_WRITE);
            op.byte = 0xEE;
            arg_ref(g, g->freed.v[below(g, g->freed.n)]);
            emit(g, &op);
            return;
        }
        break;
    }
    op = new_op(MPH_OP_FREE);
    arg_raw(g, 1);
    emit(g, &op);
}

int mph_gen_workload(const struct mph_gen_params *p, struct mph_workload **out)
{
    struct gen g;
    uint64_t total = 0, tries = 0;
    char buf[256];
    size_t len = 0;
    int rc;

    *out = NULL;
    for (int k = 0; k < MPH_MIX__COUNT; k++) {
        total += p->weight[k];
    }
    if (total == 0 || p->nops == 0 || p->page_size < MP_PAGE_SIZE_MIN) {
        return MP_EINVAL;
    }
    memset(&g, 0, sizeof(g));
    g.p = p;
    g.rng = p->seed;
    rc = mph_workload_new(&g.w);
    if (rc != MP_OK) {
        return rc;
    }
    snprintf(buf, sizeof(buf), "%zu", p->page_size);
    g.rc = mph_workload_set_directive(g.w, "page_size", buf);
    snprintf(buf, sizeof(buf), "%llu", (unsigned long long)p->seed);
    if (g.rc == MP_OK) {
        g.rc = mph_workload_set_directive(g.w, "gen.seed", buf);
    }
    for (int k = 0; k < MPH_MIX__COUNT; k++) {
        int n = snprintf(buf + len, sizeof(buf) - len, "%s%s=%u", k ? "," : "",
                         mix_names[k], p->weight[k]);
        if (n > 0 && (size_t)n < sizeof(buf) - len) {
            len += (size_t)n;
        }
    }
    if (g.rc == MP_OK) {
        g.rc = mph_workload_set_directive(g.w, "gen.mix", buf);
    }
    /* Some draws write nothing (an alloc at the page cap); give up on a
     * mix that can make no progress instead of spinning. */
    while (g.rc == MP_OK && g.w->nops < p->nops && tries++ < 100 * p->nops) {
        uint64_t r = below(&g, total);
        int k = 0;
        while (r >= p->weight[k]) {
            r -= p->weight[k++];
        }
        switch (k) {
        case MPH_MIX_ALLOC:
            gen_alloc(&g);
            break;
        case MPH_MIX_FREE:
            gen_free(&g);
            break;
        case MPH_MIX_BULK:
            gen_bulk(&g);
            break;
        case MPH_MIX_PROT:
            gen_prot(&g);
            break;
        case MPH_MIX_WRITE:
            gen_write(&g);
            break;
        case MPH_MIX_SYNC:
            gen_simple(&g, MPH_OP_SYNC);
            break;
        case MPH_MIX_REOPEN:
            /* No random draw: the workloads of a seed stay the same but
             * for every second reopen, which reopens in the other mode. */
            gen_simple(&g, g.reopens++ % 2 ? MPH_OP_SWITCH : MPH_OP_REOPEN);
            break;
        case MPH_MIX_ITERATE:
            gen_simple(&g, MPH_OP_ITERATE);
            break;
        case MPH_MIX_GROW:
            gen_simple(&g, MPH_OP_GROW);
            break;
        case MPH_MIX_SUB:
            gen_sub(&g);
            break;
        default:
            gen_error(&g);
            break;
        }
    }
    free(g.reg.v);
    free(g.freed.v);
    free(g.prot.v);
    free(g.staged.v);
    free(g.pfreed.v);
    free(g.sub.v);
    free(g.sub_size.v);
    free(g.args.v);
    if (g.rc != MP_OK) {
        mph_workload_free(g.w);
        return g.rc;
    }
    *out = g.w;
    return MP_OK;
}
