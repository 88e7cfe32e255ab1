/*
 * leaderboard.h
 *	  Materialized leaderboards: what a board is (leaderboard.c), how it is refreshed
 *	  (leaderboard_refresh.c) and read (leaderboard_read.c); the worker (worker.c) refreshes them.
 */
#ifndef LMS_LEADERBOARD_H
#define LMS_LEADERBOARD_H

#include "postgres.h"
#include "storage/itemptr.h"
#include "utils/date.h"
#include "utils/snapshot.h"
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

/* Whether lms.board_slots and lms.board_parts exist (not in a 1.0 install running on this library). */
extern bool lms_board_tie_tables_exist(void);

/* The global board, or a course's (no lookup). */
extern void lms_board_ref(BoardRef *b, int64 course_id, int win);

/* The current period of a window: [from, to) as timestamps and its first day. */
extern void lms_window_period(int win, TimestampTz now, DateADT *start, TimestampTz *from,
							  TimestampTz *to);

/* A window's name validated; an error names the three. */
extern int	lms_parse_window(text *t);

/* "global" or "course:<id>" of an existing course; the caller is connected to SPI. */
extern void lms_parse_board(text *t, int win, BoardRef *b);

/* The reads of a board (leaderboard_read.c); those marked so need the caller connected to SPI. */

/* The on-demand freshness check every read makes first (SPI). */
extern void lms_board_check_fresh(BoardRef *b);

/*
 * One snapshot for several reads of a board (the transaction's, at a new command, so that it
 * sees a refresh the freshness check made); pushed as the active snapshot until popped.
 */
extern Snapshot lms_board_snapshot_push(void);
extern void lms_board_snapshot_pop(void);

/* A board's header; built false (and nulls, total 0) for a board not built yet. */
typedef struct LmsBoardHeader
{
	bool		built;
	DateADT		period_start;
	bool		period_null;
	TimestampTz generated_at;
	bool		generated_null;
	int64		total;
	TransactionId xmin;			/* the lms.boards row version read: one state of the board */
	ItemPointerData ctid;
} LmsBoardHeader;
extern void lms_board_header_at(BoardRef *b, Snapshot snap, LmsBoardHeader *h);

/* One row of a page, as lms.board_page returns it. */
typedef struct LmsPageRow
{
	int32		rank;
	Datum		user_id;
	bool		user_null;
	Datum		name;			/* text */
	bool		name_null;
	int64		points;
	Datum		level;			/* int4 */
	bool		level_null;
} LmsPageRow;
typedef void (*LmsPageRowFn) (const LmsPageRow *row, void *arg);

/* The rows of a page (limit, offset) in board order, each handed to fn (SPI). */
extern void lms_board_page_walk(BoardRef *b, int64 lim, int64 off, LmsPageRowFn fn, void *arg);
extern void lms_board_page_walk_at(BoardRef *b, int64 lim, int64 off, Snapshot snap, LmsPageRowFn fn,
								   void *arg);

/* A learner's (rank, points) under snap; false when not on the board. */
extern bool lms_board_rank_at(BoardRef *b, int64 user_id, Snapshot snap, int32 *rank, int64 *points);

/* A learner's (pos, rank, points), pos only when want_pos; false when not on the board (SPI). */
extern bool lms_board_position(BoardRef *b, int64 user_id, bool want_pos, int32 *pos, int32 *rank, int64 *points);

/*
 * A learner's (rank, points) on a board after the on-demand freshness check, as lms.user_rank
 * answers it; false when the learner is not on the board.
 */
extern bool lms_board_user_rank(BoardRef *b, int64 user_id, int32 *rank, int64 *points);

/*
 * Advisory lock keys (first key 'LMSA' / 'LMSB'). A pass over every board takes one lock, not
 * one per board: a lock per board held to the end of the pass's transaction filled the shared
 * lock table (max_locks_per_transaction x max_connections, 6,400 entries by default) at about
 * 2,000 courses (three windows each).
 */
#define LOCK_ALL_BOARDS 1280131905	/* every board: exclusive for a pass, shared for one board */
#define LOCK_ONE_BOARD 1280131906	/* one board, keyed by hashtext of "board:window" */

#endif							/* LMS_LEADERBOARD_H */
