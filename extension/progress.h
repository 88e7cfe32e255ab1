/*
 * progress.h
 *	  The progress write path: one call records a learner's progress on a lesson, completes it
 *	  exactly once, and keeps lesson, module and course counters right in O(1).
 */
#ifndef LMS_PROGRESS_H
#define LMS_PROGRESS_H

#include "postgres.h"
#include "lib/stringinfo.h"

typedef enum LmsProgressResult
{
	LMS_PROGRESS_OK,
	LMS_PROGRESS_NOT_FOUND,		/* no such lesson, or lesson/course unpublished */
	LMS_PROGRESS_NOT_ENROLLED,	/* no live enrollment: none, dropped or expired */
	LMS_PROGRESS_LOCKED,		/* available_from in the future */
	LMS_PROGRESS_COMPLETED_NOT_TEXT /* completed sent for a video or quiz lesson */
} LmsProgressResult;

typedef struct LmsProgressInput
{
	int64		user_id;
	int64		lesson_id;
	int32		watched_seconds;	/* >= 0 */
	int32		last_position_seconds;	/* >= 0 */
	int32		percent_hundredths; /* 0..10000 */
	int			completed;		/* -1 absent, 0 false, 1 true */
} LmsProgressInput;

/*
 * Record one progress write and append the contract's answer document (JSON text) to out.
 * Returns what happened; out is only written for LMS_PROGRESS_OK.
 */
extern LmsProgressResult lms_progress_record(const LmsProgressInput *in, StringInfo out);

/* A completion percentage (numeric, already range-checked) in hundredths, rounded. */
extern int32 lms_percent_hundredths(Datum numeric);

#endif							/* LMS_PROGRESS_H */
