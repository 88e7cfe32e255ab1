/*
 * leagues.c
 *	  Weekly leagues: the league week, the week lock, and the ledger trigger that counts every
 *	  award into the learner's week (docs/gamification.md#weekly-leagues).
 *
 * Every statement that inserts into points_ledger (whatever wrote it: the progress write, a
 * quiz, an admin, a custom event, an achievement) fires lms.league_count_points() once, with
 * its new rows, and hands them to lms.league_count_many() (93_leagues.sql): an index-keyed
 * UPDATE of each learner's lms.league_members row of the week, or for the first points of a
 * week lms.league_enter() and a place in a cohort. Recalculation corrections are not counted
 * (lms_reason_in_period: they re-score past events, the week counts what was earned in it),
 * nor rows dated before the previous week (a bulk import of history does not form leagues for
 * weeks long gone).
 *
 * Exactly once per week, without stopping writers: every writer of a week holds that week's
 * lock in shared mode (an advisory lock keyed by the week, lms.league_lock) until it commits;
 * the rollover takes it exclusively, so it waits for the writers of the week still running and
 * sees their points; a writer that comes after it finds the week closed (its rows have an
 * outcome) and counts for the following week instead. Writers of the new week use another key
 * and never wait for the rollover.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/fmgrprotos.h"
#include "tcop/pquery.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "leaderboard.h"
#include "leagues.h"
#include "lms.h"
#include "plans.h"
#include "rules.h"

/* First advisory-lock key of a league week ('LMSW'); the second is the week's day number. */
#define LEAGUE_WEEK_LOCK 1280136023

static SPIPlanPtr plan_count = NULL;
static SPIPlanPtr plan_many = NULL;

/*
 * The league week of an instant: the boards' week window (lms_window_period), named by its
 * Monday in UTC.
 */
DateADT
lms_week_start(TimestampTz at)
{
	DateADT		start;
	TimestampTz from,
				to;

	if (TIMESTAMP_NOT_FINITE(at))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range"),
				 errdetail("A league week needs a finite instant.")));
	lms_window_period(WIN_WEEK, at, &start, &from, &to);
	return start;
}

PG_FUNCTION_INFO_V1(lms_league_week);

/*
 * lms.league_week(at): the Monday (UTC) of the week holding at.
 */
Datum
lms_league_week(PG_FUNCTION_ARGS)
{
	PG_RETURN_DATEADT(lms_week_start(PG_GETARG_TIMESTAMPTZ(0)));
}

/* A week is named by its Monday. */
static void
check_week(DateADT week)
{
	if (DATE_NOT_FINITE(week) || j2day(week + POSTGRES_EPOCH_JDATE) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a league week is named by its Monday"),
				 errdetail("lms.league_week(timestamptz) gives the Monday of an instant.")));
}

PG_FUNCTION_INFO_V1(lms_league_lock);

/*
 * lms.league_lock(week, how): the week's lock until the end of the transaction. how is
 * 'shared' (a writer of the week), 'try_shared' (the same, false instead of waiting) or
 * 'exclusive' (the rollover). Returns whether it is held.
 */
Datum
lms_league_lock(PG_FUNCTION_ARGS)
{
	DateADT		week = PG_GETARG_DATEADT(0);
	char	   *how = text_to_cstring(PG_GETARG_TEXT_PP(1));
	Datum		k1 = Int32GetDatum(LEAGUE_WEEK_LOCK);
	Datum		k2 = Int32GetDatum((int32) week);

	check_week(week);
	if (strcmp(how, "shared") == 0)
		DirectFunctionCall2(pg_advisory_xact_lock_shared_int4, k1, k2);
	else if (strcmp(how, "exclusive") == 0)
		DirectFunctionCall2(pg_advisory_xact_lock_int4, k1, k2);
	else if (strcmp(how, "try_shared") == 0)
		PG_RETURN_BOOL(DatumGetBool(DirectFunctionCall2(pg_try_advisory_xact_lock_shared_int4, k1, k2)));
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown league lock mode \"%s\"", how),
				 errdetail("Modes are shared, try_shared and exclusive.")));
	PG_RETURN_BOOL(true);
}

/*
 * True while the statement running is a COPY: a load (pg_restore, a bulk import), not events.
 * A restore brings the league and group tables back as they were dumped, so the triggers that
 * keep them must not count the loaded ledger rows and board entries a second time; after a
 * bulk import of this week's points, lms.league_rebuild() forms the week from them.
 */
bool
lms_loading(void)
{
	return ActivePortal != NULL && ActivePortal->commandTag == CMDTAG_COPY;
}

PG_FUNCTION_INFO_V1(lms_loading_sql);

/*
 * lms.loading(): the same for the triggers written in SQL.
 */
Datum
lms_loading_sql(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(lms_loading());
}

/* One ledger row the league counts: whose, which week, how many points, when. */
typedef struct LeagueRow
{
	int64		user_id;
	DateADT		week;
	int64		points;
	TimestampTz at;
} LeagueRow;

/* A column of the ledger by name (its number, looked up once per statement). */
static int
ledger_column(TupleDesc desc, const char *name)
{
	int			n = SPI_fnumber(desc, name);

	if (n <= 0)
		elog(ERROR, "lms.points_ledger has no column %s", name);
	return n;
}

/*
 * The rows of the statement's transition table the league counts, each week's lock taken in
 * shared mode (held until commit: the week's rollover waits for this writer). Recalculation
 * corrections and rows dated before the previous week are left out. Returns how many.
 */
static int
league_rows(TriggerData *td, LeagueRow **rows)
{
	Tuplestorestate *ts = td->tg_newtable;
	TupleDesc	desc = RelationGetDescr(td->tg_relation);
	TupleTableSlot *slot = MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple);
	int			c_user = ledger_column(desc, "user_id"),
				c_points = ledger_column(desc, "points"),
				c_reason = ledger_column(desc, "reason"),
				c_at = ledger_column(desc, "created_at");
	DateADT		oldest = lms_week_start(lms_now()) - 7;
	int64		total = tuplestore_tuple_count(ts);
	int			n = 0;
	bool		isnull;

	*rows = palloc(sizeof(LeagueRow) * Max(total, 1));
	tuplestore_select_read_pointer(ts, tuplestore_alloc_read_pointer(ts, EXEC_FLAG_REWIND));
	tuplestore_rescan(ts);
	while (tuplestore_gettupleslot(ts, true, false, slot))
	{
		LeagueRow  *r = &(*rows)[n];

		char	   *reason = TextDatumGetCString(slot_getattr(slot, c_reason, &isnull));
		bool		counted = lms_reason_in_period(reason);

		pfree(reason);
		if (!counted)
			continue;
		r->at = DatumGetTimestampTz(slot_getattr(slot, c_at, &isnull));
		r->week = lms_week_start(r->at);
		if (r->week < oldest)
			continue;			/* history: no league that long ago */
		r->user_id = DatumGetInt64(slot_getattr(slot, c_user, &isnull));
		r->points = DatumGetInt32(slot_getattr(slot, c_points, &isnull));
		DirectFunctionCall2(pg_advisory_xact_lock_shared_int4,
							Int32GetDatum(LEAGUE_WEEK_LOCK), Int32GetDatum((int32) r->week));
		n++;
	}
	ExecDropSingleTupleTableSlot(slot);
	return n;
}

/*
 * A statement of one row (the progress write, a quiz, an admin's award): the common case of
 * lms.league_count_many()'s loop done here without its call (a PL/pgSQL call and four arrays
 * cost about a tenth of an award), the index-keyed UPDATE of the learner's row of the week.
 * False when the learner has no open row for that week: lms.league_count_many() then joins.
 */
static bool
count_one(LeagueRow *r)
{
	Oid			types[4] = {INT8OID, DATEOID, INT8OID, TIMESTAMPTZOID};
	Datum		values[4];

	lms_plan(&plan_count, "UPDATE lms.league_members SET points = points + $3, "
			 "reached_at = greatest(reached_at, $4) "
			 "WHERE user_id = $1 AND week = $2 AND outcome IS NULL",
			 4, types);
	values[0] = Int64GetDatum(r->user_id);
	values[1] = DateADTGetDatum(r->week);
	values[2] = Int64GetDatum(r->points);
	values[3] = TimestampTzGetDatum(r->at);
	lms_exec_expect(plan_count, values, NULL, false, 0, SPI_OK_UPDATE, "count the points for the league week");
	return SPI_processed > 0;
}

/*
 * The rows counted, handed to lms.league_count_many() as arrays: it adds each learner's rows to
 * their row of the week and places the learners who join together. The home of the joining
 * rules, whether the statement wrote one row (the progress write, a quiz, an admin's award) or
 * a million (a recompute, an achievement granted to everyone): joining many learners one by one
 * would update the open cohort of a tier once per joiner in one transaction, and each update
 * re-checks every version of it the transaction wrote, a cost in the square of the joiners
 * (docs/gamification.md).
 */
static void
count_many(LeagueRow *rows, int n)
{
	Oid			types[4] = {INT8ARRAYOID, DATEARRAYOID, INT8ARRAYOID, TIMESTAMPTZARRAYOID};
	Datum		values[4];
	Datum	   *users = palloc(sizeof(Datum) * n),
			   *weeks = palloc(sizeof(Datum) * n),
			   *points = palloc(sizeof(Datum) * n),
			   *ats = palloc(sizeof(Datum) * n);

	for (int i = 0; i < n; i++)
	{
		users[i] = Int64GetDatum(rows[i].user_id);
		weeks[i] = DateADTGetDatum(rows[i].week);
		points[i] = Int64GetDatum(rows[i].points);
		ats[i] = TimestampTzGetDatum(rows[i].at);
	}
	values[0] = PointerGetDatum(construct_array(users, n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	values[1] = PointerGetDatum(construct_array(weeks, n, DATEOID, 4, true, TYPALIGN_INT));
	values[2] = PointerGetDatum(construct_array(points, n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	values[3] = PointerGetDatum(construct_array(ats, n, TIMESTAMPTZOID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	lms_plan(&plan_many, "SELECT lms.league_count_many($1, $2, $3, $4)", 4, types);
	lms_exec_expect(plan_many, values, NULL, false, 0, SPI_OK_SELECT, "count the points for the league weeks");
}

PG_FUNCTION_INFO_V1(lms_league_count_points);

/*
 * AFTER INSERT ... FOR EACH STATEMENT on lms.points_ledger, with the statement's new rows as
 * its transition table: add their points to the learners' league weeks (or join the weeks
 * with them). A statement that inserted nothing (an award already given) costs nothing.
 */
Datum
lms_league_count_points(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	LeagueRow  *rows;
	int			n;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_AFTER(td->tg_event) ||
		!TRIGGER_FIRED_FOR_STATEMENT(td->tg_event) || !TRIGGER_FIRED_BY_INSERT(td->tg_event) ||
		td->tg_newtable == NULL)
		elog(ERROR, "lms_league_count_points must run AFTER INSERT FOR EACH STATEMENT with a NEW TABLE");

	if (lms_loading() || tuplestore_tuple_count(td->tg_newtable) == 0)
		return PointerGetDatum(NULL);
	n = league_rows(td, &rows);
	if (n == 0)
		return PointerGetDatum(NULL);
	lms_spi_connect();
	if (n > 1 || !count_one(&rows[0]))
		count_many(rows, n);
	SPI_finish();
	return PointerGetDatum(NULL);
}
