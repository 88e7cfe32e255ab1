/*
 * leaderboard.h
 *	  Materialized leaderboards: what a board is (leaderboard.c), how it is refreshed
 *	  (leaderboard_refresh.c) and read (leaderboard_read.c); the worker (worker.c) refreshes them.
 */
#ifndef LMS_LEADERBOARD_H
#define LMS_LEADERBOARD_H

#include "postgres.h"
#include "utils/date.h"
#include "utils/timestamp.h"

enum
{
	WIN_ALL = 0,
	WIN_WEEK = 1,
	WIN_MONTH = 2,
	WIN_COUNT = 3
};
extern const char *const lms_window_names[WIN_COUNT];

/* One board in one window: "global" or "course:<id>", and all / week / month. */
typedef struct BoardRef
{
	char		name[48];		/* "global" or "course:<id>" */
	int64		course_id;		/* 0 for global */
	int			win;
} BoardRef;

/* The global board, or a course's (no lookup). */
extern void lms_board_ref(BoardRef *b, int64 course_id, int win);

/* The current period of a window: [from, to) as timestamps and its first day. */
extern void lms_window_period(int win, TimestampTz now, DateADT *start, TimestampTz *from,
							  TimestampTz *to);

/* A window's name validated; an error names the three. */
extern int	lms_parse_window(text *t);

/* "global" or "course:<id>" of an existing course; the caller is connected to SPI. */
extern void lms_parse_board(text *t, int win, BoardRef *b);

/*
 * Advisory lock keys (first key 'LMSA' / 'LMSB'). A pass over every board takes one lock, not
 * one per board: a lock per board held to the end of the pass's transaction filled the shared
 * lock table (max_locks_per_transaction x max_connections, 6,400 entries by default) at about
 * 2,000 courses (three windows each).
 */
#define LOCK_ALL_BOARDS 1280131905	/* every board: exclusive for a pass, shared for one board */
#define LOCK_ONE_BOARD 1280131906	/* one board, keyed by hashtext of "board:window" */

#endif							/* LMS_LEADERBOARD_H */
