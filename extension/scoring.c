/*
 * scoring.c
 *	  PLACEHOLDER until the gamification work (issue 3) lands: awards nothing and reports
 *	  zeros, as issue 2 allows ("points and streak fields may read zero").
 */
#include "postgres.h"

#include "scoring.h"

void
lms_score_init(LmsScore *score)
{
	memset(score, 0, sizeof(LmsScore));
	score->level = 1;
	initStringInfo(&score->new_achievements);
}

void
lms_score_activity(int64 user_id, LmsScore *score)
{
}

void
lms_score_lesson_completed(int64 user_id, int64 course_id, int64 lesson_id, int32 points,
						   LmsScore *score)
{
}

void
lms_score_course_completed(int64 user_id, int64 course_id, LmsScore *score)
{
}

void
lms_score_finish(int64 user_id, LmsScore *score)
{
}
