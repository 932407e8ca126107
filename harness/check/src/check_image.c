/*
 * check_image.c - a whole file image: the superblock (FORMAT.md section 2),
 * both metadata copies, and the recovery decision (section 9), predicted
 * exactly as mp_pager_open makes it so the two can be compared.
 */
#include <inttypes.h>
#include <string.h>

#include "check_internal.h"
#include "crc32c.h"
#include "endian.h"
#include "layout.h"
#include "rules.h"

#define DUMP_LIMIT 32

static bool zero_range(const unsigned char *b, size_t from, size_t to)
{
    static const unsigned char zeros[256];
    while (from < to) {
        size_t n = to - from < sizeof(zeros) ? to - from : sizeof(zeros);
        if (memcmp(b + from, zeros, n) != 0) {
            return false;
        }
        from += n;
    }
    return true;
}

/*
 * The static header (FORMAT.md 2.1 and 9.1), judged by layout.h as open
 * judges it. Returns what open would return at this stage; on MP_OK or a
 * page-size mismatch (*mismatch set) im->ps and im->log2 hold the file's
 * own page size and the rest of the file can be read.
 */
static int superblock(struct mph__ck_img *im, size_t want, bool *readable,
                      struct mph_check_report *r)
{
    const unsigned char *h = im->base;
    struct mp__hdr_info hi;
    uint32_t crc, log2, flags;
    uint16_t major;
    int open_rc = MP_OK;

    *readable = false;
    im->hdr_from_copy = -1;
    if (im->bytes < 64) {
        mph__ck_msg(r, MPH_CHECK_CORRUPT,
                    "file is %" PRIu64 " bytes: too short for a superblock",
                    im->bytes);
        return MP_ECORRUPT_SUPER;
    }
    crc = mp__crc32c(0, h, MP__HDR_CRC);
    major = mp__le16(h + MP__HDR_MAJOR);
    log2 = mp__le32(h + MP__HDR_LOG2);
    flags = mp__le32(h + MP__HDR_FLAGS);
    mph__ck_dump(im,
                 "superblock: magic \"%.8s\" version %u.%u log2 %" PRIu32
                 " flags 0x%" PRIx32 " crc 0x%08" PRIx32 " (%s)\n",
                 memcmp(h, MP__HDR_MAGIC, 8) ? "????????" : MP__HDR_MAGIC,
                 major, mp__le16(h + MP__HDR_MINOR), log2, flags,
                 mp__le32(h + MP__HDR_CRC),
                 crc == mp__le32(h + MP__HDR_CRC) ? "ok" : "MISMATCH");
    switch (mp__hdr_check(h)) {
    case MP__HV_OK:
        mp__hdr_decode(h, &hi);
        break;
    case MP__HV_DAMAGED:
        if (!mp__hdr_from_copies(im->base, im->bytes, &hi)) {
            if (memcmp(h, MP__HDR_MAGIC, 8) != 0) {
                mph__ck_msg(r, MPH_CHECK_CORRUPT,
                            "superblock: bad magic and no metadata copy "
                            "carries the header: not a mappedpages file");
            } else {
                mph__ck_msg(r, MPH_CHECK_CORRUPT,
                            "superblock: header checksum 0x%08" PRIx32
                            " but the header says 0x%08" PRIx32
                            ", and no metadata copy carries the header",
                            crc, mp__le32(h + MP__HDR_CRC));
            }
            return MP_ECORRUPT_SUPER;
        }
        im->hdr_from_copy = hi.from_copy;
        mph__ck_msg(
            r, MPH_CHECK_RECOVERABLE,
            "superblock: page 0's header is damaged (%s); open takes "
            "it from %s (version %u.%u, log2 %u) and the next "
            "commit rewrites it",
            memcmp(h, MP__HDR_MAGIC, 8) ? "bad magic" : "checksum mismatch",
            mph__ck_copy_name(hi.from_copy), hi.major, hi.minor, hi.log2);
        if (hi.major != MP_FORMAT_MAJOR) {
            mph__ck_msg(r, MPH_CHECK_CORRUPT,
                        "%s: format major version %u, this checker knows %d",
                        mph__ck_copy_name(hi.from_copy), hi.major,
                        MP_FORMAT_MAJOR);
            return MP_EVERSION;
        }
        if (hi.flags & ~MP__HDR_KNOWN_FLG) {
            mph__ck_msg(r, MPH_CHECK_CORRUPT, "%s: unknown flags 0x%" PRIx32,
                        mph__ck_copy_name(hi.from_copy), hi.flags);
            return MP_ECORRUPT_SUPER;
        }
        break;
    case MP__HV_VERSION:
        mph__ck_msg(
            r, MPH_CHECK_CORRUPT,
            "superblock: format major version %u, this checker knows %d%s",
            major, MP_FORMAT_MAJOR,
            major == 1 ? " (format 1 files are refused, not upgraded)" : "");
        return MP_EVERSION;
    case MP__HV_FLAGS:
        mph__ck_msg(r, MPH_CHECK_CORRUPT,
                    "superblock: unknown flags 0x%" PRIx32, flags);
        return MP_ECORRUPT_SUPER;
    case MP__HV_RESERVED:
        mph__ck_msg(r, MPH_CHECK_CORRUPT,
                    "superblock: reserved bytes %" PRIu32 "-%" PRIu32
                    " are not zero",
                    mp__hdr_reserved.from, mp__hdr_reserved.to - 1);
        return MP_ECORRUPT_SUPER;
    case MP__HV_LOG2:
    default:
        mph__ck_msg(r, MPH_CHECK_CORRUPT,
                    "superblock: log2(page size) %" PRIu32 " outside [10, 24]",
                    log2);
        return MP_EPAGESIZE;
    }
    im->log2 = hi.log2;
    im->flags = hi.flags;
    im->ps = (size_t)1 << hi.log2;
    im->pages = im->bytes / im->ps;
    r->page_size = im->ps;
    if (want && want != im->ps) {
        /* Report it, but read on at the file's own size: the rest of the
         * report then says whether the file is otherwise sound. */
        mph__ck_msg(r, MPH_CHECK_CORRUPT,
                    "page size: the file's is %zu, the caller expects %zu "
                    "(open fails with MP_EPAGESIZE)",
                    im->ps, want);
        open_rc = MP_EPAGESIZE;
    }
    if (im->bytes < 3 * (uint64_t)im->ps) {
        mph__ck_msg(r, MPH_CHECK_CORRUPT,
                    "file is %" PRIu64 " bytes: shorter than 3 pages of %zu",
                    im->bytes, im->ps);
        return open_rc ? open_rc : MP_ECORRUPT_SUPER;
    }
    *readable = true;
    im->minor = hi.minor;
    if (hi.minor > MP_FORMAT_MINOR) {
        mph__ck_msg(
            r, MPH_CHECK_CLEAN,
            "superblock: format minor %u is newer than this checker's %d: "
            "read-only opens only (a read-write open fails with MP_EVERSION)",
            hi.minor, MP_FORMAT_MINOR);
    }
    if (im->hdr_from_copy >= 0) {
        return open_rc; /* page 0 is torn: its other bytes mean nothing */
    }
    if (!zero_range(h, MP__HDR_SIZE, MP__REC_OFF)) {
        mph__ck_msg(r, MPH_CHECK_CLEAN,
                    "superblock: ignored bytes 64-511 are not zero");
    }
    /* A torn record sector may leave garbage after the record for good:
     * commits rewrite only the record's 24 bytes. */
    if (!zero_range(h, MP__REC_OFF + MP__REC_SIZE, im->ps)) {
        mph__ck_msg(r, MPH_CHECK_CLEAN,
                    "superblock: ignored bytes 536-%zu are not zero",
                    im->ps - 1);
    }
    return open_rc;
}

static void record(const struct mph__ck_img *im, struct mph_check_report *r)
{
    const unsigned char *rec = im->base + MPH_CK_REC_OFF;
    bool magic = memcmp(rec, "MPCR", 4) == 0;
    uint32_t crc = mp__crc32c(0, rec, 20);

    r->record_selector = mp__le32(rec + 4);
    r->record_generation = mp__le64(rec + 8);
    r->record_crc = mp__le32(rec + 16);
    r->record_intact =
        magic && r->record_selector <= 1 && crc == mp__le32(rec + 20);
    if (r->record_intact) {
        r->selected_copy = (int)r->record_selector;
    }
    mph__ck_dump(im,
                 "commit record: magic %s selector %" PRIu32
                 " generation %" PRIu64 " copy crc 0x%08" PRIx32
                 " record crc 0x%08" PRIx32 " (%s)\n",
                 magic ? "\"MPCR\"" : "BAD", r->record_selector,
                 r->record_generation, r->record_crc, mp__le32(rec + 20),
                 crc == mp__le32(rec + 20) ? "ok" : "MISMATCH");
}

static const char *record_damage(const struct mph__ck_img *im,
                                 const struct mph_check_report *r)
{
    const unsigned char *rec = im->base + MPH_CK_REC_OFF;
    if (memcmp(rec, "MPCR", 4) != 0) {
        return "bad magic";
    }
    if (r->record_selector > 1) {
        return "selector not 0 or 1";
    }
    return "checksum mismatch";
}

static void copy_to_report(const struct mph__ck_copy *c,
                           struct mph_check_copy *o)
{
    o->header_ok = c->header_ok;
    o->valid = c->valid;
    o->one_flush = c->header_ok && c->one_flush;
    o->generation = c->h.generation;
    o->total_pages = c->h.total;
    o->free_pages = c->h.free_pages;
    o->slots = c->h.slots;
    o->protected_in_use = c->h.in_use;
    o->crc = c->h.crc;
    o->used_len = c->h.used;
    o->map_depth = c->h.map_depth;
    o->map_roots = c->h.map_roots;
    o->dir_depth = c->h.dir_depth;
    o->dir_roots = c->h.dir_roots;
    memcpy(o->why, c->why, sizeof(o->why));
}

/* FORMAT.md section 9 steps 3-6: the selection rule of rules.h, which
 * recover.c applies too. */
static void decide(const struct mph__ck_img *im, const struct mph__ck_copy c[2],
                   struct mph_check_report *r)
{
    struct mp__sel_copy sc[2];
    struct mp__sel_record rec;
    int order[2], reason, chosen = -1, sel = r->selected_copy, named;
    char buf[MPH_CHECK_MSG_LEN];
    const char *mismatch = NULL;

    for (int k = 0; k < 2; k++) {
        sc[k].cand = c[k].header_ok;
        sc[k].one_flush = c[k].header_ok && c[k].one_flush;
        sc[k].gen = c[k].header_ok ? c[k].h.generation : 0;
        sc[k].crc = c[k].header_ok ? c[k].h.crc : 0;
    }
    rec.ok = r->record_intact;
    rec.sel = (int)(r->record_selector & 1);
    rec.gen = r->record_generation;
    rec.crc = r->record_crc;
    named = mp__sel_named(sc, &rec);
    if (r->record_intact) {
        if (!c[sel].header_ok) {
            snprintf(buf, sizeof(buf), "is not a candidate (%.100s)",
                     c[sel].why);
            mismatch = buf;
        } else if (c[sel].h.generation != r->record_generation) {
            snprintf(buf, sizeof(buf),
                     "has generation %" PRIu64 ", the record %" PRIu64,
                     c[sel].h.generation, r->record_generation);
            mismatch = buf;
        } else if (c[sel].h.crc != r->record_crc) {
            snprintf(buf, sizeof(buf),
                     "has checksum 0x%08" PRIx32 ", the record 0x%08" PRIx32,
                     c[sel].h.crc, r->record_crc);
            mismatch = buf;
        }
    }
    mp__sel_order(sc, &rec, order);
    for (int k = 0; k < 2 && chosen < 0; k++) {
        if (sc[order[k]].cand && c[order[k]].valid) {
            chosen = order[k];
        }
    }
    if (chosen < 0) {
        r->open_error = MP_ECORRUPT_META;
        snprintf(r->recovery_why, sizeof(r->recovery_why),
                 "no metadata copy validates: open fails with "
                 "MP_ECORRUPT_META");
        mph__ck_msg(
            r, MPH_CHECK_CORRUPT,
            "no metadata copy validates: copy A: %.100s; copy B: %.100s",
            c[0].why, c[1].why);
        return;
    }
    reason = mp__sel_reason(sc, &rec, chosen);
    if (!mismatch && named >= 0 && chosen != named) {
        snprintf(buf, sizeof(buf), "does not validate (%.100s)", c[sel].why);
        mismatch = buf;
    }
    r->recovery_would_choose = chosen;
    r->recovery_reason = reason;
    if (reason == MP_RECOVERY_RECORD) {
        snprintf(r->recovery_why, sizeof(r->recovery_why),
                 "the commit record names %s (generation %" PRIu64
                 "), which validates",
                 mph__ck_copy_name(chosen), c[chosen].h.generation);
    } else if (reason == MP_RECOVERY_ONE_FLUSH) {
        /* Normal after one-flush commits: no message, no severity. */
        snprintf(r->recovery_why, sizeof(r->recovery_why),
                 "%s (generation %" PRIu64 ") was written by a one-flush "
                 "commit and validates completely: recovery takes it",
                 mph__ck_copy_name(chosen), c[chosen].h.generation);
    } else if (reason == MP_RECOVERY_ONE_FLUSH_FALLBACK) {
        snprintf(r->recovery_why, sizeof(r->recovery_why),
                 "%s, written by a one-flush commit, does not validate "
                 "(%.100s): recovery falls back to %s (generation %" PRIu64 ")",
                 mph__ck_copy_name(1 - chosen), c[1 - chosen].why,
                 mph__ck_copy_name(chosen), c[chosen].h.generation);
        mph__ck_msg(r, MPH_CHECK_RECOVERABLE, "%s", r->recovery_why);
    } else if (reason == MP_RECOVERY_TORN_RECORD) {
        snprintf(r->recovery_why, sizeof(r->recovery_why),
                 "the commit record is torn (%s): recovery takes the newest "
                 "valid copy, %s (generation %" PRIu64 ")",
                 record_damage(im, r), mph__ck_copy_name(chosen),
                 c[chosen].h.generation);
        mph__ck_msg(r, MPH_CHECK_RECOVERABLE, "%s", r->recovery_why);
    } else {
        snprintf(r->recovery_why, sizeof(r->recovery_why),
                 "the commit record names %s, which %.120s: recovery falls "
                 "back to %s (generation %" PRIu64 ")",
                 mph__ck_copy_name(sel), mismatch ? mismatch : "?",
                 mph__ck_copy_name(chosen), c[chosen].h.generation);
        mph__ck_msg(r, MPH_CHECK_RECOVERABLE, "%s", r->recovery_why);
    }
}

/* Numbers and messages of the copy in use; notes on the other. */
static void describe(const struct mph__ck_img *im, struct mph__ck_copy c[2],
                     int chosen, struct mph_check_report *r)
{
    struct mph__ck_copy *u = &c[chosen];
    const struct mph__ck_copy *o = &c[1 - chosen];
    uint64_t need = u->h.total * (uint64_t)im->ps;

    mph__ck_copy_content(im, u);
    r->generation = u->h.generation;
    r->page_count = u->h.total;
    r->free_count = u->h.free_pages;
    r->regular_count = u->regular;
    r->protected_count = u->in_use;
    r->internal_count = u->owned_n - MP_RESERVED_PAGES;
    r->slots = u->h.slots;
    r->map_leaves = u->tree[MPH_CK_TREE_MAP].leaves;
    r->dir_blocks = u->tree[MPH_CK_TREE_DIR].leaves;
    r->map_depth = u->tree[MPH_CK_TREE_MAP].depth;
    r->dir_depth = u->tree[MPH_CK_TREE_DIR].depth;
    for (unsigned i = 0; i < u->ndeep && i < MPH_CK_NDEEP; i++) {
        mph__ck_msg(r, MPH_CHECK_CORRUPT, "%s: %s", mph__ck_copy_name(chosen),
                    u->deep[i]);
    }
    if (u->ndeep > MPH_CK_NDEEP) {
        mph__ck_msg(r, MPH_CHECK_CORRUPT, "%s: %u more problems",
                    mph__ck_copy_name(chosen), u->ndeep - MPH_CK_NDEEP);
    }
    for (unsigned i = 0; i < u->nnote && i < MPH_CK_NDEEP; i++) {
        mph__ck_msg(r, MPH_CHECK_CLEAN, "%s: %s", mph__ck_copy_name(chosen),
                    u->note[i]);
    }
    if (im->bytes > need) {
        mph__ck_msg(r, MPH_CHECK_CLEAN,
                    "file is %" PRIu64 " bytes, %" PRIu64
                    " beyond total_pages: ignored (a crash during growth "
                    "leaves this)",
                    im->bytes, im->bytes - need);
    }
    /* The other copy: normally the previous commit's, one generation
     * older; anything else is worth a note, never a verdict. */
    if (!o->valid) {
        if (r->recovery_reason != MP_RECOVERY_BAD_SELECTED) {
            mph__ck_msg(r, MPH_CHECK_CLEAN,
                        "%s (not in use) does not "
                        "validate: %s",
                        mph__ck_copy_name(o->index), o->why);
        }
    } else if (o->h.generation > u->h.generation) {
        mph__ck_msg(r, MPH_CHECK_CLEAN,
                    "%s (not in use) is newer, generation %" PRIu64
                    ": a commit that never reached its record",
                    mph__ck_copy_name(o->index), o->h.generation);
    } else if (o->h.generation == u->h.generation) {
        mph__ck_msg(r, MPH_CHECK_CLEAN, "both copies have generation %" PRIu64,
                    o->h.generation);
    } else if (o->h.generation + 1 < u->h.generation) {
        mph__ck_msg(r, MPH_CHECK_CLEAN,
                    "%s (not in use) is %" PRIu64 " generations older",
                    mph__ck_copy_name(o->index),
                    u->h.generation - o->h.generation);
    }
    if (o->valid && o->ndeep) {
        mph__ck_msg(r, MPH_CHECK_CLEAN, "%s (not in use): %s",
                    mph__ck_copy_name(o->index), o->deep[0]);
    }
}

int mph__ck_image(const void *base, uint64_t bytes, size_t want_ps, FILE *dump,
                  struct mph__ck_copy c[2], struct mph_check_report *r)
{
    struct mph__ck_img im;
    bool readable;
    int rc, open_rc;

    memset(c, 0, 2 * sizeof(*c));
    memset(&im, 0, sizeof(im));
    im.base = base;
    im.bytes = bytes;
    im.dump = dump;
    im.dump_limit = DUMP_LIMIT;
    r->file_bytes = bytes;
    open_rc = superblock(&im, want_ps, &readable, r);
    if (!readable) {
        r->open_error = open_rc;
        r->open_error_rw = open_rc;
        snprintf(r->recovery_why, sizeof(r->recovery_why),
                 "open fails on the superblock with %s",
                 mp_error_name(open_rc));
        return MP_OK;
    }
    if (im.bytes % im.ps) {
        mph__ck_msg(r, MPH_CHECK_CLEAN,
                    "file length %" PRIu64
                    " is not a multiple of the page size",
                    im.bytes);
    }
    record(&im, r);
    for (int k = 0; k < 2; k++) {
        rc = mph__ck_copy_check(&im, k, &c[k]);
        if (rc != MP_OK) {
            mph__ck_copy_free(&c[0]);
            mph__ck_copy_free(&c[1]);
            return rc;
        }
        copy_to_report(&c[k], &r->copy[k]);
    }
    decide(&im, c, r);
    if (r->recovery_would_choose >= 0) {
        describe(&im, c, r->recovery_would_choose, r);
    }
    if (open_rc != MP_OK) {
        /* Open refuses the file before recovery runs. */
        r->open_error = open_rc;
        r->recovery_would_choose = -1;
        r->recovery_reason = -1;
        snprintf(r->recovery_why, sizeof(r->recovery_why),
                 "open fails on the superblock with %s",
                 mp_error_name(open_rc));
    }
    /* pager.c check_header's last check, for read-write opens only. */
    r->open_error_rw = open_rc == MP_OK && im.minor > MP_FORMAT_MINOR
                           ? MP_EVERSION
                           : r->open_error;
    return MP_OK;
}

bool mph_check_passed(const struct mph_check_report *r)
{
    return r && r->verdict != MPH_CHECK_CORRUPT;
}

const char *mph_check_verdict_name(int verdict)
{
    switch (verdict) {
    case MPH_CHECK_CLEAN:
        return "clean";
    case MPH_CHECK_RECOVERABLE:
        return "recoverable";
    case MPH_CHECK_CORRUPT:
        return "corrupt";
    default:
        return "?";
    }
}

static bool valid_page_size(size_t ps)
{
    return ps >= MP_PAGE_SIZE_MIN && ps <= MP_PAGE_SIZE_MAX &&
           (ps & (ps - 1)) == 0;
}

int mph_check_image(const void *image, uint64_t bytes, size_t page_size,
                    struct mph_check_report *out)
{
    struct mph__ck_copy c[2];
    int rc;

    if (!out || (!image && bytes)) {
        return MP_EINVAL;
    }
    if (page_size && !valid_page_size(page_size)) {
        return MP_EPAGESIZE;
    }
    mph__ck_report_init(out);
    rc = mph__ck_image(image, bytes, page_size, NULL, c, out);
    mph__ck_copy_free(&c[0]);
    mph__ck_copy_free(&c[1]);
    return rc;
}
