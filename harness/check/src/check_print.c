/*
 * check_print.c - a report for people (a few lines) and for programs (one
 * JSON object per line; keys in harness/check/README.md).
 */
#include <inttypes.h>
#include <string.h>

#include "check_internal.h"

static const char *reason_name(int reason)
{
    switch (reason) {
    case MP_RECOVERY_RECORD:
        return "record";
    case MP_RECOVERY_TORN_RECORD:
        return "torn_record";
    case MP_RECOVERY_BAD_SELECTED:
        return "bad_selected";
    case MP_RECOVERY_CREATED:
        return "created";
    case MP_RECOVERY_ONE_FLUSH:
        return "one_flush";
    case MP_RECOVERY_ONE_FLUSH_FALLBACK:
        return "one_flush_fallback";
    default:
        return NULL;
    }
}

static const char *cross_name(int cross)
{
    switch (cross) {
    case MPH_CROSS_AGREES:
        return "agrees";
    case MPH_CROSS_DISAGREES:
        return "disagrees";
    case MPH_CROSS_UNAVAILABLE:
        return "unavailable";
    default:
        return "skipped";
    }
}

static const char *severity_name(int s)
{
    return s == MPH_CHECK_CLEAN ? "note" : mph_check_verdict_name(s);
}

int mph__ck_print_human(FILE *f, const struct mph_check_report *r)
{
    fprintf(f, "verdict: %s", mph_check_verdict_name(r->verdict));
    if (r->open_error != MP_OK) {
        fprintf(f, " (open fails with %s)", mp_error_name(r->open_error));
    }
    fprintf(f, "\n");
    if (r->page_count) {
        fprintf(f,
                "pages: %" PRIu64 " of %" PRIu64 " bytes (file %" PRIu64
                " bytes): %" PRIu64 " free, %" PRIu64 " regular, %" PRIu64
                " protected, %" PRIu64 " internal, 3 reserved\n",
                r->page_count, r->page_size, r->file_bytes, r->free_count,
                r->regular_count, r->protected_count, r->internal_count);
        fprintf(f,
                "trees: map %" PRIu64 " leaves, depth %u; directory %" PRIu64
                " slots in %" PRIu64 " blocks, depth %u\n",
                r->map_leaves, r->map_depth, r->slots, r->dir_blocks,
                r->dir_depth);
    } else {
        fprintf(f, "file: %" PRIu64 " bytes\n", r->file_bytes);
    }
    if (r->page_size && r->file_bytes >= 3 * r->page_size) {
        if (r->record_intact) {
            fprintf(f,
                    "commit record: intact, names copy %c (generation %" PRIu64
                    ", crc 0x%08" PRIx32 ")\n",
                    'A' + r->selected_copy, r->record_generation,
                    r->record_crc);
        } else {
            fprintf(f, "commit record: torn\n");
        }
        for (int c = 0; c < 2; c++) {
            const struct mph_check_copy *k = &r->copy[c];
            fprintf(f, "copy %c (page %d): ", 'A' + c, c + 1);
            if (k->valid) {
                fprintf(f, "valid, generation %" PRIu64 "%s\n", k->generation,
                        k->one_flush ? ", one-flush" : "");
            } else {
                fprintf(f, "%s: %s\n",
                        !k->header_ok  ? "not a candidate"
                        : k->one_flush ? "does not validate (one-flush)"
                                       : "does not validate",
                        k->why);
            }
        }
    }
    fprintf(f, "recovery: %s\n", r->recovery_why);
    if (reason_name(r->recovery_reason)) {
        fprintf(f, "recovery reason: %s\n", reason_name(r->recovery_reason));
    }
    if (r->device_sector) {
        fprintf(f,
                "device: power-fail unit %" PRIu32
                " bytes, %s; page size %" PRIu64 ": %s\n",
                r->device_sector,
                (r->device_flags & MP_IO_DEV_POWERSAFE) ? "power-safe"
                                                        : "not power-safe",
                r->page_size,
                r->page_size >= r->device_sector ||
                        (r->device_flags & MP_IO_DEV_POWERSAFE)
                    ? "allowed"
                    : "below the unit (read-write open: MP_EDEVICE)");
    }
    fprintf(f, "cross-check with the core: %s\n", cross_name(r->cross_check));
    for (unsigned i = 0; i < r->msg_count; i++) {
        fprintf(f, "%s: %s\n", r->msgs[i].severity ? "problem" : "note",
                r->msgs[i].text);
    }
    if (r->problem_count + r->note_count > r->msg_count) {
        fprintf(f, "(%u more messages not kept)\n",
                r->problem_count + r->note_count - r->msg_count);
    }
    return ferror(f) ? MP_EIO : MP_OK;
}

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') {
            fprintf(f, "\\%c", ch);
        } else if (ch < 0x20 || ch >= 0x7f) {
            fprintf(f, "\\u%04x", ch);
        } else {
            fputc(ch, f);
        }
    }
    fputc('"', f);
}

static void json_u64(FILE *f, const char *key, uint64_t v, bool comma)
{
    fprintf(f, "\"%s\":%" PRIu64 "%s", key, v, comma ? "," : "");
}

static void json_copy(FILE *f, int c, const struct mph_check_copy *k)
{
    fprintf(f,
            "{\"copy\":\"%c\",\"page\":%d,\"header_ok\":%s,\"valid\":%s,"
            "\"one_flush\":%s,"
            "\"generation\":%" PRIu64 ",\"total_pages\":%" PRIu64
            ",\"free_pages\":%" PRIu64 ",\"slots\":%" PRIu64
            ",\"protected_in_use\":%" PRIu64 ",\"crc\":\"0x%08" PRIx32
            "\",\"why\":",
            'A' + c, c + 1, k->header_ok ? "true" : "false",
            k->valid ? "true" : "false", k->one_flush ? "true" : "false",
            k->generation, k->total_pages, k->free_pages, k->slots,
            k->protected_in_use, k->crc);
    json_str(f, k->why);
    fputc('}', f);
}

static int print_json(FILE *f, const struct mph_check_report *r)
{
    const char *reason = reason_name(r->recovery_reason);

    fprintf(f, "{\"verdict\":\"%s\",\"verdict_code\":%d,\"open_error\":\"%s\",",
            mph_check_verdict_name(r->verdict), r->verdict,
            mp_error_name(r->open_error));
    json_u64(f, "page_size", r->page_size, true);
    json_u64(f, "page_count", r->page_count, true);
    json_u64(f, "free_count", r->free_count, true);
    json_u64(f, "regular_count", r->regular_count, true);
    json_u64(f, "protected_count", r->protected_count, true);
    json_u64(f, "internal_count", r->internal_count, true);
    json_u64(f, "file_bytes", r->file_bytes, true);
    json_u64(f, "device_sector", r->device_sector, true);
    json_u64(f, "device_powersafe",
             (r->device_flags & MP_IO_DEV_POWERSAFE) ? 1 : 0, true);
    json_u64(f, "generation", r->generation, true);
    json_u64(f, "slots", r->slots, true);
    json_u64(f, "map_leaves", r->map_leaves, true);
    json_u64(f, "map_depth", r->map_depth, true);
    json_u64(f, "dir_blocks", r->dir_blocks, true);
    json_u64(f, "dir_depth", r->dir_depth, true);
    fprintf(f,
            "\"record\":{\"intact\":%s,\"selector\":%" PRIu32
            ",\"generation\":%" PRIu64 ",\"crc\":\"0x%08" PRIx32 "\"},",
            r->record_intact ? "true" : "false", r->record_selector,
            r->record_generation, r->record_crc);
    fprintf(f, "\"selected_copy\":%d,\"recovery_would_choose\":%d,",
            r->selected_copy, r->recovery_would_choose);
    fprintf(f, "\"recovery_reason\":");
    if (reason) {
        fprintf(f, "\"%s\",", reason);
    } else {
        fprintf(f, "null,");
    }
    fprintf(f, "\"recovery_why\":");
    json_str(f, r->recovery_why);
    fprintf(f, ",\"copies\":[");
    json_copy(f, 0, &r->copy[0]);
    fputc(',', f);
    json_copy(f, 1, &r->copy[1]);
    fprintf(f, "],\"cross_check\":\"%s\",", cross_name(r->cross_check));
    json_u64(f, "problem_count", r->problem_count, true);
    json_u64(f, "note_count", r->note_count, true);
    fprintf(f, "\"problem\":");
    json_str(f, r->problem);
    fprintf(f, ",\"messages\":[");
    for (unsigned i = 0; i < r->msg_count; i++) {
        fprintf(f, "%s{\"severity\":\"%s\",\"text\":", i ? "," : "",
                severity_name(r->msgs[i].severity));
        json_str(f, r->msgs[i].text);
        fputc('}', f);
    }
    fprintf(f, "]}\n");
    return ferror(f) ? MP_EIO : MP_OK;
}

int mph_check_print(FILE *f, const struct mph_check_report *r, int json)
{
    if (!f || !r) {
        return MP_EINVAL;
    }
    return json ? print_json(f, r) : mph__ck_print_human(f, r);
}
