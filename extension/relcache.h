/*
 * relcache.h
 *	  Tables of the extension that C code reads or writes by index, without SQL: their OIDs,
 *	  an index each and the column numbers used, resolved by name once per backend.
 */
#ifndef LMS_RELCACHE_H
#define LMS_RELCACHE_H

#include "postgres.h"

/* One table of schema lms with the index used on it and the columns read or written. */
typedef struct LmsRel
{
	const char *table;
	const char *index;			/* an index of the table (its key, usually) */
	const char *const *columns; /* may be NULL when no column is needed */
	int			ncolumns;
	AttrNumber *atts;			/* out: attribute numbers of columns[] */
	Oid			relid;			/* out */
	Oid			indexid;		/* out */
} LmsRel;

/* The tables one C file uses; valid until a relcache invalidation touches one of them. */
typedef struct LmsRelSet
{
	LmsRel	   *rels;
	int			nrels;
	bool		valid;
	bool		registered;
} LmsRelSet;

extern void lms_relset_resolve(LmsRelSet *set);

#endif							/* LMS_RELCACHE_H */
