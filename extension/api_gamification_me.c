/*
 * api_gamification_me.c
 *	  GET /gamification/me: the hottest read (every page of the learner's dashboard), so the
 *	  whole request is C: the caller's token, the learner's scores and achievements by direct
 *	  index lookups, both ranks through one kept SPI plan, and the answer written straight in
 *	  jsonb's text layout.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "catalog/pg_type.h"
#include "common/int.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/fmgroids.h"
#include "utils/json.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "api.h"
#include "identity.h"
#include "json_out.h"
#include "relcache.h"

/*
 * Both ranks in one statement through the leaderboards' own SQL face (lms.user_rank may refresh
 * a stale board: hence VOLATILE and read_only = false). The subqueries are uncorrelated, so
 * each runs once as an InitPlan; no row on a board reads NULL.
 */
static SPIPlanPtr rank_plan = NULL;

#define RANK_SQL \
	"SELECT (SELECT r.rank FROM lms.user_rank('global', 'all', $1) r)," \
	"       (SELECT r.rank FROM lms.user_rank('global', 'week', $1) r)"

/*
 * The rest are key lookups (a learner's scores row, their achievement rows, each achievement):
 * through SQL the executor's start-up of that join cost more than the lookups themselves.
 * Relations, indexes and column numbers are resolved once per backend and forgotten on any
 * relcache invalidation of those relations (DDL, DROP/CREATE EXTENSION in the same session).
 */
enum
{
	REL_SCORES, REL_USER_ACH, REL_ACH, REL_COUNT
};

enum
{
	S_USER, S_TOTAL, S_LEVEL, S_CURRENT, S_LONGEST, S_LAST_DAY, S_NCOLS
};
static const char *const s_cols[S_NCOLS] = {"user_id", "total_points", "level", "current_streak",
"longest_streak", "last_activity_date"};
static AttrNumber s_att[S_NCOLS];
enum
{
	UA_USER, UA_ACH, UA_AT, UA_NCOLS
};
static const char *const ua_cols[UA_NCOLS] = {"user_id", "achievement_id", "awarded_at"};
static AttrNumber ua_att[UA_NCOLS];
enum
{
	A_ID, A_CODE, A_TITLE, A_NCOLS
};
static const char *const a_cols[A_NCOLS] = {"id", "code", "title"};
static AttrNumber a_att[A_NCOLS];

static LmsRel rels[REL_COUNT] = {
	[REL_SCORES] = {"learner_scores", "learner_scores_pkey", s_cols, S_NCOLS, s_att},
	[REL_USER_ACH] = {"user_achievements", "user_achievements_pkey", ua_cols, UA_NCOLS, ua_att},
	[REL_ACH] = {"achievements", "achievements_pkey", a_cols, A_NCOLS, a_att},
};
static LmsRelSet relset = {rels, REL_COUNT};

/* One awarded achievement, in the answer's order: awarded_at, then achievement id. */
typedef struct MeAchievement
{
	int64		id;
	TimestampTz awarded_at;
	char	   *code;
	char	   *title;
} MeAchievement;

static int
achievement_cmp(const void *a, const void *b)
{
	const MeAchievement *x = (const MeAchievement *) a;
	const MeAchievement *y = (const MeAchievement *) b;

	if (x->awarded_at != y->awarded_at)
		return x->awarded_at < y->awarded_at ? -1 : 1;
	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return 0;
}

/*
 * The learner's achievements (user_achievements JOIN achievements) by index, sorted; returns
 * how many. Strings are palloc'd in the current memory context. Relations stay locked
 * AccessShare until the end of the transaction, as a query would leave them.
 */
static int
read_achievements(int64 user_id, Snapshot snap, MeAchievement **out)
{
	Relation	ua = table_open(rels[REL_USER_ACH].relid, AccessShareLock);
	Relation	ach;
	TupleDesc	desc = RelationGetDescr(ua);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	int			n = 0,
				cap = 8,
				kept = 0,
				i;
	MeAchievement *list = palloc(cap * sizeof(MeAchievement));
	bool		isnull;

	ScanKeyInit(&key, ua_att[UA_USER], BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(user_id));
	scan = systable_beginscan(ua, rels[REL_USER_ACH].indexid, true, snap, 1, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		if (n == cap)
		{
			cap *= 2;
			list = repalloc(list, cap * sizeof(MeAchievement));
		}
		list[n].id = DatumGetInt64(heap_getattr(tup, ua_att[UA_ACH], desc, &isnull));
		list[n].awarded_at = DatumGetTimestampTz(heap_getattr(tup, ua_att[UA_AT], desc, &isnull));
		list[n].code = list[n].title = NULL;
		n++;
	}
	systable_endscan(scan);
	table_close(ua, NoLock);
	if (n == 0)
	{
		*out = list;
		return 0;
	}

	ach = table_open(rels[REL_ACH].relid, AccessShareLock);
	desc = RelationGetDescr(ach);
	for (i = 0; i < n; i++)
	{
		Datum		d;

		ScanKeyInit(&key, a_att[A_ID], BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(list[i].id));
		scan = systable_beginscan(ach, rels[REL_ACH].indexid, true, snap, 1, &key);
		tup = systable_getnext(scan);
		if (HeapTupleIsValid(tup))
		{
			list[kept] = list[i];
			d = heap_getattr(tup, a_att[A_CODE], desc, &isnull);
			list[kept].code = isnull ? NULL : TextDatumGetCString(d);
			d = heap_getattr(tup, a_att[A_TITLE], desc, &isnull);
			list[kept].title = isnull ? NULL : TextDatumGetCString(d);
			kept++;
		}
		systable_endscan(scan);
	}
	table_close(ach, NoLock);
	if (kept > 1)
		qsort(list, kept, sizeof(MeAchievement), achievement_cmp);
	*out = list;
	return kept;
}

/* 50 * a * b in bigint, failing as SQL's bigint arithmetic does. */
static int64
level_points(int64 a, int64 b)
{
	int64		r;

	if (pg_mul_s64_overflow(a, b, &r) || pg_mul_s64_overflow(r, 50, &r))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("bigint out of range"),
				 errdetail("A level's point bounds do not fit in a bigint.")));
	return r;
}

/* An integer column of the rank statement, or JSON null. */
static void
json_int_or_null(StringInfo buf, bool isnull, int32 v)
{
	if (isnull)
		appendStringInfoString(buf, "null");
	else
		lms_json_int(buf, v);
}

/*
 * lms.api_gamification_me(token, path, query, body): 200 with
 * {user_id, total_points, level, level_progress{level_floor, next_level_at}, current_streak,
 * longest_streak, last_activity_date, achievements_count, achievements[{code, title,
 * awarded_at}], rank{all_time, week}}, or 401. A learner without a scores row reads zeros and
 * level 1. The text is exactly what jsonb prints for that document (keys by length then bytes,
 * ", " and ": " separators), so it matches the former SQL answer byte for byte without a
 * jsonb round trip.
 */
PG_FUNCTION_INFO_V1(lms_api_gamification_me);
Datum
lms_api_gamification_me(PG_FUNCTION_ARGS)
{
	LmsCaller	caller;
	Oid			types[1] = {INT8OID};
	Datum		args[1];
	StringInfoData out;
	bool		all_null,
				week_null;
	int32		all_rank = 0,
				week_rank = 0;
	int64		key;
	Datum		sv[S_NCOLS];
	bool		sn[S_NCOLS];
	int64		total_points = 0,
				level = 1,
				current_streak = 0,
				longest_streak = 0;
	bool		day_null = true;
	DateADT		day = 0;
	MeAchievement *list;
	int			count,
				i;
	Snapshot	snap;
	Relation	rel;
	ScanKeyData skey;
	SysScanDesc scan;
	HeapTuple	tup;

	lms_resolve_caller(PG_ARGISNULL(0) ? NULL : PG_GETARG_TEXT_PP(0), &caller);
	if (caller.user_id == 0)
		PG_RETURN_DATUM(lms_problem(fcinfo, 401, "unauthenticated",
									"A valid access token is required.", NULL));
	key = caller.user_id;

	/* the ranks first: a refresh they make is then visible to the snapshot below */
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	args[0] = Int64GetDatum(key);
	lms_exec(lms_plan(&rank_plan, RANK_SQL, 1, types), args, NULL, false, 1);
	if (SPI_processed != 1)
		elog(ERROR, "the rank statement returned no row");
	all_null = lms_col_isnull(0, 1);
	if (!all_null)
		all_rank = lms_col_int32(0, 1, 0);
	week_null = lms_col_isnull(0, 2);
	if (!week_null)
		week_rank = lms_col_int32(0, 2, 0);
	SPI_finish();

	lms_relset_resolve(&relset);
	snap = RegisterSnapshot(GetTransactionSnapshot());

	rel = table_open(rels[REL_SCORES].relid, AccessShareLock);
	ScanKeyInit(&skey, s_att[S_USER], BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(key));
	scan = systable_beginscan(rel, rels[REL_SCORES].indexid, true, snap, 1, &skey);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
	{
		TupleDesc	desc = RelationGetDescr(rel);

		for (i = 0; i < S_NCOLS; i++)
			sv[i] = heap_getattr(tup, s_att[i], desc, &sn[i]);
		total_points = sn[S_TOTAL] ? 0 : DatumGetInt64(sv[S_TOTAL]);
		level = sn[S_LEVEL] ? 1 : DatumGetInt32(sv[S_LEVEL]);
		current_streak = sn[S_CURRENT] ? 0 : DatumGetInt32(sv[S_CURRENT]);
		longest_streak = sn[S_LONGEST] ? 0 : DatumGetInt32(sv[S_LONGEST]);
		day_null = sn[S_LAST_DAY];
		if (!day_null)
			day = DatumGetDateADT(sv[S_LAST_DAY]);
	}
	systable_endscan(scan);
	table_close(rel, NoLock);

	count = read_achievements(key, snap, &list);
	UnregisterSnapshot(snap);

	initStringInfo(&out);
	appendStringInfoString(&out, "{\"rank\": {\"week\": ");
	json_int_or_null(&out, week_null, week_rank);
	appendStringInfoString(&out, ", \"all_time\": ");
	json_int_or_null(&out, all_null, all_rank);
	appendStringInfoString(&out, "}, \"level\": ");
	lms_json_int(&out, level);
	appendStringInfoString(&out, ", \"user_id\": ");
	lms_json_int(&out, key);
	appendStringInfoString(&out, ", \"achievements\": [");
	for (i = 0; i < count; i++)
	{
		if (i > 0)
			appendStringInfoString(&out, ", ");
		appendStringInfoString(&out, "{\"code\": ");
		lms_json_str(&out, list[i].code);
		appendStringInfoString(&out, ", \"title\": ");
		lms_json_str(&out, list[i].title);
		appendStringInfoString(&out, ", \"awarded_at\": ");
		lms_json_ts(&out, list[i].awarded_at, false);
		appendStringInfoChar(&out, '}');
	}
	appendStringInfoString(&out, "], \"total_points\": ");
	lms_json_int(&out, total_points);
	appendStringInfoString(&out, ", \"current_streak\": ");
	lms_json_int(&out, current_streak);
	appendStringInfoString(&out, ", \"level_progress\": {\"level_floor\": ");
	lms_json_int(&out, level_points(level, level - 1));
	appendStringInfoString(&out, ", \"next_level_at\": ");
	lms_json_int(&out, level_points(level + 1, level));
	appendStringInfoString(&out, "}, \"longest_streak\": ");
	lms_json_int(&out, longest_streak);
	appendStringInfoString(&out, ", \"achievements_count\": ");
	lms_json_int(&out, count);
	appendStringInfoString(&out, ", \"last_activity_date\": ");
	if (day_null)
		appendStringInfoString(&out, "null");
	else
	{
		char		datebuf[MAXDATELEN + 1];

		/* the text to_jsonb gives a date (ISO, whatever DateStyle says) */
		escape_json(&out, JsonEncodeDateTime(datebuf, DateADTGetDatum(day), DATEOID, NULL));
	}
	appendStringInfoChar(&out, '}');

	PG_RETURN_DATUM(lms_response(fcinfo, 200, out.data));
}
