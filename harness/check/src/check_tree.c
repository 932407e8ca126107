/*
 * check_tree.c - walking the trees of A/B nodes (FORMAT.md sections 4-6):
 * the free-space map (leaves = map leaves) and the protected directory
 * (leaves = directory blocks, whose entries name protected pages).
 *
 * The walk is depth first from the metadata's root references. A reference
 * that does not validate, or a node whose live copy fails its checksum, is
 * not descended into: recovery refuses the copy at that point, and the
 * bytes below are not trustworthy enough to report on.
 */
#include <inttypes.h>
#include <string.h>

#include "check_internal.h"
#include "crc32c.h"
#include "endian.h"
#include "layout.h"
#include "rules.h"

uint64_t mph__ck_root_cap(size_t ps, int kind)
{
    uint64_t c = (ps - MPH_CK_META_HDR) / MPH_CK_REF;
    return kind == MPH_CK_TREE_MAP ? c / 2 : c - c / 2;
}

bool mph__ck_shape(size_t ps, int kind, uint64_t leaves,
                   struct mph__ck_shape *s)
{
    uint64_t f = ps / MPH_CK_REF;
    unsigned l = 0;

    memset(s, 0, sizeof(*s));
    s->kind = kind;
    s->leaves = leaves;
    s->root_cap = mph__ck_root_cap(ps, kind);
    s->count[0] = leaves;
    while (s->count[l] > s->root_cap) {
        if (l + 1 >= MPH_CK_LEVELS) {
            return false;
        }
        s->count[l + 1] = (s->count[l] + f - 1) / f;
        l++;
    }
    s->depth = l;
    return true;
}

bool mph__ck_is_leaf_page(size_t ps, uint64_t pg)
{
    uint64_t b = 8 * (uint64_t)ps;
    if (pg < b) {
        return pg == 3 || pg == 4;
    }
    return pg % b < 2;
}

uint64_t mph__ck_leaf_page(size_t ps, uint64_t leaf, int copy)
{
    return (leaf == 0 ? 3 : leaf * 8 * (uint64_t)ps) + (uint64_t)copy;
}

void mph__ck_ref_decode(const unsigned char *b, struct mph__ck_ref *r)
{
    r->page[0] = mp__le64(b);
    r->page[1] = mp__le64(b + 8);
    r->crc = mp__le32(b + 16);
    r->flags = mp__le32(b + 20);
}

void mph__ck_claim(struct mph__ck_copy *c, uint64_t pg, bool internal,
                   const char *what, uint64_t index, int copy)
{
    if (mph__ck_bit(c->owned, pg)) {
        /* Recovery refuses such a copy too (FORMAT.md section 7). */
        mph__ck_fail(c,
                     "page %" PRIu64 " has two owners: %s %" PRIu64
                     " (physical copy %d) sits on a page another structure "
                     "already owns",
                     pg, what, index, copy);
    } else {
        mph__ck_set(c->owned, pg);
        c->owned_n++;
    }
    if (internal && !mph__ck_bit(c->inset, pg)) {
        mph__ck_set(c->inset, pg);
        c->inset_n++;
    }
}

struct walk {
    const struct mph__ck_img *im;
    struct mph__ck_copy *c;
    const struct mph__ck_shape *s;
    int kind;
    uint64_t fanout;  /* references per index node */
    uint64_t entries; /* directory entries per block */
};

static const char *node_name(int kind, unsigned level)
{
    if (kind == MPH_CK_TREE_MAP) {
        return level ? "map index node" : "map leaf";
    }
    return level ? "directory index node" : "directory block";
}

/* Does reference r to node i of level l validate (FORMAT.md section 4)? */
static bool ref_ok(const struct walk *w, unsigned l, uint64_t i,
                   const struct mph__ck_ref *r)
{
    uint64_t total = w->c->h.total;
    const char *name = node_name(w->kind, l);

    if (r->flags & ~(uint32_t)1) {
        mph__ck_fail(w->c,
                     "%s %" PRIu64 ": reference flags 0x%" PRIx32
                     " have unknown bits",
                     name, i, r->flags);
        return false;
    }
    for (int k = 0; k < 2; k++) {
        if (r->page[k] < MP_RESERVED_PAGES || r->page[k] >= total) {
            mph__ck_fail(w->c,
                         "%s %" PRIu64 ": copy %d at page %" PRIu64
                         " is outside [3, total_pages %" PRIu64 ")",
                         name, i, k, r->page[k], total);
            return false;
        }
    }
    if (r->page[0] == r->page[1]) {
        mph__ck_fail(w->c, "%s %" PRIu64 ": both copies at page %" PRIu64, name,
                     i, r->page[0]);
        return false;
    }
    if (w->kind == MPH_CK_TREE_MAP && l == 0 &&
        (r->page[0] != mph__ck_leaf_page(w->im->ps, i, 0) ||
         r->page[1] != mph__ck_leaf_page(w->im->ps, i, 1))) {
        mph__ck_fail(
            w->c,
            "map leaf %" PRIu64 ": copies at pages %" PRIu64 "/%" PRIu64
            ", not at the fixed places %" PRIu64 "/%" PRIu64,
            i, r->page[0], r->page[1], mph__ck_leaf_page(w->im->ps, i, 0),
            mph__ck_leaf_page(w->im->ps, i, 1));
        return false;
    }
    return true;
}

/* Payload bytes of node i of level l (FORMAT.md section 4). */
static size_t payload_len(const struct walk *w, unsigned l, uint64_t i)
{
    uint64_t n, left;
    if (l == 0 && w->kind == MPH_CK_TREE_MAP) {
        return w->im->ps;
    }
    if (l == 0) {
        left = w->c->h.slots - i * w->entries;
        n = left < w->entries ? left : w->entries;
    } else {
        left = w->s->count[l - 1] - i * w->fanout;
        n = left < w->fanout ? left : w->fanout;
    }
    return (size_t)n * (l == 0 ? MP__ENT_SIZE : MPH_CK_REF);
}

static bool dump_node(struct walk *w, unsigned l)
{
    unsigned *n = &w->c->dumped[w->kind][l];
    if (!w->im->dump) {
        return false;
    }
    if (*n == w->im->dump_limit) {
        mph__ck_dump(w->im, "%*s... (more at this level not shown)\n",
                     (int)(2 * (w->s->depth - l) + 4), "");
    }
    return (*n)++ < w->im->dump_limit;
}

static void leaf_bits(struct walk *w, uint64_t i, const unsigned char *src,
                      bool show)
{
    uint64_t per = w->im->ps / 8, *dst = w->c->map + i * per, used = 0;
    for (uint64_t k = 0; k < per; k++) {
        dst[k] = mp__le64(src + 8 * k);
        if (show) {
            used += mph__ck_popcount(dst[k]);
        }
    }
    if (show) {
        uint64_t b = 8 * (uint64_t)w->im->ps, end = (i + 1) * b;
        mph__ck_dump(w->im,
                     "%*s  pages [%" PRIu64 ", %" PRIu64 "): %" PRIu64
                     " allocated\n",
                     (int)(2 * w->s->depth + 4), "", i * b,
                     end < w->c->h.total ? end : w->c->h.total, used);
    }
}

static void dir_entries(struct walk *w, uint64_t block,
                        const unsigned char *src)
{
    struct mph__ck_copy *c = w->c;
    uint64_t first = block * w->entries, end = first + w->entries;
    size_t ps = w->im->ps;

    if (end > c->h.slots) {
        end = c->h.slots;
    }
    for (uint64_t s = first; s < end; s++) {
        const unsigned char *b = src + (s - first) * MP__ENT_SIZE;
        struct mph__ck_ref e;
        uint64_t gen = mp__le64(b + MP__ENT_GEN);
        bool ok;
        int live;

        mph__ck_ref_decode(b, &e);
        if (e.flags & ~(uint32_t)3) {
            mph__ck_fail(c,
                         "directory slot %" PRIu64 ": flags 0x%" PRIx32
                         " have unknown bits",
                         s, e.flags);
            continue;
        }
        if (!(e.flags & 2)) {
            if (e.page[0] || e.page[1] || e.crc || e.flags || gen) {
                mph__ck_fail(c,
                             "directory slot %" PRIu64
                             ": not in use but not all zeros",
                             s);
            }
            continue;
        }
        if (e.page[0] < MP_RESERVED_PAGES || e.page[1] < MP_RESERVED_PAGES ||
            e.page[0] >= c->h.total || e.page[1] >= c->h.total ||
            e.page[0] == e.page[1] || mph__ck_is_leaf_page(ps, e.page[0]) ||
            mph__ck_is_leaf_page(ps, e.page[1])) {
            mph__ck_fail(c,
                         "directory slot %" PRIu64 ": pages %" PRIu64
                         "/%" PRIu64
                         " are not two distinct pages in [3, %" PRIu64
                         ") off the map-leaf places",
                         s, e.page[0], e.page[1], c->h.total);
            continue;
        }
        if (!mp__entry_gen_ok(gen, c->h.generation)) {
            mph__ck_fail(c,
                         "directory slot %" PRIu64 ": generation %" PRIu64
                         " outside [1, %" PRIu64 "] (rules.h R4)",
                         s, gen, c->h.generation);
            continue;
        }
        mph__ck_claim(c, e.page[0], true, "protected slot", s, 0);
        mph__ck_claim(c, e.page[1], true, "protected slot", s, 1);
        c->in_use++;
        live = (int)(e.flags & 1);
        c->prot[s] = e.page[live];
        c->prot_crc[s] = e.crc;
        /* rules.h R5, the generation check: part of recovery's predicate
         * for a copy of a one-flush commit. */
        if (c->one_flush && gen == c->h.generation &&
            !mp__gen_check_ok(
                true, c->h.generation, gen,
                mp__protected_ok(mph__ck_page(w->im, c->prot[s]), ps, e.crc))) {
            mph__ck_fail(c,
                         "protected slot %" PRIu64 ": committed in this "
                         "one-flush generation, but its committed copy (page "
                         "%" PRIu64 ") fails its checksum (rules.h R5)",
                         s, c->prot[s]);
        }
        /* core/src/rules.h R3 is judged for the copy in use only
         * (mph__ck_copy_content): the other copy's may be stale by design,
         * a later write begun on the page reuses it. */
        if (w->im->dump && c->dumped_entries++ < w->im->dump_limit) {
            ok = mp__protected_ok(mph__ck_page(w->im, e.page[live]), ps, e.crc);
            mph__ck_dump(w->im,
                         "%*s  slot %" PRIu64 " (id 0x%016" PRIx64
                         "): pages %" PRIu64 "/%" PRIu64 ", committed copy %d,"
                         " crc 0x%08" PRIx32 " %s\n",
                         (int)(2 * w->s->depth + 4), "", s,
                         MP_ID_KIND_PROTECT | s, e.page[0], e.page[1], live,
                         e.crc, ok ? "ok" : "MISMATCH");
        }
    }
}

static void visit(struct walk *w, unsigned l, uint64_t i,
                  const struct mph__ck_ref *r)
{
    const char *name = node_name(w->kind, l);
    const unsigned char *src;
    size_t len;
    uint32_t crc;
    int live;
    bool show;

    if (!ref_ok(w, l, i, r)) {
        return;
    }
    if (!(w->kind == MPH_CK_TREE_MAP && l == 0)) {
        /* Map leaves were claimed at their fixed places beforehand. */
        mph__ck_claim(w->c, r->page[0], true, name, i, 0);
        mph__ck_claim(w->c, r->page[1], true, name, i, 1);
    }
    live = (int)(r->flags & 1);
    src = mph__ck_page(w->im, r->page[live]);
    len = payload_len(w, l, i);
    crc = mp__crc32c(0, src, len);
    show = dump_node(w, l);
    if (show) {
        mph__ck_dump(
            w->im,
            "%*s%s %" PRIu64 ": pages %" PRIu64 "/%" PRIu64
            ", live copy %d, %zu payload bytes, crc 0x%08" PRIx32 " %s\n",
            (int)(2 * (w->s->depth - l) + 4), "", name, i, r->page[0],
            r->page[1], live, len, r->crc, crc == r->crc ? "ok" : "MISMATCH");
    }
    if (crc != r->crc) {
        mph__ck_fail(w->c,
                     "%s %" PRIu64 ": live copy %d (page %" PRIu64
                     ") has checksum 0x%08" PRIx32
                     ", its reference says 0x%08" PRIx32,
                     name, i, live, r->page[live], crc, r->crc);
        return;
    }
    if (l > 0) {
        for (uint64_t k = 0; k * MPH_CK_REF < len; k++) {
            struct mph__ck_ref child;
            mph__ck_ref_decode(src + k * MPH_CK_REF, &child);
            visit(w, l - 1, i * w->fanout + k, &child);
        }
    } else if (w->kind == MPH_CK_TREE_MAP) {
        leaf_bits(w, i, src, show);
    } else {
        dir_entries(w, i, src);
    }
}

void mph__ck_tree_walk(const struct mph__ck_img *im, struct mph__ck_copy *c,
                       int kind, const unsigned char *rootp)
{
    struct walk w;
    const struct mph__ck_shape *s = &c->tree[kind];

    w.im = im;
    w.c = c;
    w.s = s;
    w.kind = kind;
    w.fanout = im->ps / MPH_CK_REF;
    w.entries = mp__dir_entries(im->ps);
    mph__ck_dump(im,
                 "    %s tree: %" PRIu64 " %s, depth %u, %" PRIu64
                 " root references\n",
                 kind == MPH_CK_TREE_MAP ? "map" : "directory", s->leaves,
                 kind == MPH_CK_TREE_MAP ? "leaves" : "blocks", s->depth,
                 s->count[s->depth]);
    for (uint64_t i = 0; i < s->count[s->depth]; i++) {
        struct mph__ck_ref r;
        mph__ck_ref_decode(rootp + i * MPH_CK_REF, &r);
        visit(&w, s->depth, i, &r);
    }
}
