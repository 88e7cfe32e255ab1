/*
 * progress_store.c
 *	  The reads and writes of the progress write, one function per thing done to the tables;
 *	  progress.c decides which run, in the house lock order.
 *
 * The lookups are direct index lookups (direct.c): through SQL, a four-table join's executor
 * start-up cost more than the lookups themselves. The enrollment's last-activity update is the
 * direct write of direct.c (an ordinary MVCC update with its index entries, outside the
 * executor), or, when the table's assumptions do not hold, one SQL statement with the upsert.
 * Every other statement is an SPI plan prepared once per backend.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"

#include "direct.h"
#include "plans.h"
#include "progress_store.h"
#include "rules.h"

static SPIPlanPtr hold_lesson_plan = NULL;
static SPIPlanPtr lock_course_plan = NULL;
static SPIPlanPtr write_plan[2] = {NULL, NULL};
static SPIPlanPtr upsert_plan = NULL;
static SPIPlanPtr flip_plan = NULL;
static SPIPlanPtr count_plan = NULL;
static SPIPlanPtr module_plan = NULL;
static SPIPlanPtr course_done_plan = NULL;

/* The upsert of the learner's row: monotonic maxima, the latest position ($6 NULL keeps it). */
#define PROGRESS_INSERT \
	"INSERT INTO lms.lesson_progress AS lp (user_id, lesson_id, course_id, module_id, " \
	"  watched_seconds, last_position_seconds, completion_percentage, is_completed, " \
	"  completed_at, started_at, updated_at) "
#define PROGRESS_VALUES "$1, $2, $3, $4, $5, coalesce($6, 0), $7::numeric / 100, false, NULL, $8, $8"
#define PROGRESS_ON_CONFLICT \
	" ON CONFLICT (user_id, lesson_id) DO UPDATE SET " \
	"  watched_seconds = GREATEST(lp.watched_seconds, EXCLUDED.watched_seconds), " \
	"  last_position_seconds = CASE WHEN $6 IS NULL THEN lp.last_position_seconds " \
	"                               ELSE EXCLUDED.last_position_seconds END, " \
	"  completion_percentage = GREATEST(lp.completion_percentage, EXCLUDED.completion_percentage), " \
	"  updated_at = EXCLUDED.updated_at " \
	"RETURNING watched_seconds, last_position_seconds, (completion_percentage * 100)::int4, " \
	"          is_completed, completed_at"

bool
lms_store_read_lesson(int64 lesson_id, Snapshot snap, LmsLessonFacts *out)
{
	static const int lc[] = {LESSON_KIND, LESSON_DURATION, LESSON_POINTS, LESSON_MODULE,
	LESSON_COURSE, LESSON_PUBLISHED, LESSON_AVAILABLE};
	static const int cc[] = {COURSE_PUBLISHED, COURSE_LESSON_COUNT};
	Datum		lv[lengthof(lc)],
				cv[lengthof(cc)];
	bool		ln[lengthof(lc)],
				cn[lengthof(cc)];
	int64		course_id;

	if (!lms_fetch(LMS_LESSONS_PKEY, &lesson_id, snap, lengthof(lc), lc, lv, ln))
		return false;
	course_id = DatumGetInt64(lv[4]);
	if (!lms_fetch(LMS_COURSES_PKEY, &course_id, snap, lengthof(cc), cc, cv, cn))
		return false;
	out->kind = TextDatumGetCString(lv[0]);
	out->duration = ln[1] ? 0 : DatumGetInt32(lv[1]);
	out->points = ln[2] ? -1 : DatumGetInt32(lv[2]);
	out->module_id = DatumGetInt64(lv[3]);
	out->course_id = course_id;
	out->published = !ln[5] && DatumGetBool(lv[5]);
	out->available_null = ln[6];
	out->available_from = ln[6] ? 0 : DatumGetTimestampTz(lv[6]);
	out->course_published = !cn[0] && DatumGetBool(cv[0]);
	out->lesson_count = cn[1] ? 0 : DatumGetInt32(cv[1]);
	return true;
}

void
lms_store_read_enrollment(int64 user_id, int64 course_id, Snapshot snap, LmsEnrollmentFacts *out)
{
	static const int ec[] = {ENROLLMENT_ID, ENROLLMENT_STATUS, ENROLLMENT_EXPIRES, ENROLLMENT_COMPLETED};
	int64		keys[2] = {user_id, course_id};
	Datum		ev[lengthof(ec)];
	bool		en[lengthof(ec)];

	memset(out, 0, sizeof(*out));
	out->expires_null = true;
	if (!lms_fetch(LMS_ENROLLMENTS_BY_LEARNER, keys, snap, lengthof(ec), ec, ev, en))
		return;
	out->id = DatumGetInt64(ev[0]);
	out->status = en[1] ? NULL : TextDatumGetCString(ev[1]);
	out->expires_null = en[2];
	out->expires_at = en[2] ? 0 : DatumGetTimestampTz(ev[2]);
	out->completed_lessons = en[3] ? 0 : DatumGetInt32(ev[3]);
}

bool
lms_store_read_progress(int64 user_id, int64 lesson_id, Snapshot snap, bool *completed,
						int32 *pct_hundredths)
{
	static const int pc[] = {PROGRESS_COMPLETED, PROGRESS_PERCENT};
	int64		keys[2] = {user_id, lesson_id};
	Datum		pv[lengthof(pc)];
	bool		pn[lengthof(pc)];

	*completed = false;
	*pct_hundredths = 0;
	if (!lms_fetch(LMS_LESSON_PROGRESS_PKEY, keys, snap, lengthof(pc), pc, pv, pn))
		return false;
	*completed = !pn[0] && DatumGetBool(pv[0]);
	*pct_hundredths = pn[1] ? 0 : lms_percentage_hundredths(pv[1]);
	return true;
}

/*
 * A completion changes counters that unpublishing the lesson also changes: hold the lesson
 * (KEY SHARE, as a foreign key check would) so an author's unpublish (FOR UPDATE) either waits
 * for this write or is seen by it.
 */
bool
lms_store_hold_lesson(int64 lesson_id, int64 enrollment_id, int32 *lesson_count,
					  int32 *completed_lessons, char **status)
{
	static const Oid types[2] = {INT8OID, INT8OID};
	Datum		args[2] = {Int64GetDatum(lesson_id), Int64GetDatum(enrollment_id)};

	lms_plan(&hold_lesson_plan,
			 "SELECT c.lesson_count, e.completed_lessons, e.status "
			 "FROM lms.lessons l JOIN lms.courses c ON c.id = l.course_id "
			 "LEFT JOIN lms.enrollments e ON e.id = $2 "
			 "WHERE l.id = $1 AND l.is_published FOR KEY SHARE OF l", 2, types);
	lms_exec(hold_lesson_plan, args, NULL, false, 1);
	if (SPI_processed != 1)
		return false;
	*lesson_count = lms_col_int32(0, 1, 0);
	*completed_lessons = lms_col_int32(0, 2, 0);
	*status = lms_col_text(0, 3);
	return true;
}

void
lms_store_lock_course(int64 course_id)
{
	static const Oid types[1] = {INT8OID};
	Datum		args[1] = {Int64GetDatum(course_id)};

	lms_plan(&lock_course_plan, "SELECT 1 FROM lms.courses WHERE id = $1 FOR NO KEY UPDATE", 1, types);
	lms_exec(lock_course_plan, args, NULL, false, 1);
}

/* What the locked enrollment says: still live? (the liveness rule, on its latest version) */
typedef struct LiveCheck
{
	TimestampTz now;
	char	   *status;
	int32		completed_lessons;
	bool		hours;			/* the install has enrollments.last_active_hour (1.1) */
	bool		old_hour_null;	/* the hour of its last activity before this write */
	int64		old_hour;
} LiveCheck;

static SPIPlanPtr old_hour_plan = NULL;
static SPIPlanPtr activity_plan = NULL;

/*
 * The learner's last activity moved to this write's hour (from none, or an earlier hour): the
 * course's count of active learners per hour follows (lms.course_activity_move). Once per
 * learner, course and hour; the other writes of the hour change nothing here.
 */
static void
activity_moved(int64 course_id, int64 user_id, bool old_null, int64 old_hour, int64 new_hour)
{
	static const Oid types[4] = {INT8OID, INT8OID, INT8OID, INT8OID};
	Datum		args[4] = {Int64GetDatum(course_id), Int64GetDatum(user_id), Int64GetDatum(old_hour),
	Int64GetDatum(new_hour)};
	char		nulls[4] = {' ', ' ', old_null ? 'n' : ' ', ' '};

	if (!old_null && old_hour == new_hour)
		return;
	lms_plan(&activity_plan, "SELECT lms.course_activity_move($1, $2, $3, $4)", 4, types);
	lms_exec(activity_plan, args, nulls, false, 0);
}

static bool
enrollment_still_live(LmsRow *row, void *arg)
{
	LiveCheck  *lc = (LiveCheck *) arg;
	bool		isnull,
				exp_null;
	Datum		st = lms_row_get(row, ENROLLMENT_STATUS, &isnull);
	char	   *status = isnull ? NULL : TextDatumGetCString(st);
	Datum		exp = lms_row_get(row, ENROLLMENT_EXPIRES, &exp_null);
	Datum		done;

	if (!lms_enrollment_live(status, exp_null, exp_null ? 0 : DatumGetTimestampTz(exp), lc->now))
		return false;
	lc->status = status;
	done = lms_row_get(row, ENROLLMENT_COMPLETED, &isnull);
	lc->completed_lessons = isnull ? 0 : DatumGetInt32(done);
	if (lc->hours)
	{
		Datum		h = lms_row_get(row, ENROLLMENT_LAST_HOUR, &lc->old_hour_null);

		lc->old_hour = lc->old_hour_null ? 0 : DatumGetInt64(h);
	}
	return true;
}

/* The learner's progress row as the write's statement returned it. */
static void
read_row(LmsProgressRow *row)
{
	bool		isnull;

	row->watched = lms_col_int32(0, 1, 0);
	row->position = lms_col_int32(0, 2, 0);
	row->pct_hundredths = lms_col_int32(0, 3, 0);
	row->completed = lms_col_bool(0, 4, false);
	row->completed_at = lms_col_ts(0, 5, &isnull);
	row->completed_at_null = isnull;
}

bool
lms_store_write(const LmsProgressWrite *w, LmsProgressRow *row, char **status,
				int32 *completed_lessons)
{
	static const Oid types[9] = {INT8OID, INT8OID, INT8OID, INT8OID, INT4OID, INT4OID,
	INT4OID, TIMESTAMPTZOID, INT8OID};
	/* the hour goes with the time (written unchanged within the hour: still a HOT update) */
	int64		hour = lms_hour_of(w->now);
	static const int touched_position[] = {ENROLLMENT_LAST_AT, ENROLLMENT_LAST_LESSON, ENROLLMENT_LAST_HOUR,
	ENROLLMENT_LAST_POSITION};
	static const int touched_same[] = {ENROLLMENT_LAST_AT, ENROLLMENT_LAST_LESSON, ENROLLMENT_LAST_POSITION};
	Datum		tvalues[4] = {TimestampTzGetDatum(w->now), Int64GetDatum(w->lesson_id), Int64GetDatum(hour),
	Int32GetDatum(w->position)};
	Datum		svalues[3] = {TimestampTzGetDatum(w->now), Int64GetDatum(w->lesson_id),
	Int32GetDatum(w->position)};
	Datum		args[9];
	char		nulls[9];
	LiveCheck	lc = {w->now, NULL, 0, false, true, 0};
	LmsUpdateResult done;

	memset(nulls, ' ', sizeof(nulls));
	args[0] = Int64GetDatum(w->user_id);
	args[1] = Int64GetDatum(w->lesson_id);
	args[2] = Int64GetDatum(w->course_id);
	args[3] = Int64GetDatum(w->module_id);
	args[4] = Int32GetDatum(w->watched);
	args[5] = Int32GetDatum(w->position);
	nulls[5] = w->keep_position ? 'n' : ' ';
	args[6] = Int32GetDatum(w->pct_hundredths);
	args[7] = TimestampTzGetDatum(w->now);
	args[8] = Int64GetDatum(w->enrollment_id);

	lc.hours = lms_column_present(LMS_ENROLLMENTS, ENROLLMENT_LAST_HOUR);
	if (lc.hours)
		done = lms_update_locked(LMS_ENROLLMENTS_PKEY, w->enrollment_id, enrollment_still_live, &lc,
								 w->keep_position ? 3 : 4, touched_position, tvalues);
	else
		done = lms_update_locked(LMS_ENROLLMENTS_PKEY, w->enrollment_id, enrollment_still_live, &lc,
								 w->keep_position ? 2 : 3, touched_same, svalues);
	switch (done)
	{
		case LMS_UPDATE_SKIPPED:
			return false;		/* dropped or expired meanwhile */
		case LMS_UPDATE_DONE:
			/* ON CONFLICT works on the latest committed row: is_completed as returned is current */
			lms_plan(&upsert_plan, PROGRESS_INSERT "VALUES (" PROGRESS_VALUES ")" PROGRESS_ON_CONFLICT, 8, types);
			lms_exec(upsert_plan, args, nulls, false, 0);
			if (SPI_processed != 1)
				elog(ERROR, "the progress upsert returned no row");
			*status = lc.status;
			*completed_lessons = lc.completed_lessons;
			if (lc.hours)
			{
				LmsProgressRow saved;

				/* the upsert's row first: the activity statement replaces SPI_tuptable */
				read_row(&saved);
				activity_moved(w->course_id, w->user_id, lc.old_hour_null, lc.old_hour, hour);
				*row = saved;
				return true;
			}
			break;
		case LMS_UPDATE_NOT_DIRECT:
			if (lc.hours)
			{
				/* the hour before this write, the enrollment locked until the end */
				static const Oid otypes[1] = {INT8OID};

				lms_plan(&old_hour_plan, "SELECT last_active_hour FROM lms.enrollments WHERE id = $1 FOR NO KEY UPDATE",
						 1, otypes);
				lms_exec(old_hour_plan, &args[8], NULL, false, 1);
				if (SPI_processed == 1)
				{
					lc.old_hour_null = lms_col_isnull(0, 1);
					lc.old_hour = lms_col_int64(0, 1, 0);
				}
			}
			/* both in one statement, through the executor */
			lms_plan(&write_plan[lc.hours],
					 lc.hours ?
					 "WITH t AS (UPDATE lms.enrollments SET last_activity_at = $8, last_lesson_id = $2, "
					 "             last_position_seconds = coalesce($6, last_position_seconds), "
					 "             last_active_hour = lms.hour_of($8) "
					 "           WHERE id = $9 AND lms.enrollment_live(status, expires_at, $8) "
					 "           RETURNING status, completed_lessons) "
					 PROGRESS_INSERT "SELECT " PROGRESS_VALUES " FROM t" PROGRESS_ON_CONFLICT
					 ", (SELECT t.status FROM t), (SELECT t.completed_lessons FROM t)" :
					 "WITH t AS (UPDATE lms.enrollments SET last_activity_at = $8, last_lesson_id = $2, "
					 "             last_position_seconds = coalesce($6, last_position_seconds) "
					 "           WHERE id = $9 AND lms.enrollment_live(status, expires_at, $8) "
					 "           RETURNING status, completed_lessons) "
					 PROGRESS_INSERT "SELECT " PROGRESS_VALUES " FROM t" PROGRESS_ON_CONFLICT
					 ", (SELECT t.status FROM t), (SELECT t.completed_lessons FROM t)",
					 9, types);
			lms_exec(write_plan[lc.hours], args, nulls, false, 0);
			if (SPI_processed != 1)
				return false;	/* dropped or expired meanwhile */
			*status = lms_col_text(0, 6);
			*completed_lessons = lms_col_int32(0, 7, 0);
			if (lc.hours)
			{
				LmsProgressRow saved;

				read_row(&saved);
				activity_moved(w->course_id, w->user_id, lc.old_hour_null, lc.old_hour, hour);
				*row = saved;
				return true;
			}
			break;
	}
	read_row(row);
	return true;
}

/*
 * Only an UPDATE that finds the row not completed flips it. A concurrent duplicate waits on
 * the row lock, re-checks the condition on the committed row and flips nothing, so exactly one
 * call counts the completion.
 */
bool
lms_store_complete(int64 user_id, int64 lesson_id, TimestampTz now, LmsProgressRow *row)
{
	static const Oid types[3] = {INT8OID, INT8OID, TIMESTAMPTZOID};
	Datum		args[3] = {Int64GetDatum(user_id), Int64GetDatum(lesson_id), TimestampTzGetDatum(now)};
	bool		isnull;

	lms_plan(&flip_plan,
			 "UPDATE lms.lesson_progress SET is_completed = true, completed_at = $3 "
			 "WHERE user_id = $1 AND lesson_id = $2 AND NOT is_completed RETURNING completed_at",
			 3, types);
	lms_exec(flip_plan, args, NULL, false, 0);
	if (SPI_processed != 1)
		return false;
	row->completed = true;
	row->completed_at = lms_col_ts(0, 1, &isnull);
	row->completed_at_null = isnull;
	return true;
}

void
lms_store_count_completion(int64 enrollment_id, TimestampTz now, char **status,
						   int32 *completed_lessons)
{
	static const Oid types[2] = {INT8OID, TIMESTAMPTZOID};
	Datum		args[2] = {Int64GetDatum(enrollment_id), TimestampTzGetDatum(now)};

	lms_plan(&count_plan,
			 "UPDATE lms.enrollments e SET completed_lessons = e.completed_lessons + 1, "
			 "  status = CASE WHEN e.status = 'active' AND e.completed_lessons + 1 >= c.lesson_count "
			 "                THEN 'completed' ELSE e.status END, "
			 "  completed_at = CASE WHEN e.status = 'active' AND e.completed_lessons + 1 >= c.lesson_count "
			 "                      THEN $2 ELSE e.completed_at END "
			 "FROM lms.courses c WHERE e.id = $1 AND c.id = e.course_id "
			 "RETURNING e.status, e.completed_lessons", 2, types);
	lms_exec(count_plan, args, NULL, false, 0);
	*status = lms_col_text(0, 1);
	*completed_lessons = lms_col_int32(0, 2, 0);
}

void
lms_store_count_module(int64 user_id, int64 module_id)
{
	static const Oid types[2] = {INT8OID, INT8OID};
	Datum		args[2] = {Int64GetDatum(user_id), Int64GetDatum(module_id)};

	lms_plan(&module_plan,
			 "INSERT INTO lms.module_progress AS mp (user_id, module_id, completed_lessons) "
			 "VALUES ($1, $2, 1) ON CONFLICT (user_id, module_id) "
			 "DO UPDATE SET completed_lessons = mp.completed_lessons + 1", 2, types);
	lms_exec(module_plan, args, NULL, false, 0);
}

void
lms_store_count_course_done(int64 course_id)
{
	static const Oid types[1] = {INT8OID};
	Datum		args[1] = {Int64GetDatum(course_id)};

	lms_plan(&course_done_plan,
			 "UPDATE lms.courses SET active_enrollments = active_enrollments - 1 WHERE id = $1",
			 1, types);
	lms_exec(course_done_plan, args, NULL, false, 0);
}
