/*
 * api_leagues_me.c
 *	  GET /leagues/me: the caller's league week (docs/gamification.md#weekly-leagues), in C so
 *	  that a call is a few short prepared statements with generic plans, planned once per backend,
 *	  and a string: the PL/pgSQL function it replaces planned its eight statements again on each
 *	  of a backend's first five calls (custom plans), paid by requests on every new gateway
 *	  connection and after each ANALYZE of the league tables (docs/performance.md).
 *
 * The rules stay where they live, in SQL, read by the statements: the tiers in force
 * (lms.league_tier_table), where a learner without a cohort starts (lms.league_entry), the
 * ranking of a cohort (lms.league_cohort_standings) and the zones (lms.league_zone). As the
 * former SQL route, a read on a server without the worker first does the rollover that is due
 * (lms.league_rollover_due). The answer is written in jsonb's text layout (keys by length, then
 * bytes), byte for byte what the SQL route printed.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"

#include "api.h"
#include "json_out.h"
#include "leagues.h"
#include "lms.h"
#include "plans.h"

static SPIPlanPtr plan_due;
static SPIPlanPtr plan_tiers;
static SPIPlanPtr plan_me;
static SPIPlanPtr plan_entry;
static SPIPlanPtr plan_standings;

/* The caller's league week as the SQL rules give it. */
typedef struct LeagueMe
{
	bool		listed;
	bool		has_row;
	int64		cohort;			/* 0: none */
	int32		size;
	int32		capacity;
	bool		tier_no_null;	/* the tier played in (or to start in): none yet */
	int32		tier_no;
	int32		top;			/* the top tier of the table in force */
	bool		tier_null;		/* no row of tier_no in the table: tier and zones are null */
	char	   *name;
	int32		promote_top;
	bool		demote_null;
	int32		demote_from;
} LeagueMe;

/*
 * On a server where no worker serves this database, the rollover that is due (and the placing
 * of learners who waited for it), before the read; read-write, as in SQL.
 */
static void
rollover_if_due(void)
{
	lms_read_plan(&plan_due, "SELECT lms.league_rollover_due() WHERE NOT lms.league_worker_serves()", 0, NULL);
	lms_exec_expect(plan_due, NULL, NULL, false, 0, SPI_OK_SELECT, "do the league rollover that is due");
}

/*
 * The caller's row of the week, its cohort, and the tier they play in: their row's, capped by
 * the top tier, or for a learner without a cohort the one lms.league_entry says they start in.
 * Separate short statements (the tier table read once, league_entry only when needed): planned
 * as one join of the inlined SQL functions, a backend's first call cost more than all of these.
 */
static void
read_me(int64 user_id, DateADT week, LeagueMe *me)
{
	Oid			types[2] = {INT8OID, DATEOID};
	Datum		args[2] = {Int64GetDatum(user_id), DateADTGetDatum(week)};
	int32		member_tier;

	lms_read_plan(&plan_me,
				  "SELECT u.status = 'active' AND u.leaderboard_visible, m.user_id IS NOT NULL, m.cohort_id, m.tier, "
				  "       c.size, c.capacity "
				  "  FROM lms.users u "
				  "  LEFT JOIN lms.league_members m ON m.user_id = u.id AND m.week = $2 "
				  "  LEFT JOIN lms.league_cohorts c ON c.id = m.cohort_id "
				  " WHERE u.id = $1",
				  2, types);
	lms_exec_expect(plan_me, args, NULL, false, 0, SPI_OK_SELECT, "read the caller's league week");
	if (SPI_processed != 1)
		elog(ERROR, "the caller's league week read %lu rows", (unsigned long) SPI_processed);
	me->listed = lms_col_bool(0, 1, false);
	me->has_row = lms_col_bool(0, 2, false);
	me->cohort = lms_col_int64(0, 3, 0);
	member_tier = lms_col_int32(0, 4, 0);
	me->size = lms_col_int32(0, 5, 0);
	me->capacity = lms_col_int32(0, 6, 0);

	if (me->cohort == 0)
	{
		lms_read_plan(&plan_entry, "SELECT e.tier FROM lms.league_entry($1, $2) e", 2, types);
		lms_exec_expect(plan_entry, args, NULL, false, 0, SPI_OK_SELECT, "find the caller's start tier");
		me->tier_no_null = SPI_processed == 0 || lms_col_isnull(0, 1);
		me->tier_no = me->tier_no_null ? 0 : lms_col_int32(0, 1, 0);
	}
	lms_read_plan(&plan_tiers,
				  "SELECT t.tier, t.name, t.promote_top, t.demote_from FROM lms.league_tier_table() t ORDER BY t.tier",
				  0, NULL);
	lms_exec_expect(plan_tiers, NULL, NULL, false, 0, SPI_OK_SELECT, "read the league tiers");
	me->top = SPI_processed > 0 ? lms_col_int32(SPI_processed - 1, 1, 0) : 0;
	if (me->cohort != 0)
	{
		me->tier_no_null = false;
		me->tier_no = Min(member_tier, me->top);
	}
	me->tier_null = true;
	for (uint64 i = 0; !me->tier_no_null && i < SPI_processed; i++)
	{
		if (lms_col_int32(i, 1, 0) != me->tier_no)
			continue;
		me->tier_null = false;
		me->name = lms_col_text(i, 2);
		me->promote_top = lms_col_int32(i, 3, 0);
		me->demote_null = lms_col_isnull(i, 4);
		me->demote_from = lms_col_int32(i, 4, 0);
	}
}

/* A standing's "rank": n, "zone": z, "points": p (row of the standings statement). */
static void
write_rank_zone_points(StringInfo buf, uint64 row)
{
	appendStringInfoString(buf, "\"rank\": ");
	lms_json_int(buf, lms_col_int32(row, 1, 0));
	appendStringInfoString(buf, ", \"zone\": ");
	lms_json_str(buf, lms_col_text(row, 2));	/* SPI gives NULL for SQL null: JSON null */
	appendStringInfoString(buf, ", \"points\": ");
	lms_json_int(buf, lms_col_int64(row, 3, 0));
}

/*
 * The cohort's standings [{rank, zone, points, user_id, display_name}] into out, and the
 * caller's own {rank, zone, points} into mine (left empty when the caller is not listed).
 */
static void
write_standings(const LeagueMe *me, int64 user_id, StringInfo out, StringInfo mine)
{
	Oid			types[5] = {INT8OID, INT4OID, INT4OID, INT4OID, INT4OID};
	Datum		args[5] = {Int64GetDatum(me->cohort), Int32GetDatum(me->tier_no), Int32GetDatum(me->top),
	Int32GetDatum(me->promote_top), Int32GetDatum(me->demote_from)};
	char		nulls[5] = {' ', me->tier_no_null ? 'n' : ' ', ' ', me->tier_null ? 'n' : ' ',
	me->tier_null || me->demote_null ? 'n' : ' '};

	lms_read_plan(&plan_standings,
			 "SELECT s.rank, lms.league_zone(s.rank, s.points, $2, $3, $4, $5), s.points, s.user_id, s.display_name "
			 "  FROM lms.league_cohort_standings($1) s ORDER BY s.rank",
			 5, types);
	lms_exec_expect(plan_standings, args, nulls, false, 0, SPI_OK_SELECT, "read the cohort's standings");
	appendStringInfoChar(out, '[');
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		if (i > 0)
			appendStringInfoString(out, ", ");
		appendStringInfoChar(out, '{');
		write_rank_zone_points(out, i);
		appendStringInfoString(out, ", \"user_id\": ");
		lms_json_int(out, lms_col_int64(i, 4, 0));
		appendStringInfoString(out, ", \"display_name\": ");
		lms_json_str(out, lms_col_text(i, 5));
		appendStringInfoChar(out, '}');
		if (lms_col_int64(i, 4, 0) == user_id)
		{
			appendStringInfoChar(mine, '{');
			write_rank_zone_points(mine, i);
			appendStringInfoChar(mine, '}');
		}
	}
	appendStringInfoChar(out, ']');
}

/*
 * The answer: {me, tier{name, tier, demote_from, promote_top}, week, zones{promotion_to_rank,
 * demotion_from_rank}, cohort{id, size, capacity}, status, ends_at, top_tier, standings}.
 */
static void
write_answer(StringInfo out, const LeagueMe *me, DateADT week, const char *status,
			 StringInfo standings, StringInfo mine)
{
	int			y,
				m,
				d;

	appendStringInfoString(out, "{\"me\": ");
	appendStringInfoString(out, mine->len > 0 ? mine->data : "null");
	appendStringInfoString(out, ", \"tier\": ");
	if (me->tier_null)
		appendStringInfoString(out, "null");
	else
	{
		appendStringInfoString(out, "{\"name\": ");
		lms_json_str(out, me->name);
		appendStringInfoString(out, ", \"tier\": ");
		lms_json_int(out, me->tier_no);
		appendStringInfoString(out, ", \"demote_from\": ");
		lms_json_int_or_null(out, me->demote_null, me->demote_from);
		appendStringInfoString(out, ", \"promote_top\": ");
		lms_json_int(out, me->promote_top);
		appendStringInfoChar(out, '}');
	}
	j2date(week + POSTGRES_EPOCH_JDATE, &y, &m, &d);
	appendStringInfo(out, ", \"week\": \"%04d-%02d-%02d\", \"zones\": ", y, m, d);
	if (me->tier_null)
		appendStringInfoString(out, "null");
	else
	{
		appendStringInfoString(out, "{\"promotion_to_rank\": ");
		lms_json_int_or_null(out, !(me->tier_no < me->top && me->promote_top > 0), me->promote_top);
		appendStringInfoString(out, ", \"demotion_from_rank\": ");
		lms_json_int_or_null(out, !(me->tier_no > 1) || me->demote_null, me->demote_from);
		appendStringInfoChar(out, '}');
	}
	appendStringInfoString(out, ", \"cohort\": ");
	if (me->cohort == 0)
		appendStringInfoString(out, "null");
	else
	{
		appendStringInfoString(out, "{\"id\": ");
		lms_json_int(out, me->cohort);
		appendStringInfoString(out, ", \"size\": ");
		lms_json_int(out, me->size);
		appendStringInfoString(out, ", \"capacity\": ");
		lms_json_int(out, me->capacity);
		appendStringInfoChar(out, '}');
	}
	appendStringInfoString(out, ", \"status\": ");
	lms_json_str(out, status);
	appendStringInfoString(out, ", \"ends_at\": ");
	lms_json_ts(out, (TimestampTz) (week + 7) * USECS_PER_DAY, false);
	appendStringInfoString(out, ", \"top_tier\": ");
	lms_json_int(out, me->top);
	appendStringInfoString(out, ", \"standings\": ");
	appendStringInfoString(out, standings->len > 0 ? standings->data : "[]");
	appendStringInfoChar(out, '}');
}

/*
 * lms.api_leagues_me(token, path, query, body): 200 {week, ends_at, status (competing,
 * unlisted, waiting, not_joined), tier, top_tier, cohort, zones, standings, me}, or 401.
 */
PG_FUNCTION_INFO_V1(lms_api_leagues_me);
Datum
lms_api_leagues_me(PG_FUNCTION_ARGS)
{
	LmsRequest	req;
	LeagueMe	me;
	DateADT		week;
	const char *status;
	StringInfoData out,
				standings,
				mine;

	lms_request_open(PG_ARGISNULL(0) ? NULL : PG_GETARG_TEXT_PP(0), NULL, NULL, LMS_NEEDS_CALLER, &req);
	if (req.problem != NULL)
		PG_RETURN_DATUM(lms_response(fcinfo, req.problem_status, req.problem));

	/* the answer lives in the caller's memory: SPI_finish frees what SPI's context holds */
	initStringInfo(&out);
	initStringInfo(&standings);
	initStringInfo(&mine);
	lms_spi_connect();
	rollover_if_due();
	week = lms_week_start(lms_now());
	read_me(req.caller.user_id, week, &me);
	if (me.cohort != 0)
	{
		status = me.listed ? "competing" : "unlisted";
		write_standings(&me, req.caller.user_id, &standings, &mine);
	}
	else
		status = !me.listed ? "unlisted" : me.has_row ? "waiting" : "not_joined";
	write_answer(&out, &me, week, status, &standings, &mine);
	SPI_finish();
	PG_RETURN_DATUM(lms_response(fcinfo, 200, out.data));
}
