/*
 * rules.c
 *	  Every business rule that more than one place needs, written once. C callers use the
 *	  functions below; SQL (the PL/pgSQL routes, views, recompute) calls the thin wrappers at
 *	  the end of this file, so that the C and SQL sides cannot drift apart. Nothing here reads
 *	  a table: a rule is a decision over values.
 */
#include "postgres.h"

#include <math.h>

#include "common/int.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

#include "lms.h"
#include "rules.h"

bool
lms_enrollment_live(const char *status, bool expires_isnull, TimestampTz expires_at,
					TimestampTz now)
{
	if (status == NULL)
		return false;
	if (strcmp(status, "completed") == 0)
		return true;
	return strcmp(status, "active") == 0 && (expires_isnull || expires_at > now);
}

const char *
lms_shown_status(const char *status, bool expires_isnull, TimestampTz expires_at, TimestampTz now)
{
	if (status != NULL && strcmp(status, "active") == 0 && !expires_isnull && expires_at <= now)
		return "expired";
	return status;
}

/*
 * The lesson access rules in one place (lms.lesson_access and the progress write): staff see
 * everything, unpublished content does not exist for others, previews are open, then a live
 * enrollment, then the lesson's availability date.
 */
LmsAccess
lms_access_decide(bool staff, bool anonymous, bool lesson_published, bool course_published,
				  bool is_preview, const char *enroll_status, bool expires_isnull,
				  TimestampTz expires_at, bool avail_isnull, TimestampTz available_from,
				  TimestampTz now)
{
	if (staff)
		return LMS_ACCESS_OK;
	if (!lesson_published || !course_published)
		return LMS_ACCESS_NOT_FOUND;
	if (is_preview)
		return LMS_ACCESS_OK;
	if (anonymous)
		return LMS_ACCESS_UNAUTHENTICATED;
	if (!lms_enrollment_live(enroll_status, expires_isnull, expires_at, now))
		return LMS_ACCESS_NOT_ENROLLED;
	if (!avail_isnull && available_from > now)
		return LMS_ACCESS_LOCKED;
	return LMS_ACCESS_OK;
}

const char *
lms_access_code(LmsAccess a)
{
	switch (a)
	{
		case LMS_ACCESS_OK:
			return "ok";
		case LMS_ACCESS_NOT_FOUND:
			return "not_found";
		case LMS_ACCESS_UNAUTHENTICATED:
			return "unauthenticated";
		case LMS_ACCESS_NOT_ENROLLED:
			return "not_enrolled";
		case LMS_ACCESS_LOCKED:
			return "lesson_locked";
	}
	return "not_found";
}

/* 50 * n * (n - 1), false when it does not fit in a bigint. */
static bool
level_start(int64 n, int64 *out)
{
	return !pg_mul_s64_overflow(n, n - 1, out) && !pg_mul_s64_overflow(*out, 50, out);
}

/*
 * Level n starts at 100*n*(n-1)/2 points. Solved with a square root, then corrected in integer
 * arithmetic so the boundaries (99/100, 299/300, ...) are exact; a start past the bigint range
 * is never reached.
 */
int32
lms_level_for_points(int64 points)
{
	int64		n,
				start;

	if (points < 100)
		return 1;
	n = (int64) ((1.0 + sqrt(1.0 + 8.0 * (double) points / 100.0)) / 2.0);
	if (n < 1)
		n = 1;
	while (n > 1 && (!level_start(n, &start) || start > points))
		n--;
	while (level_start(n + 1, &start) && start <= points)
		n++;
	return (int32) n;
}

/* The first points of a level, failing as SQL's bigint arithmetic does past its range. */
int64
lms_level_floor(int64 level)
{
	int64		r;

	if (!level_start(level, &r))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("bigint out of range"),
				 errdetail("A level's point bounds do not fit in a bigint.")));
	return r;
}

/* part/whole*100 in hundredths, rounded half up: round(x, 2) in SQL for x >= 0. */
int64
lms_percent_hundredths(int64 part, int64 whole)
{
	if (whole <= 0 || part <= 0)
		return 0;
	if (part > whole)
		part = whole;
	return (part * 20000 + whole) / (2 * whole);
}

char *
lms_source_key(const char *kind, int64 user_id, const char *ref)
{
	return psprintf("%s:" INT64_FORMAT ":%s", kind, user_id, ref);
}

char *
lms_source_key_id(const char *kind, int64 user_id, int64 ref)
{
	return psprintf("%s:" INT64_FORMAT ":" INT64_FORMAT, kind, user_id, ref);
}

/*
 * The built-in reasons. 'recalculation' is a correction by lms.recalculate_points() (re-scoring
 * past events under the rules in force), 'admin_correction' an admin's award or correction.
 */
static const char *const builtin_reasons[] = {
	"lesson_completed", "quiz_passed", "quiz_perfect", "course_completed", "streak_bonus",
	"achievement", "admin_correction", "recalculation"
};

bool
lms_reason_builtin(const char *reason)
{
	int			i;

	for (i = 0; i < lengthof(builtin_reasons); i++)
		if (strcmp(reason, builtin_reasons[i]) == 0)
			return true;
	return false;
}

/* [a-z][a-z0-9_]{0,63} */
bool
lms_reason_valid(const char *reason)
{
	size_t		n = strlen(reason),
				i;

	if (n < 1 || n > 64 || reason[0] < 'a' || reason[0] > 'z')
		return false;
	for (i = 1; i < n; i++)
		if (!((reason[i] >= 'a' && reason[i] <= 'z') || (reason[i] >= '0' && reason[i] <= '9') || reason[i] == '_'))
			return false;
	return true;
}

bool
lms_reason_custom(const char *reason)
{
	return lms_reason_valid(reason) && !lms_reason_builtin(reason);
}

bool
lms_reason_activity(const char *reason)
{
	return strcmp(reason, "lesson_completed") == 0 || strcmp(reason, "quiz_passed") == 0 ||
		strcmp(reason, "quiz_perfect") == 0 || strcmp(reason, "course_completed") == 0;
}

bool
lms_reason_in_period(const char *reason)
{
	return strcmp(reason, "recalculation") != 0;
}

char *
lms_event_key(int64 user_id, const char *key)
{
	return lms_source_key("event", user_id, key);
}

static Datum
numeric_of(int32 v)
{
	return DirectFunctionCall1(int4_numeric, Int32GetDatum(v));
}

bool
lms_percentage_in_range(Datum numeric)
{
	return !DatumGetBool(DirectFunctionCall2(numeric_lt, numeric, numeric_of(0))) &&
		!DatumGetBool(DirectFunctionCall2(numeric_gt, numeric, numeric_of(100)));
}

int32
lms_percentage_hundredths(Datum numeric)
{
	Datum		r = DirectFunctionCall2(numeric_round, numeric, Int32GetDatum(2));

	return DatumGetInt32(DirectFunctionCall1(numeric_int4,
											 DirectFunctionCall2(numeric_mul, r, numeric_of(100))));
}

/* ---- the SQL face of the rules ---- */

/* lms.level_for(points) */
PG_FUNCTION_INFO_V1(lms_level_for);
Datum
lms_level_for(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(lms_level_for_points(PG_GETARG_INT64(0)));
}

/* lms.enrollment_live(status, expires_at, at): live at that instant (NULL: lms.clock()). */
PG_FUNCTION_INFO_V1(lms_enrollment_live_sql);
Datum
lms_enrollment_live_sql(PG_FUNCTION_ARGS)
{
	char	   *status = PG_ARGISNULL(0) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(0));
	TimestampTz at = PG_ARGISNULL(2) ? lms_now() : PG_GETARG_TIMESTAMPTZ(2);

	PG_RETURN_BOOL(lms_enrollment_live(status, PG_ARGISNULL(1),
									   PG_ARGISNULL(1) ? 0 : PG_GETARG_TIMESTAMPTZ(1), at));
}

/* lms.effective_status(status, expires_at): the status as read now (lms.clock()). */
PG_FUNCTION_INFO_V1(lms_effective_status);
Datum
lms_effective_status(PG_FUNCTION_ARGS)
{
	const char *shown;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	shown = lms_shown_status(text_to_cstring(PG_GETARG_TEXT_PP(0)), PG_ARGISNULL(1),
							 PG_ARGISNULL(1) ? 0 : PG_GETARG_TIMESTAMPTZ(1), lms_now());
	PG_RETURN_TEXT_P(cstring_to_text(shown));
}

/* lms.progress_percentage(part, whole) -> numeric with two decimals. */
PG_FUNCTION_INFO_V1(lms_progress_percentage);
Datum
lms_progress_percentage(PG_FUNCTION_ARGS)
{
	PG_RETURN_NUMERIC(int64_div_fast_to_numeric(lms_percent_hundredths(PG_GETARG_INT32(0),
																		PG_GETARG_INT32(1)), 2));
}

/* lms.source_key(kind, user_id, ref) */
PG_FUNCTION_INFO_V1(lms_source_key_sql);
Datum
lms_source_key_sql(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(lms_source_key(text_to_cstring(PG_GETARG_TEXT_PP(0)),
													PG_GETARG_INT64(1),
													text_to_cstring(PG_GETARG_TEXT_PP(2)))));
}

/* lms.reason_is_valid(reason), lms.reason_is_custom(reason), lms.reason_in_period(reason) */
PG_FUNCTION_INFO_V1(lms_reason_is_valid);
Datum
lms_reason_is_valid(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(lms_reason_valid(text_to_cstring(PG_GETARG_TEXT_PP(0))));
}

PG_FUNCTION_INFO_V1(lms_reason_is_custom);
Datum
lms_reason_is_custom(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(lms_reason_custom(text_to_cstring(PG_GETARG_TEXT_PP(0))));
}

PG_FUNCTION_INFO_V1(lms_reason_in_period_sql);
Datum
lms_reason_in_period_sql(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(lms_reason_in_period(text_to_cstring(PG_GETARG_TEXT_PP(0))));
}

/* lms.event_source_key(user_id, key) */
PG_FUNCTION_INFO_V1(lms_event_source_key);
Datum
lms_event_source_key(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(lms_event_key(PG_GETARG_INT64(0), text_to_cstring(PG_GETARG_TEXT_PP(1)))));
}

/*
 * The hour a timestamp falls in: whole hours since 2000-01-01 UTC (PostgreSQL's epoch), rounded
 * down. The hour slots of the boards' tie groups and of the courses' activity counts use it.
 */
int64
lms_hour_of(TimestampTz ts)
{
	int64		hour = ts / USECS_PER_HOUR;

	if (ts < 0 && ts % USECS_PER_HOUR != 0)
		hour--;
	return hour;
}

TimestampTz
lms_hour_start(int64 hour)
{
	return hour * USECS_PER_HOUR;
}

PG_FUNCTION_INFO_V1(lms_hour_of_sql);

/* lms.hour_of(timestamptz) -> bigint */
Datum
lms_hour_of_sql(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(lms_hour_of(PG_GETARG_TIMESTAMPTZ(0)));
}
