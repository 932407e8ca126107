/*
 * test_crash_model.c - the reference model on its own: what it predicts, what
 * it accepts from a pager, what it records.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mph/model.h"

#define PS 1024

struct fx {
    struct mph_model *m;
    struct mph_workload *w;
};

static const struct mph_op *op_of(struct fx *f, const char *text)
{
    char err[256];
    mph_workload_free(f->w);
    f->w = NULL;
    assert_int_equal(
        mph_workload_parse(text, strlen(text), "t", &f->w, err, sizeof(err)),
        MP_OK);
    return &f->w->ops[f->w->nops - 1];
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    assert_int_equal(mph_model_new(PS, (uint64_t)16 << 20, &f->m), MP_OK);
    assert_int_equal(mph_model_start(f->m, 8), MP_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    mph_model_free(f->m);
    mph_workload_free(f->w);
    free(f);
    return 0;
}

/* Apply and return the rule of the difference (NONE if accepted). */
static int apply(struct fx *f, const struct mph_op *op, const uint64_t *ids,
                 int rc, const uint64_t *out, uint64_t pages)
{
    struct mph_diff d;
    mph_diff_clear(&d);
    assert_int_equal(mph_model_apply(f->m, op, ids, rc, out, pages, &d), MP_OK);
    return d.rule;
}

static void alloc_learns_the_page_and_refuses_a_taken_one(void **state)
{
    struct fx *f = *state;
    const struct mph_op *op = op_of(f, "alloc\n");
    uint64_t five = 5, two = 2;
    const struct mph_state *s;
    assert_int_equal(apply(f, op, NULL, MP_OK, &five, 8), MPH_RULE_NONE);
    assert_int_equal(apply(f, op, NULL, MP_OK, &five, 8), MPH_RULE_RUN);
    assert_int_equal(apply(f, op, NULL, MP_OK, &two, 8), MPH_RULE_RUN);
    assert_int_equal(apply(f, op, NULL, MP_EIO, NULL, 8), MPH_RULE_RUN);
    assert_int_equal(mph_model_snapshot(f->m), MP_OK);
    s = mph_model_state(f->m, 1);
    assert_int_equal(s->nreg, 1);
    assert_int_equal(s->reg[0], 5);
    assert_int_equal(s->page_count, 8);
}

static void free_errors_follow_the_contract(void **state)
{
    struct fx *f = *state;
    const struct mph_op *op = op_of(f, "free 0\n");
    int rc[4], n;
    uint64_t id;

    id = 1;
    mph_model_expect(f->m, op, &id, rc, &n);
    assert_int_equal(n, 1);
    assert_int_equal(rc[0], MP_ERESERVED);
    id = 8;
    mph_model_expect(f->m, op, &id, rc, &n);
    assert_int_equal(rc[0], MP_EOUTOFBOUNDS);
    id = MP_ID_KIND_PROTECT;
    mph_model_expect(f->m, op, &id, rc, &n);
    assert_int_equal(rc[0], MP_EWRONGKIND);
    /* In range but not a regular page: free or internal, both fine. */
    id = 6;
    mph_model_expect(f->m, op, &id, rc, &n);
    assert_int_equal(n, 2);
    assert_int_equal(apply(f, op, &id, MP_EINTERNAL, NULL, 8), MPH_RULE_NONE);
    assert_int_equal(apply(f, op, &id, MP_EDOUBLEFREE, NULL, 8), MPH_RULE_NONE);
    assert_int_equal(apply(f, op, &id, MP_OK, NULL, 8), MPH_RULE_RUN);
}

static void free_bulk_reports_duplicates_and_first_bad_id(void **state)
{
    struct fx *f = *state;
    const struct mph_op *op = op_of(f, "alloc_bulk 2\n");
    uint64_t pages[2] = { 5, 6 }, ids[3];
    int rc[4], n;

    assert_int_equal(apply(f, op, NULL, MP_OK, pages, 8), MPH_RULE_NONE);
    op = op_of(f, "free_bulk 0 0 0\n");
    ids[0] = 5;
    ids[1] = 6;
    ids[2] = 5;
    mph_model_expect(f->m, op, ids, rc, &n);
    assert_int_equal(n, 1);
    assert_int_equal(rc[0], MP_EDUPLICATE);
    ids[2] = 1;
    mph_model_expect(f->m, op, ids, rc, &n);
    assert_int_equal(rc[0], MP_ERESERVED);
    ids[2] = 7;
    mph_model_expect(f->m, op, ids, rc, &n);
    assert_int_equal(n, 2);
    op = op_of(f, "free_bulk\n");
    mph_model_expect(f->m, op, NULL, rc, &n);
    assert_int_equal(rc[0], MP_ECOUNT);
    /* Not ascending: refused. */
    op = op_of(f, "alloc_bulk 2\n");
    pages[0] = 7;
    pages[1] = 4;
    assert_int_equal(apply(f, op, NULL, MP_OK, pages, 8), MPH_RULE_RUN);
}

static void protected_slots_and_bytes(void **state)
{
    struct fx *f = *state;
    const struct mph_op *op = op_of(f, "palloc\n");
    uint64_t id = MP_ID_KIND_PROTECT | 1, p0 = MP_ID_KIND_PROTECT;
    const struct mph_state *a, *b;
    int rc[4], n;

    /* The lowest free slot is 0; anything else is a difference. */
    assert_int_equal(apply(f, op, NULL, MP_OK, &id, 16), MPH_RULE_RUN);
    assert_int_equal(apply(f, op, NULL, MP_OK, &p0, 16), MPH_RULE_NONE);
    assert_int_equal(mph_model_snapshot(f->m), MP_OK);
    op = op_of(f, "pcommit P0\n");
    mph_model_expect(f->m, op, &p0, rc, &n);
    assert_int_equal(rc[0], MP_ENOTSTAGED);
    op = op_of(f, "pwrite P0 0x42\n");
    assert_int_equal(apply(f, op, &p0, MP_OK, NULL, 16), MPH_RULE_NONE);
    assert_int_equal(mph_model_snapshot(f->m), MP_OK);
    a = mph_model_state(f->m, 1);
    b = mph_model_state(f->m, 2);
    assert_int_equal(a->nprot, 1);
    assert_int_equal(mph_model_blob(f->m, a->prot[0].blob)[7], 0);
    assert_int_equal(mph_model_blob(f->m, b->prot[0].blob)[7], 0x42);
    assert_false(mph_state_equal(f->m, a, b));
    assert_true(mph_state_equal(f->m, b, b));
    op = op_of(f, "pbegin P0\n");
    assert_int_equal(apply(f, op, &p0, MP_OK, NULL, 16), MPH_RULE_NONE);
    assert_true(mph_model_staged(f->m, 0));
    mph_model_expect(f->m, op, &p0, rc, &n);
    assert_int_equal(rc[0], MP_ESTAGED);
    op = op_of(f, "pfree P0\n");
    assert_int_equal(apply(f, op, &p0, MP_OK, NULL, 16), MPH_RULE_NONE);
    op = op_of(f, "pbegin P0\n");
    mph_model_expect(f->m, op, &p0, rc, &n);
    assert_int_equal(rc[0], MP_EDOUBLEFREE);
}

static void synced_bytes_become_durable(void **state)
{
    struct fx *f = *state;
    const struct mph_op *op = op_of(f, "alloc\n");
    uint64_t five = 5;
    const struct mph_state *s;

    assert_int_equal(apply(f, op, NULL, MP_OK, &five, 8), MPH_RULE_NONE);
    op = op_of(f, "write 5 0x33\n");
    assert_int_equal(apply(f, op, &five, MP_OK, NULL, 8), MPH_RULE_NONE);
    assert_int_equal(mph_model_snapshot(f->m), MP_OK);
    op = op_of(f, "sync\n");
    assert_int_equal(apply(f, op, NULL, MP_OK, NULL, 8), MPH_RULE_NONE);
    assert_int_equal(mph_model_snapshot(f->m), MP_OK);
    op = op_of(f, "write 5 0x44\n");
    assert_int_equal(apply(f, op, &five, MP_OK, NULL, 8), MPH_RULE_NONE);
    assert_int_equal(mph_model_snapshot(f->m), MP_OK);
    s = mph_model_state(f->m, 1);
    assert_int_equal(s->ndata, 1);
    assert_int_equal(s->data[0].flags, MPH_DATA_VOLATILE);
    s = mph_model_state(f->m, 2);
    assert_int_equal(s->data[0].flags, MPH_DATA_VOLATILE | MPH_DATA_DURABLE);
    assert_int_equal(s->data[0].dbyte, 0x33);
    s = mph_model_state(f->m, 3);
    assert_int_equal(s->data[0].flags, MPH_DATA_VOLATILE);
    assert_int_equal(s->data[0].vbyte, 0x44);
}

static void a_crash_forgets_what_was_not_synced(void **state)
{
    struct fx *f = *state;
    const struct mph_op *op = op_of(f, "alloc_bulk 2\n");
    uint64_t two[2] = { 5, 6 };
    const struct mph_state *s;

    assert_int_equal(apply(f, op, NULL, MP_OK, two, 8), MPH_RULE_NONE);
    op = op_of(f, "write 5 0x33\n");
    assert_int_equal(apply(f, op, &two[0], MP_OK, NULL, 8), MPH_RULE_NONE);
    op = op_of(f, "sync\n");
    assert_int_equal(apply(f, op, NULL, MP_OK, NULL, 8), MPH_RULE_NONE);
    op = op_of(f, "write 6 0x44\n");
    assert_int_equal(apply(f, op, &two[1], MP_OK, NULL, 8), MPH_RULE_NONE);
    op = op_of(f, "crash\n");
    assert_int_equal(op->kind, MPH_OP_CRASH);
    assert_int_equal(apply(f, op, NULL, MP_OK, NULL, 8), MPH_RULE_NONE);
    assert_int_equal(mph_model_snapshot(f->m), MP_OK);
    s = mph_model_state(f->m, 1);
    assert_int_equal(s->nreg, 2);  /* allocation survives: it was committed */
    assert_int_equal(s->ndata, 1); /* page 6 was never synced */
    assert_int_equal(s->data[0].page, 5);
    assert_int_equal(s->data[0].flags, MPH_DATA_VOLATILE | MPH_DATA_DURABLE);
    assert_int_equal(s->data[0].vbyte, 0x33);
    /* A write after the sync may have reached the disk in part. */
    op = op_of(f, "write 5 0x55\n");
    assert_int_equal(apply(f, op, &two[0], MP_OK, NULL, 8), MPH_RULE_NONE);
    op = op_of(f, "crash\n");
    assert_int_equal(apply(f, op, NULL, MP_OK, NULL, 8), MPH_RULE_NONE);
    assert_int_equal(mph_model_snapshot(f->m), MP_OK);
    assert_int_equal(mph_model_state(f->m, 2)->ndata, 0);
}

static void page_count_may_only_grow_in_commits(void **state)
{
    struct fx *f = *state;
    const struct mph_op *op = op_of(f, "sync\n");
    uint64_t five = 5;
    assert_int_equal(apply(f, op, NULL, MP_OK, NULL, 16), MPH_RULE_RUN);
    op = op_of(f, "alloc\n");
    assert_int_equal(apply(f, op, NULL, MP_OK, &five, 4), MPH_RULE_RUN);
    assert_int_equal(apply(f, op, NULL, MP_OK, &five, 16), MPH_RULE_NONE);
    op = op_of(f, "grow 100\n");
    assert_int_equal(apply(f, op, NULL, MP_OK, NULL, 64), MPH_RULE_RUN);
    assert_int_equal(apply(f, op, NULL, MP_OK, NULL, 128), MPH_RULE_NONE);
}

static void sub_pages_take_and_return_parents(void **state)
{
    struct fx *f = *state;
    const struct mph_op *op = op_of(f, "salloc 64\n");
    uint64_t tag = (uint64_t)(6u << 11) << MP_SUBPAGE_TAG_SHIFT;
    uint64_t id0 = MP_ID_KIND_SUBPAGE | tag | (5u << 6), id1 = id0 | 1;
    uint64_t bad = MP_ID_KIND_SUBPAGE | tag | (5u << 6) | 3;
    uint64_t *ids;
    size_t n, size;
    int rc[4], k;

    assert_int_equal(apply(f, op, NULL, MP_OK, &id0, 8), MPH_RULE_NONE);
    /* Parent 5 has free slots: the next slot must come from it. */
    assert_int_equal(apply(f, op, NULL, MP_OK, &bad, 8), MPH_RULE_RUN);
    assert_int_equal(apply(f, op, NULL, MP_OK, &id1, 8), MPH_RULE_NONE);
    assert_int_equal(mph_model_sub_count(f->m), 1);
    assert_int_equal(mph_model_sub_ids(f->m, 0, &size, &ids, &n), MP_OK);
    assert_int_equal(size, 64);
    assert_int_equal(n, 2);
    free(ids);
    op = op_of(f, "salloc 100\n");
    mph_model_expect(f->m, op, NULL, rc, &k);
    assert_int_equal(rc[0], MP_EPAGESIZE);
    op = op_of(f, "sfree 0\n");
    mph_model_expect(f->m, op, &bad, rc, &k);
    assert_int_equal(rc[0], MP_EDOUBLEFREE);
    assert_int_equal(apply(f, op, &id0, MP_OK, NULL, 8), MPH_RULE_NONE);
    assert_int_equal(apply(f, op, &id1, MP_OK, NULL, 8), MPH_RULE_NONE);
    assert_int_equal(mph_model_snapshot(f->m), MP_OK);
    /* The last slot went, so did the parent. */
    assert_int_equal(mph_model_state(f->m, 1)->nreg, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            alloc_learns_the_page_and_refuses_a_taken_one, setup, teardown),
        cmocka_unit_test_setup_teardown(free_errors_follow_the_contract, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            free_bulk_reports_duplicates_and_first_bad_id, setup, teardown),
        cmocka_unit_test_setup_teardown(protected_slots_and_bytes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(synced_bytes_become_durable, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_crash_forgets_what_was_not_synced,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(page_count_may_only_grow_in_commits,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(sub_pages_take_and_return_parents,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
