/*
 * direct.c
 *	  The extension's tables read, and one of them written, without SQL. The only file that calls
 *	  heap and index access methods (through compat.h where their signatures differ by version).
 *
 * Why: the hottest paths (the progress write, GET /gamification/me, board pages and ranks) read a
 * handful of rows by key; through SQL, the executor's start-up of each statement cost more than
 * the lookups themselves. And the progress write's last-activity update of the enrollment,
 * through SQL, re-planned every CHECK constraint of lms.enrollments on each call.
 *
 * The fence: everything the code assumes of a table is written down here (the columns it uses
 * and their types, each index's exact definition: key columns in order, direction, predicate,
 * uniqueness) and verified when the table is resolved, by name, once per backend and again
 * after any relcache invalidation of the table or its indexes (DDL, DROP/CREATE EXTENSION in
 * the same session). A difference is an error naming the assumption, never a silent misread.
 * The direct write checks more: no trigger on UPDATE but foreign-key triggers and UPDATE OF
 * triggers that cannot fire for the columns it writes, no foreign key and no CHECK constraint on those columns except
 * the ones listed here and enforced here, no generated column, no row security, a heap table.
 * When that does not hold, lms_update_locked says so and the caller writes through SQL.
 * One relcache callback serves every table: PostgreSQL allows only a few per backend.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/itup.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/visibilitymap.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_index.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "nodes/makefuncs.h"
#include "optimizer/optimizer.h"
#include "storage/bufmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/ruleutils.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "compat.h"
#include "direct.h"

#define MAX_COLUMNS 12
#define MAX_INDEX_KEYS 5

typedef struct ColumnSpec
{
	const char *name;
	Oid			type;
	bool		optional;		/* added by a later version: absent before ALTER EXTENSION UPDATE */
} ColumnSpec;

/* A CHECK constraint on a written column that this file enforces itself (an int4 minimum). */
typedef struct KnownCheck
{
	int			column;
	const char *expression;		/* as deparsed: "(last_position_seconds >= 0)" */
	int32		minimum;
} KnownCheck;

typedef struct TableDef
{
	const char *name;
	const ColumnSpec *columns;
	int			ncolumns;
	uint32		writable;		/* bit per column lms_update_locked may write */
	const KnownCheck *checks;
	int			nchecks;
} TableDef;

typedef struct IndexDef
{
	const char *name;
	LmsTable	table;
	const char *definition;		/* as index_definition() describes it */
} IndexDef;

#define COLUMNS(a) a, lengthof(a)

static const ColumnSpec lessons_columns[] = {
	[LESSON_ID] = {"id", INT8OID}, [LESSON_KIND] = {"kind", TEXTOID},
	[LESSON_DURATION] = {"duration_seconds", INT4OID}, [LESSON_POINTS] = {"points", INT4OID},
	[LESSON_MODULE] = {"module_id", INT8OID}, [LESSON_COURSE] = {"course_id", INT8OID},
	[LESSON_PUBLISHED] = {"is_published", BOOLOID}, [LESSON_AVAILABLE] = {"available_from", TIMESTAMPTZOID},
};
static const ColumnSpec courses_columns[] = {
	[COURSE_ID] = {"id", INT8OID}, [COURSE_PUBLISHED] = {"is_published", BOOLOID},
	[COURSE_LESSON_COUNT] = {"lesson_count", INT4OID},
};
static const ColumnSpec enrollments_columns[] = {
	[ENROLLMENT_ID] = {"id", INT8OID}, [ENROLLMENT_USER] = {"user_id", INT8OID},
	[ENROLLMENT_COURSE] = {"course_id", INT8OID}, [ENROLLMENT_STATUS] = {"status", TEXTOID},
	[ENROLLMENT_EXPIRES] = {"expires_at", TIMESTAMPTZOID},
	[ENROLLMENT_COMPLETED] = {"completed_lessons", INT4OID},
	[ENROLLMENT_LAST_AT] = {"last_activity_at", TIMESTAMPTZOID},
	[ENROLLMENT_LAST_LESSON] = {"last_lesson_id", INT8OID},
	[ENROLLMENT_LAST_POSITION] = {"last_position_seconds", INT4OID},
	[ENROLLMENT_LAST_HOUR] = {"last_active_hour", INT8OID, true},
};
static const KnownCheck enrollments_checks[] = {
	{ENROLLMENT_LAST_POSITION, "(last_position_seconds >= 0)", 0},
};
static const ColumnSpec progress_columns[] = {
	[PROGRESS_USER] = {"user_id", INT8OID}, [PROGRESS_LESSON] = {"lesson_id", INT8OID},
	[PROGRESS_COMPLETED] = {"is_completed", BOOLOID},
	[PROGRESS_PERCENT] = {"completion_percentage", NUMERICOID},
};
static const ColumnSpec users_columns[] = {
	[USER_ID] = {"id", INT8OID}, [USER_TIMEZONE] = {"timezone", TEXTOID},
	[USER_ROLE] = {"role", TEXTOID}, [USER_STATUS] = {"status", TEXTOID},
};
static const ColumnSpec scores_columns[] = {
	[SCORES_USER] = {"user_id", INT8OID}, [SCORES_TOTAL] = {"total_points", INT8OID},
	[SCORES_LEVEL] = {"level", INT4OID}, [SCORES_CURRENT] = {"current_streak", INT4OID},
	[SCORES_LONGEST] = {"longest_streak", INT4OID}, [SCORES_LAST_DAY] = {"last_activity_date", DATEOID},
};
static const ColumnSpec user_achievements_columns[] = {
	[UA_USER] = {"user_id", INT8OID}, [UA_ACHIEVEMENT] = {"achievement_id", INT8OID},
	[UA_AWARDED_AT] = {"awarded_at", TIMESTAMPTZOID},
};
static const ColumnSpec achievements_columns[] = {
	[ACH_ID] = {"id", INT8OID}, [ACH_CODE] = {"code", TEXTOID}, [ACH_TITLE] = {"title", TEXTOID},
};
static const ColumnSpec entries_columns[] = {
	[ENTRY_BOARD] = {"board", TEXTOID}, [ENTRY_WIN] = {"win", TEXTOID},
	[ENTRY_USER] = {"user_id", INT8OID}, [ENTRY_POINTS] = {"points", INT8OID},
	[ENTRY_NAME] = {"display_name", TEXTOID}, [ENTRY_LEVEL] = {"level", INT4OID},
	[ENTRY_REACHED] = {"reached_at", TIMESTAMPTZOID},
};
static const ColumnSpec buckets_columns[] = {
	[BUCKET_BOARD] = {"board", TEXTOID}, [BUCKET_WIN] = {"win", TEXTOID},
	[BUCKET_POINTS] = {"points", INT8OID}, [BUCKET_ABOVE] = {"above", INT8OID},
};

static const ColumnSpec sessions_columns[] = {
	[SESSION_HASH] = {"token_hash", BYTEAOID}, [SESSION_USER] = {"user_id", INT8OID},
	[SESSION_EXPIRES] = {"expires_at", TIMESTAMPTZOID}, [SESSION_REVOKED] = {"revoked_at", TIMESTAMPTZOID},
};

static const ColumnSpec boards_columns[] = {
	[BOARD_NAME] = {"board", TEXTOID}, [BOARD_WIN] = {"win", TEXTOID},
	[BOARD_PERIOD] = {"period_start", DATEOID}, [BOARD_GENERATED] = {"generated_at", TIMESTAMPTZOID},
	[BOARD_TOTAL] = {"total", INT8OID},
};

static const ColumnSpec slots_columns[] = {
	[SLOT_BOARD] = {"board", TEXTOID}, [SLOT_WIN] = {"win", TEXTOID}, [SLOT_POINTS] = {"points", INT8OID},
	[SLOT_SLOT] = {"slot", INT8OID}, [SLOT_LEARNERS] = {"learners", INT8OID},
};

static const ColumnSpec parts_columns[] = {
	[PART_BOARD] = {"board", TEXTOID}, [PART_WIN] = {"win", TEXTOID}, [PART_POINTS] = {"points", INT8OID},
	[PART_REACHED] = {"reached_at", TIMESTAMPTZOID}, [PART_PART] = {"part", INT8OID},
	[PART_SHIFT] = {"shift", INT4OID}, [PART_LEARNERS] = {"learners", INT8OID},
};

static const ColumnSpec modules_columns[] = {
	[MODULE_ID] = {"id", INT8OID}, [MODULE_COURSE] = {"course_id", INT8OID}, [MODULE_TITLE] = {"title", TEXTOID},
	[MODULE_POSITION] = {"position", INT4OID}, [MODULE_LESSON_COUNT] = {"lesson_count", INT4OID},
};
static const ColumnSpec module_progress_columns[] = {
	[MP_USER] = {"user_id", INT8OID}, [MP_MODULE] = {"module_id", INT8OID},
	[MP_COMPLETED] = {"completed_lessons", INT4OID},
};

static const TableDef tables[LMS_NTABLES] = {
	[LMS_LESSONS] = {"lessons", COLUMNS(lessons_columns)},
	[LMS_COURSES] = {"courses", COLUMNS(courses_columns)},
	[LMS_ENROLLMENTS] = {"enrollments", COLUMNS(enrollments_columns),
		(1 << ENROLLMENT_LAST_AT) | (1 << ENROLLMENT_LAST_LESSON) | (1 << ENROLLMENT_LAST_POSITION) |
		(1 << ENROLLMENT_LAST_HOUR),
	COLUMNS(enrollments_checks)},
	[LMS_LESSON_PROGRESS] = {"lesson_progress", COLUMNS(progress_columns)},
	[LMS_USERS] = {"users", COLUMNS(users_columns)},
	[LMS_LEARNER_SCORES] = {"learner_scores", COLUMNS(scores_columns)},
	[LMS_USER_ACHIEVEMENTS] = {"user_achievements", COLUMNS(user_achievements_columns)},
	[LMS_ACHIEVEMENTS] = {"achievements", COLUMNS(achievements_columns)},
	[LMS_BOARD_ENTRIES] = {"board_entries", COLUMNS(entries_columns)},
	[LMS_BOARD_COUNTS] = {"board_counts", COLUMNS(buckets_columns)},
	[LMS_SESSIONS] = {"sessions", COLUMNS(sessions_columns)},
	[LMS_BOARDS] = {"boards", COLUMNS(boards_columns)},
	[LMS_BOARD_SLOTS] = {"board_slots", COLUMNS(slots_columns)},
	[LMS_MODULES] = {"modules", COLUMNS(modules_columns)},
	[LMS_MODULE_PROGRESS] = {"module_progress", COLUMNS(module_progress_columns)},
	[LMS_BOARD_PARTS] = {"board_parts", COLUMNS(parts_columns)},
};

static const IndexDef indexes[LMS_NINDEXES] = {
	[LMS_LESSONS_PKEY] = {"lessons_pkey", LMS_LESSONS, "unique btree (id)"},
	[LMS_COURSES_PKEY] = {"courses_pkey", LMS_COURSES, "unique btree (id)"},
	[LMS_ENROLLMENTS_PKEY] = {"enrollments_pkey", LMS_ENROLLMENTS, "unique btree (id)"},
	[LMS_ENROLLMENTS_BY_LEARNER] = {"enrollments_user_id_course_id_key", LMS_ENROLLMENTS,
	"unique btree (user_id, course_id)"},
	[LMS_LESSON_PROGRESS_PKEY] = {"lesson_progress_pkey", LMS_LESSON_PROGRESS,
	"unique btree (user_id, lesson_id)"},
	[LMS_USERS_PKEY] = {"users_pkey", LMS_USERS, "unique btree (id)"},
	[LMS_LEARNER_SCORES_PKEY] = {"learner_scores_pkey", LMS_LEARNER_SCORES, "unique btree (user_id)"},
	[LMS_USER_ACHIEVEMENTS_PKEY] = {"user_achievements_pkey", LMS_USER_ACHIEVEMENTS,
	"unique btree (user_id, achievement_id)"},
	[LMS_ACHIEVEMENTS_PKEY] = {"achievements_pkey", LMS_ACHIEVEMENTS, "unique btree (id)"},
	[LMS_BOARD_ENTRIES_PKEY] = {"board_entries_pkey", LMS_BOARD_ENTRIES,
	"unique btree (board, win, user_id)"},
	[LMS_BOARD_ENTRIES_IN_ORDER] = {"board_entries_in_order", LMS_BOARD_ENTRIES,
	"btree (board, win, points DESC, reached_at, user_id)"},
	[LMS_BOARD_COUNTS_PKEY] = {"board_counts_pkey", LMS_BOARD_COUNTS, "unique btree (board, win, points)"},
	[LMS_BOARD_COUNTS_ABOVE] = {"board_counts_above", LMS_BOARD_COUNTS,
	"btree (board, win, above) WHERE (learners > 0)"},
	[LMS_SESSIONS_PKEY] = {"sessions_pkey", LMS_SESSIONS, "unique btree (token_hash)"},
	[LMS_BOARDS_PKEY] = {"boards_pkey", LMS_BOARDS, "unique btree (board, win)"},
	[LMS_BOARD_SLOTS_PKEY] = {"board_slots_pkey", LMS_BOARD_SLOTS, "unique btree (board, win, points, slot)"},
	[LMS_MODULES_BY_COURSE] = {"modules_by_course", LMS_MODULES, "btree (course_id, position)"},
	[LMS_MODULE_PROGRESS_PKEY] = {"module_progress_pkey", LMS_MODULE_PROGRESS, "unique btree (user_id, module_id)"},
	[LMS_BOARD_PARTS_PKEY] = {"board_parts_pkey", LMS_BOARD_PARTS,
	"unique btree (board, win, points, reached_at, part)"},
};

/* What resolution found, per backend. */
typedef struct TableState
{
	bool		valid;
	Oid			relid;
	AttrNumber	atts[MAX_COLUMNS];
	bool		direct_write;	/* lms_update_locked may write (the writable columns' assumptions hold) */
	char		check_names[MAX_COLUMNS][NAMEDATALEN];	/* of the known checks, by KnownCheck */
} TableState;

typedef struct IndexState
{
	Oid			indexid;
	int			nkeys;
	RegProcedure procs[MAX_INDEX_KEYS][BTMaxStrategyNumber];	/* per key column and strategy */
} IndexState;

static TableState table_state[LMS_NTABLES];
static IndexState index_state[LMS_NINDEXES];
static bool callback_registered = false;

/*
 * Forget every table the invalidated relation is, or is an index of (all of them on a full
 * reset).
 */
static void
forget_tables(Datum arg, Oid relid)
{
	int			t,
				i;

	for (t = 0; t < LMS_NTABLES; t++)
	{
		if (!table_state[t].valid)
			continue;
		if (!OidIsValid(relid) || relid == table_state[t].relid)
			table_state[t].valid = false;
	}
	if (!OidIsValid(relid))
		return;
	for (i = 0; i < LMS_NINDEXES; i++)
		if (relid == index_state[i].indexid)
			table_state[indexes[i].table].valid = false;
}

/*
 * An index described from the catalog the way IndexDef.definition is written:
 * "[unique ]am (col[ DESC][ NULLS ...], ...)[ INCLUDE (...)][ WHERE (predicate)][ (invalid)]".
 */
static char *
index_definition(Relation idx)
{
	Form_pg_index ix = idx->rd_index;
	StringInfoData buf;
	int			i;
	bool		isnull;
	Datum		pred;

	initStringInfo(&buf);
	if (ix->indisunique)
		appendStringInfoString(&buf, "unique ");
	appendStringInfo(&buf, "%s (", get_am_name(idx->rd_rel->relam));
	for (i = 0; i < ix->indnatts; i++)
	{
		AttrNumber	att = ix->indkey.values[i];
		int16		opt = i < ix->indnkeyatts ? idx->rd_indoption[i] : 0;

		if (i == ix->indnkeyatts)
			appendStringInfoString(&buf, ") INCLUDE (");
		else if (i > 0)
			appendStringInfoString(&buf, ", ");
		appendStringInfoString(&buf, att == 0 ? "<expression>" : get_attname(ix->indrelid, att, false));
		if (opt & INDOPTION_DESC)
			appendStringInfoString(&buf, (opt & INDOPTION_NULLS_FIRST) ? " DESC" : " DESC NULLS LAST");
		else if (opt & INDOPTION_NULLS_FIRST)
			appendStringInfoString(&buf, " NULLS FIRST");
	}
	appendStringInfoChar(&buf, ')');
	pred = SysCacheGetAttr(INDEXRELID, idx->rd_indextuple, Anum_pg_index_indpred, &isnull);
	if (!isnull)
		appendStringInfo(&buf, " WHERE %s",
						 TextDatumGetCString(DirectFunctionCall2(pg_get_expr, pred,
																 ObjectIdGetDatum(ix->indrelid))));
	if (!ix->indisvalid)
		appendStringInfoString(&buf, " (invalid)");
	return buf.data;
}

/* Resolve one index of a resolved table: its OID, definition and scan procedures. */
static void
resolve_index(int i, Oid nsp)
{
	const IndexDef *def = &indexes[i];
	IndexState *st = &index_state[i];
	Relation	idx;
	char	   *found;
	int			k,
				s;

	st->indexid = get_relname_relid(def->name, nsp);
	if (!OidIsValid(st->indexid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("index lms.%s does not exist", def->name),
				 errdetail("The extension's C code reads lms.%s through it.", tables[def->table].name),
				 errhint("Run ALTER EXTENSION lms UPDATE, or recreate the index as the install script defines it.")));
	idx = index_open(st->indexid, AccessShareLock);
	found = index_definition(idx);
	if (idx->rd_index->indrelid != table_state[def->table].relid || strcmp(found, def->definition) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("index lms.%s is not the index the extension's C code reads", def->name),
				 errdetail("The C code assumes lms.%s %s; the index is %s.",
						   tables[def->table].name, def->definition, found),
				 errhint("Recreate the index as the install script defines it, or run ALTER EXTENSION lms UPDATE.")));
	st->nkeys = Min(idx->rd_index->indnkeyatts, MAX_INDEX_KEYS);
	for (k = 0; k < st->nkeys; k++)
		for (s = 0; s < BTMaxStrategyNumber; s++)
		{
			Oid			op = get_opfamily_member(idx->rd_opfamily[k], idx->rd_opcintype[k],
												 idx->rd_opcintype[k], s + 1);

			st->procs[k][s] = OidIsValid(op) ? get_opcode(op) : InvalidOid;
		}
	index_close(idx, NoLock);
}

/* The columns of a deparsed CHECK constraint expression, as a bitmap of the table's columns. */
static uint32
constraint_columns(TableState *st, const TableDef *def, Node *expr)
{
	Bitmapset  *atts = NULL;
	uint32		mask = 0;
	int			c;

	pull_varattnos(expr, 1, &atts);
	for (c = 0; c < def->ncolumns; c++)
		if (bms_is_member(st->atts[c] - FirstLowInvalidHeapAttributeNumber, atts))
			mask |= 1 << c;
	return mask;
}

/* The columns of an int2[] catalog column (conkey, confkey) as a bitmap of the table's columns. */
static uint32
key_columns(TableState *st, const TableDef *def, HeapTuple contup, AttrNumber which)
{
	bool		isnull;
	Datum		d = SysCacheGetAttr(CONSTROID, contup, which, &isnull);
	ArrayType  *arr;
	int16	   *keys;
	int			n,
				k,
				c;
	uint32		mask = 0;

	if (isnull)
		return 0;
	arr = DatumGetArrayTypeP(d);
	keys = (int16 *) ARR_DATA_PTR(arr);
	n = ARR_DIMS(arr)[0];
	for (k = 0; k < n; k++)
		for (c = 0; c < def->ncolumns; c++)
			if (st->atts[c] == keys[k])
				mask |= 1 << c;
	return mask;
}

/*
 * Whether the direct write of a table's writable columns skips nothing the executor would do;
 * fills the names of the known checks. Logs why not, once per resolution.
 */
static bool
direct_write_allowed(LmsTable t, Relation rel)
{
	const TableDef *def = &tables[t];
	TableState *st = &table_state[t];
	TupleConstr *constr = RelationGetDescr(rel)->constr;
	StringInfoData why;
	int			i,
				k;

	initStringInfo(&why);
	if (rel->rd_rel->relkind != RELKIND_RELATION || rel->rd_tableam != GetHeapamTableAmRoutine())
		appendStringInfoString(&why, "it is not a heap table");
	else if (rel->rd_rel->relrowsecurity)
		appendStringInfoString(&why, "it has row security");
	else if (constr != NULL && constr->has_generated_stored)
		appendStringInfoString(&why, "it has a generated column");
	for (i = 0; why.len == 0 && rel->trigdesc != NULL && i < rel->trigdesc->numtriggers; i++)
	{
		Trigger    *tg = &rel->trigdesc->triggers[i];
		HeapTuple	contup;
		uint32		cols = 0;

		if (!TRIGGER_FOR_UPDATE(tg->tgtype))
			continue;
		if (RI_FKey_trigger_type(tg->tgfoid) == RI_TRIGGER_NONE)
		{
			/*
			 * an UPDATE OF trigger fires only for an UPDATE that sets one of its columns: one
			 * whose columns the direct write never sets would not fire for it through SQL
			 */
			for (k = 0; k < tg->tgnattr; k++)
				for (int c = 0; c < def->ncolumns; c++)
					if (st->atts[c] == tg->tgattr[k])
						cols |= 1 << c;
			if (tg->tgnattr > 0 && (cols & def->writable) == 0)
				continue;
			appendStringInfo(&why, "trigger %s fires on UPDATE", tg->tgname);
			break;
		}
		/* a foreign key's trigger acts only when its own columns change */
		contup = SearchSysCache1(CONSTROID, ObjectIdGetDatum(tg->tgconstraint));
		if (!HeapTupleIsValid(contup))
			elog(ERROR, "cache lookup failed for constraint %u", tg->tgconstraint);
		if (((Form_pg_constraint) GETSTRUCT(contup))->conrelid == st->relid)
			cols |= key_columns(st, def, contup, Anum_pg_constraint_conkey);
		if (((Form_pg_constraint) GETSTRUCT(contup))->confrelid == st->relid)
			cols |= key_columns(st, def, contup, Anum_pg_constraint_confkey);
		if (cols & def->writable)
			appendStringInfo(&why, "foreign key %s involves a column it writes",
							 NameStr(((Form_pg_constraint) GETSTRUCT(contup))->conname));
		ReleaseSysCache(contup);
	}
	for (i = 0; why.len == 0 && constr != NULL && i < constr->num_check; i++)
	{
		ConstrCheck *cc = &constr->check[i];
		Node	   *expr = stringToNode(cc->ccbin);
		char	   *text;
		bool		known = false;

		if ((constraint_columns(st, def, expr) & def->writable) == 0)
			continue;
		text = deparse_expression(expr, deparse_context_for(def->name, st->relid), false, false);
		for (k = 0; k < def->nchecks; k++)
			if (strcmp(text, def->checks[k].expression) == 0)
			{
				strlcpy(st->check_names[k], cc->ccname, NAMEDATALEN);
				known = true;
			}
		if (!known)
			appendStringInfo(&why, "CHECK constraint %s %s involves a column it writes", cc->ccname, text);
	}
	if (why.len == 0)
		return true;
	ereport(LOG,
			(errmsg("lms writes lms.%s through SQL: %s", def->name, why.data),
			 errdetail("The direct write of the extension's C code skips what the executor does for a table like this.")));
	return false;
}

/*
 * Resolve a table and its indexes unless still valid, verifying every assumption; a missing
 * object or a different definition is an error naming it.
 */
static TableState *
resolve_table(LmsTable t)
{
	const TableDef *def = &tables[t];
	TableState *st = &table_state[t];
	Oid			nsp;
	Relation	rel;
	int			c,
				i;

	if (st->valid)
		return st;
	if (!callback_registered)
	{
		CacheRegisterRelcacheCallback(forget_tables, (Datum) 0);
		callback_registered = true;
	}
	nsp = get_namespace_oid("lms", false);
	st->relid = get_relname_relid(def->name, nsp);
	if (!OidIsValid(st->relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("table lms.%s does not exist", def->name),
				 errhint("Run ALTER EXTENSION lms UPDATE, or reinstall the extension.")));
	for (c = 0; c < def->ncolumns; c++)
	{
		Oid			type;

		st->atts[c] = get_attnum(st->relid, def->columns[c].name);
		type = st->atts[c] == InvalidAttrNumber ? InvalidOid : get_atttype(st->relid, st->atts[c]);
		if (type == InvalidOid && def->columns[c].optional)
			continue;
		if (type != def->columns[c].type)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("column lms.%s.%s is not the column the extension's C code reads",
							def->name, def->columns[c].name),
					 errdetail("The C code assumes a column of type %s; %s.", format_type_be(def->columns[c].type),
							   OidIsValid(type) ? psprintf("it is of type %s", format_type_be(type)) : "there is none"),
					 errhint("Run ALTER EXTENSION lms UPDATE, or restore the column as the install script defines it.")));
	}
	for (i = 0; i < LMS_NINDEXES; i++)
		if (indexes[i].table == t)
			resolve_index(i, nsp);
	st->direct_write = false;
	if (def->writable != 0)
	{
		rel = table_open(st->relid, AccessShareLock);
		st->direct_write = direct_write_allowed(t, rel);
		table_close(rel, NoLock);
	}
	st->valid = true;
	return st;
}

struct LmsScan
{
	LmsTable	table;
	Relation	heap;
	Relation	index;
	IndexScanDesc scan;
	TupleTableSlot *slot;
	ScanDirection dir;
	Buffer		vmbuf;			/* index-only: the visibility map page pinned */
	bool		from_index;		/* index-only: this entry's values are the index tuple's */
};

static LmsScan *
scan_begin(LmsIndex index, Snapshot snap, int nkeys, const LmsKey *keys, ScanDirection dir,
		   bool index_only)
{
	const IndexDef *def = &indexes[index];
	IndexState *ist = &index_state[index];
	LmsScan    *s = palloc(sizeof(LmsScan));
	ScanKeyData skeys[MAX_INDEX_KEYS];
	int			k;

	(void) resolve_table(def->table);
	s->table = def->table;
	s->dir = dir;
	s->heap = table_open(table_state[def->table].relid, AccessShareLock);
	/* the lock processed any pending invalidation: resolve again if it was one of ours */
	(void) resolve_table(def->table);
	s->index = index_open(ist->indexid, AccessShareLock);
	if (nkeys > ist->nkeys)
		elog(ERROR, "%d keys for index lms.%s of %d key columns", nkeys, def->name, ist->nkeys);
	for (k = 0; k < nkeys; k++)
	{
		RegProcedure proc = ist->procs[k][keys[k].strategy - 1];

		if (!RegProcedureIsValid(proc))
			elog(ERROR, "no operator of strategy %d for column %d of index lms.%s",
				 keys[k].strategy, k + 1, def->name);
		ScanKeyEntryInitialize(&skeys[k], 0, k + 1, keys[k].strategy, InvalidOid,
							   s->index->rd_indcollation[k], proc, keys[k].value);
	}
	s->slot = table_slot_create(s->heap, NULL);
	s->vmbuf = InvalidBuffer;
	s->from_index = false;
	s->scan = lms_index_beginscan(s->heap, s->index, snap, nkeys);
	s->scan->xs_want_itup = index_only;		/* before the rescan: btree allocates for it there */
	index_rescan(s->scan, skeys, nkeys, NULL, 0);
	return s;
}

LmsScan *
lms_scan_begin(LmsIndex index, Snapshot snap, int nkeys, const LmsKey *keys, ScanDirection dir)
{
	return scan_begin(index, snap, nkeys, keys, dir, false);
}

LmsScan *
lms_scan_begin_index_only(LmsIndex index, Snapshot snap, int nkeys, const LmsKey *keys,
						  ScanDirection dir)
{
	return scan_begin(index, snap, nkeys, keys, dir, true);
}

bool
lms_scan_next(LmsScan *s)
{
	return index_getnext_slot(s->scan, s->dir, s->slot);
}

/*
 * The next entry visible under the scan's snapshot, as PostgreSQL's index-only scans find it:
 * an entry whose heap page the visibility map says is all-visible is visible, its values read
 * from the index tuple; any other is checked by fetching its heap tuple.
 */
bool
lms_scan_next_index_only(LmsScan *s)
{
	ItemPointer tid;

	while ((tid = index_getnext_tid(s->scan, s->dir)) != NULL)
	{
		s->from_index = VM_ALL_VISIBLE(s->heap, ItemPointerGetBlockNumber(tid), &s->vmbuf);
		if (s->from_index || index_fetch_heap(s->scan, s->slot))
			return true;
	}
	return false;
}

Datum
lms_scan_get_key(LmsScan *s, int keycol, int column, bool *isnull)
{
	if (s->from_index)
		return index_getattr(s->scan->xs_itup, keycol, s->scan->xs_itupdesc, isnull);
	return lms_scan_get(s, column, isnull);
}

Datum
lms_scan_get(LmsScan *s, int column, bool *isnull)
{
	return slot_getattr(s->slot, table_state[s->table].atts[column], isnull);
}

bool
lms_column_present(LmsTable t, int column)
{
	return resolve_table(t)->atts[column] != InvalidAttrNumber;
}

void
lms_scan_version(LmsScan *s, TransactionId *xmin, ItemPointerData *ctid)
{
	bool		should_free;
	HeapTuple	tup = ExecFetchSlotHeapTuple(s->slot, false, &should_free);

	*xmin = HeapTupleHeaderGetRawXmin(tup->t_data);
	*ctid = s->slot->tts_tid;
	if (should_free)
		heap_freetuple(tup);
}

void
lms_scan_end(LmsScan *s)
{
	if (BufferIsValid(s->vmbuf))
		ReleaseBuffer(s->vmbuf);
	index_endscan(s->scan);
	ExecDropSingleTupleTableSlot(s->slot);
	index_close(s->index, NoLock);
	table_close(s->heap, NoLock);
	pfree(s);
}

bool
lms_fetch(LmsIndex index, const int64 *keys, Snapshot snap, int ncols, const int *columns,
		  Datum *values, bool *nulls)
{
	LmsKey		k[MAX_INDEX_KEYS];
	LmsScan    *s;
	bool		found;
	int			nkeys,
				i;

	(void) resolve_table(indexes[index].table);
	nkeys = index_state[index].nkeys;
	for (i = 0; i < nkeys; i++)
	{
		k[i].strategy = BTEqualStrategyNumber;
		k[i].value = Int64GetDatum(keys[i]);
	}
	s = lms_scan_begin(index, snap, nkeys, k, ForwardScanDirection);
	found = lms_scan_next(s);
	if (found)
	{
		TupleDesc	desc = RelationGetDescr(s->heap);

		for (i = 0; i < ncols; i++)
		{
			Form_pg_attribute a = TupleDescAttr(desc, table_state[s->table].atts[columns[i]] - 1);

			values[i] = lms_scan_get(s, columns[i], &nulls[i]);
			if (!nulls[i] && !a->attbyval)
				values[i] = datumCopy(values[i], false, a->attlen);
		}
	}
	lms_scan_end(s);
	return found;
}

struct LmsRow
{
	TupleTableSlot *slot;
	TableState *table;
};

Datum
lms_row_get(LmsRow *row, int column, bool *isnull)
{
	return slot_getattr(row->slot, row->table->atts[column], isnull);
}

/* The constraints listed as known, enforced on the values written. */
static void
enforce_known_checks(LmsTable t, int ncols, const int *columns, const Datum *values)
{
	const TableDef *def = &tables[t];
	int			i,
				k;

	for (i = 0; i < ncols; i++)
	{
		if ((def->writable & (1 << columns[i])) == 0)
			elog(ERROR, "column lms.%s.%s is not written directly", def->name, def->columns[columns[i]].name);
		for (k = 0; k < def->nchecks; k++)
			if (def->checks[k].column == columns[i] && DatumGetInt32(values[i]) < def->checks[k].minimum)
				ereport(ERROR,
						(errcode(ERRCODE_CHECK_VIOLATION),
						 errmsg("new row for relation \"%s\" violates check constraint \"%s\"",
								def->name, table_state[t].check_names[k]),
						 errdetail("%s is %d.", def->columns[columns[i]].name, DatumGetInt32(values[i]))));
	}
}

LmsUpdateResult
lms_update_locked(LmsIndex index, int64 key, LmsRowCheck check, void *arg, int ncols,
				  const int *columns, const Datum *values)
{
	LmsTable	t = indexes[index].table;
	TableState *st = resolve_table(t);
	Relation	rel;
	TupleDesc	desc;
	Snapshot	snap;
	LmsKey		k = {BTEqualStrategyNumber, Int64GetDatum(key)};
	LmsScan    *scan;
	bool		found;
	ItemPointerData tid;
	TupleTableSlot *slot;
	TM_FailureData tmfd;
	TM_Result	res;
	LmsUpdateResult result = LMS_UPDATE_SKIPPED;

	if (!st->direct_write)
		return LMS_UPDATE_NOT_DIRECT;
	rel = table_open(st->relid, RowExclusiveLock);
	/* a trigger or constraint created meanwhile is seen now that the lock is held */
	st = resolve_table(t);
	if (!st->direct_write || st->relid != RelationGetRelid(rel))
	{
		table_close(rel, NoLock);
		return LMS_UPDATE_NOT_DIRECT;
	}
	enforce_known_checks(t, ncols, columns, values);
	desc = RelationGetDescr(rel);

	/* see this transaction's own earlier writes of the row */
	CommandCounterIncrement();
	snap = RegisterSnapshot(GetTransactionSnapshot());
	scan = lms_scan_begin(index, snap, 1, &k, ForwardScanDirection);
	found = lms_scan_next(scan);
	if (found)
		tid = scan->slot->tts_tid;
	lms_scan_end(scan);
	if (!found)
	{
		UnregisterSnapshot(snap);
		table_close(rel, NoLock);
		return LMS_UPDATE_SKIPPED;
	}

	slot = table_slot_create(rel, NULL);
	res = table_tuple_lock(rel, &tid, snap, slot, GetCurrentCommandId(true),
						   LockTupleNoKeyExclusive, LockWaitBlock,
						   TUPLE_LOCK_FLAG_FIND_LAST_VERSION, &tmfd);
	if (res == TM_Ok)
	{
		LmsRow		row = {slot, st};

		if (check(&row, arg))
		{
			Datum	   *newvalues = palloc0(sizeof(Datum) * desc->natts);
			bool	   *newnulls = palloc0(sizeof(bool) * desc->natts);
			bool	   *replace = palloc0(sizeof(bool) * desc->natts);
			bool		should_free,
						summarizing_only;
			HeapTuple	old = ExecFetchSlotHeapTuple(slot, false, &should_free);
			HeapTuple	newtup;
			int			i;

			for (i = 0; i < ncols; i++)
			{
				newvalues[st->atts[columns[i]] - 1] = values[i];
				replace[st->atts[columns[i]] - 1] = true;
			}
			newtup = heap_modify_tuple(old, desc, newvalues, newnulls, replace);
			if (lms_heap_update(rel, &slot->tts_tid, newtup, &summarizing_only))
			{
				/* the new version's index entries, with their predicates, as the executor adds them */
				EState	   *estate = CreateExecutorState();
				ResultRelInfo *rri = makeNode(ResultRelInfo);
				TupleTableSlot *nslot;

				InitResultRelInfo(rri, rel, 1, NULL, 0);
				ExecOpenIndices(rri, false);
				nslot = ExecInitExtraTupleSlot(estate, desc, &TTSOpsHeapTuple);
				ExecStoreHeapTuple(newtup, nslot, false);
				lms_insert_index_tuples(rri, nslot, estate, summarizing_only);
				ExecCloseIndices(rri);
				ExecResetTupleTable(estate->es_tupleTable, false);
				FreeExecutorState(estate);
			}
			if (should_free)
				heap_freetuple(old);
			result = LMS_UPDATE_DONE;
		}
	}
	else if (res != TM_Deleted)
		elog(ERROR, "could not lock row " INT64_FORMAT " of lms.%s: result %d", key, tables[t].name, (int) res);
	ExecDropSingleTupleTableSlot(slot);
	UnregisterSnapshot(snap);
	table_close(rel, NoLock);
	/* the statements that follow see the update */
	CommandCounterIncrement();
	return result;
}
