/*
 * error.c - messages and names for the MP_E* codes, generated from the one
 * list in mappedpages/error.h.
 */
#include "mappedpages/error.h"

const char *mp_strerror(int err)
{
    switch (err) {
#define MP__ERROR_MSG(name, value, msg) \
 case value:                            \
  return msg;
        MP_ERROR_MAP(MP__ERROR_MSG)
#undef MP__ERROR_MSG
    default:
        return "unknown error";
    }
}

const char *mp_error_name(int err)
{
    switch (err) {
#define MP__ERROR_NAME(name, value, msg) \
 case value:                             \
  return "MP_" #name;
        MP_ERROR_MAP(MP__ERROR_NAME)
#undef MP__ERROR_NAME
    default:
        return "MP_E?";
    }
}
