/*
 * test_crash_workload.c - the workload text format: parsing, refs, directives,
 * line-numbered errors, printing back.
 */
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mappedpages.h"
#include "mph/workload.h"

static struct mph_workload *parse_ok(const char *text)
{
    struct mph_workload *w = NULL;
    char err[256];
    int rc = mph_workload_parse(text, strlen(text), "t", &w, err, sizeof(err));
    if (rc != MP_OK) {
        print_error("unexpected parse error: %s\n", err);
    }
    assert_int_equal(rc, MP_OK);
    return w;
}

static void parse_fails(const char *text, const char *want)
{
    struct mph_workload *w = (struct mph_workload *)1;
    char err[256];
    int rc = mph_workload_parse(text, strlen(text), "t", &w, err, sizeof(err));
    assert_int_equal(rc, MP_EINVAL);
    assert_null(w);
    if (!strstr(err, want)) {
        print_error("message '%s' lacks '%s'\n", err, want);
        fail();
    }
}

static void refs_are_numbered_in_production_order(void **state)
{
    struct mph_workload *w = parse_ok("alloc\n"
                                      "alloc_bulk 3\n"
                                      "palloc\n"
                                      "free $4\n");
    (void)state;
    assert_int_equal(w->nops, 4);
    assert_int_equal(w->nrefs, 5);
    assert_int_equal(w->ops[0].first_ref, 1);
    assert_int_equal(w->ops[1].first_ref, 2);
    assert_int_equal(w->ops[1].nrefs, 3);
    assert_int_equal(w->ops[2].first_ref, 5);
    assert_int_equal(w->args[w->ops[3].first_arg].kind, MPH_ARG_REF);
    assert_int_equal(w->args[w->ops[3].first_arg].value, 4);
    mph_workload_free(w);
}

static void comments_blank_lines_and_directives(void **state)
{
    struct mph_workload *w = parse_ok("# a comment\n"
                                      "\n"
                                      "#! page_size 4096\n"
                                      "#!   repro.pattern   f0.p1=n f0=c  \n"
                                      "   alloc   # trailing comment\r\n"
                                      "\t sync\n");
    (void)state;
    assert_int_equal(w->nops, 2);
    assert_string_equal(mph_workload_directive(w, "page_size"), "4096");
    assert_string_equal(mph_workload_directive(w, "repro.pattern"),
                        "f0.p1=n f0=c");
    assert_null(mph_workload_directive(w, "nope"));
    assert_int_equal(w->ops[0].line, 5);
    assert_int_equal(w->ops[1].kind, MPH_OP_SYNC);
    mph_workload_free(w);
}

static void raw_ids_protected_slots_and_bytes(void **state)
{
    struct mph_workload *w = parse_ok("free_bulk 0 17 0x10 P3 p0\n"
                                      "palloc\n"
                                      "pfill $1 0xff 10 20\n"
                                      "pwrite $1 7 abort\n"
                                      "pwrite $1 8\n"
                                      "salloc_bulk 64 5\n");
    const struct mph_arg *a = w->args + w->ops[0].first_arg;
    (void)state;
    assert_int_equal(w->ops[0].nargs, 5);
    assert_int_equal(a[0].value, 0);
    assert_int_equal(a[1].value, 17);
    assert_int_equal(a[2].value, 16);
    assert_true(a[3].value == (MP_ID_KIND_PROTECT | 3));
    assert_true(a[4].value == MP_ID_KIND_PROTECT);
    assert_int_equal(w->ops[2].byte, 0xff);
    assert_int_equal(w->ops[2].off, 10);
    assert_int_equal(w->ops[2].len, 20);
    assert_false(w->ops[3].commit);
    assert_true(w->ops[4].commit);
    assert_int_equal(w->ops[5].size, 64);
    assert_int_equal(w->ops[5].count, 5);
    assert_int_equal(w->ops[5].nrefs, 5);
    mph_workload_free(w);
}

static void errors_name_the_line(void **state)
{
    (void)state;
    parse_fails("alloc\nfrobnicate\n", "t:2: unknown operation 'frobnicate'");
    parse_fails("alloc\nfree $2\n", "t:2: ref $2 is not produced yet");
    parse_fails("free $0\n", "t:1: bad ref");
    parse_fails("free\n", "t:1: free takes one id");
    parse_fails("free 1 2\n", "t:1: free takes one id");
    parse_fails("palloc\npwrite $1 256\n", "t:2: bad byte '256'");
    parse_fails("palloc\npwrite $1 1 maybe\n", "want 'commit' or 'abort'");
    parse_fails("palloc\npfill $1 1 5\n", "give both offset and length");
    parse_fails("alloc_bulk -1\n", "bad count");
    parse_fails("alloc_bulk 99999999999\n", "bad count");
    parse_fails("sync now\n", "sync takes no arguments");
    parse_fails("free Pxyz\n", "bad protected slot");
    parse_fails("#!\n", "directive without a key");
    parse_fails("salloc\n", "salloc takes a slot size");
}

static void print_then_parse_gives_the_same_workload(void **state)
{
    const char *text = "#! page_size 1024\n"
                       "alloc\nalloc_bulk 2\nfree_bulk $1 $3 $3 0 P9\n"
                       "palloc_bulk 2\npbegin $4\npfill $4 0x10 3 4\n"
                       "pfill $4 0x11\npcommit $4\npwrite $5 0x20 abort\n"
                       "write $2 0x33\nsync\nreopen\niterate\ngrow 99\n"
                       "salloc 64\nsfree $6\nsfree_bulk $6 $6\n"
                       "free 0x4000000000000000\npfree_bulk $4 $5\n";
    struct mph_workload *a = parse_ok(text), *b;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    (void)state;
    assert_non_null(f);
    assert_int_equal(mph_workload_print(a, f), MP_OK);
    fclose(f);
    b = parse_ok(buf);
    assert_int_equal(a->nops, b->nops);
    assert_int_equal(a->nargs, b->nargs);
    assert_int_equal(a->nrefs, b->nrefs);
    for (size_t i = 0; i < a->nops; i++) {
        const struct mph_op *x = &a->ops[i], *y = &b->ops[i];
        assert_int_equal(x->kind, y->kind);
        assert_int_equal(x->count, y->count);
        assert_int_equal(x->byte, y->byte);
        assert_int_equal(x->off, y->off);
        assert_int_equal(x->len, y->len);
        assert_int_equal(x->commit, y->commit);
        assert_int_equal(x->size, y->size);
        assert_int_equal(x->nargs, y->nargs);
    }
    for (size_t i = 0; i < a->nargs; i++) {
        assert_int_equal(a->args[i].kind, b->args[i].kind);
        assert_true(a->args[i].value == b->args[i].value);
    }
    assert_string_equal(mph_workload_directive(b, "page_size"), "1024");
    free(buf);
    mph_workload_free(a);
    mph_workload_free(b);
}

static void prefix_keeps_directives_and_refs(void **state)
{
    struct mph_workload *w = parse_ok("#! k v\nalloc\nalloc\nfree $1\n"), *p;
    (void)state;
    assert_int_equal(mph_workload_prefix(w, 2, &p), MP_OK);
    assert_int_equal(p->nops, 2);
    assert_int_equal(p->nrefs, 2);
    assert_string_equal(mph_workload_directive(p, "k"), "v");
    assert_int_equal(mph_workload_set_directive(p, "k", "w"), MP_OK);
    assert_string_equal(mph_workload_directive(p, "k"), "w");
    assert_int_equal(mph_workload_set_directive(p, "bad key", "x"), MP_EINVAL);
    assert_int_equal(mph_workload_set_directive(p, "k", "a\nb"), MP_EINVAL);
    mph_workload_free(p);
    mph_workload_free(w);
}

static void builder_refuses_bad_ops(void **state)
{
    struct mph_workload *w;
    struct mph_op op;
    struct mph_arg a = { MPH_ARG_REF, 1 };
    (void)state;
    assert_int_equal(mph_workload_new(&w), MP_OK);
    memset(&op, 0, sizeof(op));
    op.kind = MPH_OP_FREE;
    assert_int_equal(mph_workload_add(w, &op, &a, 1), MP_EINVAL);
    op.kind = MPH_OP__COUNT;
    assert_int_equal(mph_workload_add(w, &op, NULL, 0), MP_EINVAL);
    op.kind = MPH_OP_ALLOC;
    assert_int_equal(mph_workload_add(w, &op, NULL, 0), MP_OK);
    op.kind = MPH_OP_FREE;
    assert_int_equal(mph_workload_add(w, &op, &a, 1), MP_OK);
    assert_int_equal(w->nops, 2);
    assert_string_equal(mph_op_name(MPH_OP_PWRITE), "pwrite");
    assert_string_equal(mph_op_name(-1), "?");
    mph_workload_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(refs_are_numbered_in_production_order),
        cmocka_unit_test(comments_blank_lines_and_directives),
        cmocka_unit_test(raw_ids_protected_slots_and_bytes),
        cmocka_unit_test(errors_name_the_line),
        cmocka_unit_test(print_then_parse_gives_the_same_workload),
        cmocka_unit_test(prefix_keeps_directives_and_refs),
        cmocka_unit_test(builder_refuses_bad_ops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
