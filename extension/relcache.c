/*
 * relcache.c
 *	  Resolution of the tables, indexes and columns that C hot paths use directly (progress,
 *	  GET /gamification/me, board reads). Resolved by name once per backend and forgotten on any
 *	  relcache invalidation of one of them (DDL, DROP/CREATE EXTENSION in the same session), so
 *	  no lookup ever uses a stale OID. One relcache callback serves every set: PostgreSQL allows
 *	  only a few per backend.
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"

#include "relcache.h"

#define MAX_SETS 8

static LmsRelSet *sets[MAX_SETS];
static int	nsets = 0;
static bool callback_registered = false;

/*
 * Forget every set holding the invalidated relation (all of them on a full reset).
 */
static void
relsets_invalidate(Datum arg, Oid relid)
{
	int			s,
				i;

	for (s = 0; s < nsets; s++)
	{
		LmsRelSet  *set = sets[s];

		if (!OidIsValid(relid))
		{
			set->valid = false;
			continue;
		}
		for (i = 0; i < set->nrels; i++)
			if (relid == set->rels[i].relid || relid == set->rels[i].indexid)
				set->valid = false;
	}
}

/*
 * Resolve a set unless it is still valid; an object that is missing is a broken install.
 */
void
lms_relset_resolve(LmsRelSet *set)
{
	Oid			nsp;
	int			i,
				c;

	if (set->valid)
		return;
	if (!callback_registered)
	{
		CacheRegisterRelcacheCallback(relsets_invalidate, (Datum) 0);
		callback_registered = true;
	}
	if (!set->registered)
	{
		if (nsets == MAX_SETS)
			elog(ERROR, "too many relation sets");
		sets[nsets++] = set;
		set->registered = true;
	}
	nsp = get_namespace_oid("lms", false);
	for (i = 0; i < set->nrels; i++)
	{
		LmsRel	   *r = &set->rels[i];

		r->relid = get_relname_relid(r->table, nsp);
		r->indexid = get_relname_relid(r->index, nsp);
		if (!OidIsValid(r->relid) || !OidIsValid(r->indexid))
			elog(ERROR, "relation lms.%s or its index lms.%s not found", r->table, r->index);
		for (c = 0; c < r->ncolumns; c++)
		{
			r->atts[c] = get_attnum(r->relid, r->columns[c]);
			if (r->atts[c] == InvalidAttrNumber)
				elog(ERROR, "column lms.%s.%s not found", r->table, r->columns[c]);
		}
	}
	set->valid = true;
}
