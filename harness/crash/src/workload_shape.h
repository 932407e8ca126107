/*
 * workload_shape.h - what arguments each op takes, shared by the builder,
 * the parser and the printer.
 */
#ifndef MPH_WORKLOAD_SHAPE_H
#define MPH_WORKLOAD_SHAPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mph/workload.h"

enum mph__arg_shape {
    MPH__A_NONE,          /* op */
    MPH__A_ID,            /* op <id> */
    MPH__A_IDS,           /* op <id>... (zero or more) */
    MPH__A_COUNT,         /* op <n> */
    MPH__A_ID_BYTE,       /* op <id> <byte> */
    MPH__A_ID_BYTE_RANGE, /* op <id> <byte> [<off> <len>] */
    MPH__A_ID_BYTE_MODE,  /* op <id> <byte> [commit|abort] */
    MPH__A_SIZE,          /* op <slot size> */
    MPH__A_SIZE_COUNT,    /* op <slot size> <n> */
};

struct mph__op_shape {
    const char *name;
    int args;     /* enum mph__arg_shape */
    bool commits; /* changes allocation state through a commit */
};

const struct mph__op_shape *mph__shape(int kind);
/* The kind named by name[0, len), or -1. */
int mph__op_kind(const char *name, size_t len);
/* Refs an op produces, from its kind and count. */
uint64_t mph__op_refs(const struct mph_op *op);

#endif /* MPH_WORKLOAD_SHAPE_H */
