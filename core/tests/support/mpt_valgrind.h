/*
 * mpt_valgrind.h - RUNNING_ON_VALGRIND where valgrind's header is
 * installed, else 0: tests that enumerate thousands of crash images sample
 * them under memcheck, which checks memory, not coverage.
 */
#ifndef MPT_VALGRIND_H
#define MPT_VALGRIND_H

#if defined(__has_include)
# if __has_include(<valgrind/valgrind.h>)
#  include <valgrind/valgrind.h>
# endif
#endif
#ifndef RUNNING_ON_VALGRIND
# define RUNNING_ON_VALGRIND 0
#endif

#endif /* MPT_VALGRIND_H */
