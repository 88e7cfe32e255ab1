/*
 * enrollment.c
 *	  The enrollment core: the lesson access check, lms.is_enrolled, enroll and drop (the rules
 *	  they apply, access and liveness, are rules.c's).
 *
 * Capacity is never exceeded: a seat is taken by a guarded UPDATE of the course row
 * (seats_taken < capacity), never by counting then inserting. Lock order is the house one:
 * the course row first (enroll and drop lock it before touching an enrollment), then the
 * enrollment row. Seats held by enrollments past expires_at are released lazily, by the enroll
 * path when the course is full, with SKIP LOCKED so a sweep never waits on a learner.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"

#include "lms.h"
#include "plans.h"
#include "rules.h"
#include "xapi_emit.h"

static SPIPlanPtr access_plan = NULL;
static SPIPlanPtr is_enrolled_plan = NULL;

/*
 * lms.lesson_access(user_id, lesson_id) -> 'ok' | 'not_found' | 'unauthenticated' |
 * 'not_enrolled' | 'lesson_locked'. Every lesson read asks this; one indexed lookup.
 */
PG_FUNCTION_INFO_V1(lms_lesson_access);
Datum
lms_lesson_access(PG_FUNCTION_ARGS)
{
	static const Oid types[2] = {INT8OID, INT8OID};
	Datum		args[2];
	char		nulls[2] = {' ', ' '};
	bool		anonymous = PG_ARGISNULL(0);
	LmsAccess	a;

	if (PG_ARGISNULL(1))
		PG_RETURN_TEXT_P(cstring_to_text("not_found"));
	args[0] = anonymous ? Int64GetDatum(0) : PG_GETARG_DATUM(0);
	args[1] = PG_GETARG_DATUM(1);
	if (anonymous)
		nulls[0] = 'n';

	lms_spi_connect();
	lms_plan(&access_plan,
			 "SELECT l.is_published, c.is_published, l.is_preview, l.available_from, "
			 "       (c.instructor_id = $1 OR u.role = 'admin'), e.status, e.expires_at "
			 "FROM lms.lessons l JOIN lms.courses c ON c.id = l.course_id "
			 "LEFT JOIN lms.users u ON u.id = $1 "
			 "LEFT JOIN lms.enrollments e ON e.course_id = l.course_id AND e.user_id = $1 "
			 "WHERE l.id = $2", 2, types);
	lms_exec(access_plan, args, nulls, true, 1);
	if (SPI_processed == 0)
		a = LMS_ACCESS_NOT_FOUND;
	else
	{
		bool		exp_null,
					avail_null;
		TimestampTz avail = lms_col_ts(0, 4, &avail_null);
		TimestampTz exp = lms_col_ts(0, 7, &exp_null);

		a = lms_access_decide(lms_col_bool(0, 5, false), anonymous,
							  lms_col_bool(0, 1, false), lms_col_bool(0, 2, false),
							  lms_col_bool(0, 3, false), lms_col_text(0, 6),
							  exp_null, exp, avail_null, avail, lms_now());
	}
	SPI_finish();
	PG_RETURN_TEXT_P(cstring_to_text(lms_access_code(a)));
}

/*
 * lms.is_enrolled(user_id, course_id): an active enrollment not past expires_at, or a
 * completed one (completion is permanent). STRICT: NULL in, NULL out.
 */
PG_FUNCTION_INFO_V1(lms_is_enrolled);
Datum
lms_is_enrolled(PG_FUNCTION_ARGS)
{
	static const Oid types[2] = {INT8OID, INT8OID};
	Datum		args[2] = {PG_GETARG_DATUM(0), PG_GETARG_DATUM(1)};
	bool		live = false;

	lms_spi_connect();
	lms_plan(&is_enrolled_plan,
			 "SELECT status, expires_at FROM lms.enrollments WHERE user_id = $1 AND course_id = $2",
			 2, types);
	lms_exec(is_enrolled_plan, args, NULL, true, 1);
	if (SPI_processed == 1)
	{
		bool		exp_null;
		TimestampTz exp = lms_col_ts(0, 2, &exp_null);

		live = lms_enrollment_live(lms_col_text(0, 1), exp_null, exp, lms_now());
	}
	SPI_finish();
	PG_RETURN_BOOL(live);
}

static SPIPlanPtr prereq_plan = NULL;
static SPIPlanPtr lock_course_plan = NULL;
static SPIPlanPtr lock_own_plan = NULL;
static SPIPlanPtr expire_one_plan = NULL;
static SPIPlanPtr release_plan = NULL;
static SPIPlanPtr take_seat_plan = NULL;
static SPIPlanPtr sweep_plan = NULL;
static SPIPlanPtr reactivate_plan = NULL;
static SPIPlanPtr insert_plan = NULL;
static SPIPlanPtr drop_plan = NULL;

/* What the enroll rules need of the course row. */
typedef struct CourseRow
{
	bool		published;
	bool		opens_null;
	TimestampTz opens;
	bool		closes_null;
	TimestampTz closes;
	bool		access_days_null;
	int32		access_days;
} CourseRow;

/*
 * Lock the course row (house lock order: course before enrollment) and read it. Every
 * enroll and drop of the course serializes here, so what they read next is settled.
 * False when the course does not exist.
 */
static bool
lock_course(int64 course_id, CourseRow *row)
{
	static const Oid types[1] = {INT8OID};
	Datum		args[1] = {Int64GetDatum(course_id)};

	lms_plan(&lock_course_plan,
			 "SELECT is_published, enroll_opens_at, enroll_closes_at, access_days "
			 "FROM lms.courses WHERE id = $1 FOR NO KEY UPDATE", 1, types);
	lms_exec(lock_course_plan, args, NULL, false, 1);
	if (SPI_processed != 1)
		return false;
	if (row)
	{
		row->published = lms_col_bool(0, 1, false);
		row->opens = lms_col_ts(0, 2, &row->opens_null);
		row->closes = lms_col_ts(0, 3, &row->closes_null);
		row->access_days_null = lms_col_isnull(0, 4);
		row->access_days = lms_col_int32(0, 4, 0);
	}
	return true;
}

/* Give seats back to the course (and active places when the enrollments were active). */
static void
release_seats(int64 course_id, int32 seats, int32 active)
{
	static const Oid types[3] = {INT8OID, INT4OID, INT4OID};
	Datum		args[3] = {Int64GetDatum(course_id), Int32GetDatum(seats), Int32GetDatum(active)};

	if (seats == 0 && active == 0)
		return;
	lms_plan(&release_plan,
			 "UPDATE lms.courses SET seats_taken = seats_taken - $2, "
			 "active_enrollments = active_enrollments - $3 WHERE id = $1", 3, types);
	lms_exec(release_plan, args, NULL, false, 0);
}

/* The guarded seat grab: succeeds only while capacity allows. */
static bool
take_seat(int64 course_id)
{
	static const Oid types[1] = {INT8OID};
	Datum		args[1] = {Int64GetDatum(course_id)};

	lms_plan(&take_seat_plan,
			 "UPDATE lms.courses SET seats_taken = seats_taken + 1, "
			 "active_enrollments = active_enrollments + 1 "
			 "WHERE id = $1 AND (capacity IS NULL OR seats_taken < capacity)", 1, types);
	lms_exec(take_seat_plan, args, NULL, false, 0);
	return SPI_processed == 1;
}

/*
 * Store 'expired' on this course's active enrollments past expires_at and give their seats
 * back. Rows another transaction holds are skipped (a later sweep gets them).
 */
static int32
sweep_overdue(int64 course_id, TimestampTz now)
{
	static const Oid types[2] = {INT8OID, TIMESTAMPTZOID};
	Datum		args[2] = {Int64GetDatum(course_id), TimestampTzGetDatum(now)};
	int32		n;

	lms_plan(&sweep_plan,
			 "WITH x AS (SELECT id FROM lms.enrollments WHERE course_id = $1 AND status = 'active' "
			 "           AND expires_at IS NOT NULL AND expires_at <= $2 FOR UPDATE SKIP LOCKED) "
			 "UPDATE lms.enrollments e SET status = 'expired' FROM x "
			 "WHERE e.id = x.id AND e.status = 'active'", 2, types);
	lms_exec(sweep_plan, args, NULL, false, 0);
	n = (int32) SPI_processed;
	release_seats(course_id, n, n);
	return n;
}

/* Lock the learner's own enrollment row and read it (fresh, after the course lock). */
static bool
lock_own(int64 user_id, int64 course_id)
{
	static const Oid types[2] = {INT8OID, INT8OID};
	Datum		args[2] = {Int64GetDatum(user_id), Int64GetDatum(course_id)};

	lms_plan(&lock_own_plan,
			 "SELECT id, status, expires_at FROM lms.enrollments "
			 "WHERE user_id = $1 AND course_id = $2 FOR UPDATE", 2, types);
	lms_exec(lock_own_plan, args, NULL, false, 1);
	return SPI_processed == 1;
}

/*
 * lms.enroll(user_id, course_id, OUT result text, OUT enrollment_id bigint): the enroll
 * rules. result is 'created' or 'reactivated' (201), 'existing' (200, idempotent),
 * 'not_found', 'enrollment_closed', 'prerequisites_not_met' or 'course_full'.
 * Everything is decided under the course row lock, so an enroll racing a drop of the same
 * learner sees the drop's outcome instead of a stale snapshot.
 */
PG_FUNCTION_INFO_V1(lms_enroll);
Datum
lms_enroll(PG_FUNCTION_ARGS)
{
	static const Oid types2[2] = {INT8OID, INT8OID};
	int64		user_id = PG_GETARG_INT64(0);
	int64		course_id = PG_GETARG_INT64(1);
	TimestampTz now = lms_now();
	Datum		args[4];
	const char *result = NULL;
	int64		enrollment_id = 0;
	int64		own_id = 0;
	bool		own_overdue = false;
	CourseRow	course;
	TupleDesc	tupdesc;
	Datum		values[2];
	bool		nulls[2] = {false, false};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "lms.enroll must return a composite");
	tupdesc = BlessTupleDesc(tupdesc);

	lms_spi_connect();

	/* 1. the course row, locked; unpublished courses do not exist for enrolling */
	if (!lock_course(course_id, &course) || !course.published)
		result = "not_found";

	/* 2. the learner's own row, locked: already enrolled is the idempotent answer */
	if (result == NULL && lock_own(user_id, course_id))
	{
		char	   *status = lms_col_text(0, 2);
		bool		exp_null;
		TimestampTz exp = lms_col_ts(0, 3, &exp_null);

		own_id = lms_col_int64(0, 1, 0);
		if (lms_enrollment_live(status, exp_null, exp, now))
		{
			result = "existing";
			enrollment_id = own_id;
		}
		else
			own_overdue = strcmp(status, "active") == 0;	/* past expires_at, seat held */
	}

	/* 3. the enrollment window [opens, closes) */
	if (result == NULL &&
		((!course.opens_null && now < course.opens) || (!course.closes_null && now >= course.closes)))
		result = "enrollment_closed";

	/* 4. every prerequisite course completed */
	if (result == NULL)
	{
		args[0] = Int64GetDatum(user_id);
		args[1] = Int64GetDatum(course_id);
		lms_plan(&prereq_plan,
				 "SELECT NOT EXISTS (SELECT 1 FROM lms.course_prerequisites p WHERE p.course_id = $2 "
				 "  AND NOT EXISTS (SELECT 1 FROM lms.enrollments e WHERE e.user_id = $1 "
				 "                  AND e.course_id = p.prerequisite_id AND e.status = 'completed'))",
				 2, types2);
		lms_exec(prereq_plan, args, NULL, false, 1);
		if (!lms_col_bool(0, 1, false))
			result = "prerequisites_not_met";
	}

	/* 5. the learner's own overdue enrollment: store 'expired' and give its seat back */
	if (result == NULL && own_overdue)
	{
		static const Oid t1[1] = {INT8OID};
		Datum		a1[1] = {Int64GetDatum(own_id)};

		lms_plan(&expire_one_plan,
				 "UPDATE lms.enrollments SET status = 'expired' WHERE id = $1", 1, t1);
		lms_exec(expire_one_plan, a1, NULL, false, 0);
		release_seats(course_id, 1, 1);
	}

	/* 6. the seat: guarded UPDATE; when full, release overdue seats and try once more */
	if (result == NULL && !take_seat(course_id))
	{
		if (sweep_overdue(course_id, now) == 0 || !take_seat(course_id))
			result = "course_full";
	}

	/* 7. the enrollment row itself: re-activated or new */
	if (result == NULL)
	{
		TimestampTz expires = now + (TimestampTz) course.access_days * USECS_PER_DAY;
		char		exp_null = course.access_days_null ? 'n' : ' ';

		if (own_id != 0)
		{
			static const Oid t3[3] = {INT8OID, TIMESTAMPTZOID, TIMESTAMPTZOID};
			char		n3[3] = {' ', ' ', exp_null};

			args[0] = Int64GetDatum(own_id);
			args[1] = TimestampTzGetDatum(now);
			args[2] = TimestampTzGetDatum(expires);
			lms_plan(&reactivate_plan,
					 "UPDATE lms.enrollments SET status = CASE WHEN completed_at IS NOT NULL "
					 "THEN 'completed' ELSE 'active' END, enrolled_at = $2, dropped_at = NULL, "
					 "expires_at = $3 WHERE id = $1 RETURNING status", 3, t3);
			lms_exec(reactivate_plan, args, n3, false, 0);
			/* a learner who had completed the course comes back completed: not active */
			if (strcmp(lms_col_text(0, 1), "completed") == 0)
				release_seats(course_id, 0, 1);
			result = "reactivated";
			enrollment_id = own_id;
		}
		else
		{
			static const Oid t4[4] = {INT8OID, INT8OID, TIMESTAMPTZOID, TIMESTAMPTZOID};
			char		n4[4] = {' ', ' ', ' ', exp_null};

			args[0] = Int64GetDatum(user_id);
			args[1] = Int64GetDatum(course_id);
			args[2] = TimestampTzGetDatum(now);
			args[3] = TimestampTzGetDatum(expires);
			lms_plan(&insert_plan,
					 "INSERT INTO lms.enrollments (user_id, course_id, status, enrolled_at, expires_at) "
					 "VALUES ($1, $2, 'active', $3, $4) RETURNING id", 4, t4);
			lms_exec(insert_plan, args, n4, false, 0);
			enrollment_id = lms_col_int64(0, 1, 0);
			result = "created";
		}
		lms_xapi_registered(enrollment_id);
	}
	SPI_finish();

	values[0] = CStringGetTextDatum(result);
	values[1] = Int64GetDatum(enrollment_id);
	nulls[1] = (enrollment_id == 0);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/*
 * lms.unenroll(user_id, course_id) -> boolean: drop a live enrollment (active, or completed),
 * give its seat back; false when there is nothing to drop (never enrolled, dropped, expired).
 */
PG_FUNCTION_INFO_V1(lms_unenroll);
Datum
lms_unenroll(PG_FUNCTION_ARGS)
{
	static const Oid types2[2] = {INT8OID, TIMESTAMPTZOID};
	int64		user_id = PG_GETARG_INT64(0);
	int64		course_id = PG_GETARG_INT64(1);
	TimestampTz now = lms_now();
	bool		dropped = false;

	lms_spi_connect();
	if (lock_course(course_id, NULL) && lock_own(user_id, course_id))
	{
		int64		id = lms_col_int64(0, 1, 0);
		char	   *status = lms_col_text(0, 2);
		bool		exp_null;
		TimestampTz exp = lms_col_ts(0, 3, &exp_null);

		if (lms_enrollment_live(status, exp_null, exp, now))
		{
			Datum		args[2] = {Int64GetDatum(id), TimestampTzGetDatum(now)};
			bool		was_active = strcmp(status, "active") == 0;

			lms_plan(&drop_plan,
					 "UPDATE lms.enrollments SET status = 'dropped', dropped_at = $2 WHERE id = $1",
					 2, types2);
			lms_exec(drop_plan, args, NULL, false, 0);
			release_seats(course_id, 1, was_active ? 1 : 0);
			dropped = true;
		}
	}
	SPI_finish();
	PG_RETURN_BOOL(dropped);
}
