/*
 * progress.c
 *	  The hottest write: a progress report every few seconds per playing video. The rule, in
 *	  named steps; what each step reads and writes is progress_store.c.
 *
 * One call does, in this order (the house lock order):
 *	 1. look up the lesson, its course and the learner's enrollment by key (step_look_up);
 *	 2. apply the access rules, the lesson kind's rules and the caps (step_decide);
 *	 3. when this write completes the lesson: hold the lesson row (KEY SHARE, against a
 *		concurrent unpublish), then the course row if it may also complete the course
 *		(step_hold);
 *	 4. the enrollment's last activity (its row lock serializes this learner's writes in the
 *		course), then the lesson_progress upsert: monotonic maxima, latest position
 *		(step_write);
 *	 5. when the write reaches completion: a guarded UPDATE ... WHERE NOT is_completed, which
 *		flips the row for exactly one caller, whatever the retries and concurrent duplicates;
 *		only for that caller the enrollment's and the module's completed counters, the lesson's
 *		points, and, when the last lesson completes, the enrollment's completion, the course's
 *		active count and the course bonus (step_complete).
 * Nothing scans the course's lessons or the learner's progress: every step is a key lookup.
 * A steady-state write (no completion) is key lookups, the enrollment's update done directly
 * and one SQL statement, the lesson_progress upsert; on an already active day the scoring
 * hooks are skipped (scoring.c's lms_score_already_active_today).
 */
#include "postgres.h"

#include "utils/snapmgr.h"

#include "lms.h"
#include "plans.h"
#include "progress.h"
#include "progress_store.h"
#include "rules.h"
#include "scoring.h"
#include "xapi_emit.h"

/* Everything the steps of one write share. */
typedef struct ProgressWrite
{
	const LmsProgressInput *in;
	bool		force_complete; /* the quiz pass: completes whatever the kind, keeps the position */
	bool		reported;		/* the completion is an activity provider's `completed` statement */
	TimestampTz now;
	LmsLessonFacts lesson;
	LmsEnrollmentFacts enrollment;
	bool		already_completed;	/* the learner's row was completed when looked up */
	int32		pct_before;		/* its percentage then (hundredths), -1 when not looked up */
	int32		watched;
	int32		position;
	int32		pct;
	bool		want_complete;
	char	   *status;			/* the enrollment's status: predicted, then as written */
	int32		completed_lessons;	/* likewise */
	LmsProgressRow row;
} ProgressWrite;

/* Whether a write of this kind and input may complete the lesson (so its row matters). */
static bool
may_complete(const ProgressWrite *w)
{
	return w->force_complete ||
		(strcmp(w->lesson.kind, "text") == 0 && w->in->completed == 1) ||
		(strcmp(w->lesson.kind, "video") == 0 && w->in->percent_hundredths >= lms_completion_threshold * 100);
}

/* 1. the lesson, its course, the enrollment (and, for a completion, the learner's row) */
static LmsProgressResult
step_look_up(ProgressWrite *w)
{
	Snapshot	snap = RegisterSnapshot(GetTransactionSnapshot());

	if (!lms_store_read_lesson(w->in->lesson_id, snap, &w->lesson))
	{
		UnregisterSnapshot(snap);
		return LMS_PROGRESS_NOT_FOUND;
	}
	lms_store_read_enrollment(w->in->user_id, w->lesson.course_id, snap, &w->enrollment);
	w->pct_before = -1;
	if (may_complete(w) || lms_xapi_wants_percentage(w->in->percent_hundredths))
		(void) lms_store_read_progress(w->in->user_id, w->in->lesson_id, snap,
									   &w->already_completed, &w->pct_before);
	UnregisterSnapshot(snap);
	w->status = w->enrollment.status;
	w->completed_lessons = w->enrollment.completed_lessons;
	return LMS_PROGRESS_OK;
}

/* 2. access, the kind's rules, the caps */
static LmsProgressResult
step_decide(ProgressWrite *w)
{
	const LmsLessonFacts *l = &w->lesson;

	switch (lms_access_decide(false, false, l->published, l->course_published, false,
							  w->enrollment.status, w->enrollment.expires_null,
							  w->enrollment.expires_at, l->available_null, l->available_from, w->now))
	{
		case LMS_ACCESS_OK:
			break;
		case LMS_ACCESS_NOT_FOUND:
			return LMS_PROGRESS_NOT_FOUND;
		case LMS_ACCESS_LOCKED:
			return LMS_PROGRESS_LOCKED;
		default:
			return LMS_PROGRESS_NOT_ENROLLED;
	}
	if (w->in->completed != -1 && strcmp(l->kind, "text") != 0)
		return LMS_PROGRESS_COMPLETED_NOT_TEXT;

	if (l->duration > 0)
	{
		w->watched = Min(w->watched, l->duration);
		w->position = Min(w->position, l->duration);
	}
	if (w->force_complete)
		w->want_complete = true;
	else if (strcmp(l->kind, "video") == 0)
		w->want_complete = w->pct >= lms_completion_threshold * 100;
	else if (strcmp(l->kind, "text") == 0)
		w->want_complete = (w->in->completed == 1);
	else
	{
		/* quiz lessons complete only by passing the quiz: record time, nothing more */
		w->want_complete = false;
		w->pct = 0;
	}
	return LMS_PROGRESS_OK;
}

/*
 * 3. a completion changes counters that unpublishing the lesson also changes: the lesson row
 * first; then the course row when this write may complete the course (lock order). Only
 * completing writes pay this, so re-watching a popular lesson does not pile lockers onto its
 * row.
 */
static LmsProgressResult
step_hold(ProgressWrite *w)
{
	if (!w->want_complete || w->already_completed)
		return LMS_PROGRESS_OK;
	if (!lms_store_hold_lesson(w->in->lesson_id, w->enrollment.id, &w->lesson.lesson_count,
							   &w->completed_lessons, &w->status))
		return LMS_PROGRESS_NOT_FOUND;	/* unpublished meanwhile */
	if (w->status != NULL && strcmp(w->status, "active") == 0 &&
		w->completed_lessons + 1 >= w->lesson.lesson_count)
		lms_store_lock_course(w->lesson.course_id);
	return LMS_PROGRESS_OK;
}

/* 4. last activity and the learner's row; nothing when the enrollment ended meanwhile */
static LmsProgressResult
step_write(ProgressWrite *w)
{
	LmsProgressWrite pw;

	pw.user_id = w->in->user_id;
	pw.lesson_id = w->in->lesson_id;
	pw.course_id = w->lesson.course_id;
	pw.module_id = w->lesson.module_id;
	pw.enrollment_id = w->enrollment.id;
	pw.watched = w->watched;
	pw.position = w->position;
	pw.keep_position = w->force_complete;
	pw.pct_hundredths = w->pct;
	pw.now = w->now;
	if (!lms_store_write(&pw, &w->row, &w->status, &w->completed_lessons))
		return LMS_PROGRESS_NOT_ENROLLED;	/* dropped or expired meanwhile */
	return LMS_PROGRESS_OK;
}

/* 5. the completion, exactly once: only the call that flipped the row counts and awards */
static void
step_complete(ProgressWrite *w, LmsScore *score, LmsCompletion *done)
{
	char	   *status_before = w->status;

	if (!w->want_complete || w->row.completed ||
		!lms_store_complete(w->in->user_id, w->in->lesson_id, w->now, &w->row))
		return;
	done->lesson_completed = true;
	lms_xapi_lesson_completed(w->in->user_id, w->in->lesson_id, w->enrollment.id, w->reported);
	lms_store_count_completion(w->enrollment.id, w->now, &w->status, &w->completed_lessons);
	lms_store_count_module(w->in->user_id, w->lesson.module_id);
	if (strcmp(status_before, "active") == 0 && strcmp(w->status, "completed") == 0)
	{
		done->course_completed = true;
		lms_store_count_course_done(w->lesson.course_id);
		lms_xapi_course_completed(w->enrollment.id);
	}
	lms_score_lesson_completed(w->in->user_id, w->lesson.course_id, w->in->lesson_id,
							   w->lesson.kind, w->lesson.points, score);
	if (done->course_completed)
		lms_score_course_completed(w->in->user_id, w->lesson.course_id, score);
}

/*
 * The write itself. force_complete is the quiz pass (lms.complete_lesson): the lesson
 * completes whatever its kind, and the position and times are left alone; reported says the
 * completion is an activity provider's `completed` statement (lms emits none of its own).
 * score collects the awards; the caller owns it. Runs inside the caller's SPI connection.
 */
static LmsProgressResult
progress_apply(const LmsProgressInput *in, bool force_complete, bool reported, LmsScore *score,
			   LmsCompletion *done, LmsProgressAnswer *ans)
{
	ProgressWrite w;
	LmsProgressResult r;

	memset(&w, 0, sizeof(w));
	memset(done, 0, sizeof(*done));
	w.in = in;
	w.force_complete = force_complete;
	w.reported = reported;
	w.now = lms_now();
	w.watched = in->watched_seconds;
	w.position = in->last_position_seconds;
	w.pct = in->percent_hundredths;

	if ((r = step_look_up(&w)) != LMS_PROGRESS_OK ||
		(r = step_decide(&w)) != LMS_PROGRESS_OK ||
		(r = step_hold(&w)) != LMS_PROGRESS_OK ||
		(r = step_write(&w)) != LMS_PROGRESS_OK)
		return r;
	step_complete(&w, score, done);
	lms_xapi_progressed(in->user_id, in->lesson_id, w.enrollment.id, w.pct_before,
						w.row.pct_hundredths, w.row.completed, w.row.watched, w.row.position);

	if (ans != NULL)
	{
		ans->lesson_id = in->lesson_id;
		ans->watched = w.row.watched;
		ans->position = w.row.position;
		ans->pct_hundredths = w.row.pct_hundredths;
		ans->done = w.row.completed;
		ans->at_null = w.row.completed_at_null;
		ans->at = w.row.completed_at;
		ans->course_id = w.lesson.course_id;
		ans->completed_lessons = w.completed_lessons;
		ans->lesson_count = w.lesson.lesson_count;
		strlcpy(ans->status, w.status, sizeof(ans->status));
	}
	return LMS_PROGRESS_OK;
}

LmsProgressResult
lms_progress_record(const LmsProgressInput *in, LmsProgressAnswer *ans, LmsScore *score)
{
	LmsCompletion done;
	LmsProgressResult r;

	lms_score_init(score);
	lms_spi_connect();
	r = progress_apply(in, false, false, score, &done, ans);
	if (r == LMS_PROGRESS_OK && !lms_score_already_active_today(in->user_id, score))
	{
		/* every accepted write is activity for the learner's streak day */
		lms_score_activity(in->user_id, score);
		lms_score_finish(in->user_id, score);
	}
	SPI_finish();
	return r;
}

LmsProgressResult
lms_progress_complete_lesson(int64 user_id, int64 lesson_id, bool reported, LmsScore *score,
							 LmsCompletion *done)
{
	LmsProgressInput in;
	LmsProgressResult r;

	memset(&in, 0, sizeof(in));
	in.user_id = user_id;
	in.lesson_id = lesson_id;
	in.completed = -1;
	lms_score_init(score);
	lms_spi_connect();
	r = progress_apply(&in, true, reported, score, done, NULL);
	SPI_finish();
	if (r != LMS_PROGRESS_OK)
		memset(done, 0, sizeof(*done));
	return r;
}
