/*
 * mutant.h - deliberate protocol bugs, for testing the tester.
 *
 * A test-only build sets MP_MUTANT_ID to one of the numbers below; every
 * production build has 0, so each `if (MP_MUTANT(X))` folds to nothing but
 * is still compiled and type-checked. The crash-state explorer must report a
 * violation for every mutant and none for 0.
 */
#ifndef MP_MUTANT_H
#define MP_MUTANT_H

#ifndef MP_MUTANT_ID
# define MP_MUTANT_ID 0
#endif

#define MP_MUTANT(n) (MP_MUTANT_ID == (n))

#define MP_MUT_SKIP_META_SYNC          1 /* omit barrier 1 */
#define MP_MUT_FLIP_BEFORE_DURABLE     2 /* record written before barrier 1 */
#define MP_MUT_META_IN_PLACE           3 /* metadata into the live copy */
#define MP_MUT_SKIP_GROW_FSYNC         4 /* no sync_file after growth */
#define MP_MUT_TRUST_SELECTOR          5 /* recovery trusts the record blindly */
#define MP_MUT_PROTECTED_NO_DATA_SYNC  6  /* staging page not in barrier 1 */
#define MP_MUT_DIR_IN_PLACE            7  /* directory block into live copy */
#define MP_MUT_NODE_IN_PLACE           8  /* map leaf into live copy */
#define MP_MUT_HEADER_SINGLE_COPY      9  /* page 0's header only (v1) */
#define MP_MUT_IGNORE_DEVICE           10 /* pages below the unit allowed */
#define MP_MUT_NO_RECORD_REPAIR        11 /* torn record left unrepaired */
#define MP_MUT_ONE_FLUSH_NO_PROT_CHECK 12 /* one-flush: no generation check */
#define MP_MUT_ONE_FLUSH_TRUST_NEWEST  13 /* one-flush: newest, no fallback */
#define MP_MUT_ONE_FLUSH_NO_INVALIDATE 14 /* one-flush: no wipe on bad sync */
#define MP_MUT_COUNT                   14

#endif /* MP_MUTANT_H */
