/*
 * rules.h
 *	  The business rules that more than one place needs, each written once (rules.c): who may
 *	  see a lesson, which enrollment is live and how its status reads, levels, percentages,
 *	  the ledger's source keys and the progress write's input ranges (a learner's active day is
 *	  timezone.c's).
 *	  SQL reaches the same rules through thin wrappers (lms.enrollment_live, lms.effective_status,
 *	  lms.level_for, lms.progress_percentage, lms.source_key, lms.hour_of).
 */
#ifndef LMS_RULES_H
#define LMS_RULES_H

#include "postgres.h"
#include "utils/date.h"
#include "utils/timestamp.h"

/* An enrollment that grants access: completed, or active and not past expires_at. */
extern bool lms_enrollment_live(const char *status, bool expires_isnull, TimestampTz expires_at,
								TimestampTz now);

/* The status an enrollment reads as: an active one past expires_at reads 'expired'. */
extern const char *lms_shown_status(const char *status, bool expires_isnull, TimestampTz expires_at,
									TimestampTz now);

typedef enum LmsAccess
{
	LMS_ACCESS_OK,
	LMS_ACCESS_NOT_FOUND,		/* no such lesson, or lesson/course unpublished */
	LMS_ACCESS_UNAUTHENTICATED, /* anonymous and not a preview */
	LMS_ACCESS_NOT_ENROLLED,	/* no live enrollment (none, dropped, expired) */
	LMS_ACCESS_LOCKED			/* available_from in the future */
} LmsAccess;

/* The lesson access rules, given what one lookup returned. */
extern LmsAccess lms_access_decide(bool staff, bool anonymous, bool lesson_published,
								   bool course_published, bool is_preview,
								   const char *enroll_status, bool expires_isnull,
								   TimestampTz expires_at, bool avail_isnull,
								   TimestampTz available_from, TimestampTz now);
extern const char *lms_access_code(LmsAccess a);

/* Level n starts at 100*n*(n-1)/2 points (1: 0, 2: 100, 3: 300, 4: 600 ...). */
extern int32 lms_level_for_points(int64 points);
/* The first points of a level (the next level's: lms_level_floor(level + 1)). */
extern int64 lms_level_floor(int64 level);

/* part/whole as a percentage in hundredths, at most 100 %, rounded half up; 0 when whole is 0. */
extern int64 lms_percent_hundredths(int64 part, int64 whole);

/* The ledger's source key of an award: "<kind>:<user id>:<ref>" (palloc'd). */
extern char *lms_source_key(const char *kind, int64 user_id, const char *ref);
extern char *lms_source_key_id(const char *kind, int64 user_id, int64 ref);
/* A custom event's key, event:<user id>:<the sender's key>; the sender's is at most this long. */
#define LMS_EVENT_KEY_MAX 160
extern char *lms_event_key(int64 user_id, const char *key);

/*
 * Ledger reasons. Built-in ones are written by the scoring code, the admin and the
 * recalculation; a custom event (points from elsewhere: forum_post, live_session ...) is any
 * other reason of the form [a-z][a-z0-9_]{0,63}.
 */
extern bool lms_reason_builtin(const char *reason);
extern bool lms_reason_valid(const char *reason);
extern bool lms_reason_custom(const char *reason);
/* A learner's own activity: counts as their streak day. */
extern bool lms_reason_activity(const char *reason);
/* Counts for a period (week and month boards, the league week): all but recalculation corrections. */
extern bool lms_reason_in_period(const char *reason);
/* The same rule as an SQL condition on a ledger alias, for statements a 1.0 install runs too. */
#define LMS_SQL_REASON_IN_PERIOD(alias) " " alias ".reason <> 'recalculation' "

/* The progress write's input ranges: seconds 0 to 2^31-1, a percentage from 0 to 100. */
#define LMS_SECONDS_MAX PG_INT32_MAX
extern bool lms_percentage_in_range(Datum numeric);
/* A percentage (numeric, in range) in hundredths, rounded as numeric round(x, 2). */
extern int32 lms_percentage_hundredths(Datum numeric);

/* The hour of a timestamp (whole hours since 2000-01-01 UTC), and an hour's first instant. */
extern int64 lms_hour_of(TimestampTz ts);
extern TimestampTz lms_hour_start(int64 hour);

#endif							/* LMS_RULES_H */
