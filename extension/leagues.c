/*
 * leagues.c
 *	  Weekly leagues: the league week, the week lock, and the ledger trigger that counts every
 *	  award into the learner's week (docs/gamification.md#weekly-leagues).
 *
 * Every points_ledger row (whatever wrote it: the progress write, a quiz, an admin, a custom
 * event, an achievement) fires lms.league_count_points() after it is inserted. The common case
 * is one index-keyed UPDATE of the learner's lms.league_members row of the row's week; the
 * first points of a week call lms.league_join() (SQL, 93_leagues.sql), which forms or fills a
 * cohort. Recalculation corrections are not counted (lms_reason_in_period: they re-score past
 * events, the week counts what was earned in it), nor rows dated before the previous week (a bulk import of
 * history does not form leagues for weeks long gone).
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
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/fmgrprotos.h"
#include "tcop/pquery.h"
#include "utils/timestamp.h"

#include "leaderboard.h"
#include "leagues.h"
#include "lms.h"
#include "plans.h"
#include "rules.h"

/* First advisory-lock key of a league week ('LMSW'); the second is the week's day number. */
#define LEAGUE_WEEK_LOCK 1280136023

static SPIPlanPtr plan_count = NULL;
static SPIPlanPtr plan_join = NULL;

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

static Datum
column(TriggerData *td, const char *name, bool *isnull)
{
	int			n = SPI_fnumber(td->tg_relation->rd_att, name);

	if (n <= 0)
		elog(ERROR, "lms.points_ledger has no column %s", name);
	return SPI_getbinval(td->tg_trigtuple, td->tg_relation->rd_att, n, isnull);
}

PG_FUNCTION_INFO_V1(lms_league_count_points);

/*
 * AFTER INSERT ... FOR EACH ROW on lms.points_ledger: add the row's points to the learner's
 * league week (or join the week with them).
 */
Datum
lms_league_count_points(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	bool		isnull;
	int64		user_id;
	int32		points;
	char	   *reason;
	TimestampTz at;
	DateADT		week;
	Oid			types[4] = {INT8OID, DATEOID, INT8OID, TIMESTAMPTZOID};
	Datum		values[4];

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_AFTER(td->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(td->tg_event) || !TRIGGER_FIRED_BY_INSERT(td->tg_event))
		elog(ERROR, "lms_league_count_points must run AFTER INSERT FOR EACH ROW");

	if (lms_loading())
		return PointerGetDatum(NULL);
	user_id = DatumGetInt64(column(td, "user_id", &isnull));
	points = DatumGetInt32(column(td, "points", &isnull));
	reason = TextDatumGetCString(column(td, "reason", &isnull));
	at = DatumGetTimestampTz(column(td, "created_at", &isnull));
	if (!lms_reason_in_period(reason))
		return PointerGetDatum(NULL);
	week = lms_week_start(at);
	if (week < lms_week_start(lms_now()) - 7)
		return PointerGetDatum(NULL);	/* history: no league that long ago */

	/* held until commit: the week's rollover waits for this writer */
	DirectFunctionCall2(pg_advisory_xact_lock_shared_int4,
						Int32GetDatum(LEAGUE_WEEK_LOCK), Int32GetDatum((int32) week));

	lms_spi_connect();
	lms_plan(&plan_count, "UPDATE lms.league_members SET points = points + $3, "
			 "reached_at = greatest(reached_at, $4) "
			 "WHERE user_id = $1 AND week = $2 AND outcome IS NULL",
			 4, types);
	values[0] = Int64GetDatum(user_id);
	values[1] = DateADTGetDatum(week);
	values[2] = Int64GetDatum((int64) points);
	values[3] = TimestampTzGetDatum(at);
	lms_exec_expect(plan_count, values, NULL, false, 0, SPI_OK_UPDATE, "count the points for the league week");
	if (SPI_processed == 0)
	{
		/* the first points of the week, or a week already rolled over */
		lms_plan(&plan_join, "SELECT lms.league_join($1, $2, $3, $4)", 4, types);
		lms_exec_expect(plan_join, values, NULL, false, 0, SPI_OK_SELECT, "join the league week");
	}
	SPI_finish();
	return PointerGetDatum(NULL);
}
