/*
 * enrollment.h
 *	  Enrollment rules: who may see a lesson, who is enrolled, taking and releasing seats.
 */
#ifndef LMS_ENROLLMENT_H
#define LMS_ENROLLMENT_H

#include "postgres.h"
#include "utils/timestamp.h"

typedef enum LmsAccess
{
	LMS_ACCESS_OK,
	LMS_ACCESS_NOT_FOUND,		/* no such lesson, or lesson/course unpublished */
	LMS_ACCESS_UNAUTHENTICATED, /* anonymous and not a preview */
	LMS_ACCESS_NOT_ENROLLED,	/* no live enrollment (none, dropped, expired) */
	LMS_ACCESS_LOCKED			/* available_from in the future */
} LmsAccess;

/* An enrollment that grants access: completed, or active and not past expires_at. */
extern bool lms_enrollment_live(const char *status, bool expires_isnull, TimestampTz expires_at,
								TimestampTz now);

/* The access rules, given what one lookup returned. */
extern LmsAccess lms_access_decide(bool staff, bool anonymous, bool lesson_published,
								   bool course_published, bool is_preview,
								   const char *enroll_status, bool expires_isnull,
								   TimestampTz expires_at, bool avail_isnull,
								   TimestampTz available_from, TimestampTz now);

extern const char *lms_access_code(LmsAccess a);

#endif							/* LMS_ENROLLMENT_H */
