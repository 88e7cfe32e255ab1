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
#include "rules.h"


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

/*
 * The freshness check of a read: where the worker refreshes, a read builds only a missing board
 * or a new period; elsewhere it refreshes a changed board older than the refresh interval. The
 * caller is connected to SPI.
 */
void
lms_board_check_fresh(BoardRef *b)
{
	lms_board_refresh(b, false, false, worker_serves_this_database() ? -1 : lms_leaderboard_refresh_interval_ms);
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
	lms_board_check_fresh(b);
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

Snapshot
lms_board_snapshot_push(void)
{
	return read_snapshot();
}

void
lms_board_snapshot_pop(void)
{
	PopActiveSnapshot();
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
 * Skips longer than this inside a tie group start from the group's hour slot that holds the
 * page's first entry (lms.board_slots) instead of walking every skipped entry: around=me lands
 * anywhere in a tie group of up to tens of thousands of learners at 1,000,000.
 */
#define PAGE_SEEK_MIN 64

/*
 * The hour slot of `points`'s tie group holding its entry number skip (from 0) in board order,
 * and how many of the group come before the slot. False when the group is shorter (cannot
 * happen while the slots match the entries: the caller then walks).
 */
static bool
slot_seek(BoardRef *b, int64 points, int64 skip, Snapshot snap, int64 *slot, int64 *before)
{
	LmsKey		keys[3];
	int			nkeys = board_keys(keys, b);
	LmsScan    *scan;
	bool		found = false,
				isnull;
	int64		cum = 0;

	keys[nkeys].strategy = BTEqualStrategyNumber;
	keys[nkeys++].value = Int64GetDatum(points);
	scan = lms_scan_begin(LMS_BOARD_SLOTS_PKEY, snap, nkeys, keys, ForwardScanDirection);
	while (lms_scan_next(scan))
	{
		int64		n = DatumGetInt64(lms_scan_get(scan, SLOT_LEARNERS, &isnull));

		if (cum + n > skip)
		{
			*slot = DatumGetInt64(lms_scan_get(scan, SLOT_SLOT, &isnull));
			*before = cum;
			found = true;
			break;
		}
		cum += n;
	}
	lms_scan_end(scan);
	return found;
}

/* A place in board order inside one score's tie group. */
typedef struct TiePlace
{
	TimestampTz reached;
	int64		user_id;
} TiePlace;

static inline bool
place_before(TiePlace a, TiePlace b)
{
	return a.reached < b.reached || (a.reached == b.reached && a.user_id < b.user_id);
}

/*
 * Walks `points`'s tie group in board order from `from` (inclusive) to `stop` (exclusive),
 * index-only, so that thousands of entries visit no heap page they need not. Returns how many
 * entries it passed; with want >= 0 it stops at entry number want (from 0 after `from`),
 * returned in *at with *found set. In at most two ranges of the index: the entries of from's
 * instant from its user id on, then the later instants (when stop lies past that instant).
 */
static int64
group_walk(BoardRef *b, Snapshot snap, int64 points, TiePlace from, TiePlace stop, int64 want,
		   bool *found, TiePlace *at)
{
	int64		n = 0;
	bool		whole_instant = (from.user_id == PG_INT64_MIN);
	int			phase;

	*found = false;
	for (phase = 0; phase < 2; phase++)
	{
		LmsKey		keys[5];
		int			nkeys = board_keys(keys, b);
		LmsScan    *scan;
		bool		isnull,
					done = false;

		if (phase == 1 && (whole_instant || from.reached >= stop.reached))
			break;
		keys[nkeys].strategy = BTEqualStrategyNumber;
		keys[nkeys++].value = Int64GetDatum(points);
		/* from the instant on (one range) or its entries from the user id on, then later ones */
		keys[nkeys].strategy = whole_instant ? BTGreaterEqualStrategyNumber :
			phase == 0 ? BTEqualStrategyNumber : BTGreaterStrategyNumber;
		keys[nkeys++].value = TimestampTzGetDatum(from.reached);
		if (phase == 0 && !whole_instant)
		{
			keys[nkeys].strategy = BTGreaterEqualStrategyNumber;
			keys[nkeys++].value = Int64GetDatum(from.user_id);
		}
		scan = lms_scan_begin_index_only(LMS_BOARD_ENTRIES_IN_ORDER, snap, nkeys, keys, ForwardScanDirection);
		while (lms_scan_next_index_only(scan))
		{
			TiePlace	p;

			p.reached = DatumGetTimestampTz(lms_scan_get_key(scan, IN_ORDER_REACHED, ENTRY_REACHED, &isnull));
			p.user_id = DatumGetInt64(lms_scan_get_key(scan, IN_ORDER_USER, ENTRY_USER, &isnull));
			if (!place_before(p, stop))
			{
				done = true;
				break;
			}
			if (n == want)
			{
				*at = p;
				*found = done = true;
				break;
			}
			n++;
		}
		lms_scan_end(scan);
		if (done)
			break;
	}
	return n;
}

/*
 * Walks `points`'s tie group from the start of its hour slot `slot` to `stop`, as group_walk,
 * summing the parts of its split one-instant groups (lms.board_parts) instead of walking them:
 * the learners between the split instants are walked, and of a split instant only the part
 * holding the stop or the wanted entry. A group of tens of thousands on one instant then costs
 * about the square root of its size.
 */
static int64
hour_walk(BoardRef *b, Snapshot snap, int64 points, int64 slot, TiePlace stop, int64 want,
		  bool *found, TiePlace *at)
{
	TiePlace	cursor = {lms_hour_start(slot), PG_INT64_MIN};
	LmsKey		keys[4];
	int			nkeys = board_keys(keys, b);
	LmsScan    *scan;
	bool		isnull,
				done = false;
	int64		n = 0;

	*found = false;
	keys[nkeys].strategy = BTEqualStrategyNumber;
	keys[nkeys++].value = Int64GetDatum(points);
	keys[nkeys].strategy = BTGreaterEqualStrategyNumber;
	keys[nkeys++].value = TimestampTzGetDatum(cursor.reached);
	scan = lms_scan_begin(LMS_BOARD_PARTS_PKEY, snap, nkeys, keys, ForwardScanDirection);
	while (lms_scan_next(scan))
	{
		int64		part = DatumGetInt64(lms_scan_get(scan, PART_PART, &isnull));
		int			shift = DatumGetInt32(lms_scan_get(scan, PART_SHIFT, &isnull));
		int64		learners = DatumGetInt64(lms_scan_get(scan, PART_LEARNERS, &isnull));
		TiePlace	lo,
					hi;

		lo.reached = hi.reached = DatumGetTimestampTz(lms_scan_get(scan, PART_REACHED, &isnull));
		lo.user_id = part << shift;
		hi.user_id = part >= (PG_INT64_MAX >> shift) ? PG_INT64_MAX : (part + 1) << shift;
		if (!place_before(lo, stop))
			break;
		/* the learners before this split instant (none between the parts of one instant) */
		if (lo.reached != cursor.reached || cursor.user_id == PG_INT64_MIN)
		{
			n += group_walk(b, snap, points, cursor, lo, want >= 0 ? want - n : -1, found, at);
			if (*found)
			{
				done = true;
				break;
			}
		}
		if (place_before(stop, hi) || (want >= 0 && n + learners > want))
		{
			/* the stop or the wanted entry is in this part: walk it */
			n += group_walk(b, snap, points, lo, place_before(stop, hi) ? stop : hi,
							want >= 0 ? want - n : -1, found, at);
			done = true;
			break;
		}
		n += learners;
		cursor = hi;
	}
	lms_scan_end(scan);
	if (!done)
		n += group_walk(b, snap, points, cursor, stop, want >= 0 ? want - n : -1, found, at);
	return n;
}

/*
 * A page's scan of the board-order index. Not seeked: from its first score down. Seeked to an
 * entry of that score's tie group, in three ranges of the index, so that no entry before the
 * seeked one is read: the entries of its instant from its user id on, the group's later
 * instants, then the lower scores.
 */
typedef enum PagePhase
{
	PAGE_FROM_SCORE,			/* points <= the first score */
	PAGE_FROM_ENTRY,			/* points = it, reached_at = the entry's, user_id >= the entry's */
	PAGE_LATER_IN_GROUP,		/* points = it, reached_at > the entry's */
	PAGE_BELOW_GROUP			/* points < it */
} PagePhase;

typedef struct PageScan
{
	BoardRef   *b;
	Snapshot	snap;
	LmsScan    *scan;
	int64		points;			/* the page's first score */
	PagePhase	phase;
	Datum		seek_reached;	/* seeked: the first entry's (reached_at, user_id) */
	int64		seek_user;
} PageScan;

/* Starts the scan of the phase's range. */
static void
page_scan_begin(PageScan *ps, PagePhase phase)
{
	LmsKey		keys[5];
	int			nkeys = board_keys(keys, ps->b);

	ps->phase = phase;
	keys[nkeys].strategy = phase == PAGE_FROM_SCORE ? BTLessEqualStrategyNumber :
		phase == PAGE_BELOW_GROUP ? BTLessStrategyNumber : BTEqualStrategyNumber;
	keys[nkeys++].value = Int64GetDatum(ps->points);
	if (phase == PAGE_FROM_ENTRY || phase == PAGE_LATER_IN_GROUP)
	{
		keys[nkeys].strategy = phase == PAGE_FROM_ENTRY ? BTEqualStrategyNumber : BTGreaterStrategyNumber;
		keys[nkeys++].value = ps->seek_reached;
	}
	if (phase == PAGE_FROM_ENTRY)
	{
		keys[nkeys].strategy = BTGreaterEqualStrategyNumber;
		keys[nkeys++].value = Int64GetDatum(ps->seek_user);
	}
	ps->scan = lms_scan_begin(LMS_BOARD_ENTRIES_IN_ORDER, ps->snap, nkeys, keys, ForwardScanDirection);
}

/* The page's next entry in board order; false past the board's last entry. */
static bool
page_scan_next(PageScan *ps)
{
	while (!lms_scan_next(ps->scan))
	{
		if (ps->phase == PAGE_FROM_SCORE || ps->phase == PAGE_BELOW_GROUP)
			return false;
		lms_scan_end(ps->scan);
		page_scan_begin(ps, ps->phase + 1);
	}
	return true;
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
 * The rows of a page, in board order, each handed to fn: (rank, user_id, display_name, points,
 * level). The page is an index range scan in board order from its first bucket's score,
 * skipping within its tie group: by walking when the skip is short, else from the entry
 * tie_group_seek finds. Names and levels are on the entries. The caller is connected to SPI.
 */
void
lms_board_page_walk(BoardRef *b, int64 lim, int64 off, LmsPageRowFn fn, void *arg)
{
	lms_board_page_walk_at(b, lim, off, read_snapshot(), fn, arg);
	PopActiveSnapshot();
}

/* The same under the caller's snapshot (an active one, from lms_board_snapshot_push). */
void
lms_board_page_walk_at(BoardRef *b, int64 lim, int64 off, Snapshot snap, LmsPageRowFn fn, void *arg)
{
	PageScan	ps = {0};
	bool		isnull;
	int64		above,
				skip,
				i;
	int32		first_rank = 0,
				prev_rank = 0;
	int64		first_points = 0,
				prev_points = 0;
	PagePhase	phase;

	ps.b = b;
	ps.snap = snap;
	if (!page_first_bucket(b, off, ps.snap, &ps.points, &above))
		return;					/* an empty board */

	skip = off - above;
	phase = PAGE_FROM_SCORE;
	if (skip > PAGE_SEEK_MIN && lms_board_tie_tables_exist())
	{
		int64		slot,
					before;
		TiePlace	hour_end = {0, PG_INT64_MIN},
					at;
		bool		found;

		/* the hour slot holding the page's first entry, then that entry */
		if (slot_seek(b, ps.points, skip, ps.snap, &slot, &before))
		{
			hour_end.reached = lms_hour_start(slot + 1);
			(void) hour_walk(b, ps.snap, ps.points, slot, hour_end, skip - before, &found, &at);
			if (found)
			{
				ps.seek_reached = TimestampTzGetDatum(at.reached);
				ps.seek_user = at.user_id;
				phase = PAGE_FROM_ENTRY;
				skip = 0;
			}
		}
	}
	page_scan_begin(&ps, phase);
	for (; skip > 0; skip--)
		if (!page_scan_next(&ps))
			break;
	for (i = 0; skip == 0 && i < lim && page_scan_next(&ps); i++)
	{
		LmsPageRow	row;
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
		row.rank = rank;
		row.user_id = lms_scan_get(ps.scan, ENTRY_USER, &row.user_null);
		row.name = lms_scan_get(ps.scan, ENTRY_NAME, &row.name_null);
		row.points = points;
		row.level = lms_scan_get(ps.scan, ENTRY_LEVEL, &row.level_null);
		fn(&row, arg);
	}
	lms_scan_end(ps.scan);
}

/* lms_board_page_walk's rows into the SRF's tuplestore. */
static void
page_row_to_tuplestore(const LmsPageRow *row, void *arg)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) arg;
	Datum		v[5] = {Int32GetDatum(row->rank), row->user_id, row->name, Int64GetDatum(row->points), row->level};
	bool		nl[5] = {false, row->user_null, row->name_null, false, row->level_null};

	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, nl);
}

static void
page_rows(FunctionCallInfo fcinfo, BoardRef *b, int64 lim, int64 off)
{
	lms_board_page_walk(b, lim, off, page_row_to_tuplestore, fcinfo->resultinfo);
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
	bool		found = lms_board_rank_at(b, user_id, read_snapshot(), rank, points);

	PopActiveSnapshot();
	return found;
}

/* The same under the caller's snapshot. */
bool
lms_board_rank_at(BoardRef *b, int64 user_id, Snapshot snap, int32 *rank, int64 *points)
{
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
	return found;
}

/*
 * A learner's position in board order (1-based, ties by reached_at then user_id): rank (1 + the
 * learners above the score) + those of the score in earlier hour slots (lms.board_slots) + those
 * before the learner in their own hour (hour_walk: split one-instant groups summed by part).
 * Bounded by an hour's worth of the tie group outside its split instants, not by the group (up
 * to tens of thousands of learners on one score at 1,000,000).
 */
static int32
position_at(BoardRef *b, Snapshot snap, int64 user_id, int64 points, TimestampTz reached, int32 rank)
{
	TiePlace	me = {reached, user_id},
				at;
	int64		slot = lms_hour_of(reached),
				before = 0;
	bool		found;

	if (lms_board_tie_tables_exist())
	{
		LmsKey		keys[4];
		int			nkeys = board_keys(keys, b);
		LmsScan    *scan;
		bool		isnull;

		keys[nkeys].strategy = BTEqualStrategyNumber;
		keys[nkeys++].value = Int64GetDatum(points);
		keys[nkeys].strategy = BTLessStrategyNumber;
		keys[nkeys++].value = Int64GetDatum(slot);
		scan = lms_scan_begin(LMS_BOARD_SLOTS_PKEY, snap, nkeys, keys, ForwardScanDirection);
		while (lms_scan_next(scan))
			before += DatumGetInt64(lms_scan_get(scan, SLOT_LEARNERS, &isnull));
		lms_scan_end(scan);
		before += hour_walk(b, snap, points, slot, me, -1, &found, &at);
	}
	else
	{
		/* a 1.0 install on this library: the whole group before the learner is walked */
		TiePlace	group_start = {DT_NOBEGIN, PG_INT64_MIN};

		before = group_walk(b, snap, points, group_start, me, -1, &found, &at);
	}
	return rank + (int32) before;
}

/*
 * One learner's (pos, rank, points) on a board (pos only when want_pos); false when not on it.
 * Direct index reads under one snapshot.
 */
bool
lms_board_position(BoardRef *b, int64 user_id, bool want_pos, int32 *pos, int32 *rank, int64 *points)
{
	Snapshot	snap = read_snapshot();
	LmsKey		keys[3];
	int			nkeys = board_keys(keys, b);
	LmsScan    *scan;
	bool		found,
				isnull;
	TimestampTz reached = 0;

	keys[nkeys].strategy = BTEqualStrategyNumber;
	keys[nkeys].value = Int64GetDatum(user_id);
	scan = lms_scan_begin(LMS_BOARD_ENTRIES_PKEY, snap, nkeys + 1, keys, ForwardScanDirection);
	found = lms_scan_next(scan);
	if (found)
	{
		*points = DatumGetInt64(lms_scan_get(scan, ENTRY_POINTS, &isnull));
		reached = DatumGetTimestampTz(lms_scan_get(scan, ENTRY_REACHED, &isnull));
	}
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
		if (want_pos)
			*pos = position_at(b, snap, user_id, *points, reached, *rank);
	}
	PopActiveSnapshot();
	return found;
}

/*
 * A learner's (rank, points) on a board, after the freshness check lms.user_rank makes (a stale
 * board may be refreshed here); false when not on it. For C callers: lms.user_rank without its
 * SQL call. Connects to SPI itself.
 */
bool
lms_board_user_rank(BoardRef *b, int64 user_id, int32 *rank, int64 *points)
{
	bool		found;

	lms_spi_connect();
	lms_board_check_fresh(b);
	found = board_rank_direct(b, user_id, rank, points);
	SPI_finish();
	return found;
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

	if (!lms_board_position(b, user_id, want_pos, &pos, &rank, &points))
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

/*
 * A board's header under snap: period_start, generated_at, total and the identity of the
 * lms.boards row version read (built false, nulls and 0 for a board not built: a read-only
 * transaction, or a concurrent first build). No freshness check: the caller made it. Every
 * refresh that writes a board's entries rewrites its lms.boards row in the same transaction,
 * so one version of that row, read under one snapshot with the entries, names one state of
 * the board: what lets a rendered page be reused (api_leaderboards.c).
 */
void
lms_board_header_at(BoardRef *b, Snapshot snap, LmsBoardHeader *h)
{
	LmsKey		keys[2];
	LmsScan    *scan;
	bool		isnull;

	board_keys(keys, b);
	memset(h, 0, sizeof(*h));
	h->period_null = h->generated_null = true;
	scan = lms_scan_begin(LMS_BOARDS_PKEY, snap, 2, keys, ForwardScanDirection);
	if (lms_scan_next(scan))
	{
		h->built = true;
		h->period_start = DatumGetDateADT(lms_scan_get(scan, BOARD_PERIOD, &h->period_null));
		h->generated_at = DatumGetTimestampTz(lms_scan_get(scan, BOARD_GENERATED, &h->generated_null));
		h->total = DatumGetInt64(lms_scan_get(scan, BOARD_TOTAL, &isnull));
		lms_scan_version(scan, &h->xmin, &h->ctid);
	}
	lms_scan_end(scan);
}

PG_FUNCTION_INFO_V1(lms_board_info);

/*
 * lms.board_info(board, window): (board, period_start, generated_at, total) after the on-demand
 * freshness check; the header of a board answer.
 */
Datum
lms_board_info(PG_FUNCTION_ARGS)
{
	BoardRef	b;
	LmsBoardHeader h;
	ReturnSetInfo *rsinfo;
	Datum		v[4];
	bool		n[4] = {false, false, false, false};

	InitMaterializedSRF(fcinfo, 0);
	rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	lms_spi_connect();
	read_board(fcinfo, &b);
	/* a board never built (read-only transaction, or a concurrent first build) reads empty */
	lms_board_header_at(&b, read_snapshot(), &h);
	PopActiveSnapshot();
	v[0] = CStringGetTextDatum(b.name);
	v[1] = DateADTGetDatum(h.period_start);
	n[1] = h.period_null;
	v[2] = TimestampTzGetDatum(h.generated_at);
	n[2] = h.generated_null;
	v[3] = Int64GetDatum(h.total);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, n);
	SPI_finish();
	return (Datum) 0;
}
