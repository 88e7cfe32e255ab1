/*
 * progress.h
 *	  The progress write (progress.c): one call records a learner's progress on a lesson,
 *	  completes it exactly once, and keeps lesson, module and course counters right in O(1).
 *	  Its answer is data; progress_answer.c renders it.
 */
#ifndef LMS_PROGRESS_H
#define LMS_PROGRESS_H

#include "postgres.h"
#include "utils/timestamp.h"

#include "scoring.h"

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

/* The answer's values (the contract's progress document, before rendering). */
typedef struct LmsProgressAnswer
{
	int64		lesson_id;
	int32		watched;
	int32		position;
	int32		pct_hundredths;
	bool		done;
	bool		at_null;
	TimestampTz at;
	int64		course_id;
	int32		completed_lessons;
	int32		lesson_count;
	char		status[16];
} LmsProgressAnswer;

/* What a completion did, for the callers that need more than the document. */
typedef struct LmsCompletion
{
	bool		lesson_completed;	/* this call flipped is_completed */
	bool		course_completed;	/* this call completed the enrollment */
} LmsCompletion;

/*
 * Record one progress write with its scoring. ans and score are filled for LMS_PROGRESS_OK.
 */
extern LmsProgressResult lms_progress_record(const LmsProgressInput *in, LmsProgressAnswer *ans,
											 LmsScore *score);

/*
 * The quiz pass, or a completion reported over xAPI: the lesson completes whatever its kind
 * through the same exactly-once path; done says what this call completed (all false unless
 * LMS_PROGRESS_OK). reported: the completion is an activity provider's `completed` statement,
 * so lms emits no `completed` statement of its own (xapi_emit.h).
 */
extern LmsProgressResult lms_progress_complete_lesson(int64 user_id, int64 lesson_id, bool reported,
													  LmsScore *score, LmsCompletion *done);

#endif							/* LMS_PROGRESS_H */
