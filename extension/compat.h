/*
 * compat.h
 *	  The PostgreSQL server functions whose signatures changed between major versions, as used by
 *	  direct.c (the only file that calls them). Built and tested on 15; the 16+ branches follow
 *	  the server headers of those versions (simple_heap_update reports which indexes need
 *	  entries since 16, ExecInsertIndexTuples takes onlySummarizing since 16, index_beginscan
 *	  takes instrumentation since 18).
 */
#ifndef LMS_COMPAT_H
#define LMS_COMPAT_H

#include "postgres.h"
#include "access/genam.h"
#include "access/heapam.h"
#include "access/tableam.h"
#include "executor/executor.h"

#if PG_VERSION_NUM < 150000
#error "lms needs PostgreSQL 15 or later"
#endif

/*
 * Update a heap tuple in place of the one at tid (the caller holds its tuple lock). Returns true
 * when the new version needs index entries (not a HOT update); *summarizing_only is true when
 * only summarizing indexes (BRIN) need them.
 */
static inline bool
lms_heap_update(Relation rel, ItemPointer tid, HeapTuple newtup, bool *summarizing_only)
{
#if PG_VERSION_NUM >= 160000
	TU_UpdateIndexes update_indexes;

	simple_heap_update(rel, tid, newtup, &update_indexes);
	*summarizing_only = (update_indexes == TU_Summarizing);
	return update_indexes != TU_None;
#else
	simple_heap_update(rel, tid, newtup);
	*summarizing_only = false;
	return !HeapTupleIsHeapOnly(newtup);
#endif
}

/* Index entries for a new tuple version, unique and exclusion constraints checked. */
static inline void
lms_insert_index_tuples(ResultRelInfo *rri, TupleTableSlot *slot, EState *estate,
						bool summarizing_only)
{
	/* update = false: only a hint (indexUnchanged) that needs a range table */
#if PG_VERSION_NUM >= 160000
	(void) ExecInsertIndexTuples(rri, slot, estate, false, false, NULL, NIL, summarizing_only);
#else
	(void) ExecInsertIndexTuples(rri, slot, estate, false, false, NULL, NIL);
#endif
}

static inline IndexScanDesc
lms_index_beginscan(Relation heap, Relation index, Snapshot snap, int nkeys)
{
#if PG_VERSION_NUM >= 180000
	return index_beginscan(heap, index, snap, NULL, nkeys, 0);
#else
	return index_beginscan(heap, index, snap, nkeys, 0);
#endif
}

#endif							/* LMS_COMPAT_H */
