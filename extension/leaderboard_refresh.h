/*
 * leaderboard_refresh.h
 *	  Bringing boards up to date: a full build or an incremental refresh of one board, and a
 *	  pass over every board (the worker's, lms.refresh_leaderboards()).
 */
#ifndef LMS_LEADERBOARD_REFRESH_H
#define LMS_LEADERBOARD_REFRESH_H

#include "leaderboard.h"

/*
 * Bring one board up to date. force: rebuild now; otherwise only when it is missing, its period
 * rolled over, or it changed and is older than max_age_ms (-1: only missing or rolled over).
 * in_pass: the caller holds the all-boards lock; otherwise this never waits. Returns true when
 * it refreshed. The caller is connected to SPI.
 */
extern bool lms_board_refresh(BoardRef *b, bool force, bool in_pass, int max_age_ms);

/* Refresh every board (force) or the changed ones; the caller is connected to SPI. */
extern void lms_refresh_boards(bool force, void (*emit) (const char *name, void *arg), void *arg);

#endif							/* LMS_LEADERBOARD_REFRESH_H */
