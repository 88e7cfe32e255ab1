/*
 * leaderboard.c
 *	  Materialized leaderboards: global and per course, windows all / week / month. This file
 *	  says what a board is; leaderboard_refresh.c brings boards up to date and
 *	  leaderboard_read.c reads them. Measured costs are in docs/performance.md ("Leaderboards").
 *
 * Design
 * ------
 * A board (board, window) is materialized as
 *   - lms.board_entries: one row per visible learner with their points and reached_at in the
 *     board's window, and copies of their display_name and overall level (so a page joins
 *     nothing); the primary key (board, win, user_id) finds a learner, the index
 *     (board, win, points DESC, reached_at, user_id) is board order;
 *   - lms.board_counts: a histogram, learners per points value (the number of distinct scores is
 *     tiny next to the number of learners), each bucket with "above", the learners of the
 *     buckets with more points, recounted by every refresh that moved learners (one window
 *     over the board's buckets);
 *   - one lms.boards row: period_start, generated_at, total, and how far the board has applied
 *     its sources (ledger and visibility-change marks, and the refresh's snapshot).
 * Positions and ranks are not stored per learner, so a score change moves one entry and two
 * buckets (and rewrites the "above" of the buckets between), never the rest of the board.
 * Reads are index lookups whose cost does not grow with the board, except where they move
 * inside one tie group (below):
 *   - my rank = 1 + above of my bucket: two primary-key lookups (competition rank 1, 2, 2, 4);
 *     my position (around=me) adds those of my tie group before me in board order: the hour
 *     slots before mine summed (lms.board_slots), then my hour walked index-only, except that
 *     a one-instant group of SPLIT_MIN learners or more is summed by its user-id parts
 *     (lms.board_parts) and only my part walked;
 *   - a page at offset off: one index lookup on (board, win, above) finds the non-empty bucket
 *     holding position off + 1 (the last with above <= off), then an index range scan in board
 *     order from that score; a long skip within its tie group seeks its first entry the same
 *     way (slots, then the hour's parts); row ranks follow from the page being contiguous in
 *     board order; names and levels are on the entries;
 *   - total and generated_at are the lms.boards row;
 *   - so around=me and deep pages cost in proportion to one hour of the tie group they land in
 *     outside its split instants, plus about the square root of a split instant's size; ranks
 *     and top pages cost neither.
 * The page, my-rank and around=me position reads are direct index scans (direct.c: no SPI
 * statement, whose executor start-up cost more than the handful of index tuples read).
 *
 * Refresh (incremental, what the worker and reads run): the learners of the ledger rows past the
 * board's low mark (of the course for a course board), and of lms.board_user_changes past its
 * users' low mark (triggers log changes of visibility, status, display name and deletions on
 * lms.users, and level changes on lms.learner_scores), are re-read from the source by key
 * (learner_scores, course_scores, or the learner's ledger rows of the current week or month),
 * and their entries are inserted, updated or deleted and moved between buckets. The cost is
 * proportional to what changed, not to the board. Snapshot safety: a writer still running at a
 * refresh may commit later with a ledger id below that refresh's mark. So each refresh k+1 sets
 * its low mark to the previous refresh's mark M(k), or keeps the older low mark while a
 * transaction of refresh k's snapshot is still running: a writer that started after refresh k
 * took its ids after M(k), one running at k had them above low(k) (induction). Re-reading a
 * learner twice is harmless (the source is re-read, not added). A full build looks back 10,000
 * ledger ids (1,000 visibility changes) when writers were running during it, else 100 (10), as
 * a margin. A writer holds its transaction id before it takes a ledger id (scoring.c's award),
 * so a refresh's snapshot always lists a writer whose row it cannot see yet.
 * A board has changed (needs a refresh) when the ledger has a row past its mark (of the course),
 * a visibility change past its mark exists, or a transaction of its snapshot has committed.
 *
 * Full build (a missing board, a new week or month, lms.refresh_leaderboards(), recompute):
 * set-based, the source hash-joined with the stored entries and only differing rows written,
 * then the histogram recounted from the entries. A new week or month is a full build of that
 * board (it drops the previous period's entries), once per period.
 *
 * Who refreshes:
 *   - with shared_preload_libraries = 'lms', a background worker (worker.c) refreshes every
 *     changed board each lms.leaderboard_refresh_interval (default 2 s), so boards are at most
 *     a few seconds stale;
 *   - on a stock server (no preload), a read refreshes the board it reads on demand when the
 *     board changed and is older than lms.leaderboard_refresh_interval (a try-lock: a
 *     concurrent reader just reads the current board); each backend checks a board at most
 *     once per interval. Where the worker runs, a read only builds a missing board or one whose
 *     week/month has rolled over, and leaves the rest to the worker. Reads on a standby or in a
 *     read-only transaction never refresh.
 *   - lms.refresh_leaderboards() (and POST /admin/leaderboards/refresh) rebuilds every board now;
 *     lms.refresh_leaderboards(true) refreshes the changed ones incrementally.
 *   - one pass over every board at a time (the worker's, refresh_leaderboards, recompute): it
 *     holds one exclusive advisory lock for all boards; a read's refresh of its board shares that
 *     lock and holds its board's, both tried, never waited for.
 * generated_at says when the board was refreshed; a board whose source has not changed since is
 * exact however old generated_at is (the worker re-stamps it when it finds nothing changed).
 */
#include "postgres.h"


#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/datetime.h"

#include "leaderboard.h"
#include "lms.h"
#include "plans.h"

const char *const lms_window_names[WIN_COUNT] = {"all", "week", "month"};

/*
 * Whether lms.board_slots and lms.board_parts exist (1.1 made both): a 1.0 install runs on this
 * library until ALTER EXTENSION lms UPDATE, without them. Then refreshes keep neither and reads
 * count within tie groups.
 */
bool
lms_board_tie_tables_exist(void)
{
	return lms_schema_has("board_parts");
}


static SPIPlanPtr plan_course_exists = NULL;

void
lms_board_ref(BoardRef *b, int64 course_id, int win)
{
	memset(b, 0, sizeof(BoardRef));
	b->course_id = course_id;
	b->win = win;
	if (course_id == 0)
		strlcpy(b->name, "global", sizeof(b->name));
	else
		snprintf(b->name, sizeof(b->name), "course:" INT64_FORMAT, course_id);
}

void
lms_window_period(int win, TimestampTz now, DateADT *start, TimestampTz *from, TimestampTz *to)
{
	struct pg_tm tm;
	fsec_t		fsec;
	int			jd,
				jend;

	if (timestamp2tm(now, NULL, &tm, &fsec, NULL, NULL) != 0)
		ereport(ERROR, (errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE), errmsg("timestamp out of range")));
	jd = date2j(tm.tm_year, tm.tm_mon, tm.tm_mday);
	if (win == WIN_WEEK)
	{
		jd -= (j2day(jd) + 6) % 7;	/* back to Monday */
		jend = jd + 7;
	}
	else
	{
		jd = date2j(tm.tm_year, tm.tm_mon, 1);
		jend = tm.tm_mon == 12 ? date2j(tm.tm_year + 1, 1, 1) : date2j(tm.tm_year, tm.tm_mon + 1, 1);
	}
	*start = jd - POSTGRES_EPOCH_JDATE;
	*from = (TimestampTz) (jd - POSTGRES_EPOCH_JDATE) * USECS_PER_DAY;
	*to = (TimestampTz) (jend - POSTGRES_EPOCH_JDATE) * USECS_PER_DAY;
}

int
lms_parse_window(text *t)
{
	char	   *s = text_to_cstring(t);
	int			i;

	for (i = 0; i < WIN_COUNT; i++)
		if (strcmp(s, lms_window_names[i]) == 0)
			return i;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown leaderboard window \"%s\"", s),
			 errdetail("Windows are all, week and month.")));
	return 0;					/* keep compiler quiet */
}

void
lms_parse_board(text *t, int win, BoardRef *b)
{
	char	   *s = text_to_cstring(t);

	if (strcmp(s, "global") == 0)
	{
		lms_board_ref(b, 0, win);
		return;
	}
	if (strncmp(s, "course:", 7) == 0 && s[7] >= '1' && s[7] <= '9' && strspn(s + 7, "0123456789") == strlen(s + 7)
		&& strlen(s + 7) <= 18)
	{
		static const Oid types[1] = {INT8OID};
		Datum		values[1];
		int64		course_id = strtoll(s + 7, NULL, 10);

		values[0] = Int64GetDatum(course_id);
		lms_plan(&plan_course_exists, "SELECT 1 FROM lms.courses WHERE id = $1", 1, types);
		lms_exec_expect(plan_course_exists, values, NULL, true, 1, SPI_OK_SELECT, "look the course up");
		if (SPI_processed == 1)
		{
			lms_board_ref(b, course_id, win);
			return;
		}
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("unknown leaderboard \"%s\"", s),
				 errdetail("Course " INT64_FORMAT " does not exist.", course_id)));
	}
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown leaderboard \"%s\"", s),
			 errdetail("Boards are global and course:<course id>.")));
}
