/*
 * scoring.c
 *	  Gamification scoring: the points ledger, totals and level, streaks in the learner's own
 *	  time zone, and achievements.
 *
 * Everything runs inside the caller's transaction (progress write, quiz attempt, admin award),
 * so the ledger, totals, level, streak and achievements never disagree with progress. Each award
 * is one INSERT ... ON CONFLICT (source_key) DO NOTHING into lms.points_ledger: a retry or a
 * concurrent duplicate inserts nothing and therefore adds nothing to the totals. The learner's
 * lms.learner_scores row is the per-learner serialization point (taken after progress rows, as
 * the lock order requires); achievements are granted with ON CONFLICT too and evaluated in a
 * loop until nothing changes, since an achievement's points can make a points_total one true.
 *
 * Every statement is an SPI plan prepared once per backend (plans.c). What a request awarded is
 * returned as data (LmsScore); the API layer renders it.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/numeric.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "direct.h"
#include "lms.h"
#include "plans.h"
#include "point_rules.h"
#include "rules.h"
#include "scoring.h"
#include "xapi_emit.h"

/* The streak bonus comes on every 7th consecutive active day; how many points: point_rules.c. */
#define STREAK_BONUS_EVERY 7

/* Plans kept for the backend's lifetime. */
static SPIPlanPtr plan_day = NULL;
static SPIPlanPtr plan_ensure = NULL;
static SPIPlanPtr plan_streak = NULL;
static SPIPlanPtr plan_streak_day = NULL;
static SPIPlanPtr plan_ledger = NULL;
static SPIPlanPtr plan_total = NULL;
static SPIPlanPtr plan_course = NULL;
static SPIPlanPtr plan_lessons = NULL;
static SPIPlanPtr plan_achieve = NULL;
static SPIPlanPtr plan_achieve_10 = NULL;
static SPIPlanPtr plan_finish = NULL;
static SPIPlanPtr plan_user = NULL;
static SPIPlanPtr plan_reason_count = NULL;

/* A date as YYYY-MM-DD, independent of DateStyle (it goes into source keys). */
static void
format_date(DateADT d, char *buf, size_t len)
{
	int			y,
				m,
				day;

	j2date(d + POSTGRES_EPOCH_JDATE, &y, &m, &day);
	snprintf(buf, len, "%04d-%02d-%02d", y, m, day);
}

/* An award or a streak day for a user that does not exist. */
static void
raise_unknown_user(int64 user_id, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
			 errmsg("user " INT64_FORMAT " does not exist", user_id),
			 errdetail_internal("%s", detail)));
}

/* Make sure the learner has a scores row (so UPDATEs below find one). */
static void
ensure_scores_row(int64 user_id)
{
	Oid			types[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(user_id)};

	lms_plan(&plan_ensure,
			  "INSERT INTO lms.learner_scores (user_id) VALUES ($1) ON CONFLICT DO NOTHING",
			  1, types);
	lms_exec_expect(plan_ensure, values, NULL, false, 0, SPI_OK_INSERT, "create the scores row");
}

/*
 * One ledger row and everything that follows from it: learner total and level, the course
 * total, and the counters the achievements read. reached_at keeps the latest award time
 * (greatest: concurrent transactions may commit out of their start order), as the ledger's
 * max(created_at) says. Returns the ledger id, or 0 when the source
 * key was already awarded (then nothing changes).
 */
static int64
award(int64 user_id, int32 points, const char *reason, const char *source_key,
	  int64 course_id, int64 source_id, const char *note, LmsScore *score)
{
	Oid			ltypes[8] = {INT8OID, INT4OID, TEXTOID, TEXTOID, INT8OID, INT8OID, TIMESTAMPTZOID, TEXTOID};
	Datum		lvalues[8];
	char		lnulls[8] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};
	Oid			ttypes[5] = {INT8OID, INT8OID, TIMESTAMPTZOID, INT4OID, INT4OID};
	Datum		tvalues[5];
	TimestampTz now = lms_now();
	int64		ledger_id;

	if (points == 0)
		return 0;
	if (score)
		score->standing_known = false;

	lms_plan(&plan_ledger,
			  "INSERT INTO lms.points_ledger (user_id, points, reason, source_key, course_id, source_id, created_at, note) "
			  "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (source_key) DO NOTHING RETURNING id",
			  8, ltypes);
	lvalues[0] = Int64GetDatum(user_id);
	lvalues[1] = Int32GetDatum(points);
	lvalues[2] = CStringGetTextDatum(reason);
	lvalues[3] = CStringGetTextDatum(source_key);
	lvalues[4] = Int64GetDatum(course_id);
	lnulls[4] = course_id > 0 ? ' ' : 'n';
	lvalues[5] = Int64GetDatum(source_id);
	lnulls[5] = source_id > 0 ? ' ' : 'n';
	lvalues[6] = TimestampTzGetDatum(now);
	lvalues[7] = note ? CStringGetTextDatum(note) : (Datum) 0;
	lnulls[7] = note ? ' ' : 'n';
	/*
	 * Take the transaction id before the ledger id (nextval runs before the insert would assign
	 * it): a refresh that does not yet see this row then sees this transaction as running, and
	 * keeps its low mark below our id until we commit (leaderboard.c, snapshot safety).
	 */
	(void) GetTopTransactionId();
	lms_exec_expect(plan_ledger, lvalues, lnulls, false, 0, SPI_OK_INSERT_RETURNING, "insert into the points ledger");
	if (SPI_processed == 0)
		return 0;				/* already awarded: a retry or a concurrent duplicate */
	ledger_id = lms_col_int64(0, 1, 0);

	ensure_scores_row(user_id);
	lms_plan(&plan_total,
			  "UPDATE lms.learner_scores SET total_points = total_points + $2, "
			  "level = lms.level_for(total_points + $2), reached_at = greatest(reached_at, $3), "
			  "courses_completed = courses_completed + $4, quiz_perfects = quiz_perfects + $5 "
			  "WHERE user_id = $1",
			  5, ttypes);
	tvalues[0] = Int64GetDatum(user_id);
	tvalues[1] = Int64GetDatum((int64) points);
	tvalues[2] = TimestampTzGetDatum(now);
	tvalues[3] = Int32GetDatum(points > 0 && strcmp(reason, "course_completed") == 0 ? 1 : 0);
	tvalues[4] = Int32GetDatum(points > 0 && strcmp(reason, "quiz_perfect") == 0 ? 1 : 0);
	lms_exec_expect(plan_total, tvalues, NULL, false, 0, SPI_OK_UPDATE, "update the learner's total");

	if (lms_reason_custom(reason))
	{
		/* the learner's count of this custom event, for reason_count achievements */
		static const Oid rtypes[2] = {INT8OID, TEXTOID};
		Datum		rvalues[2];

		lms_plan(&plan_reason_count,
				 "INSERT INTO lms.learner_reason_counts AS c (user_id, reason, events) VALUES ($1, $2, 1) "
				 "ON CONFLICT (user_id, reason) DO UPDATE SET events = c.events + 1",
				 2, rtypes);
		rvalues[0] = Int64GetDatum(user_id);
		rvalues[1] = CStringGetTextDatum(reason);
		lms_exec_expect(plan_reason_count, rvalues, NULL, false, 0, SPI_OK_INSERT, "count the custom event");
	}

	if (course_id > 0)
	{
		Oid			ctypes[4] = {INT8OID, INT8OID, INT8OID, TIMESTAMPTZOID};
		Datum		cvalues[4];

		lms_plan(&plan_course,
				  "INSERT INTO lms.course_scores AS c (course_id, user_id, points, reached_at) "
				  "VALUES ($1, $2, $3, $4) ON CONFLICT (course_id, user_id) DO UPDATE "
				  "SET points = c.points + EXCLUDED.points, reached_at = greatest(c.reached_at, EXCLUDED.reached_at)",
				  4, ctypes);
		cvalues[0] = Int64GetDatum(course_id);
		cvalues[1] = Int64GetDatum(user_id);
		cvalues[2] = Int64GetDatum((int64) points);
		cvalues[3] = TimestampTzGetDatum(now);
		lms_exec_expect(plan_course, cvalues, NULL, false, 0, SPI_OK_INSERT, "update the learner's course total");
	}
	if (score)
		score->points_awarded += points;
	lms_xapi_points(user_id, points, reason, source_key, course_id, source_id);
	return ledger_id;
}

/*
 * Remember a grant for the answer, in the memory of the caller that owns score (scoring runs
 * inside SPI connections whose memory ends with them).
 */
static void
remember_grant(LmsScore *score, const char *code, const char *title, int32 points)
{
	if (score->ngrants == score->maxgrants)
	{
		score->maxgrants = Max(4, score->maxgrants * 2);
		score->grants = score->grants == NULL
			? MemoryContextAlloc(score->mcxt, sizeof(LmsGrant) * score->maxgrants)
			: repalloc(score->grants, sizeof(LmsGrant) * score->maxgrants);
	}
	score->grants[score->ngrants].code = MemoryContextStrdup(score->mcxt, code);
	score->grants[score->ngrants].title = title ? MemoryContextStrdup(score->mcxt, title) : NULL;
	score->grants[score->ngrants].points = points;
	score->ngrants++;
}

/*
 * Grant every achievement the learner now qualifies for, with its points, until nothing
 * changes. Each grant is remembered in score.
 */
static void
evaluate_achievements(int64 user_id, LmsScore *score)
{
	static const Oid types[2] = {INT8OID, TIMESTAMPTZOID};
	Datum		values[2];
	int			rounds;
	SPIPlanPtr	plan;

	if (lms_schema_has("learner_reason_counts"))
		plan = lms_plan(&plan_achieve,
						"WITH g AS ("
						" INSERT INTO lms.user_achievements (user_id, achievement_id, awarded_at)"
						" SELECT s.user_id, a.id, $2 FROM lms.learner_scores s CROSS JOIN lms.achievements a"
						"   LEFT JOIN lms.learner_reason_counts rc ON rc.user_id = s.user_id AND rc.reason = a.reason"
						"  WHERE s.user_id = $1 AND lms.criteria_value(s, a.kind, rc.events) >= a.threshold"
						"    AND NOT EXISTS (SELECT FROM lms.user_achievements ua"
						"        WHERE ua.user_id = s.user_id AND ua.achievement_id = a.id)"
						" ON CONFLICT DO NOTHING RETURNING achievement_id)"
						" SELECT a.id, a.code, a.title, a.points FROM g JOIN lms.achievements a ON a.id = g.achievement_id"
						" ORDER BY a.id",
						2, types);
	else						/* a 1.0 install: no custom event counts */
		plan = lms_plan(&plan_achieve_10,
						"WITH g AS ("
						" INSERT INTO lms.user_achievements (user_id, achievement_id, awarded_at)"
						" SELECT s.user_id, a.id, $2 FROM lms.learner_scores s JOIN lms.achievements a"
						"   ON lms.criteria_value(s, a.kind) >= a.threshold"
						"  WHERE s.user_id = $1 AND NOT EXISTS (SELECT FROM lms.user_achievements ua"
						"        WHERE ua.user_id = s.user_id AND ua.achievement_id = a.id)"
						" ON CONFLICT DO NOTHING RETURNING achievement_id)"
						" SELECT a.id, a.code, a.title, a.points FROM g JOIN lms.achievements a ON a.id = g.achievement_id"
						" ORDER BY a.id",
						2, types);
	values[0] = Int64GetDatum(user_id);
	values[1] = TimestampTzGetDatum(lms_now());

	for (rounds = 0; rounds < 100; rounds++)
	{
		uint64		n,
					i;
		int64	   *ids;
		char	  **codes;
		int32	   *pts;

		lms_exec_expect(plan, values, NULL, false, 0, SPI_OK_SELECT, "evaluate achievements");
		n = SPI_processed;
		if (n == 0)
			return;
		/* the next SPI call frees SPI_tuptable: copy what we need first */
		ids = palloc(sizeof(int64) * n);
		codes = palloc(sizeof(char *) * n);
		pts = palloc(sizeof(int32) * n);
		for (i = 0; i < n; i++)
		{
			ids[i] = lms_col_int64(i, 1, 0);
			codes[i] = lms_col_text(i, 2);
			pts[i] = lms_col_int32(i, 4, 0);
			if (score)
				remember_grant(score, codes[i], lms_col_text(i, 3), pts[i]);
		}
		for (i = 0; i < n; i++)
		{
			lms_xapi_achievement(user_id, ids[i]);
			if (pts[i] != 0)
				award(user_id, pts[i], "achievement", lms_source_key("achievement", user_id, codes[i]),
					  0, ids[i], NULL, score);
		}
	}
	elog(ERROR, "achievement evaluation did not reach a fixed point");
}

/* Whether a day was already counted: it is not after the learner's last active day. */
static bool
day_already_counted(DateADT day, bool last_null, DateADT last)
{
	return !last_null && day <= last;
}

/*
 * Count today (in the learner's time zone, lms.active_day) as an active day: the first activity of a day moves
 * the streak (+1 after yesterday, back to 1 after a gap), records the day, awards the bonus on
 * every 7th consecutive day and evaluates the streak achievements. Later activity the same day,
 * or activity dated before the last active day (a clock moved back), changes nothing.
 */
static void
count_activity(int64 user_id, LmsScore *score)
{
	static const Oid dtypes[1] = {INT8OID};
	Datum		dvalues[1];
	static const Oid stypes[2] = {INT8OID, DATEOID};
	Datum		svalues[2];
	bool		isnull,
				last_null;
	DateADT		day,
				last;
	int32		current;

	lms_plan(&plan_day,
			 "SELECT u.timezone, s.last_activity_date, s.user_id IS NOT NULL, "
			 "       s.total_points, s.level, s.current_streak, s.longest_streak "
			 "FROM lms.users u LEFT JOIN lms.learner_scores s ON s.user_id = u.id WHERE u.id = $1",
			 1, dtypes);
	dvalues[0] = Int64GetDatum(user_id);
	lms_exec_expect(plan_day, dvalues, NULL, false, 1, SPI_OK_SELECT, "read the learner's day");
	if (SPI_processed == 0)
		raise_unknown_user(user_id, "Points and streaks belong to an existing user.");
	/* computed here, not in the SQL: a 1.0 install (no lms.active_day yet) runs this code too */
	day = lms_active_day(lms_col_datum(0, 1, &isnull), lms_now());
	last = DatumGetDateADT(lms_col_datum(0, 2, &last_null));
	if (day_already_counted(day, last_null, last))
	{
		/*
		 * The hot case: already active today. Nothing changes here, so where the learner
		 * stands is what was just read: lms_score_finish needs no read of its own unless
		 * something is awarded afterwards (award() forgets it).
		 */
		if (score)
		{
			score->total_points = lms_col_int64(0, 4, 0);
			score->level = lms_col_int32(0, 5, 0);
			score->streak_current = lms_col_int32(0, 6, 0);
			score->streak_longest = lms_col_int32(0, 7, 0);
			score->standing_known = true;
		}
		return;
	}
	if (!lms_col_bool(0, 3, false))
		ensure_scores_row(user_id);

	/* the WHERE re-checks under the row lock: two first writes of a day count once */
	lms_plan(&plan_streak,
			 "UPDATE lms.learner_scores s SET "
			 " current_streak = CASE WHEN s.last_activity_date = $2 - 1 THEN s.current_streak + 1 ELSE 1 END, "
			 " longest_streak = greatest(s.longest_streak, "
			 "   CASE WHEN s.last_activity_date = $2 - 1 THEN s.current_streak + 1 ELSE 1 END), "
			 " last_activity_date = $2 "
			 "WHERE s.user_id = $1 AND (s.last_activity_date IS NULL OR s.last_activity_date < $2) "
			 "RETURNING s.current_streak",
			 2, stypes);
	svalues[0] = Int64GetDatum(user_id);
	svalues[1] = DateADTGetDatum(day);
	lms_exec_expect(plan_streak, svalues, NULL, false, 0, SPI_OK_UPDATE_RETURNING, "update the streak");
	if (SPI_processed == 0)
		return;					/* a concurrent write counted this day first */
	current = lms_col_int32(0, 1, 0);

	lms_plan(&plan_streak_day,
			 "INSERT INTO lms.streak_days (user_id, day) VALUES ($1, $2) ON CONFLICT DO NOTHING",
			 2, stypes);
	lms_exec_expect(plan_streak_day, svalues, NULL, false, 0, SPI_OK_INSERT, "record the active day");

	if (current > 0 && current % STREAK_BONUS_EVERY == 0)
	{
		char		date[16];

		format_date(day, date, sizeof(date));
		award(user_id, lms_point_rule("streak_bonus", 0), "streak_bonus", lms_source_key("streak", user_id, date),
			  0, 0, NULL, score);
	}
	evaluate_achievements(user_id, score);
}

/*
 * The hot case of count_activity without SQL: two key lookups (the learner's scores row and
 * time zone) under a fresh snapshot, which sees the request's own writes and awards.
 */
bool
lms_score_already_active_today(int64 user_id, LmsScore *score)
{
	static const int sc[] = {SCORES_LAST_DAY, SCORES_TOTAL, SCORES_LEVEL, SCORES_CURRENT, SCORES_LONGEST};
	static const int uc[] = {USER_TIMEZONE};
	Snapshot	snap;
	Datum		sv[lengthof(sc)],
				uv[lengthof(uc)];
	bool		sn[lengthof(sc)],
				un[lengthof(uc)];
	bool		counted = false;

	if (score->points_awarded != 0 || score->ngrants > 0)
		return false;
	snap = RegisterSnapshot(GetTransactionSnapshot());
	if (lms_fetch(LMS_LEARNER_SCORES_PKEY, &user_id, snap, lengthof(sc), sc, sv, sn) && !sn[0] &&
		lms_fetch(LMS_USERS_PKEY, &user_id, snap, lengthof(uc), uc, uv, un) && !un[0] &&
		day_already_counted(lms_active_day(uv[0], lms_now()), false, DatumGetDateADT(sv[0])))
	{
		counted = true;
		score->total_points = sn[1] ? 0 : DatumGetInt64(sv[1]);
		score->level = sn[2] ? 1 : DatumGetInt32(sv[2]);
		score->streak_current = sn[3] ? 0 : DatumGetInt32(sv[3]);
		score->streak_longest = sn[4] ? 0 : DatumGetInt32(sv[4]);
		score->standing_known = true;
	}
	UnregisterSnapshot(snap);
	return counted;
}

void
lms_score_init(LmsScore *score)
{
	memset(score, 0, sizeof(LmsScore));
	score->level = 1;
	score->mcxt = CurrentMemoryContext;
}

/*
 * Hook: every progress write counts the learner's streak day.
 */
void
lms_score_activity(int64 user_id, LmsScore *score)
{
	lms_spi_connect();
	count_activity(user_id, score);
	SPI_finish();
}

/*
 * Hook: a lesson flipped to completed. The lesson counter moves even for a 0-point lesson;
 * the points (the lesson's own, else its kind's rule: point_rules.c) go through the ledger
 * under the key lesson:<user>:<lesson>.
 */
void
lms_score_lesson_completed(int64 user_id, int64 course_id, int64 lesson_id, const char *kind,
						   int32 own_points, LmsScore *score)
{
	int32		points;

	Oid			types[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(user_id)};
	lms_spi_connect();
	points = lms_lesson_points(kind, course_id, own_points);
	ensure_scores_row(user_id);
	lms_plan(&plan_lessons,
			  "UPDATE lms.learner_scores SET lessons_completed = lessons_completed + 1 WHERE user_id = $1",
			  1, types);
	lms_exec_expect(plan_lessons, values, NULL, false, 0, SPI_OK_UPDATE, "count the completed lesson");
	award(user_id, points, "lesson_completed", lms_source_key_id("lesson", user_id, lesson_id),
		  course_id, lesson_id, NULL, score);
	evaluate_achievements(user_id, score);
	SPI_finish();
}

/*
 * Hook: the learner's enrollment completed; the course bonus (its rule), once
 * (course:<user>:<course>).
 */
void
lms_score_course_completed(int64 user_id, int64 course_id, LmsScore *score)
{
	lms_spi_connect();
	if (award(user_id, lms_point_rule("course_completed", course_id), "course_completed",
			  lms_source_key_id("course", user_id, course_id),
			  course_id, course_id, NULL, score) != 0)
		evaluate_achievements(user_id, score);
	SPI_finish();
}

/*
 * Hook: where the learner stands after the request (total, level, streak) for the answer.
 */
void
lms_score_finish(int64 user_id, LmsScore *score)
{
	Oid			types[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(user_id)};

	if (score->standing_known)
		return;					/* read by count_activity, nothing awarded since */
	lms_spi_connect();
	lms_plan(&plan_finish,
			  "SELECT total_points, level, current_streak, longest_streak FROM lms.learner_scores WHERE user_id = $1",
			  1, types);
	lms_exec_expect(plan_finish, values, NULL, false, 1, SPI_OK_SELECT, "read the learner's score");
	if (SPI_processed == 1)
	{
		score->total_points = lms_col_int64(0, 1, 0);
		score->level = lms_col_int32(0, 2, 0);
		score->streak_current = lms_col_int32(0, 3, 0);
		score->streak_longest = lms_col_int32(0, 4, 0);
	}
	SPI_finish();
}

PG_FUNCTION_INFO_V1(lms_award_points);

/*
 * lms.award_points(user_id, points, reason, source_key, course_id DEFAULT NULL [, note]):
 * the SQL entry point of the ledger, for DBAs, the admin route and tests. Returns the ledger id
 * or NULL when the key was awarded before. A learner's own kind of award also counts the day.
 * Any reason that is not built in is a custom event (rules.c): its key is the learner's
 * (lms_event_key), so each event counts once per learner.
 */
Datum
lms_award_points(PG_FUNCTION_ARGS)
{
	int64		user_id;
	int32		points;
	char	   *reason;
	char	   *key;
	int64		course_id = 0;
	char	   *note = NULL;
	int64		id;
	Oid			types[1] = {INT8OID};
	Datum		values[1];

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("user_id, points, reason and source_key must not be null"),
				 errdetail("Every award names its learner, amount, reason and source key.")));
	user_id = PG_GETARG_INT64(0);
	points = PG_GETARG_INT32(1);
	reason = text_to_cstring(PG_GETARG_TEXT_PP(2));
	key = text_to_cstring(PG_GETARG_TEXT_PP(3));
	if (PG_NARGS() > 4 && !PG_ARGISNULL(4))
		course_id = PG_GETARG_INT64(4);
	if (PG_NARGS() > 5 && !PG_ARGISNULL(5))
		note = text_to_cstring(PG_GETARG_TEXT_PP(5));

	if (points == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("points must not be zero"),
				 errdetail("A ledger row records a change of score.")));
	if (!lms_reason_valid(reason))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid award reason \"%s\"", reason),
				 errdetail("A reason is a built-in one or a custom event's: a lowercase letter, then up to 63 lowercase letters, digits or underscores.")));
	if (strcmp(reason, "recalculation") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("award reason \"recalculation\" is reserved"),
				 errdetail("Only lms.recalculate_points() writes recalculation corrections.")));
	if (lms_reason_custom(reason))
	{
		/* a custom event: once per learner and source key, never in a built-in key's place */
		if (key[0] == '\0' || strlen(key) > LMS_EVENT_KEY_MAX)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the source_key of a custom event must be 1 to %d characters", LMS_EVENT_KEY_MAX),
					 errdetail("The source key names the event, so the learner gets its points once.")));
		key = lms_event_key(user_id, key);
	}
	else if (key[0] == '\0' || strlen(key) > 200)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("source_key must be 1 to 200 characters"),
				 errdetail("The source key names what was awarded, so it is awarded once.")));
	if (PG_NARGS() > 4 && !PG_ARGISNULL(4) && course_id <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("course_id must be positive"),
				 errdetail("Course ids start at 1.")));

	lms_spi_connect();
	lms_plan(&plan_user, "SELECT 1 FROM lms.users WHERE id = $1", 1, types);
	values[0] = Int64GetDatum(user_id);
	lms_exec_expect(plan_user, values, NULL, false, 1, SPI_OK_SELECT, "look the user up");
	if (SPI_processed == 0)
		raise_unknown_user(user_id, "Points belong to an existing user.");
	if (lms_reason_activity(reason))
		count_activity(user_id, NULL);
	id = award(user_id, points, reason, key, course_id, 0, note, NULL);
	if (id != 0)
		evaluate_achievements(user_id, NULL);
	SPI_finish();
	if (id == 0)
		PG_RETURN_NULL();
	PG_RETURN_INT64(id);
}

PG_FUNCTION_INFO_V1(lms_award_quiz);

/*
 * lms.award_quiz(user_id, quiz_id, course_id, score, passed): called by the quiz attempt path
 * in its transaction. Counts the day; a pass earns the quiz_passed rule once per quiz, a
 * 100 % score the quiz_perfect rule once per quiz; returns what this call awarded,
 * achievements included.
 */
Datum
lms_award_quiz(PG_FUNCTION_ARGS)
{
	int64		user_id = PG_GETARG_INT64(0);
	int64		quiz_id = PG_GETARG_INT64(1);
	int64		course_id = PG_GETARG_INT64(2);
	Numeric		score_num = PG_GETARG_NUMERIC(3);
	bool		passed = PG_GETARG_BOOL(4);
	double		score_pct;
	LmsScore	s;

	score_pct = DatumGetFloat8(DirectFunctionCall1(numeric_float8, NumericGetDatum(score_num)));
	if (score_pct < 0 || score_pct > 100)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("score must be between 0 and 100"),
				 errdetail("Quiz scores are percentages.")));

	lms_score_init(&s);
	lms_spi_connect();
	count_activity(user_id, &s);
	if (passed)
	{
		award(user_id, lms_point_rule("quiz_passed", course_id), "quiz_passed",
			  lms_source_key_id("quiz_pass", user_id, quiz_id), course_id, quiz_id, NULL, &s);
		if (score_pct >= 100)
		{
			award(user_id, lms_point_rule("quiz_perfect", course_id), "quiz_perfect",
				  lms_source_key_id("quiz_perfect", user_id, quiz_id), course_id, quiz_id, NULL, &s);
		}
		evaluate_achievements(user_id, &s);
	}
	SPI_finish();
	PG_RETURN_INT32((int32) s.points_awarded);
}
