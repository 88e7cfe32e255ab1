/*
 * leaderboard.c
 *	  Materialized leaderboards: global and per course, windows all / week / month.
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
 *     my position (around=me) adds those of my tie group before me in board order, counted;
 *   - a page at offset off: one index lookup on (board, win, above) finds the non-empty bucket
 *     holding position off + 1 (the last with above <= off), then an index range scan in board
 *     order from that score skips within its tie group (a long skip seeks its first entry by an
 *     index-only scan, tie_group_seek); row ranks follow from the page
 *     being contiguous in board order; names and levels are on the entries;
 *   - total and generated_at are the lms.boards row;
 *   - so around=me and deep pages still cost in proportion to the tie group they land in,
 *     through index-only scans: on the 1,000,000-learner week board (111 distinct scores,
 *     groups of up to 43,968 learners) around=me for the last learner of the largest group
 *     took 13 ms in psql (the position's count 7 ms, the page's seek 6 ms), 40 ms when the page
 *     walked the group's heap tuples (docs/performance.md); ranks and top pages are unaffected.
 * The page and my-rank reads are direct index scans (no SPI statement: its executor start-up
 * cost more than the handful of index tuples read); around=me's position is one SPI statement.
 * Measured (bench/leaderboard.sh, 2 cores, shared and noisy): a top-50 page plus my rank in the
 * server, 10,000 / 1,000,000 learners: 0.28 / 0.35 ms when rank and page summed the histogram
 * and joined users and scores per row; 0.10 / 0.14 ms with "above" and the copies through SPI;
 * 0.035-0.054 / 0.054-0.070 ms by direct index scans.
 *
 * Refresh (incremental, what the worker and reads run): the learners of the ledger rows past the
 * board's low mark (of the course for a course board), and of lms.board_user_changes past its
 * users' low mark (triggers log changes of visibility, status, display name and deletions on
 * lms.users, and level changes on lms.learner_scores), are re-read from
 * the source by key (learner_scores, course_scores, or the learner's ledger rows of the current
 * week or month), and their entries are inserted, updated or deleted and moved between buckets.
 * The cost is proportional to what changed, not to the board. Snapshot safety: a writer still
 * running at a refresh may commit later with a ledger id below that refresh's mark. So each
 * refresh k+1 sets its low mark to the previous refresh's mark M(k), or keeps the older low mark
 * while a transaction of refresh k's snapshot is still running: a writer that started after
 * refresh k took its ids after M(k), one running at k had them above low(k) (induction). Re-reading
 * a learner twice is harmless (the source is re-read, not added). A full build looks back 10,000
 * ledger ids (1,000 visibility changes) when writers were running during it, else 100 (10), as a
 * margin. A writer holds its transaction id before it takes a ledger id (scoring.c's award), so
 * a refresh's snapshot always lists a writer whose row it cannot see yet.
 * A board has changed (needs a refresh) when the ledger has a row past its mark (of the course),
 * a visibility change past its mark exists, or a transaction of its snapshot has committed.
 *
 * Full build (a missing board, a new week or month, lms.refresh_leaderboards(), recompute):
 * set-based, the source hash-joined with the stored entries and only differing rows written,
 * then the histogram recounted from the entries.
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
 *   - cost (bench/leaderboard.sh, 1,000,000 learners, 63 boards, 2 cores): the first full build
 *     of every board takes about a minute (3.7 M entries written), a forced rebuild of built
 *     boards 11-14 s; the incremental refresh of every board after 1,000 awards 0.4-0.5 s, after
 *     100 visibility changes 0.3 s, with nothing changed 0.05 s, so the worker keeps boards
 *     within a few seconds. (Those were measured before entries carried names and levels and
 *     buckets their "above"; since, on the same shared machine: first build 86-173 s, forced
 *     rebuild 42-60 s, incremental after 1,000 awards 0.6-1.3 s, after 100 visibility changes
 *     0.6-0.7 s, nothing changed 0.04-0.07 s. At 100,000 learners the forced rebuild is
 *     unchanged (2.0-2.2 s before, 2.2-2.6 s after) and the first build 5.6 s -> 8.8 s. The
 *     generic plan intersected the ledger's time index for every course board, and JIT
 *     compiled each build: with custom plans and no JIT a forced rebuild of 1,803 boards at
 *     300,000 learners went from 347 s to 97 s (not re-measured on the 63-board bench). With
 *     2,000 courses (6,003 boards) and 1,000,000 learners the first build of every board
 *     inside recompute took 702 s for 10.5 M entries, make bench-data SCALE=large.)
 *     A new week or month is a full build of that board (it drops the previous period's
 *     entries): 4.5 s for the 42 week and month boards at once (1.2 M entries dropped), once
 *     per period.
 *   - lms.refresh_leaderboards() (and POST /admin/leaderboards/refresh) rebuilds every board now;
 *     lms.refresh_leaderboards(true) refreshes the changed ones incrementally.
 *   - one pass over every board at a time (the worker's, refresh_leaderboards, recompute): it
 *     holds one exclusive advisory lock for all boards; a read's refresh of its board shares that
 *     lock and holds its board's, both tried, never waited for.
 * generated_at says when the board was refreshed; a board whose source has not changed since is
 * exact however old generated_at is (the worker re-stamps it when it finds nothing changed).
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/namespace.h"
#include "commands/dbcommands.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "lms.h"
#include "leaderboard.h"
#include "relcache.h"

int			lms_leaderboard_refresh_interval_ms = 2000;
char	   *lms_leaderboard_database = NULL;
static bool worker_registered = false;

enum
{
	WIN_ALL = 0,
	WIN_WEEK = 1,
	WIN_MONTH = 2,
	WIN_COUNT = 3
};
static const char *const window_names[WIN_COUNT] = {"all", "week", "month"};

typedef struct BoardRef
{
	char		name[48];		/* "global" or "course:<id>" */
	int64		course_id;		/* 0 for global */
	int			win;
} BoardRef;

/* Plans kept for the backend's lifetime: [course?][window kind: all / period]. */
static SPIPlanPtr plan_full[2][2] = {{NULL, NULL}, {NULL, NULL}};
static SPIPlanPtr plan_incr[2][2] = {{NULL, NULL}, {NULL, NULL}};
static SPIPlanPtr plan_hist = NULL;
static SPIPlanPtr plan_above = NULL;
static SPIPlanPtr plan_changed[2] = {NULL, NULL};
static SPIPlanPtr plan_course_exists = NULL;
static SPIPlanPtr plan_me = NULL;
static SPIPlanPtr plan_seek = NULL;
static SPIPlanPtr plan_meta = NULL;
static SPIPlanPtr plan_courses = NULL;
static SPIPlanPtr plan_lock_all = NULL;
static SPIPlanPtr plan_trylock_all = NULL;
static SPIPlanPtr plan_trylock = NULL;

/*
 * Advisory lock keys (first key 'LMSA' / 'LMSB'). A pass over every board takes one lock, not
 * one per board: a lock per board held to the end of the pass's transaction filled the shared
 * lock table (max_locks_per_transaction x max_connections, 6,400 entries by default) at about
 * 2,000 courses (three windows each).
 */
#define LOCK_ALL_BOARDS 1280131905	/* every board: exclusive for a pass, shared for one board */
#define LOCK_ONE_BOARD 1280131906	/* one board, keyed by hashtext of "board:window" */
static SPIPlanPtr plan_touch = NULL;
static SPIPlanPtr plan_prune = NULL;

static SPIPlanPtr
keep_plan_opts(SPIPlanPtr *slot, const char *sql, int nargs, Oid *argtypes, int opts)
{
	if (*slot == NULL)
	{
		SPIPlanPtr	p = SPI_prepare_cursor(sql, nargs, argtypes, opts);

		if (p == NULL)
			elog(ERROR, "SPI_prepare failed for \"%s\": %s", sql, SPI_result_code_string(SPI_result));
		SPI_keepplan(p);
		*slot = p;
	}
	return *slot;
}

static SPIPlanPtr
keep_plan(SPIPlanPtr *slot, const char *sql, int nargs, Oid *argtypes)
{
	return keep_plan_opts(slot, sql, nargs, argtypes, 0);
}

/*
 * Reads: always the generic plan (index scans whatever the parameters); a custom plan would be
 * planned again on every call, which costs more than the read.
 */
#define keep_read_plan(slot, sql, nargs, argtypes) \
	keep_plan_opts(slot, sql, nargs, argtypes, CURSOR_OPT_GENERIC_PLAN)

/*
 * Settings, and the worker when the library is preloaded. Called from lms.c's _PG_init.
 */
void
lms_gamification_init(void)
{
	DefineCustomIntVariable("lms.leaderboard_refresh_interval",
							"How often changed leaderboards are refreshed, and the age after which a read refreshes a changed board.",
							"0 makes every read of a changed board refresh it.",
							&lms_leaderboard_refresh_interval_ms, 2000, 0, 3600 * 1000,
							PGC_SUSET, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomStringVariable("lms.leaderboard_database",
							   "Database in which the leaderboard worker refreshes the boards.",
							   "Used only when lms is in shared_preload_libraries.",
							   &lms_leaderboard_database, "postgres",
							   /* a postmaster setting can only be defined while preloading */
							   process_shared_preload_libraries_in_progress ? PGC_POSTMASTER : PGC_SUSET,
							   0, NULL, NULL, NULL);
	if (process_shared_preload_libraries_in_progress && !IsBinaryUpgrade)
	{
		lms_worker_register();
		worker_registered = true;	/* inherited by every backend */
	}
}

/* The current period of a window: [from, to) as timestamps and its first day. */
static void
window_period(int win, TimestampTz now, DateADT *start, TimestampTz *from, TimestampTz *to)
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

static int
parse_window(text *t)
{
	char	   *s = text_to_cstring(t);
	int			i;

	for (i = 0; i < WIN_COUNT; i++)
		if (strcmp(s, window_names[i]) == 0)
			return i;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown leaderboard window \"%s\"", s),
			 errdetail("Windows are all, week and month.")));
	return 0;					/* keep compiler quiet */
}

/*
 * "global" or "course:<id>" of an existing course; the caller is connected to SPI.
 */
static void
parse_board(text *t, int win, BoardRef *b)
{
	char	   *s = text_to_cstring(t);

	memset(b, 0, sizeof(BoardRef));
	b->win = win;
	if (strcmp(s, "global") == 0)
	{
		strlcpy(b->name, "global", sizeof(b->name));
		return;
	}
	if (strncmp(s, "course:", 7) == 0 && s[7] >= '1' && s[7] <= '9' && strspn(s + 7, "0123456789") == strlen(s + 7)
		&& strlen(s + 7) <= 18)
	{
		Oid			types[1] = {INT8OID};
		Datum		values[1];

		b->course_id = strtoll(s + 7, NULL, 10);
		values[0] = Int64GetDatum(b->course_id);
		keep_plan(&plan_course_exists, "SELECT 1 FROM lms.courses WHERE id = $1", 1, types);
		if (SPI_execute_plan(plan_course_exists, values, NULL, true, 1) != SPI_OK_SELECT)
			elog(ERROR, "could not look the course up");
		if (SPI_processed == 1)
		{
			snprintf(b->name, sizeof(b->name), "course:" INT64_FORMAT, b->course_id);
			return;
		}
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("unknown leaderboard \"%s\"", s),
				 errdetail("Course " INT64_FORMAT " does not exist.", b->course_id)));
	}
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown leaderboard \"%s\"", s),
			 errdetail("Boards are global and course:<course id>.")));
}

/* Where a board's learners come from, set-based (full build) or for one learner (refresh). */
static const char *const full_sources[2][2] = {
	{
		"SELECT s.user_id, s.total_points AS points, s.reached_at FROM lms.learner_scores s"
		" WHERE s.reached_at IS NOT NULL",
		"SELECT l.user_id, sum(l.points)::bigint AS points, max(l.created_at) AS reached_at"
		" FROM lms.points_ledger l WHERE l.created_at >= $4 AND l.created_at < $5 GROUP BY l.user_id"
	},
	{
		"SELECT c.user_id, c.points, c.reached_at FROM lms.course_scores c WHERE c.course_id = $3",
		"SELECT l.user_id, sum(l.points)::bigint AS points, max(l.created_at) AS reached_at"
		" FROM lms.points_ledger l WHERE l.course_id = $3 AND l.created_at >= $4 AND l.created_at < $5"
		" GROUP BY l.user_id"
	}
};
static const char *const one_sources[2][2] = {
	{
		"SELECT s.total_points AS points, s.reached_at FROM lms.learner_scores s"
		" WHERE s.user_id = c.user_id AND s.reached_at IS NOT NULL",
		"SELECT sum(l.points)::bigint AS points, max(l.created_at) AS reached_at FROM lms.points_ledger l"
		" WHERE l.user_id = c.user_id AND l.created_at >= $4 AND l.created_at < $5 HAVING count(*) > 0"
	},
	{
		"SELECT s.points, s.reached_at FROM lms.course_scores s WHERE s.course_id = $3 AND s.user_id = c.user_id",
		"SELECT sum(l.points)::bigint AS points, max(l.created_at) AS reached_at FROM lms.points_ledger l"
		" WHERE l.user_id = c.user_id AND l.course_id = $3 AND l.created_at >= $4 AND l.created_at < $5"
		" HAVING count(*) > 0"
	}
};

/* Applying a diff (user_id, points, reached_at, old_points, existed, gone) to the entries. */
#define APPLY_DIFF \
	"del AS (DELETE FROM lms.board_entries e USING diff d" \
	"         WHERE e.board = $1 AND e.win = $2 AND e.user_id = d.user_id AND d.gone RETURNING 1), " \
	"upd AS (UPDATE lms.board_entries e SET points = d.points, reached_at = d.reached_at," \
	"                 display_name = d.display_name, level = d.level" \
	"          FROM diff d WHERE e.board = $1 AND e.win = $2 AND e.user_id = d.user_id" \
	"           AND d.existed AND NOT d.gone RETURNING 1), " \
	"ins AS (INSERT INTO lms.board_entries (board, win, user_id, points, reached_at, display_name, level)" \
	"        SELECT $1, $2, d.user_id, d.points, d.reached_at, d.display_name, d.level" \
	"          FROM diff d WHERE NOT d.existed RETURNING 1), " \
	"marks AS (SELECT coalesce((SELECT max(l.id) FROM lms.points_ledger l), 0) AS lm," \
	"                 coalesce((SELECT max(c.id) FROM lms.board_user_changes c), 0) AS um), "
#define DIFF_COUNT \
	"SELECT (SELECT count(*) FROM del) + (SELECT count(*) FROM upd) + (SELECT count(*) FROM ins)" \
	"       + 0 * (SELECT count(*) FROM meta)"
#define UNLISTED(id) \
	"NOT EXISTS (SELECT FROM lms.users u WHERE u.id = " id \
	" AND (NOT u.leaderboard_visible OR u.status <> 'active'))"

/*
 * Names and levels of the rows a full build writes: key lookups on a course board (a few of
 * the learners), hash joins on a global board (its first build names nearly every learner).
 */
#define NAMES_BY_KEY \
	"SELECT d.user_id, d.points, d.reached_at, d.existed, d.gone," \
	"       (SELECT u.display_name FROM lms.users u WHERE u.id = d.user_id AND NOT d.gone) AS display_name," \
	"       coalesce((SELECT sc.level FROM lms.learner_scores sc" \
	"                  WHERE sc.user_id = d.user_id AND NOT d.gone), 1) AS level" \
	"  FROM cmp d"
#define NAMES_BY_JOIN \
	"SELECT d.user_id, d.points, d.reached_at, d.existed, d.gone, u.display_name," \
	"       coalesce(sc.level, 1) AS level" \
	"  FROM cmp d LEFT JOIN lms.users u ON u.id = d.user_id AND NOT d.gone" \
	"  LEFT JOIN lms.learner_scores sc ON sc.user_id = d.user_id AND NOT d.gone"

/*
 * The full build of one kind of board: rank nothing, just compare the source with the stored
 * entries (hash FULL JOIN) and write the rows that differ; names and levels are looked up by
 * key for those rows only, and rewritten for the learners with a change logged in
 * lms.board_user_changes the board has not applied (a rename, a level-up: the triggers log
 * every change of them, so the other entries' copies are current); the histogram is recounted after it
 * (plan_hist). The low marks start a little behind the ledger's end (a writer still running may
 * hold a lower id): the first refresh after it re-reads those learners.
 */
static SPIPlanPtr
full_plan(bool course, bool period)
{
	SPIPlanPtr *slot = &plan_full[course][period];

	if (*slot == NULL)
	{
		Oid			types[7] = {TEXTOID, TEXTOID, INT8OID, TIMESTAMPTZOID, TIMESTAMPTZOID, TIMESTAMPTZOID, DATEOID};
		char	   *sql;

		sql = psprintf(
					   "WITH src AS (%s), "
					   "vis AS MATERIALIZED (SELECT r.user_id, r.points, r.reached_at FROM src r WHERE " UNLISTED("r.user_id") "), "
					   "pending AS (SELECT c.user_id FROM lms.board_user_changes c"
					   "             WHERE c.id > coalesce((SELECT b.users_low FROM lms.boards b"
					   "                                     WHERE b.board = $1 AND b.win = $2), 0)), "
					   "cmp AS MATERIALIZED ("
					   "  SELECT coalesce(r.user_id, c.user_id) AS user_id, r.points, r.reached_at,"
					   "         c.user_id IS NOT NULL AS existed, r.user_id IS NULL AS gone"
					   "    FROM vis r FULL JOIN (SELECT e.user_id, e.points, e.reached_at"
					   "                            FROM lms.board_entries e WHERE e.board = $1 AND e.win = $2) c"
					   "      ON c.user_id = r.user_id"
					   "   WHERE r.user_id IS NULL OR c.user_id IS NULL"
					   "      OR (r.points, r.reached_at) IS DISTINCT FROM (c.points, c.reached_at)"
					   "      OR c.user_id IN (SELECT p.user_id FROM pending p)), "
					   "diff AS MATERIALIZED (%s), "
					   APPLY_DIFF
					   "meta AS (INSERT INTO lms.boards AS b (board, win, period_start, generated_at, total,"
					   "                 ledger_mark, ledger_low, users_mark, users_low, snap)"
					   "         SELECT $1, $2, $7, $6, (SELECT count(*) FROM vis),"
					   "                m.lm, greatest(0, m.lm - CASE WHEN w.running THEN 10000 ELSE 100 END),"
					   "                m.um, greatest(0, m.um - CASE WHEN w.running THEN 1000 ELSE 10 END),"
					   "                pg_catalog.pg_current_snapshot()"
					   "           FROM marks m, (SELECT EXISTS (SELECT FROM pg_catalog.pg_snapshot_xip("
					   "                                          pg_catalog.pg_current_snapshot())) AS running) w"
					   "         ON CONFLICT (board, win) DO UPDATE SET period_start = EXCLUDED.period_start,"
					   "           generated_at = EXCLUDED.generated_at, total = EXCLUDED.total,"
					   "           ledger_mark = EXCLUDED.ledger_mark, ledger_low = EXCLUDED.ledger_low,"
					   "           users_mark = EXCLUDED.users_mark, users_low = EXCLUDED.users_low,"
					   "           snap = EXCLUDED.snap RETURNING 1) "
					   DIFF_COUNT,
					   full_sources[course][period],
					   course ? NAMES_BY_KEY : NAMES_BY_JOIN);
		/*
		 * custom plans: a generic plan cannot see how much of the ledger a week or month
		 * covers and intersects the time index with the course index, reading every ledger
		 * row of the period for each course board (0.4 s a board at 300,000 learners)
		 */
		keep_plan_opts(slot, sql, 7, types, CURSOR_OPT_CUSTOM_PLAN);
	}
	return *slot;
}

/*
 * The refresh of one kind of board: the learners of the ledger rows past the board's low mark
 * and of the visibility changes past its users' low mark, each re-read from the source by key;
 * their entries are written and moved between histogram buckets. The new low mark is the
 * previous refresh's end, or lower while a writer running at the previous refresh still runs
 * (see the design note), so a row committed late with a lower id is never skipped. Custom plans:
 * a generic plan would guess a third of the ledger past the mark.
 */
static SPIPlanPtr
incr_plan(bool course, bool period)
{
	SPIPlanPtr *slot = &plan_incr[course][period];

	if (*slot == NULL)
	{
		char	   *sql;

		sql = psprintf(
					   "WITH cur AS (SELECT $8::bigint AS ledger_low, $9::bigint AS users_low,"
					   "                   EXISTS (SELECT FROM pg_catalog.pg_snapshot_xip(pg_catalog.pg_current_snapshot()) x"
					   "                            WHERE x IN (SELECT pg_catalog.pg_snapshot_xip(b.snap))) AS still_running"
					   "              FROM lms.boards b WHERE b.board = $1 AND b.win = $2), "
					   "chg AS (SELECT l.user_id FROM lms.points_ledger l WHERE l.id > $8 %s"
					   "        UNION SELECT c.user_id FROM lms.board_user_changes c WHERE c.id > $9), "
					   "vis AS (SELECT c.user_id, n.points, n.reached_at, u.display_name, coalesce(sc.level, 1) AS level"
					   "          FROM chg c CROSS JOIN LATERAL (%s) n JOIN lms.users u ON u.id = c.user_id"
					   "          LEFT JOIN lms.learner_scores sc ON sc.user_id = c.user_id"
					   "         WHERE " UNLISTED("c.user_id") "), "
					   "old AS (SELECT e.user_id, e.points, e.reached_at, e.display_name, e.level"
					   "          FROM chg c JOIN lms.board_entries e"
					   "          ON e.board = $1 AND e.win = $2 AND e.user_id = c.user_id), "
					   "diff AS MATERIALIZED ("
					   "  SELECT coalesce(r.user_id, o.user_id) AS user_id, r.points, r.reached_at, r.display_name, r.level,"
					   "         o.points AS old_points, o.user_id IS NOT NULL AS existed, r.user_id IS NULL AS gone"
					   "    FROM vis r FULL JOIN old o ON o.user_id = r.user_id"
					   "   WHERE r.user_id IS NULL OR o.user_id IS NULL"
					   "      OR (r.points, r.reached_at, r.display_name, r.level)"
					   "         IS DISTINCT FROM (o.points, o.reached_at, o.display_name, o.level)), "
					   APPLY_DIFF
					   "hist AS (INSERT INTO lms.board_counts AS h (board, win, points, learners)"
					   "         SELECT $1, $2, x.p, sum(x.d) FROM"
					   "           (SELECT d.points AS p, 1 AS d FROM diff d WHERE NOT d.gone"
					   "            UNION ALL SELECT d.old_points, -1 FROM diff d WHERE d.existed) x"
					   "          GROUP BY x.p HAVING sum(x.d) <> 0"
					   "         ON CONFLICT (board, win, points) DO UPDATE SET learners = h.learners + EXCLUDED.learners"
					   "         RETURNING 1), "
					   "meta AS (UPDATE lms.boards b SET generated_at = $6,"
					   "           total = b.total + (SELECT count(*) FILTER (WHERE NOT d.existed) - count(*) FILTER (WHERE d.gone)"
					   "                                FROM diff d) + 0 * (SELECT count(*) FROM hist),"
					   "           ledger_low = CASE WHEN still_running THEN least(b.ledger_low, b.ledger_mark) ELSE b.ledger_mark END,"
					   "           users_low = CASE WHEN still_running THEN least(b.users_low, b.users_mark) ELSE b.users_mark END,"
					   "           ledger_mark = m.lm, users_mark = m.um, snap = pg_catalog.pg_current_snapshot()"
					   "          FROM marks m, cur"
					   "         WHERE b.board = $1 AND b.win = $2 RETURNING 1) "
					   DIFF_COUNT,
					   course ? "AND l.course_id = $3" : "",
					   one_sources[course][period]);
		{
			/* custom plans: the estimates must see how few rows lie past the marks */
			Oid			itypes[9] = {TEXTOID, TEXTOID, INT8OID, TIMESTAMPTZOID, TIMESTAMPTZOID, TIMESTAMPTZOID,
			DATEOID, INT8OID, INT8OID};
			SPIPlanPtr	p = SPI_prepare_cursor(sql, 9, itypes, CURSOR_OPT_CUSTOM_PLAN);

			if (p == NULL)
				elog(ERROR, "SPI_prepare failed for the leaderboard refresh: %s", SPI_result_code_string(SPI_result));
			SPI_keepplan(p);
			*slot = p;
		}
	}
	return *slot;
}

/*
 * Each bucket's "above" (the learners of the buckets with more points), recomputed for one board
 * after a refresh moved learners between its buckets: one window over its few buckets (distinct
 * scores), rewriting only the buckets whose count changed. Then "my rank" is above + 1 of my
 * bucket, and a page finds its first score by one index lookup on (board, win, above).
 */
static void
board_recount_above(Datum *values)
{
	Oid			types[2] = {TEXTOID, TEXTOID};
	int			save_nestlevel;

	keep_plan(&plan_above,
			  "UPDATE lms.board_counts h SET above = s.above"
			  "  FROM (SELECT c.points, (sum(c.learners) OVER (ORDER BY c.points DESC) - c.learners)::bigint AS above"
			  "          FROM lms.board_counts c WHERE c.board = $1 AND c.win = $2) s"
			  " WHERE h.board = $1 AND h.win = $2 AND h.points = s.points AND h.above <> s.above",
			  2, types);
	/*
	 * a nested loop would run the window once per bucket (a new board's buckets have no
	 * statistics yet): a hash or merge join keeps it linear (setting restored below)
	 */
	save_nestlevel = NewGUCNestLevel();
	(void) set_config_option("enable_nestloop", "off", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	if (SPI_execute_plan(plan_above, values, NULL, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "could not count the leaderboard");
	AtEOXact_GUC(true, save_nestlevel);
}

/*
 * Backend-local memory of when this backend last found a board up to date (wall clock), so
 * that repeated reads within lms.leaderboard_refresh_interval skip the freshness check: a
 * board is then at most one interval stale, as documented. A new week or month, or an
 * interval of 0, always checks.
 */
#define CHECK_CACHE_SIZE 64
typedef struct CheckedBoard
{
	char		name[48];
	int			win;
	DateADT		period_start;
	TimestampTz checked_at;
} CheckedBoard;
static CheckedBoard checked_boards[CHECK_CACHE_SIZE];

static CheckedBoard *
checked_slot(BoardRef *b)
{
	uint32		h = (uint32) b->win * 31 + (uint32) b->course_id * 2654435761u;

	return &checked_boards[h % CHECK_CACHE_SIZE];
}

static bool
recently_checked(BoardRef *b, DateADT pstart, int max_age_ms)
{
	CheckedBoard *c = checked_slot(b);

	if (max_age_ms == 0 || c->checked_at == 0 || c->win != b->win || strcmp(c->name, b->name) != 0 ||
		c->period_start != pstart)
		return false;
	if (max_age_ms < 0)
		return true;			/* the worker keeps it fresh */
	return GetCurrentTimestamp() - c->checked_at < (int64) max_age_ms * 1000;
}

static void
mark_checked(BoardRef *b, DateADT pstart)
{
	CheckedBoard *c = checked_slot(b);

	strlcpy(c->name, b->name, sizeof(c->name));
	c->win = b->win;
	c->period_start = pstart;
	c->checked_at = GetCurrentTimestamp();
}

/*
 * Bring one board up to date. force: rebuild now; otherwise only when it is missing, its period
 * rolled over, or it changed and is older than max_age_ms. in_pass: the caller holds the
 * all-boards lock (lms_refresh_boards); otherwise this never waits (another session refreshing
 * the board is as good). Returns true when it refreshed. The caller is connected to SPI.
 */
static bool
board_refresh(BoardRef *b, bool force, bool in_pass, int max_age_ms)
{
	TimestampTz now = lms_now();
	DateADT		pstart = 0;
	TimestampTz from = 0,
				to = 0;
	bool		period = (b->win != WIN_ALL);
	bool		course = (b->course_id != 0);
	Datum		values[9];
	char		nulls[9] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};
	Oid			ltypes[1] = {TEXTOID};
	Datum		lvalues[1];
	char		lockname[64];
	bool		isnull;
	bool		incremental = false;
	int			save_nestlevel;

	if (RecoveryInProgress() || XactReadOnly)
		return false;
	if (period)
		window_period(b->win, now, &pstart, &from, &to);

	values[0] = CStringGetTextDatum(b->name);
	values[1] = CStringGetTextDatum(window_names[b->win]);
	values[2] = Int64GetDatum(b->course_id);
	nulls[2] = course ? ' ' : 'n';
	values[3] = TimestampTzGetDatum(from);
	values[4] = TimestampTzGetDatum(to);
	nulls[3] = nulls[4] = period ? ' ' : 'n';
	values[5] = TimestampTzGetDatum(now);
	values[6] = DateADTGetDatum(pstart);
	nulls[6] = period ? ' ' : 'n';

	if (!force && recently_checked(b, pstart, max_age_ms))
		return false;
	if (!force)
	{
		Oid			ctypes[3] = {TEXTOID, TEXTOID, INT8OID};
		Datum		cvalues[3] = {values[0], values[1], values[2]};
		char		cnulls[3] = {' ', ' ', nulls[2]};
		HeapTuple	t;
		TupleDesc	d;
		bool		pnull;
		DateADT		stored_start;
		TimestampTz generated;
		bool		changed;

		keep_read_plan(&plan_changed[course],
				  course ?
				  "SELECT b.period_start, b.generated_at,"
				  " (coalesce((SELECT max(l.id) FROM lms.points_ledger l WHERE l.course_id = $3), 0) > b.ledger_mark"
				  "  OR coalesce((SELECT max(c.id) FROM lms.board_user_changes c), 0) > b.users_mark"
				  "  OR EXISTS (SELECT FROM pg_catalog.pg_snapshot_xip(b.snap) x"
				  "             WHERE pg_catalog.pg_xact_status(x) = 'committed')), b.ledger_low, b.users_low"
				  " FROM lms.boards b WHERE b.board = $1 AND b.win = $2" :
				  "SELECT b.period_start, b.generated_at,"
				  " (coalesce((SELECT max(l.id) FROM lms.points_ledger l), 0) > b.ledger_mark"
				  "  OR coalesce((SELECT max(c.id) FROM lms.board_user_changes c), 0) > b.users_mark"
				  "  OR EXISTS (SELECT FROM pg_catalog.pg_snapshot_xip(b.snap) x"
				  "             WHERE pg_catalog.pg_xact_status(x) = 'committed')), b.ledger_low, b.users_low"
				  " FROM lms.boards b WHERE b.board = $1 AND b.win = $2 AND $3 IS NULL",
				  3, ctypes);
		if (SPI_execute_plan(plan_changed[course], cvalues, cnulls, false, 1) != SPI_OK_SELECT)
			elog(ERROR, "could not check the leaderboard");
		if (SPI_processed == 1)
		{
			t = SPI_tuptable->vals[0];
			d = SPI_tuptable->tupdesc;
			stored_start = DatumGetDateADT(SPI_getbinval(t, d, 1, &pnull));
			generated = DatumGetTimestampTz(SPI_getbinval(t, d, 2, &isnull));
			changed = DatumGetBool(SPI_getbinval(t, d, 3, &isnull));
			values[7] = SPI_getbinval(t, d, 4, &isnull);
			values[8] = SPI_getbinval(t, d, 5, &isnull);
			if (pnull == !period && (!period || stored_start == pstart))
			{
				incremental = true;
				/* same period: refresh only a changed board old enough */
				if (!changed || max_age_ms < 0)
				{
					mark_checked(b, pstart);
					return false;
				}
				if (now - generated < (int64) max_age_ms * 1000 && now >= generated)
					return false;
			}
		}
	}

	/*
	 * one refresher per board at a time: a pass over every board holds the all-boards lock
	 * (lms_refresh_boards); a single board's refresh shares it and holds its board's, and
	 * gives way (reads the board as it is) when either is taken
	 */
	if (!in_pass)
	{
		keep_plan(&plan_trylock_all,
				  "SELECT pg_catalog.pg_try_advisory_xact_lock_shared(" CppAsString2(LOCK_ALL_BOARDS) ", 0)", 0, NULL);
		if (SPI_execute_plan(plan_trylock_all, NULL, NULL, false, 1) != SPI_OK_SELECT)
			elog(ERROR, "could not lock the leaderboards");
		if (!DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)))
			return false;
		snprintf(lockname, sizeof(lockname), "%s:%s", b->name, window_names[b->win]);
		lvalues[0] = CStringGetTextDatum(lockname);
		keep_plan(&plan_trylock,
				  "SELECT pg_catalog.pg_try_advisory_xact_lock(" CppAsString2(LOCK_ONE_BOARD) ", pg_catalog.hashtext($1))",
				  1, ltypes);
		if (SPI_execute_plan(plan_trylock, lvalues, NULL, false, 1) != SPI_OK_SELECT)
			elog(ERROR, "could not lock the leaderboard");
		if (!DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)))
			return false;
	}

	if (incremental)
	{
		/* only the learners whose score or visibility changed */
		if (SPI_execute_plan(incr_plan(course, period), values, nulls, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not refresh the leaderboard");
		if (SPI_processed == 1)
		{
			bool		cnull;
			int64		ndiff = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &cnull));

			if (cnull || ndiff > 0)
				board_recount_above(values);
		}
	}
	else
	{
		Oid			htypes[2] = {TEXTOID, TEXTOID};

		/*
		 * a full build hashes the whole source: in memory; and without JIT, whose compilation
		 * (about 0.1 s) cost more than a course board's build (both restored below)
		 */
		save_nestlevel = NewGUCNestLevel();
		(void) set_config_option("work_mem", "262144", PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, 0, false);
		(void) set_config_option("jit", "off", PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, 0, false);
		if (SPI_execute_plan(full_plan(course, period), values, nulls, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not refresh the leaderboard");
		keep_plan(&plan_hist,
				  "WITH agg AS (SELECT e.points, count(*) AS n FROM lms.board_entries e"
				  "              WHERE e.board = $1 AND e.win = $2 GROUP BY e.points), "
				  "gone AS (DELETE FROM lms.board_counts h WHERE h.board = $1 AND h.win = $2"
				  "           AND NOT EXISTS (SELECT FROM agg a WHERE a.points = h.points) RETURNING 1) "
				  "INSERT INTO lms.board_counts AS h (board, win, points, learners)"
				  " SELECT $1, $2, a.points, a.n FROM agg a"
				  " ON CONFLICT (board, win, points) DO UPDATE SET learners = EXCLUDED.learners"
				  "  WHERE h.learners <> EXCLUDED.learners",
				  2, htypes);
		if (SPI_execute_plan(plan_hist, values, NULL, false, 0) != SPI_OK_INSERT)
			elog(ERROR, "could not count the leaderboard");
		board_recount_above(values);
		AtEOXact_GUC(true, save_nestlevel);
	}
	mark_checked(b, pstart);
	return true;
}

/*
 * Refresh every board (global and each course, every window): all of them (force) or the
 * changed ones. Calls emit(name) for each board refreshed. The caller is connected to SPI.
 */
void
lms_refresh_boards(bool force, void (*emit) (const char *name, void *arg), void *arg)
{
	int64	   *courses;
	uint64		ncourses,
				i;
	int			w;
	BoardRef	b;
	char		name[64];

	/* one pass at a time, after the single-board refreshes running now */
	keep_plan(&plan_lock_all, "SELECT pg_catalog.pg_advisory_xact_lock(" CppAsString2(LOCK_ALL_BOARDS) ", 0)", 0, NULL);
	if (SPI_execute_plan(plan_lock_all, NULL, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not lock the leaderboards");

	keep_plan(&plan_courses, "SELECT id FROM lms.courses ORDER BY id", 0, NULL);
	if (SPI_execute_plan(plan_courses, NULL, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not list the courses");
	ncourses = SPI_processed;
	courses = palloc(sizeof(int64) * (ncourses + 1));
	for (i = 0; i < ncourses; i++)
	{
		bool		isnull;

		courses[i] = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
	}

	for (i = 0; i <= ncourses; i++)
	{
		memset(&b, 0, sizeof(b));
		if (i == 0)
			strlcpy(b.name, "global", sizeof(b.name));
		else
		{
			b.course_id = courses[i - 1];
			snprintf(b.name, sizeof(b.name), "course:" INT64_FORMAT, b.course_id);
		}
		for (w = 0; w < WIN_COUNT; w++)
		{
			b.win = w;
			if (board_refresh(&b, force, true, 0))
			{
				if (emit)
				{
					snprintf(name, sizeof(name), "%s:%s", b.name, window_names[w]);
					emit(name, arg);
				}
			}
		}
	}
	if (!force)
	{
		/* the boards that did not change are exact as of now */
		Oid			types[1] = {TIMESTAMPTZOID};
		Datum		values[1] = {TimestampTzGetDatum(lms_now())};

		keep_plan(&plan_touch, "UPDATE lms.boards SET generated_at = $1 WHERE generated_at < $1", 1, types);
		if (SPI_execute_plan(plan_touch, values, NULL, false, 0) != SPI_OK_UPDATE)
			elog(ERROR, "could not stamp the leaderboards");
	}
	/*
	 * visibility changes every board has applied are not needed any more (after a forced
	 * rebuild too: recompute logs a level change for every learner it fixes)
	 */
	keep_plan(&plan_prune,
			  "DELETE FROM lms.board_user_changes c WHERE c.id <= (SELECT min(b.users_low) FROM lms.boards b)",
			  0, NULL);
	if (SPI_execute_plan(plan_prune, NULL, NULL, false, 0) != SPI_OK_DELETE)
		elog(ERROR, "could not prune the visibility changes");
}

typedef struct EmitState
{
	ReturnSetInfo *rsinfo;
} EmitState;

static void
emit_name(const char *name, void *arg)
{
	EmitState  *st = (EmitState *) arg;
	Datum		v[1];
	bool		n[1] = {false};

	v[0] = CStringGetTextDatum(name);
	tuplestore_putvalues(st->rsinfo->setResult, st->rsinfo->setDesc, v, n);
}

PG_FUNCTION_INFO_V1(lms_refresh_leaderboards);

/*
 * lms.refresh_leaderboards([only_changed]): rebuild every board now (or only the changed ones,
 * as the worker does); returns the boards' names ("global:all", "course:3:week", ...).
 * The admin route and recompute call it.
 */
Datum
lms_refresh_leaderboards(PG_FUNCTION_ARGS)
{
	EmitState	st;
	bool		only_changed = PG_NARGS() > 0 && !PG_ARGISNULL(0) && PG_GETARG_BOOL(0);

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	st.rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	lms_refresh_boards(!only_changed, emit_name, &st);
	SPI_finish();
	return (Datum) 0;
}

/* True when the background worker refreshes the boards of this database. */
static bool
worker_serves_this_database(void)
{
	static int	serves = -1;

	if (serves < 0)
	{
		char	   *db = get_database_name(MyDatabaseId);

		serves = (worker_registered && db != NULL && lms_leaderboard_database != NULL &&
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
	win = parse_window(PG_GETARG_TEXT_PP(1));
	parse_board(PG_GETARG_TEXT_PP(0), win, b);
	/* where the worker refreshes, a read builds only a missing board or a new period */
	board_refresh(b, false, false, worker_serves_this_database() ? -1 : lms_leaderboard_refresh_interval_ms);
}

/*
 * Reads by direct index scans: through SPI the executor's start-up of a statement cost more
 * than the few index tuples a page or a rank reads. Relations, indexes and column numbers are
 * resolved once per backend and forgotten on any relcache invalidation of them (DDL,
 * DROP/CREATE EXTENSION in the same session).
 */
enum
{
	RI_ENTRIES_PKEY, RI_ENTRIES_ORDER, RI_COUNTS_PKEY, RI_COUNTS_ABOVE, RI_COUNT
};
enum
{
	BE_USER, BE_POINTS, BE_NAME, BE_LEVEL, BE_REACHED, BE_NCOLS
};
static const char *const be_cols[BE_NCOLS] = {"user_id", "points", "display_name", "level", "reached_at"};
static AttrNumber be_att[BE_NCOLS];
enum
{
	BC_POINTS, BC_ABOVE, BC_NCOLS
};
static const char *const bc_cols[BC_NCOLS] = {"points", "above"};
static AttrNumber bc_att[BC_NCOLS];

static LmsRel read_rels[RI_COUNT] = {
	[RI_ENTRIES_PKEY] = {"board_entries", "board_entries_pkey", be_cols, BE_NCOLS, be_att},
	[RI_ENTRIES_ORDER] = {"board_entries", "board_entries_in_order", NULL, 0, NULL},
	[RI_COUNTS_PKEY] = {"board_counts", "board_counts_pkey", bc_cols, BC_NCOLS, bc_att},
	[RI_COUNTS_ABOVE] = {"board_counts", "board_counts_above", NULL, 0, NULL},
};
static LmsRelSet read_relset = {read_rels, RI_COUNT};

/*
 * Scan keys (board, win, third column op arg) on an index whose first two columns are board and
 * win; the text keys compare in the index's own collation.
 */
static void
board_keys(ScanKey keys, Relation idx, BoardRef *b, StrategyNumber strat, RegProcedure proc, int64 arg)
{
	ScanKeyEntryInitialize(&keys[0], 0, 1, BTEqualStrategyNumber, InvalidOid, idx->rd_indcollation[0],
						   F_TEXTEQ, PointerGetDatum(cstring_to_text(b->name)));
	ScanKeyEntryInitialize(&keys[1], 0, 2, BTEqualStrategyNumber, InvalidOid, idx->rd_indcollation[1],
						   F_TEXTEQ, PointerGetDatum(cstring_to_text(window_names[b->win])));
	ScanKeyEntryInitialize(&keys[2], 0, 3, strat, InvalidOid, idx->rd_indcollation[2],
						   proc, Int64GetDatum(arg));
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

/*
 * One row by an equality on the third column of an index (board, win, x): its slot, or false.
 */
static bool
board_lookup(Relation rel, Oid idxoid, BoardRef *b, int64 key, Snapshot snap, TupleTableSlot *slot)
{
	Relation	idx = index_open(idxoid, AccessShareLock);
	ScanKeyData keys[3];
	IndexScanDesc scan;
	bool		found;

	board_keys(keys, idx, b, BTEqualStrategyNumber, F_INT8EQ, key);
	scan = index_beginscan(rel, idx, snap, 3, 0);
	index_rescan(scan, keys, 3, NULL, 0);
	found = index_getnext_slot(scan, ForwardScanDirection, slot);
	index_endscan(scan);
	index_close(idx, NoLock);
	return found;
}

/*
 * Skips longer than this inside a tie group seek their first entry by an index-only scan
 * instead of fetching every skipped entry: around=me at 1,000,000 learners landed up to 44,000
 * entries into a tie group, 30-100 ms of heap fetches (docs/performance.md).
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
	Oid			types[4] = {TEXTOID, TEXTOID, INT8OID, INT8OID};
	Datum		values[4];
	bool		isnull;

	keep_read_plan(&plan_seek,
				   "SELECT e.reached_at, e.user_id FROM lms.board_entries e"
				   " WHERE e.board = $1 AND e.win = $2 AND e.points = $3"
				   " ORDER BY e.reached_at, e.user_id OFFSET $4 LIMIT 1",
				   4, types);
	values[0] = CStringGetTextDatum(b->name);
	values[1] = CStringGetTextDatum(window_names[b->win]);
	values[2] = Int64GetDatum(points);
	values[3] = Int64GetDatum(skip);
	if (SPI_execute_snapshot(plan_seek, values, NULL, snap, InvalidSnapshot, true, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read the leaderboard");
	if (SPI_processed == 0)
		return false;
	*reached_at = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	*user_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	return true;
}

/* A page's scan of the board-order index, from its first score or from a seeked entry. */
typedef struct PageScan
{
	BoardRef   *b;
	Relation	entries;
	Relation	idx;
	Snapshot	snap;
	IndexScanDesc scan;
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
page_scan_begin(PageScan *ps, StrategyNumber strat, RegProcedure proc)
{
	ScanKeyData keys[4];
	int			nkeys = 3;

	board_keys(keys, ps->idx, ps->b, strat, proc, ps->points);
	if (ps->in_group)
		ScanKeyEntryInitialize(&keys[nkeys++], 0, 4, BTGreaterEqualStrategyNumber, InvalidOid,
							   ps->idx->rd_indcollation[3], F_TIMESTAMPTZ_GE, ps->seek_reached);
	ps->scan = index_beginscan(ps->entries, ps->idx, ps->snap, nkeys, 0);
	index_rescan(ps->scan, keys, nkeys, NULL, 0);
}

/* The page's next entry in board order into slot; false past the board's last entry. */
static bool
page_scan_next(PageScan *ps, TupleTableSlot *slot)
{
	bool		isnull;

	for (;;)
	{
		if (!index_getnext_slot(ps->scan, ForwardScanDirection, slot))
		{
			if (!ps->in_group)
				return false;
			/* the seeked tie group is done: the lower scores follow */
			ps->in_group = false;
			index_endscan(ps->scan);
			page_scan_begin(ps, BTLessStrategyNumber, F_INT8LT);
			continue;
		}
		if (ps->in_group && !ps->started)
		{
			/* the seeked entry's reached_at, a learner before it in board order: not on the page */
			if (DatumGetTimestampTz(slot_getattr(slot, be_att[BE_REACHED], &isnull)) ==
				DatumGetTimestampTz(ps->seek_reached) &&
				DatumGetInt64(slot_getattr(slot, be_att[BE_USER], &isnull)) < ps->seek_user)
				continue;
			ps->started = true;
		}
		return true;
	}
}

/*
 * Page rows: (rank, user_id, display_name, points, level).
 * The first score of the page is the bucket holding position off + 1: the last non-empty bucket
 * (in board order) with at most off learners above it, one backward step of the index on
 * (board, win, above). The page is then an index range scan in board order from that score,
 * skipping within its tie group: by walking when the skip is short, else from the entry
 * tie_group_seek finds. Names and levels are on the entries.
 */
static void
page_rows(FunctionCallInfo fcinfo, BoardRef *b, int64 lim, int64 off)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Relation	counts,
				idx;
	TupleTableSlot *slot;
	ScanKeyData keys[3];
	IndexScanDesc scan;
	PageScan	ps = {0};
	bool		found;
	bool		isnull;
	int64		above,
				skip,
				i;
	int32		first_rank = 0,
				prev_rank = 0;
	int64		first_points = 0,
				prev_points = 0;

	lms_relset_resolve(&read_relset);
	ps.b = b;
	ps.snap = read_snapshot();

	counts = table_open(read_rels[RI_COUNTS_PKEY].relid, AccessShareLock);
	slot = table_slot_create(counts, NULL);
	idx = index_open(read_rels[RI_COUNTS_ABOVE].indexid, AccessShareLock);
	board_keys(keys, idx, b, BTLessEqualStrategyNumber, F_INT8LE, off);
	scan = index_beginscan(counts, idx, ps.snap, 3, 0);
	index_rescan(scan, keys, 3, NULL, 0);
	found = index_getnext_slot(scan, BackwardScanDirection, slot);
	ps.points = found ? DatumGetInt64(slot_getattr(slot, bc_att[BC_POINTS], &isnull)) : 0;
	above = found ? DatumGetInt64(slot_getattr(slot, bc_att[BC_ABOVE], &isnull)) : 0;
	index_endscan(scan);
	index_close(idx, NoLock);
	ExecDropSingleTupleTableSlot(slot);
	table_close(counts, NoLock);
	if (!found)
	{
		PopActiveSnapshot();
		return;					/* an empty board */
	}

	skip = off - above;
	ps.in_group = skip > PAGE_SEEK_MIN &&
		tie_group_seek(b, ps.points, skip, ps.snap, &ps.seek_reached, &ps.seek_user);
	if (ps.in_group)
		skip = 0;
	ps.entries = table_open(read_rels[RI_ENTRIES_PKEY].relid, AccessShareLock);
	ps.idx = index_open(read_rels[RI_ENTRIES_ORDER].indexid, AccessShareLock);
	slot = table_slot_create(ps.entries, NULL);
	page_scan_begin(&ps, ps.in_group ? BTEqualStrategyNumber : BTLessEqualStrategyNumber,
					ps.in_group ? F_INT8EQ : F_INT8LE);
	for (; skip > 0; skip--)
		if (!page_scan_next(&ps, slot))
			break;
	for (i = 0; skip == 0 && i < lim && page_scan_next(&ps, slot); i++)
	{
		Datum		v[5];
		bool		nl[5] = {false, false, false, false, false};
		int64		points;
		int32		rank;

		points = DatumGetInt64(slot_getattr(slot, be_att[BE_POINTS], &isnull));
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
		v[1] = slot_getattr(slot, be_att[BE_USER], &nl[1]);
		v[2] = slot_getattr(slot, be_att[BE_NAME], &nl[2]);
		v[3] = Int64GetDatum(points);
		v[4] = slot_getattr(slot, be_att[BE_LEVEL], &nl[4]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, nl);
	}
	index_endscan(ps.scan);
	index_close(ps.idx, NoLock);
	ExecDropSingleTupleTableSlot(slot);
	table_close(ps.entries, NoLock);
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
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
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
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	parse_board(PG_GETARG_TEXT_PP(0), parse_window(PG_GETARG_TEXT_PP(1)), &b);
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
	Snapshot	snap;
	Relation	rel;
	TupleTableSlot *slot;
	bool		found;
	bool		isnull;

	lms_relset_resolve(&read_relset);
	snap = read_snapshot();
	rel = table_open(read_rels[RI_ENTRIES_PKEY].relid, AccessShareLock);
	slot = table_slot_create(rel, NULL);
	found = board_lookup(rel, read_rels[RI_ENTRIES_PKEY].indexid, b, user_id, snap, slot);
	if (found)
		*points = DatumGetInt64(slot_getattr(slot, be_att[BE_POINTS], &isnull));
	ExecDropSingleTupleTableSlot(slot);
	table_close(rel, NoLock);
	if (found)
	{
		rel = table_open(read_rels[RI_COUNTS_PKEY].relid, AccessShareLock);
		slot = table_slot_create(rel, NULL);
		found = board_lookup(rel, read_rels[RI_COUNTS_PKEY].indexid, b, *points, snap, slot);
		if (found)
			*rank = (int32) (DatumGetInt64(slot_getattr(slot, bc_att[BC_ABOVE], &isnull)) + 1);
		else
			elog(ERROR, "leaderboard %s:%s has no bucket for " INT64_FORMAT " points",
				 b->name, window_names[b->win], *points);
		ExecDropSingleTupleTableSlot(slot);
		table_close(rel, NoLock);
	}
	PopActiveSnapshot();
	return found;
}

/*
 * One learner's (pos, rank, points) on a board, by primary key; false when not on it.
 * The caller is connected to SPI.
 */
static bool
board_me(BoardRef *b, int64 user_id, bool want_pos, int32 *pos, int32 *rank, int64 *points)
{
	Oid			types[3] = {TEXTOID, TEXTOID, INT8OID};
	Datum		values[3];
	bool		isnull;
	HeapTuple	t;
	TupleDesc	d;

	/* position: the rank plus those of the same score before me in board order (tie group) */
	keep_read_plan(&plan_me,
			  "SELECT e.points, 1 + h.above,"
			  "       (SELECT count(*) FROM lms.board_entries f WHERE f.board = $1 AND f.win = $2"
			  "           AND f.points = e.points AND (f.reached_at, f.user_id) < (e.reached_at, e.user_id))"
			  "  FROM lms.board_entries e JOIN lms.board_counts h"
			  "    ON h.board = $1 AND h.win = $2 AND h.points = e.points"
			  " WHERE e.board = $1 AND e.win = $2 AND e.user_id = $3",
			  3, types);
	if (!want_pos)
		return board_rank_direct(b, user_id, rank, points);
	values[0] = CStringGetTextDatum(b->name);
	values[1] = CStringGetTextDatum(window_names[b->win]);
	values[2] = Int64GetDatum(user_id);
	if (SPI_execute_plan(plan_me, values, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read the leaderboard");
	if (SPI_processed == 0)
		return false;
	t = SPI_tuptable->vals[0];
	d = SPI_tuptable->tupdesc;
	*points = DatumGetInt64(SPI_getbinval(t, d, 1, &isnull));
	*rank = (int32) DatumGetInt64(SPI_getbinval(t, d, 2, &isnull));
	if (want_pos)
		*pos = *rank + (int32) DatumGetInt64(SPI_getbinval(t, d, 3, &isnull));
	return true;
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
	int32		pos,
				rank;
	int64		points;

	InitMaterializedSRF(fcinfo, 0);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	read_board(fcinfo, &b);
	if (!PG_ARGISNULL(2) && board_me(&b, PG_GETARG_INT64(2), false, &pos, &rank, &points))
	{
		ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
		Datum		v[2] = {Int32GetDatum(rank), Int64GetDatum(points)};
		bool		n[2] = {false, false};

		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, n);
	}
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
	int32		pos,
				rank;
	int64		points;

	InitMaterializedSRF(fcinfo, 0);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	parse_board(PG_GETARG_TEXT_PP(0), parse_window(PG_GETARG_TEXT_PP(1)), &b);
	if (board_me(&b, PG_GETARG_INT64(2), true, &pos, &rank, &points))
	{
		ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
		Datum		v[3] = {Int32GetDatum(pos), Int32GetDatum(rank), Int64GetDatum(points)};
		bool		n[3] = {false, false, false};

		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, n);
	}
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
	BoardRef	b;
	Oid			types[2] = {TEXTOID, TEXTOID};
	Datum		values[2];
	ReturnSetInfo *rsinfo;

	InitMaterializedSRF(fcinfo, 0);
	rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	read_board(fcinfo, &b);
	/* a board never built (read-only transaction, or a concurrent first build) is built now */
	keep_read_plan(&plan_meta,
			  "SELECT b.board, b.period_start, b.generated_at, b.total FROM lms.boards b"
			  " WHERE b.board = $1 AND b.win = $2",
			  2, types);
	values[0] = CStringGetTextDatum(b.name);
	values[1] = CStringGetTextDatum(window_names[b.win]);
	if (SPI_execute_plan(plan_meta, values, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read the leaderboard");
	if (SPI_processed == 1)
	{
		Datum		v[4];
		bool		n[4];
		int			c;

		for (c = 0; c < 4; c++)
			v[c] = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, c + 1, &n[c]);
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
