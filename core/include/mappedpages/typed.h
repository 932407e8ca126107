/*
 * mappedpages/typed.h - page-size safety at compile time.
 *
 * A file has one page size, and an id only means something to a pager of
 * that size. MP_DECLARE_PAGE_SIZE(N) gives size N its own types, so that
 * mixing sizes (or kinds) is a compile error instead of a run-time one:
 *
 *   mp_pager_N           { mp_pager *p; }        a pager of page size N
 *   mp_pgno_N            { mp_pgno v; }          a regular page of it
 *   mp_protected_id_N    { mp_protected_id v; }  a protected page of it
 *   mp_page_iter_N       iterator over its regular pages
 *   mp_protected_iter_N  iterator over its protected pages
 *
 * and static inline wrappers over the untyped calls that pass N where the
 * untyped call wants a size. Each type is a one-member struct passed by
 * value: a struct of another size or kind is an incompatible type, a hard
 * error in every C compiler (no warning flag needed); an out-pointer of
 * another size is an incompatible pointer, an error with
 * -Werror=incompatible-pointer-types (which the project's builds use) and
 * by default from gcc 14. The wrappers add nothing at run time: each is a
 * tail call into the untyped function.
 *
 * The size is checked when the macro expands: _Static_assert refuses an N
 * that is not a power of two, below 1024 (MP_PAGE_SIZE_MIN) or above
 * 16777216 (MP_PAGE_SIZE_MAX), each with its own message. At run time
 * create/open pass N to the pager, so a file of another page size is
 * refused with MP_EPAGESIZE, and mp_pager_N_wrap() checks an untyped pager.
 *
 * Usage, once per translation unit (at file scope; put it in one project
 * header with an include guard if several files need it):
 *
 *   MP_DECLARE_PAGE_SIZE(4096);
 *
 *   mp_pager_4096 pg;
 *   mp_pgno_4096 id;
 *   rc = mp_pager_4096_create("data.mp", NULL, &pg);
 *   rc = mp_pager_4096_alloc(pg, &id);
 *
 * N must be a decimal integer constant without suffix (or a macro that
 * expands to one), because it becomes part of the names.
 *
 * Every wrapper returns what the untyped call of the same name returns and
 * has its errors, ownership, lifetime and thread rules (pager.h,
 * protected.h, iter.h). The .p/.v members are public on purpose: ids come
 * back from the caller's own storage (mp_pgno_N_from()), and code that
 * needs an untyped call can reach the pager.
 */
#ifndef MAPPEDPAGES_TYPED_H
#define MAPPEDPAGES_TYPED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mappedpages/iter.h"
#include "mappedpages/pager.h"
#include "mappedpages/protected.h"

#ifdef __cplusplus
# define MP__STATIC_ASSERT static_assert
#else
# define MP__STATIC_ASSERT _Static_assert
#endif

#if defined(__GNUC__) || defined(__clang__)
/* A unit that declares a size but calls only some wrappers must not warn. */
# define MP__TYPED_FN static inline __attribute__((unused))
#else
# define MP__TYPED_FN static inline
#endif

/* The limits below are spelled as literals so that a negative N cannot
 * pass by conversion to size_t; keep them in step with pager.h. */
MP__STATIC_ASSERT(MP_PAGE_SIZE_MIN == 1024 && MP_PAGE_SIZE_MAX == 16777216,
                  "mappedpages/typed.h: page size limits out of step");

/**
 * Declare the types and wrappers for page size N (see the top of this
 * file). Expands to file-scope declarations; write a semicolon after it.
 */
#define MP_DECLARE_PAGE_SIZE(N) MP__DECLARE_PAGE_SIZE(N)

/* Indirection so that a macro argument is expanded before ## pastes it. */
#define MP__DECLARE_PAGE_SIZE(N)                                               \
 MP__STATIC_ASSERT(((N) & ((N)-1)) == 0,                                       \
                   "mappedpages: MP_DECLARE_PAGE_SIZE(" #N                     \
                   "): the page size must be a power of two");                 \
 MP__STATIC_ASSERT((N) >= 1024, "mappedpages: MP_DECLARE_PAGE_SIZE(" #N        \
                                "): the page size must be at least 1024");     \
 MP__STATIC_ASSERT((N) <= 16777216,                                            \
                   "mappedpages: MP_DECLARE_PAGE_SIZE(" #N                     \
                   "): the page size must be at most 16777216");               \
                                                                               \
 typedef struct mp_pager_##N {                                                 \
  mp_pager *p;                                                                 \
 } mp_pager_##N;                                                               \
 typedef struct mp_pgno_##N {                                                  \
  mp_pgno v;                                                                   \
 } mp_pgno_##N;                                                                \
 typedef struct mp_protected_id_##N {                                          \
  mp_protected_id v;                                                           \
 } mp_protected_id_##N;                                                        \
 typedef struct mp_page_iter_##N {                                             \
  mp_iter priv;                                                                \
 } mp_page_iter_##N;                                                           \
 typedef struct mp_protected_iter_##N {                                        \
  mp_iter priv;                                                                \
 } mp_protected_iter_##N;                                                      \
 /* The bulk wrappers pass arrays of ids to the untyped calls as arrays of     \
  * uint64_t: same size, no padding, same representation. */                   \
 MP__STATIC_ASSERT(sizeof(mp_pgno_##N) == sizeof(mp_pgno) &&                   \
                       sizeof(mp_protected_id_##N) == sizeof(mp_protected_id), \
                   "mappedpages: typed ids must be bare integers");            \
                                                                               \
 /** A typed id from a number kept by the caller; validated when used. */      \
 MP__TYPED_FN mp_pgno_##N mp_pgno_##N##_from(mp_pgno v)                        \
 {                                                                             \
  mp_pgno_##N id = { v };                                                      \
  return id;                                                                   \
 }                                                                             \
 MP__TYPED_FN mp_protected_id_##N mp_protected_id_##N##_from(                  \
     mp_protected_id v)                                                        \
 {                                                                             \
  mp_protected_id_##N id = { v };                                              \
  return id;                                                                   \
 }                                                                             \
                                                                               \
 /** mp_pager_create() with page size N. */                                    \
 MP__TYPED_FN MP_NODISCARD int mp_pager_##N##_create(                          \
     const char *path, const struct mp_options *opt, mp_pager_##N *out)        \
 {                                                                             \
  return mp_pager_create(path, (N), opt, out ? &out->p : NULL);                \
 }                                                                             \
 /** mp_pager_open() expecting page size N: MP_EPAGESIZE otherwise. */         \
 MP__TYPED_FN MP_NODISCARD int mp_pager_##N##_open(                            \
     const char *path, const struct mp_options *opt, mp_pager_##N *out)        \
 {                                                                             \
  return mp_pager_open(path, (N), opt, out ? &out->p : NULL);                  \
 }                                                                             \
 /**                                                                           \
  * Type an open untyped pager. MP_EINVAL (NULL), MP_EPAGESIZE (its page       \
  * size is not N). The typed pager borrows it: close one or the other,        \
  * once.                                                                      \
  */                                                                           \
 MP__TYPED_FN MP_NODISCARD int mp_pager_##N##_wrap(mp_pager *pager,            \
                                                   mp_pager_##N *out)          \
 {                                                                             \
  if (!pager || !out) {                                                        \
   return MP_EINVAL;                                                           \
  }                                                                            \
  if (mp_pager_page_size(pager) != (size_t)(N)) {                              \
   return MP_EPAGESIZE;                                                        \
  }                                                                            \
  out->p = pager;                                                              \
  return MP_OK;                                                                \
 }                                                                             \
 MP__TYPED_FN int mp_pager_##N##_close(mp_pager_##N pager)                     \
 {                                                                             \
  return mp_pager_close(pager.p);                                              \
 }                                                                             \
 MP__TYPED_FN uint64_t mp_pager_##N##_page_count(mp_pager_##N pager)           \
 {                                                                             \
  return mp_pager_page_count(pager.p);                                         \
 }                                                                             \
 MP__TYPED_FN uint64_t mp_pager_##N##_free_count(mp_pager_##N pager)           \
 {                                                                             \
  return mp_pager_free_count(pager.p);                                         \
 }                                                                             \
 MP__TYPED_FN MP_NODISCARD int mp_pager_##N##_alloc(mp_pager_##N pager,        \
                                                    mp_pgno_##N *out)          \
 {                                                                             \
  return mp_pager_alloc(pager.p, out ? &out->v : NULL);                        \
 }                                                                             \
 MP__TYPED_FN MP_NODISCARD int mp_pager_##N##_free(mp_pager_##N pager,         \
                                                   mp_pgno_##N page)           \
 {                                                                             \
  return mp_pager_free(pager.p, page.v);                                       \
 }                                                                             \
 MP__TYPED_FN MP_NODISCARD int mp_pager_##N##_alloc_bulk(                      \
     mp_pager_##N pager, size_t count, mp_pgno_##N *out)                       \
 {                                                                             \
  return mp_pager_alloc_bulk(pager.p, count, (mp_pgno *)out);                  \
 }                                                                             \
 MP__TYPED_FN MP_NODISCARD int mp_pager_##N##_free_bulk(                       \
     mp_pager_##N pager, const mp_pgno_##N *pages, size_t count)               \
 {                                                                             \
  return mp_pager_free_bulk(pager.p, (const mp_pgno *)pages, count);           \
 }                                                                             \
 MP__TYPED_FN MP_NODISCARD int mp_pager_##N##_grow(mp_pager_##N pager,         \
                                                   uint64_t min_pages)         \
 {                                                                             \
  return mp_pager_grow(pager.p, min_pages);                                    \
 }                                                                             \
 MP__TYPED_FN MP_NODISCARD int mp_pager_##N##_get(                             \
     mp_pager_##N pager, mp_pgno_##N page, const void **out)                   \
 {                                                                             \
  return mp_pager_get(pager.p, page.v, out);                                   \
 }                                                                             \
 MP__TYPED_FN MP_NODISCARD int mp_pager_##N##_get_mut(                         \
     mp_pager_##N pager, mp_pgno_##N page, void **out)                         \
 {                                                                             \
  return mp_pager_get_mut(pager.p, page.v, out);                               \
 }                                                                             \
 /** mp_pager_sync_pages(); first 0 with count 0 syncs the whole file. */      \
 MP__TYPED_FN MP_NODISCARD int mp_pager_##N##_sync_pages(                      \
     mp_pager_##N pager, mp_pgno_##N first, uint64_t count)                    \
 {                                                                             \
  return mp_pager_sync_pages(pager.p, first.v, count);                         \
 }                                                                             \
                                                                               \
 MP__TYPED_FN MP_NODISCARD int mp_protected_##N##_alloc(                       \
     mp_pager_##N pager, mp_protected_id_##N *out)                             \
 {                                                                             \
  return mp_protected_alloc(pager.p, out ? &out->v : NULL);                    \
 }                                                                             \
 MP__TYPED_FN MP_NODISCARD int mp_protected_##N##_free(mp_pager_##N pager,     \
                                                       mp_protected_id_##N id) \
 {                                                                             \
  return mp_protected_free(pager.p, id.v);                                     \
 }                                                                             \
 MP__TYPED_FN MP_NODISCARD int mp_protected_##N##_alloc_bulk(                  \
     mp_pager_##N pager, size_t count, mp_protected_id_##N *out)               \
 {                                                                             \
  return mp_protected_alloc_bulk(pager.p, count, (mp_protected_id *)out);      \
 }                                                                             \
 MP__TYPED_FN MP_NODISCARD int mp_protected_##N##_free_bulk(                   \
     mp_pager_##N pager, const mp_protected_id_##N *ids, size_t count)         \
 {                                                                             \
  return mp_protected_free_bulk(pager.p, (const mp_protected_id *)ids, count); \
 }                                                                             \
 MP__TYPED_FN MP_NODISCARD int mp_protected_##N##_get(                         \
     mp_pager_##N pager, mp_protected_id_##N id, const void **out)             \
 {                                                                             \
  return mp_protected_get(pager.p, id.v, out);                                 \
 }                                                                             \
 MP__TYPED_FN MP_NODISCARD int mp_protected_##N##_begin(                       \
     mp_pager_##N pager, mp_protected_id_##N id, void **staging)               \
 {                                                                             \
  return mp_protected_begin(pager.p, id.v, staging);                           \
 }                                                                             \
 MP__TYPED_FN MP_NODISCARD int mp_protected_##N##_commit(                      \
     mp_pager_##N pager, mp_protected_id_##N id)                               \
 {                                                                             \
  return mp_protected_commit(pager.p, id.v);                                   \
 }                                                                             \
 MP__TYPED_FN MP_NODISCARD int mp_protected_##N##_abort(                       \
     mp_pager_##N pager, mp_protected_id_##N id)                               \
 {                                                                             \
  return mp_protected_abort(pager.p, id.v);                                    \
 }                                                                             \
 MP__TYPED_FN uint64_t mp_protected_##N##_count(mp_pager_##N pager)            \
 {                                                                             \
  return mp_protected_count(pager.p);                                          \
 }                                                                             \
                                                                               \
 MP__TYPED_FN MP_NODISCARD int mp_page_iter_##N##_start(mp_page_iter_##N *it,  \
                                                        mp_pager_##N pager)    \
 {                                                                             \
  return mp_iter_pages(it ? &it->priv : NULL, pager.p);                        \
 }                                                                             \
 MP__TYPED_FN bool mp_page_iter_##N##_next(mp_page_iter_##N *it,               \
                                           mp_pgno_##N *out)                   \
 {                                                                             \
  return mp_iter_next(it ? &it->priv : NULL, out ? &out->v : NULL);            \
 }                                                                             \
 MP__TYPED_FN void mp_page_iter_##N##_finish(mp_page_iter_##N *it)             \
 {                                                                             \
  mp_iter_finish(it ? &it->priv : NULL);                                       \
 }                                                                             \
 MP__TYPED_FN MP_NODISCARD int mp_protected_iter_##N##_start(                  \
     mp_protected_iter_##N *it, mp_pager_##N pager)                            \
 {                                                                             \
  return mp_iter_protected(it ? &it->priv : NULL, pager.p);                    \
 }                                                                             \
 MP__TYPED_FN bool mp_protected_iter_##N##_next(mp_protected_iter_##N *it,     \
                                                mp_protected_id_##N *out)      \
 {                                                                             \
  return mp_iter_next(it ? &it->priv : NULL, out ? &out->v : NULL);            \
 }                                                                             \
 MP__TYPED_FN void mp_protected_iter_##N##_finish(mp_protected_iter_##N *it)   \
 {                                                                             \
  mp_iter_finish(it ? &it->priv : NULL);                                       \
 }                                                                             \
 /* Ends the expansion on a declaration so that the caller's ';' is needed     \
  * and legal at file scope. */                                                \
 MP__STATIC_ASSERT((N) == (N), "")

#endif /* MAPPEDPAGES_TYPED_H */
