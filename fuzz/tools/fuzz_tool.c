/*
 * fuzz_tool.c - seeds in, seeds out: turns workload text into fuzz
 * inputs, fuzz inputs back into text, and workloads into file images.
 *
 *   fuzz-tool encode [-H HEX] [-T HEX] TARGET FILE.wl [OUT]
 *       ops, crash, faults, subpage: the input whose op stream is the
 *       workload. "#! fuzz.header HEX..." (or -H) gives the bytes before
 *       the op stream (the target's flags and selectors), "#! fuzz.tail
 *       HEX..." (or -T) the bytes after FZ_END (tear bytes). OUT defaults
 *       to stdout.
 *   fuzz-tool image FILE.wl [OUT]
 *       open: run the workload over faultfs (with the model) and write a
 *       control byte ("#! fuzz.ctl", default 0) and the file's bytes.
 *       "#! fuzz.crash_after K" stops after K ops and crashes there;
 *       "#! fuzz.tail HEX..." are then the tear bytes of the image.
 *       "#! fuzz.poke OFF HEX..." overwrites bytes at OFF (also
 *       fuzz.poke2, fuzz.poke3, ...: a key holds one value), and
 *       "#! fuzz.truncate N" keeps N bytes, "#! fuzz.alloc_fail B"
 *       adds control bit 6 and the allocation-failure byte B, so
 *       seeds can hold damage no crash makes.
 *   fuzz-tool print TARGET INPUT
 *       what a fuzz input means: its header, and its ops as workload text.
 *
 * Exit status: 0 done, 1 the workload cannot be expressed or run, 2 usage
 * or I/O error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "mph/check.h"

#define MAX_INPUT (1u << 20)

static int usage(void)
{
    fputs("usage: fuzz-tool encode [-H HEX] [-T HEX] ops|crash|faults|subpage "
          "FILE.wl [OUT]\n"
          "       fuzz-tool image FILE.wl [OUT]\n"
          "       fuzz-tool print ops|crash|faults|open|subpage INPUT\n",
          stderr);
    return 2;
}

/* Hex bytes ("01 ff 0x20") from a directive; returns the count. */
static size_t hex_bytes(const char *s, uint8_t *out, size_t cap)
{
    size_t n = 0;
    while (s && *s && n < cap) {
        char *end;
        unsigned long v = strtoul(s, &end, 16);
        if (end == s) {
            s++;
            continue;
        }
        out[n++] = (uint8_t)v;
        s = end;
    }
    return n;
}

static int write_out(const char *path, const uint8_t *b, size_t n)
{
    FILE *f = path ? fopen(path, "wb") : stdout;
    if (!f) {
        perror(path);
        return 2;
    }
    if (fwrite(b, 1, n, f) != n || (path && fclose(f) != 0)) {
        perror(path ? path : "stdout");
        return 2;
    }
    return 0;
}

static int load(const char *path, struct mph_workload **w)
{
    char err[256];
    int rc = mph_workload_load(path, w, err, sizeof(err));
    if (rc != MP_OK) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    return 0;
}

static bool sub_flag(const char *target, const uint8_t *hdr, size_t nh)
{
    if (strcmp(target, "subpage") == 0) {
        return true;
    }
    return nh > 0 && (hdr[0] & 1);
}

static void codec_for(const char *target, bool sub, struct fz_codec *c)
{
    if (strcmp(target, "subpage") == 0) {
        fz_codec_subpage(c);
        return;
    }
    fz_codec_ops(c, sub);
    if (strcmp(target, "crash") == 0 || strcmp(target, "faults") == 0) {
        c->max_ops = 48;
    }
}

/* Header sizes of the targets (bytes before the op stream). */
static size_t header_len(const char *target)
{
    if (strcmp(target, "crash") == 0) {
        return 4;
    }
    if (strcmp(target, "faults") == 0) {
        return 8;
    }
    return 1;
}

static bool same_ops(const struct mph_workload *a, const struct mph_workload *b)
{
    if (a->nops != b->nops) {
        return false;
    }
    for (size_t i = 0; i < a->nops; i++) {
        const struct mph_op *x = &a->ops[i], *y = &b->ops[i];
        if (x->kind != y->kind || x->count != y->count || x->size != y->size ||
            x->byte != y->byte || x->off != y->off || x->len != y->len ||
            x->commit != y->commit || x->nargs != y->nargs) {
            return false;
        }
        for (size_t k = 0; k < x->nargs; k++) {
            const struct mph_arg *p = &a->args[x->first_arg + k];
            const struct mph_arg *q = &b->args[y->first_arg + k];
            if (p->kind != q->kind || p->value != q->value) {
                return false;
            }
        }
    }
    return true;
}

static int cmd_encode(const char *target, const char *wl, const char *out,
                      const char *hdr_hex, const char *tail_hex)
{
    struct mph_workload *w = NULL, *back = NULL;
    struct fz_codec c;
    struct fz_reader r;
    uint8_t *buf = malloc(MAX_INPUT);
    size_t nh, nt, len;
    int rc, status = 1;

    if (!buf || load(wl, &w) != 0) {
        free(buf);
        return 2;
    }
    memset(buf, 0, header_len(target));
    nh = hex_bytes(hdr_hex ? hdr_hex : mph_workload_directive(w, "fuzz.header"),
                   buf, 64);
    if (nh < header_len(target)) {
        nh = header_len(target);
    }
    codec_for(target, sub_flag(target, buf, nh), &c);
    nt = hex_bytes(tail_hex ? tail_hex : mph_workload_directive(w, "fuzz.tail"),
                   buf + MAX_INPUT / 2, MAX_INPUT / 2);
    rc = fz_encode(&c, w, nt > 0, buf + nh, MAX_INPUT / 2 - nh, &len);
    if (rc != MP_OK) {
        fprintf(stderr, "%s: cannot be expressed for target %s: %s\n", wl,
                target, mp_error_name(rc));
        goto out;
    }
    len += nh;
    memmove(buf + len, buf + MAX_INPUT / 2, nt);
    len += nt;
    /* The decoder must give the same workload back. */
    fz_reader_init(&r, buf + nh, len - nh);
    rc = fz_decode(&c, &r, &back);
    if (rc != MP_OK || !same_ops(w, back)) {
        fprintf(stderr,
                "%s: decoding the encoded input does not give the "
                "workload back\n",
                wl);
        goto out;
    }
    status = write_out(out, buf, len);
out:
    mph_workload_free(back);
    mph_workload_free(w);
    free(buf);
    return status;
}

/* Apply every "fuzz.poke OFFSET HEX..." directive to the image. */
static void poke(const struct mph_workload *w, uint8_t *img, size_t len)
{
    for (size_t i = 0; i < w->ndirs; i++) {
        uint8_t b[256];
        char *end;
        unsigned long off;
        size_t n;
        if (strncmp(w->dir_key[i], "fuzz.poke", 9) != 0) {
            continue;
        }
        off = strtoul(w->dir_val[i], &end, 0);
        n = hex_bytes(end, b, sizeof(b));
        for (size_t k = 0; k < n && off + k < len; k++) {
            img[off + k] = b[k];
        }
    }
}

static int cmd_image(const char *wl, const char *out)
{
    struct mph_workload *w = NULL;
    struct mph_exec_config ec;
    struct mph_model *m = NULL;
    struct mph_exec *e = NULL;
    struct mph_diff d;
    struct fz_disk disk;
    faultfs *fs = NULL, *img = NULL, *src;
    const char *v;
    uint8_t tear[4096], ctl = 0, *buf = NULL;
    size_t nt, stop, hdr;
    uint64_t size;
    int rc, op_rc, status = 1;

    if (load(wl, &w) != 0) {
        return 2;
    }
    v = mph_workload_directive(w, "fuzz.ctl");
    if (v) {
        ctl = (uint8_t)strtoul(v, NULL, 0);
    }
    v = mph_workload_directive(w, "fuzz.crash_after");
    stop = v ? (size_t)strtoul(v, NULL, 0) : w->nops;
    nt = hex_bytes(mph_workload_directive(w, "fuzz.tail"), tear, sizeof(tear));
    fz_disk_from_bits(&disk, 0, 0);
    rc = fz_fs_new(&disk, &fs);
    if (rc == MP_OK) {
        rc = mph_model_new(FZ_PAGE, FZ_RESERVE, &m);
    }
    if (rc == MP_OK) {
        fz_exec_config(&ec, fs);
        rc = mph_exec_new(w, &ec, m, &e);
    }
    if (rc == MP_OK) {
        rc = mph_exec_create(e, &op_rc, &d);
    }
    if (rc == MP_OK && op_rc != MP_OK) {
        rc = op_rc;
    }
    while (rc == MP_OK && d.rule == MPH_RULE_NONE && mph_exec_next(e) < stop &&
           mph_exec_next(e) < w->nops) {
        rc = mph_exec_step(e, &op_rc, &d);
    }
    if (rc != MP_OK || d.rule != MPH_RULE_NONE) {
        fprintf(stderr, "%s: run failed: %s %s\n", wl, mp_error_name(rc),
                d.what);
        goto out;
    }
    src = fs;
    if (stop < w->nops) {
        rc = faultfs_crash_now(fs);
        if (rc == MP_OK) {
            rc = faultfs_image_from_bytes(fs, tear, nt, &img);
        }
        if (rc != MP_OK) {
            fprintf(stderr, "%s: no crash image: %s\n", wl, mp_error_name(rc));
            goto out;
        }
        src = img;
    } else {
        mph_exec_close(e);
    }
    rc = faultfs_file_size(src, FZ_PATH, &size);
    buf = rc == MP_OK ? malloc((size_t)size + 2) : NULL;
    if (!buf) {
        fprintf(stderr, "%s: no file in the image\n", wl);
        goto out;
    }
    buf[0] = ctl;
    hdr = 1;
    v = mph_workload_directive(w, "fuzz.alloc_fail");
    if (v) {
        buf[0] |= 0x40;
        buf[hdr++] = (uint8_t)strtoul(v, NULL, 0);
    }
    if (faultfs_file_read(src, FZ_PATH, false, 0, buf + hdr, (size_t)size) !=
        MP_OK) {
        goto out;
    }
    poke(w, buf + hdr, (size_t)size);
    v = mph_workload_directive(w, "fuzz.truncate");
    if (v && strtoull(v, NULL, 0) < size) {
        size = strtoull(v, NULL, 0);
    }
    status = write_out(out, buf, (size_t)size + hdr);
out:
    free(buf);
    mph_exec_free(e);
    mph_model_free(m);
    faultfs_free(img);
    faultfs_free(fs);
    mph_workload_free(w);
    return status;
}

static uint8_t *read_input(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *b;
    if (!f) {
        perror(path);
        return NULL;
    }
    b = malloc(MAX_INPUT);
    *len = b ? fread(b, 1, MAX_INPUT, f) : 0;
    fclose(f);
    return b;
}

static int cmd_print(const char *target, const char *path)
{
    struct mph_workload *w = NULL;
    struct fz_reader r;
    struct fz_codec c;
    size_t len, nh = header_len(target), rest;
    uint8_t *b = read_input(path, &len);
    int rc;

    if (!b) {
        return 2;
    }
    if (strcmp(target, "open") == 0) {
        struct mph_check_report rep;
        printf("control 0x%02x, image %zu bytes\n", len ? b[0] : 0,
               len ? len - 1 : 0);
        if (len > 1 && mph_check_image(b + 1, len - 1, 0, &rep) == MP_OK) {
            mph_check_print(stdout, &rep, 0);
        }
        free(b);
        return 0;
    }
    printf("#! fuzz.header");
    for (size_t i = 0; i < nh; i++) {
        printf(" %02x", i < len ? b[i] : 0);
    }
    printf("\n");
    fz_reader_init(&r, b, len);
    for (size_t i = 0; i < nh; i++) {
        (void)fz_u8(&r);
    }
    codec_for(target, sub_flag(target, b, len), &c);
    rc = fz_decode(&c, &r, &w);
    if (rc == MP_OK) {
        const uint8_t *t = fz_rest(&r, &rest);
        if (rest) {
            printf("#! fuzz.tail");
            for (size_t i = 0; i < rest; i++) {
                printf(" %02x", t[i]);
            }
            printf("\n");
        }
        fz_print_workload(w, stdout);
    }
    mph_workload_free(w);
    free(b);
    return rc == MP_OK ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc >= 4 && strcmp(argv[1], "encode") == 0) {
        const char *hdr = NULL, *tail = NULL;
        int i = 2;
        for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
            if (strcmp(argv[i], "-H") == 0) {
                hdr = argv[i + 1];
            } else if (strcmp(argv[i], "-T") == 0) {
                tail = argv[i + 1];
            } else {
                return usage();
            }
        }
        if (argc - i < 2) {
            return usage();
        }
        return cmd_encode(argv[i], argv[i + 1],
                          i + 2 < argc ? argv[i + 2] : NULL, hdr, tail);
    }
    if (argc >= 3 && strcmp(argv[1], "image") == 0) {
        return cmd_image(argv[2], argc > 3 ? argv[3] : NULL);
    }
    if (argc >= 4 && strcmp(argv[1], "print") == 0) {
        return cmd_print(argv[2], argv[3]);
    }
    return usage();
}
