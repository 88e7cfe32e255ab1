/*
 * progress_store.h
 *	  What the progress write reads and writes (progress_store.c): key lookups, row locks and
 *	  the statements of each step; the rule that decides between them is progress.c.
 */
#ifndef LMS_PROGRESS_STORE_H
#define LMS_PROGRESS_STORE_H

#include "postgres.h"
#include "utils/snapshot.h"
#include "utils/timestamp.h"

/* A lesson and its course, as the write needs them. */
typedef struct LmsLessonFacts
{
	char	   *kind;
	int32		duration;
	int32		points;			/* its author's, -1: its kind's point rule */
	int64		module_id;
	int64		course_id;
	bool		published;
	bool		course_published;
	bool		available_null;
	TimestampTz available_from;
	int32		lesson_count;
} LmsLessonFacts;

/* The learner's enrollment in the course (id 0 and status NULL when there is none). */
typedef struct LmsEnrollmentFacts
{
	int64		id;
	char	   *status;
	bool		expires_null;
	TimestampTz expires_at;
	int32		completed_lessons;
} LmsEnrollmentFacts;

/* The learner's lesson_progress row after a write. */
typedef struct LmsProgressRow
{
	int32		watched;
	int32		position;
	int32		pct_hundredths;
	bool		completed;
	bool		completed_at_null;
	TimestampTz completed_at;
} LmsProgressRow;

/* One write of the learner's time on the lesson. */
typedef struct LmsProgressWrite
{
	int64		user_id;
	int64		lesson_id;
	int64		course_id;
	int64		module_id;
	int64		enrollment_id;
	int32		watched;
	int32		position;
	bool		keep_position;	/* the quiz path: position and times left alone */
	int32		pct_hundredths;
	TimestampTz now;
} LmsProgressWrite;

/* Key lookups under snap. */
extern bool lms_store_read_lesson(int64 lesson_id, Snapshot snap, LmsLessonFacts *out);
extern void lms_store_read_enrollment(int64 user_id, int64 course_id, Snapshot snap,
									  LmsEnrollmentFacts *out);
/* The learner's row: false when there is none (then not completed, 0 %). */
extern bool lms_store_read_progress(int64 user_id, int64 lesson_id, Snapshot snap, bool *completed,
									int32 *pct_hundredths);

/*
 * Hold the lesson (KEY SHARE) and read the course's lesson count and the enrollment's count and
 * status as they are now; false when the lesson was unpublished meanwhile.
 */
extern bool lms_store_hold_lesson(int64 lesson_id, int64 enrollment_id, int32 *lesson_count,
								  int32 *completed_lessons, char **status);
/* The course row, locked FOR NO KEY UPDATE. */
extern void lms_store_lock_course(int64 course_id);

/*
 * The enrollment's last activity (its row lock serializes the learner's writes in the course),
 * then the lesson_progress upsert: monotonic maxima, latest position. False when the
 * enrollment is gone or no longer live; else the row, and the enrollment's status and count.
 */
extern bool lms_store_write(const LmsProgressWrite *w, LmsProgressRow *row, char **status,
							int32 *completed_lessons);

/* The guarded completion: true for the one call that flipped the row (row updated). */
extern bool lms_store_complete(int64 user_id, int64 lesson_id, TimestampTz now, LmsProgressRow *row);

/* The counters a completion moves: the enrollment's (and its completion), the module's, the course's. */
extern void lms_store_count_completion(int64 enrollment_id, TimestampTz now, char **status,
									   int32 *completed_lessons);
extern void lms_store_count_module(int64 user_id, int64 module_id);
extern void lms_store_count_course_done(int64 course_id);

#endif							/* LMS_PROGRESS_STORE_H */
