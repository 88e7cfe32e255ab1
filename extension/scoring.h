/*
 * scoring.h
 *	  Gamification scoring called from the write paths (progress, quiz, course completion),
 *	  inside the caller's transaction so ledger, totals, level, streak and achievements never
 *	  disagree with progress.
 */
#ifndef LMS_SCORING_H
#define LMS_SCORING_H

#include "postgres.h"
#include "utils/memutils.h"

/* An achievement granted by this request. */
typedef struct LmsGrant
{
	char	   *code;
	char	   *title;
	int32		points;
} LmsGrant;

/* What one request awarded and where the learner stands afterwards (the API layer renders it). */
typedef struct LmsScore
{
	int64		points_awarded;		/* lesson + quiz + course + streak + achievements */
	int64		total_points;
	int32		level;
	int32		streak_current;
	int32		streak_longest;
	LmsGrant   *grants;			/* new achievements, in the order granted */
	int			ngrants;
	int			maxgrants;
	MemoryContext mcxt;			/* where grants live: the caller's at lms_score_init */
	bool		standing_known; /* total, level and streak above are current: finish skips its read */
} LmsScore;

extern void lms_score_init(LmsScore *score);
/* A progress write or award happened now: counts the learner's streak day. */
extern void lms_score_activity(int64 user_id, LmsScore *score);
/* The caller guarantees each is reported once per (user, lesson) / (user, course). */
extern void lms_score_lesson_completed(int64 user_id, int64 course_id, int64 lesson_id,
									   const char *kind, int32 own_points, LmsScore *score);
extern void lms_score_course_completed(int64 user_id, int64 course_id, LmsScore *score);
/* Fills total_points, level and streak for the answer. */
extern void lms_score_finish(int64 user_id, LmsScore *score);

/*
 * The hot case of lms_score_activity, by key lookups: when nothing was awarded and the learner
 * was already active today, fills where they stand and returns true (then neither
 * lms_score_activity nor lms_score_finish is needed); false otherwise.
 */
extern bool lms_score_already_active_today(int64 user_id, LmsScore *score);

#endif							/* LMS_SCORING_H */
