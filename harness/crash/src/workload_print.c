/*
 * workload_print.c - a workload back into the text format.
 */
#include <inttypes.h>
#include <stdio.h>

#include "mappedpages/pager.h"
#include "mph/workload.h"
#include "workload_shape.h"

static void print_id(FILE *f, const struct mph_arg *a)
{
    if (a->kind == MPH_ARG_REF) {
        fprintf(f, " $%" PRIu64, a->value);
    } else if ((a->value & MP_ID_KIND_MASK) == MP_ID_KIND_PROTECT) {
        fprintf(f, " P%" PRIu64, a->value & ~MP_ID_KIND_MASK);
    } else if (a->value > 0xffffffffu) {
        fprintf(f, " 0x%" PRIx64, a->value);
    } else {
        fprintf(f, " %" PRIu64, a->value);
    }
}

static void print_refs(FILE *f, const struct mph_op *op)
{
    if (op->nrefs == 0) {
        return;
    }
    fprintf(f, "  # -> $%" PRIu64, op->first_ref);
    if (op->nrefs > 1) {
        fprintf(f, "..$%" PRIu64, op->first_ref + op->nrefs - 1);
    }
}

int mph_workload_print(const struct mph_workload *w, FILE *f)
{
    for (size_t i = 0; i < w->ndirs; i++) {
        fprintf(f, "#! %s %s\n", w->dir_key[i], w->dir_val[i]);
    }
    for (size_t i = 0; i < w->nops; i++) {
        const struct mph_op *op = &w->ops[i];
        const struct mph__op_shape *sh = mph__shape(op->kind);
        const struct mph_arg *a = op->nargs ? w->args + op->first_arg : NULL;

        fputs(sh->name, f);
        for (size_t k = 0; k < op->nargs; k++) {
            print_id(f, &a[k]);
        }
        switch (sh->args) {
        case MPH__A_COUNT:
            fprintf(f, " %" PRIu64, op->count);
            break;
        case MPH__A_SIZE:
            fprintf(f, " %u", (unsigned)op->size);
            break;
        case MPH__A_SIZE_COUNT:
            fprintf(f, " %u %" PRIu64, (unsigned)op->size, op->count);
            break;
        case MPH__A_ID_BYTE:
            fprintf(f, " 0x%02x", op->byte);
            break;
        case MPH__A_ID_BYTE_RANGE:
            fprintf(f, " 0x%02x", op->byte);
            if (op->off || op->len) {
                fprintf(f, " %u %u", (unsigned)op->off, (unsigned)op->len);
            }
            break;
        case MPH__A_ID_BYTE_MODE:
            fprintf(f, " 0x%02x%s", op->byte, op->commit ? "" : " abort");
            break;
        default:
            break;
        }
        print_refs(f, op);
        fputc('\n', f);
    }
    return ferror(f) ? MP_EIO : MP_OK;
}
