/*
 * leaderboard_read.c
 *	  Reading boards (the design is in leaderboard.c): a page, a learner's rank, a learner's
 *	  position for around=me, and a board's header, each after the on-demand freshness check
 *	  where the SQL function promises one. Pages and ranks are direct index scans (direct.c).
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/snapmgr.h"

#include "direct.h"
#include "leaderboard.h"
#include "leaderboard_refresh.h"
#include "lms.h"
#include "plans.h"

static SPIPlanPtr plan_me = NULL;
static SPIPlanPtr plan_seek = NULL;
static SPIPlanPtr plan_meta = NULL;

/* True when the background worker refreshes the boards of this database. */
static bool
worker_serves_this_database(void)
{
	static int	serves = -1;

	if (serves < 0)
	{
		char	   *db = get_database_name(MyDatabaseId);

		serves = (lms_worker_registered && db != NULL && lms_leaderboard_database != NULL &&
				  strcmp(db, lms_leaderboard_database) == 0) ? 1 : 0;
	}
	return serves == 1;
}

/* Validated board and window of a read, refreshed on demand when stale. */
static void
read_board(FunctionCallInfo fcinfo, BoardRef *b)
{
	int			win;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("board and window must not be null"),
				 errdetail("Name a board (global or course:<id>) and a window (all, week or month).")));
	win = lms_parse_window(PG_GETARG_TEXT_PP(1));
	lms_parse_board(PG_GETARG_TEXT_PP(0), win, b);
	/* where the worker refreshes, a read builds only a missing board or a new period */
	lms_board_refresh(b, false, false, worker_serves_this_database() ? -1 : lms_leaderboard_refresh_interval_ms);
}

/*
 * The snapshot of a read: the transaction's, at the current command, so that it sees a refresh
 * this call has just made through SPI (as a read_only = false SPI statement would).
 */
static Snapshot
read_snapshot(void)
{
	CommandCounterIncrement();
	PushActiveSnapshot(GetTransactionSnapshot());
	UpdateActiveSnapshotCommandId();
	return GetActiveSnapshot();
}

/* The (board, win) keys every board index starts with, then n more. */
static int
board_keys(LmsKey *keys, BoardRef *b)
{
	keys[0].strategy = BTEqualStrategyNumber;
	keys[0].value = PointerGetDatum(cstring_to_text(b->name));
	keys[1].strategy = BTEqualStrategyNumber;
	keys[1].value = PointerGetDatum(cstring_to_text(lms_window_names[b->win]));
	return 2;
}

/*
 * Skips longer than this inside a tie group seek their first entry by an index-only scan
 * instead of fetching every skipped entry (around=me lands anywhere in a tie group of up to
 * tens of thousands of learners at 1,000,000: docs/performance.md, "Leaderboards").
 */
#define PAGE_SEEK_MIN 64

/*
 * Where a page starts inside the tie group of `points`: the (reached_at, user_id) of the
 * group's entry number skip (from 0) in board order, by an index-only scan of the board-order
 * index under the read's snapshot. False when the group is shorter (cannot happen while the
 * histogram matches the entries: the caller then walks).
 */
static bool
tie_group_seek(BoardRef *b, int64 points, int64 skip, Snapshot snap, Datum *reached_at, int64 *user_id)
{
	static const Oid types[4] = {TEXTOID, TEXTOID, INT8OID, INT8OID};
	Datum		values[4];
	bool		isnull;

	lms_read_plan(&plan_seek,
				  "SELECT e.reached_at, e.user_id FROM lms.board_entries e"
				  " WHERE e.board = $1 AND e.win = $2 AND e.points = $3"
				  " ORDER BY e.reached_at, e.user_id OFFSET $4 LIMIT 1",
				  4, types);
	values[0] = CStringGetTextDatum(b->name);
	values[1] = CStringGetTextDatum(lms_window_names[b->win]);
	values[2] = Int64GetDatum(points);
	values[3] = Int64GetDatum(skip);
	if (SPI_execute_snapshot(plan_seek, values, NULL, snap, InvalidSnapshot, true, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read the leaderboard");
	if (SPI_processed == 0)
		return false;
	*reached_at = lms_col_datum(0, 1, &isnull);
	*user_id = lms_col_int64(0, 2, 0);
	return true;
}

/* A page's scan of the board-order index, from its first score or from a seeked entry. */
typedef struct PageScan
{
	BoardRef   *b;
	Snapshot	snap;
	LmsScan    *scan;
	int64		points;			/* the page's first score */
	bool		in_group;		/* seeked: still in that score's tie group */
	bool		started;		/* seeked: the seeked entry is reached */
	Datum		seek_reached;	/* seeked: the first entry's (reached_at, user_id) */
	int64		seek_user;
} PageScan;

/*
 * Starts the scan at the board's entries with points `strat` the page's first score; in the
 * seeked tie group also from its first entry's reached_at on.
 */
static void
page_scan_begin(PageScan *ps, StrategyNumber strat)
{
	LmsKey		keys[4];
	int			nkeys = board_keys(keys, ps->b);

	keys[nkeys].strategy = strat;
	keys[nkeys++].value = Int64GetDatum(ps->points);
	if (ps->in_group)
	{
		keys[nkeys].strategy = BTGreaterEqualStrategyNumber;
		keys[nkeys++].value = ps->seek_reached;
	}
	ps->scan = lms_scan_begin(LMS_BOARD_ENTRIES_IN_ORDER, ps->snap, nkeys, keys, ForwardScanDirection);
}

/* The page's next entry in board order; false past the board's last entry. */
static bool
page_scan_next(PageScan *ps)
{
	bool		isnull;

	for (;;)
	{
		if (!lms_scan_next(ps->scan))
		{
			if (!ps->in_group)
				return false;
			/* the seeked tie group is done: the lower scores follow */
			ps->in_group = false;
			lms_scan_end(ps->scan);
			page_scan_begin(ps, BTLessStrategyNumber);
			continue;
		}
		if (ps->in_group && !ps->started)
		{
			/* the seeked entry's reached_at, a learner before it in board order: not on the page */
			if (DatumGetTimestampTz(lms_scan_get(ps->scan, ENTRY_REACHED, &isnull)) ==
				DatumGetTimestampTz(ps->seek_reached) &&
				DatumGetInt64(lms_scan_get(ps->scan, ENTRY_USER, &isnull)) < ps->seek_user)
				continue;
			ps->started = true;
		}
		return true;
	}
}

/*
 * The bucket holding position off + 1: the last non-empty bucket (in board order) with at most
 * off learners above it, one backward step of the index on (board, win, above). False on an
 * empty board.
 */
static bool
page_first_bucket(BoardRef *b, int64 off, Snapshot snap, int64 *points, int64 *above)
{
	LmsKey		keys[3];
	int			nkeys = board_keys(keys, b);
	LmsScan    *scan;
	bool		found,
				isnull;

	keys[nkeys].strategy = BTLessEqualStrategyNumber;
	keys[nkeys++].value = Int64GetDatum(off);
	scan = lms_scan_begin(LMS_BOARD_COUNTS_ABOVE, snap, nkeys, keys, BackwardScanDirection);
	found = lms_scan_next(scan);
	*points = found ? DatumGetInt64(lms_scan_get(scan, BUCKET_POINTS, &isnull)) : 0;
	*above = found ? DatumGetInt64(lms_scan_get(scan, BUCKET_ABOVE, &isnull)) : 0;
	lms_scan_end(scan);
	return found;
}

/*
 * Page rows: (rank, user_id, display_name, points, level). The page is an index range scan in
 * board order from its first bucket's score, skipping within its tie group: by walking when the
 * skip is short, else from the entry tie_group_seek finds. Names and levels are on the entries.
 */
static void
page_rows(FunctionCallInfo fcinfo, BoardRef *b, int64 lim, int64 off)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	PageScan	ps = {0};
	bool		isnull;
	int64		above,
				skip,
				i;
	int32		first_rank = 0,
				prev_rank = 0;
	int64		first_points = 0,
				prev_points = 0;

	ps.b = b;
	ps.snap = read_snapshot();
	if (!page_first_bucket(b, off, ps.snap, &ps.points, &above))
	{
		PopActiveSnapshot();
		return;					/* an empty board */
	}

	skip = off - above;
	ps.in_group = skip > PAGE_SEEK_MIN &&
		tie_group_seek(b, ps.points, skip, ps.snap, &ps.seek_reached, &ps.seek_user);
	if (ps.in_group)
		skip = 0;
	page_scan_begin(&ps, ps.in_group ? BTEqualStrategyNumber : BTLessEqualStrategyNumber);
	for (; skip > 0; skip--)
		if (!page_scan_next(&ps))
			break;
	for (i = 0; skip == 0 && i < lim && page_scan_next(&ps); i++)
	{
		Datum		v[5];
		bool		nl[5] = {false, false, false, false, false};
		int64		points;
		int32		rank;

		points = DatumGetInt64(lms_scan_get(ps.scan, ENTRY_POINTS, &isnull));
		/*
		 * Competition rank: the first row's score has the learners above it in the histogram;
		 * a lower score within the page starts at its own position (the page is contiguous in
		 * board order, so every learner above it is before it).
		 */
		if (i == 0)
			first_rank = rank = (int32) (above + 1);
		else if (points == first_points)
			rank = first_rank;
		else if (points == prev_points)
			rank = prev_rank;
		else
			rank = (int32) (off + i + 1);
		if (i == 0)
			first_points = points;
		prev_points = points;
		prev_rank = rank;
		v[0] = Int32GetDatum(rank);
		v[1] = lms_scan_get(ps.scan, ENTRY_USER, &nl[1]);
		v[2] = lms_scan_get(ps.scan, ENTRY_NAME, &nl[2]);
		v[3] = Int64GetDatum(points);
		v[4] = lms_scan_get(ps.scan, ENTRY_LEVEL, &nl[4]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, nl);
	}
	lms_scan_end(ps.scan);
	PopActiveSnapshot();
}

PG_FUNCTION_INFO_V1(lms_leaderboard);

/*
 * lms.leaderboard(board, window, lim, off): one page of a board, an index range scan.
 */
Datum
lms_leaderboard(PG_FUNCTION_ARGS)
{
	BoardRef	b;
	int64		lim,
				off;

	lim = PG_ARGISNULL(2) ? 50 : PG_GETARG_INT32(2);
	off = PG_ARGISNULL(3) ? 0 : PG_GETARG_INT32(3);
	if (lim < 1 || lim > 1000)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("lim must be between 1 and 1000"),
				 errdetail("A page holds 1 to 1000 rows.")));
	if (off < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("off must not be negative"),
				 errdetail("The offset counts rows from the top of the board.")));
	InitMaterializedSRF(fcinfo, 0);
	lms_spi_connect();
	read_board(fcinfo, &b);
	page_rows(fcinfo, &b, lim, off);
	SPI_finish();
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(lms_board_page);

/*
 * lms.board_page(board, window, lim, off): the same page without the freshness check, for the
 * API function that has just called lms.board_info.
 */
Datum
lms_board_page(PG_FUNCTION_ARGS)
{
	BoardRef	b;

	InitMaterializedSRF(fcinfo, 0);
	lms_spi_connect();
	lms_parse_board(PG_GETARG_TEXT_PP(0), lms_parse_window(PG_GETARG_TEXT_PP(1)), &b);
	page_rows(fcinfo, &b, Max(1, Min(1000, PG_GETARG_INT32(2))), Max(0, PG_GETARG_INT32(3)));
	SPI_finish();
	return (Datum) 0;
}

/*
 * One learner's (rank, points) on a board: 1 + the learners of the buckets above, stored in my
 * bucket; two primary-key lookups. False when not on the board.
 */
static bool
board_rank_direct(BoardRef *b, int64 user_id, int32 *rank, int64 *points)
{
	Snapshot	snap = read_snapshot();
	LmsKey		keys[3];
	int			nkeys = board_keys(keys, b);
	LmsScan    *scan;
	bool		found,
				isnull;

	keys[nkeys].strategy = BTEqualStrategyNumber;
	keys[nkeys].value = Int64GetDatum(user_id);
	scan = lms_scan_begin(LMS_BOARD_ENTRIES_PKEY, snap, nkeys + 1, keys, ForwardScanDirection);
	found = lms_scan_next(scan);
	if (found)
		*points = DatumGetInt64(lms_scan_get(scan, ENTRY_POINTS, &isnull));
	lms_scan_end(scan);
	if (found)
	{
		keys[nkeys].value = Int64GetDatum(*points);
		scan = lms_scan_begin(LMS_BOARD_COUNTS_PKEY, snap, nkeys + 1, keys, ForwardScanDirection);
		if (!lms_scan_next(scan))
			elog(ERROR, "leaderboard %s:%s has no bucket for " INT64_FORMAT " points",
				 b->name, lms_window_names[b->win], *points);
		*rank = (int32) (DatumGetInt64(lms_scan_get(scan, BUCKET_ABOVE, &isnull)) + 1);
		lms_scan_end(scan);
	}
	PopActiveSnapshot();
	return found;
}

/*
 * One learner's (pos, rank, points) on a board (pos only when want_pos); false when not on it.
 * The caller is connected to SPI.
 */
static bool
board_me(BoardRef *b, int64 user_id, bool want_pos, int32 *pos, int32 *rank, int64 *points)
{
	static const Oid types[3] = {TEXTOID, TEXTOID, INT8OID};
	Datum		values[3];

	if (!want_pos)
		return board_rank_direct(b, user_id, rank, points);
	/* position: the rank plus those of the same score before me in board order (tie group) */
	lms_read_plan(&plan_me,
				  "SELECT e.points, 1 + h.above,"
				  "       (SELECT count(*) FROM lms.board_entries f WHERE f.board = $1 AND f.win = $2"
				  "           AND f.points = e.points AND (f.reached_at, f.user_id) < (e.reached_at, e.user_id))"
				  "  FROM lms.board_entries e JOIN lms.board_counts h"
				  "    ON h.board = $1 AND h.win = $2 AND h.points = e.points"
				  " WHERE e.board = $1 AND e.win = $2 AND e.user_id = $3",
				  3, types);
	values[0] = CStringGetTextDatum(b->name);
	values[1] = CStringGetTextDatum(lms_window_names[b->win]);
	values[2] = Int64GetDatum(user_id);
	lms_exec_expect(plan_me, values, NULL, false, 1, SPI_OK_SELECT, "read the leaderboard");
	if (SPI_processed == 0)
		return false;
	*points = lms_col_int64(0, 1, 0);
	*rank = (int32) lms_col_int64(0, 2, 0);
	*pos = *rank + (int32) lms_col_int64(0, 3, 0);
	return true;
}

/* One learner's row of a board into the result: (rank, points), or (pos, rank, points). */
static void
put_me_row(FunctionCallInfo fcinfo, BoardRef *b, int64 user_id, bool want_pos)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int32		pos,
				rank;
	int64		points;
	Datum		v[3];
	bool		n[3] = {false, false, false};
	int			i = 0;

	if (!board_me(b, user_id, want_pos, &pos, &rank, &points))
		return;
	if (want_pos)
		v[i++] = Int32GetDatum(pos);
	v[i++] = Int32GetDatum(rank);
	v[i] = Int64GetDatum(points);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, n);
}

PG_FUNCTION_INFO_V1(lms_user_rank);

/*
 * lms.user_rank(board, window, user_id): (rank, points), no row when the learner is not on the
 * board (hidden, suspended, or no points in the window). One primary-key lookup.
 */
Datum
lms_user_rank(PG_FUNCTION_ARGS)
{
	BoardRef	b;

	InitMaterializedSRF(fcinfo, 0);
	lms_spi_connect();
	read_board(fcinfo, &b);
	if (!PG_ARGISNULL(2))
		put_me_row(fcinfo, &b, PG_GETARG_INT64(2), false);
	SPI_finish();
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(lms_board_me);

/*
 * lms.board_me(board, window, user_id): (pos, rank, points) for around=me, without the
 * freshness check (the API function called lms.board_info first).
 */
Datum
lms_board_me(PG_FUNCTION_ARGS)
{
	BoardRef	b;

	InitMaterializedSRF(fcinfo, 0);
	lms_spi_connect();
	lms_parse_board(PG_GETARG_TEXT_PP(0), lms_parse_window(PG_GETARG_TEXT_PP(1)), &b);
	put_me_row(fcinfo, &b, PG_GETARG_INT64(2), true);
	SPI_finish();
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(lms_board_info);

/*
 * lms.board_info(board, window): (board, period_start, generated_at, total) after the on-demand
 * freshness check; the header of a board answer.
 */
Datum
lms_board_info(PG_FUNCTION_ARGS)
{
	static const Oid types[2] = {TEXTOID, TEXTOID};
	BoardRef	b;
	Datum		values[2];
	ReturnSetInfo *rsinfo;

	InitMaterializedSRF(fcinfo, 0);
	rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	lms_spi_connect();
	read_board(fcinfo, &b);
	/* a board never built (read-only transaction, or a concurrent first build) is built now */
	lms_read_plan(&plan_meta,
				  "SELECT b.board, b.period_start, b.generated_at, b.total FROM lms.boards b"
				  " WHERE b.board = $1 AND b.win = $2",
				  2, types);
	values[0] = CStringGetTextDatum(b.name);
	values[1] = CStringGetTextDatum(lms_window_names[b.win]);
	lms_exec_expect(plan_meta, values, NULL, false, 1, SPI_OK_SELECT, "read the leaderboard");
	if (SPI_processed == 1)
	{
		Datum		v[4];
		bool		n[4];
		int			c;

		for (c = 0; c < 4; c++)
			v[c] = lms_col_datum(0, c + 1, &n[c]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, n);
	}
	else
	{
		/* not built yet and could not build it here: an empty board */
		Datum		v[4] = {values[0], (Datum) 0, (Datum) 0, Int64GetDatum(0)};
		bool		n[4] = {false, true, true, false};

		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, n);
	}
	SPI_finish();
	return (Datum) 0;
}
