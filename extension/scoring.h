/*
 * scoring.h
 *	  Gamification scoring called from the write paths (progress, quiz, course completion),
 *	  inside the caller's transaction so ledger, totals, level, streak and achievements never
 *	  disagree with progress.
 */
#ifndef LMS_SCORING_H
#define LMS_SCORING_H

#include "postgres.h"
#include "lib/stringinfo.h"

/* What one request awarded and where the learner stands afterwards. */
typedef struct LmsScore
{
	int64		points_awarded;		/* lesson + quiz + course + streak + achievements */
	int64		total_points;
	int32		level;
	int32		streak_current;
	int32		streak_longest;
	StringInfoData new_achievements;	/* JSON objects {"code","title","points"}, comma separated */
	bool		standing_known; /* total, level and streak above are current: finish skips its read */
} LmsScore;

extern void lms_score_init(LmsScore *score);
/* A progress write or award happened now: counts the learner's streak day. */
extern void lms_score_activity(int64 user_id, LmsScore *score);
/* The caller guarantees each is reported once per (user, lesson) / (user, course). */
extern void lms_score_lesson_completed(int64 user_id, int64 course_id, int64 lesson_id,
									   int32 points, LmsScore *score);
extern void lms_score_course_completed(int64 user_id, int64 course_id, LmsScore *score);
/* Fills total_points, level and streak for the answer. */
extern void lms_score_finish(int64 user_id, LmsScore *score);

/* Level n starts at 100*n*(n-1)/2 points (1: 0, 2: 100, 3: 300, 4: 600 ...). */
extern int32 lms_level_for_points(int64 points);

#endif							/* LMS_SCORING_H */
