/*
 * point_rules.h
 *	  The points each kind of event earns (point_rules.c): the admin's rules, per course, and
 *	  their defaults.
 */
#ifndef LMS_POINT_RULES_H
#define LMS_POINT_RULES_H

#include "postgres.h"

/* The points of a rule for a course (0: none); the caller is connected to SPI. */
extern int32 lms_point_rule(const char *name, int64 course_id);

/* Completing a lesson: its own points when set (own >= 0), else its kind's rule. */
extern int32 lms_lesson_points(const char *kind, int64 course_id, int32 own);

#endif							/* LMS_POINT_RULES_H */
