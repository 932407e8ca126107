/*
 * mappedpages.h - the one header users include.
 *
 * A crash-consistent, memory-mapped file of fixed-size pages. See
 * mappedpages/pager.h for the model, FORMAT.md for the bytes on disk.
 */
#ifndef MAPPEDPAGES_H
#define MAPPEDPAGES_H

#include "mappedpages/error.h"
#include "mappedpages/io.h"
#include "mappedpages/pager.h"
#include "mappedpages/protected.h"
#include "mappedpages/iter.h"
#include "mappedpages/shared.h"
#include "mappedpages/typed.h"
#include "mappedpages/subpage.h"
#include "mappedpages/allocator.h"

#endif /* MAPPEDPAGES_H */
