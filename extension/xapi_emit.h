/*
 * xapi_emit.h
 *	  The statements lms emits for its own events (xapi_emit.c): one hook per event site of the
 *	  write paths, each called inside the caller's SPI connection and transaction, so a write
 *	  that rolls back emits nothing.
 */
#ifndef LMS_XAPI_EMIT_H
#define LMS_XAPI_EMIT_H

#include "postgres.h"

/*
 * The progress write: whether the hook below needs the learner's percentage before the write
 * (a write below the first quarter can raise no quarter, so it needs no look-up).
 */
extern bool lms_xapi_wants_percentage(int32 pct_hundredths);

/*
 * progressed: a write that raised the stored percentage of a lesson that is still not
 * completed into a quarter (25, 50, 75 %) it had not reached. pct_before < 0: not looked up.
 */
extern void lms_xapi_progressed(int64 user_id, int64 lesson_id, int64 enrollment_id,
								int32 pct_before, int32 pct_after, bool completed,
								int32 watched, int32 position);

/*
 * completed: the one call that completed the lesson; none when the completion was reported
 * by an activity provider's own `completed` statement (it is the record).
 */
extern void lms_xapi_lesson_completed(int64 user_id, int64 lesson_id, int64 enrollment_id,
									  bool reported);
/* completed: the one call that completed the enrollment. */
extern void lms_xapi_course_completed(int64 enrollment_id);
/* registered: an enrollment created or re-activated. */
extern void lms_xapi_registered(int64 enrollment_id);
/* earned: a ledger row just inserted (its columns; source_id 0 when none). */
extern void lms_xapi_points(int64 user_id, int32 points, const char *reason,
							const char *source_key, int64 course_id, int64 source_id);
/* earned: an achievement just granted. */
extern void lms_xapi_achievement(int64 user_id, int64 achievement_id);

#endif							/* LMS_XAPI_EMIT_H */
