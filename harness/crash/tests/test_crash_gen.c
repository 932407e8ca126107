/*
 * test_crash_gen.c - the workload generator: deterministic from its seed, mix
 * and length respected, output readable by the parser.
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

#include "mph/gen.h"

static char *text_of(const struct mph_workload *w)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_int_equal(mph_workload_print(w, f), MP_OK);
    fclose(f);
    return buf;
}

static char *generate(const struct mph_gen_params *p)
{
    struct mph_workload *w;
    char *t;
    assert_int_equal(mph_gen_workload(p, &w), MP_OK);
    t = text_of(w);
    mph_workload_free(w);
    return t;
}

static void same_seed_same_workload(void **state)
{
    struct mph_gen_params p;
    char *a, *b, *c;
    (void)state;
    mph_gen_params_init(&p);
    p.seed = 42;
    p.nops = 200;
    a = generate(&p);
    b = generate(&p);
    p.seed = 43;
    c = generate(&p);
    assert_string_equal(a, b);
    assert_string_not_equal(a, c);
    free(a);
    free(b);
    free(c);
}

static void length_and_mix_are_respected(void **state)
{
    struct mph_gen_params p;
    struct mph_workload *w;
    (void)state;
    mph_gen_params_init(&p);
    p.nops = 123;
    assert_int_equal(mph_gen_parse_mix(&p, "alloc=1,free=1,bulk=0,prot=0,"
                                           "write=0,sync=0,reopen=0,"
                                           "iterate=0,grow=0,error=0"),
                     MP_OK);
    assert_int_equal(mph_gen_workload(&p, &w), MP_OK);
    assert_int_equal(w->nops, 123);
    for (size_t i = 0; i < w->nops; i++) {
        assert_true(w->ops[i].kind == MPH_OP_ALLOC ||
                    w->ops[i].kind == MPH_OP_FREE);
    }
    assert_non_null(mph_workload_directive(w, "gen.seed"));
    assert_string_equal(mph_workload_directive(w, "page_size"), "1024");
    mph_workload_free(w);
}

static void output_parses_back(void **state)
{
    struct mph_gen_params p;
    (void)state;
    mph_gen_params_init(&p);
    assert_int_equal(mph_gen_parse_mix(&p, "sub=2,error=3"), MP_OK);
    p.nops = 300;
    for (uint64_t s = 1; s <= 20; s++) {
        struct mph_workload *w;
        char err[256], *t;
        p.seed = s;
        t = generate(&p);
        assert_int_equal(
            mph_workload_parse(t, strlen(t), "gen", &w, err, sizeof(err)),
            MP_OK);
        assert_int_equal(w->nops, 300);
        mph_workload_free(w);
        free(t);
    }
}

static void bad_mixes_are_refused(void **state)
{
    struct mph_gen_params p;
    struct mph_workload *w;
    (void)state;
    mph_gen_params_init(&p);
    assert_int_equal(mph_gen_parse_mix(&p, "allocc=1"), MP_EINVAL);
    assert_int_equal(mph_gen_parse_mix(&p, "alloc"), MP_EINVAL);
    assert_int_equal(mph_gen_parse_mix(&p, "alloc=x"), MP_EINVAL);
    for (int k = 0; k < MPH_MIX__COUNT; k++) {
        p.weight[k] = 0;
    }
    assert_int_equal(mph_gen_workload(&p, &w), MP_EINVAL);
    assert_string_equal(mph_gen_mix_name(MPH_MIX_SUB), "sub");
    assert_null(mph_gen_mix_name(MPH_MIX__COUNT));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(same_seed_same_workload),
        cmocka_unit_test(length_and_mix_are_respected),
        cmocka_unit_test(output_parses_back),
        cmocka_unit_test(bad_mixes_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
