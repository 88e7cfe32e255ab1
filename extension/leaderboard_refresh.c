/*
 * leaderboard_refresh.c
 *	  Bringing boards up to date (the design is in leaderboard.c): the full build of a board,
 *	  its incremental refresh, the histogram's "above" counts, and the pass over every board
 *	  that the worker, lms.refresh_leaderboards() and recompute run.
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "leaderboard.h"
#include "leaderboard_refresh.h"
#include "lms.h"
#include "plans.h"
#include "rules.h"

/* Plans kept for the backend's lifetime: [course?][window kind: all / period]. */
static SPIPlanPtr plan_full[2][2] = {{NULL, NULL}, {NULL, NULL}};
static SPIPlanPtr plan_incr[2][2][2] = {{{NULL, NULL}, {NULL, NULL}}, {{NULL, NULL}, {NULL, NULL}}};
static SPIPlanPtr plan_hist = NULL;
static SPIPlanPtr plan_slots = NULL;
static SPIPlanPtr plan_above = NULL;
static SPIPlanPtr plan_changed[2] = {NULL, NULL};
static SPIPlanPtr plan_courses = NULL;
static SPIPlanPtr plan_lock_all = NULL;
static SPIPlanPtr plan_trylock_all = NULL;
static SPIPlanPtr plan_trylock = NULL;
static SPIPlanPtr plan_touch = NULL;
static SPIPlanPtr plan_prune = NULL;

/*
 * Where a board's learners come from, set-based (full build) or for one learner (refresh). A
 * week or month counts what was earned in it: recalculation corrections (re-scoring past
 * events) are left out (rules.h).
 */
static const char *const full_sources[2][2] = {
	{
		"SELECT s.user_id, s.total_points AS points, s.reached_at FROM lms.learner_scores s"
		" WHERE s.reached_at IS NOT NULL",
		"SELECT l.user_id, sum(l.points)::bigint AS points, max(l.created_at) AS reached_at"
		" FROM lms.points_ledger l WHERE l.created_at >= $4 AND l.created_at < $5 AND" LMS_SQL_REASON_IN_PERIOD("l")
		"GROUP BY l.user_id"
	},
	{
		"SELECT c.user_id, c.points, c.reached_at FROM lms.course_scores c WHERE c.course_id = $3",
		"SELECT l.user_id, sum(l.points)::bigint AS points, max(l.created_at) AS reached_at"
		" FROM lms.points_ledger l WHERE l.course_id = $3 AND l.created_at >= $4 AND l.created_at < $5"
		" AND" LMS_SQL_REASON_IN_PERIOD("l") "GROUP BY l.user_id"
	}
};
static const char *const one_sources[2][2] = {
	{
		"SELECT s.total_points AS points, s.reached_at FROM lms.learner_scores s"
		" WHERE s.user_id = c.user_id AND s.reached_at IS NOT NULL",
		"SELECT sum(l.points)::bigint AS points, max(l.created_at) AS reached_at FROM lms.points_ledger l"
		" WHERE l.user_id = c.user_id AND l.created_at >= $4 AND l.created_at < $5"
		" AND" LMS_SQL_REASON_IN_PERIOD("l") "HAVING count(*) > 0"
	},
	{
		"SELECT s.points, s.reached_at FROM lms.course_scores s WHERE s.course_id = $3 AND s.user_id = c.user_id",
		"SELECT sum(l.points)::bigint AS points, max(l.created_at) AS reached_at FROM lms.points_ledger l"
		" WHERE l.user_id = c.user_id AND l.course_id = $3 AND l.created_at >= $4 AND l.created_at < $5"
		" AND" LMS_SQL_REASON_IN_PERIOD("l") "HAVING count(*) > 0"
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
 * every change of them, so the other entries' copies are current), each entry probing the
 * changes by its learner (a scalar subquery: an EXISTS may be planned as a hash of every change
 * logged, which after a burst of level-ups every board of a pass built; docs/performance.md,
 * "Leaderboards"); the histogram is recounted after it
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
					   "low AS (SELECT coalesce((SELECT b.users_low FROM lms.boards b"
					   "                          WHERE b.board = $1 AND b.win = $2), 0) AS users_low), "
					   "cmp AS MATERIALIZED ("
					   "  SELECT coalesce(r.user_id, c.user_id) AS user_id, r.points, r.reached_at,"
					   "         c.user_id IS NOT NULL AS existed, r.user_id IS NULL AS gone"
					   "    FROM vis r FULL JOIN (SELECT e.user_id, e.points, e.reached_at"
					   "                            FROM lms.board_entries e WHERE e.board = $1 AND e.win = $2) c"
					   "      ON c.user_id = r.user_id"
					   "   WHERE r.user_id IS NULL OR c.user_id IS NULL"
					   "      OR (r.points, r.reached_at) IS DISTINCT FROM (c.points, c.reached_at)"
					   "      OR coalesce((SELECT true FROM lms.board_user_changes p, low"
					   "                    WHERE p.user_id = c.user_id AND p.id > low.users_low LIMIT 1), false)), "
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
		 * row of the period for each course board (docs/performance.md, "Leaderboards")
		 */
		lms_plan_opts(slot, sql, 7, types, CURSOR_OPT_CUSTOM_PLAN);
	}
	return *slot;
}

/* Moving the learners of a diff between the hour slots of their tie groups (lms.board_slots). */
#define SLOTS_DIFF \
	"slots AS (INSERT INTO lms.board_slots AS s (board, win, points, slot, learners)" \
	"          SELECT $1, $2, x.p, x.sl, sum(x.d) FROM" \
	"            (SELECT d.points AS p, lms.hour_of(d.reached_at) AS sl, 1 AS d FROM diff d WHERE NOT d.gone" \
	"             UNION ALL SELECT d.old_points, lms.hour_of(d.old_reached), -1 FROM diff d WHERE d.existed) x" \
	"           GROUP BY x.p, x.sl HAVING sum(x.d) <> 0" \
	"          ON CONFLICT (board, win, points, slot) DO UPDATE SET learners = s.learners + EXCLUDED.learners" \
	"          RETURNING 1), "

/*
 * The big one-instant tie groups split by user id (lms.board_parts): a group of SPLIT_MIN learners
 * or more gets rows for ranges of 2^shift user ids, shift chosen when it is split so that it has
 * about the square root of its size ranges (a read then sums about that many rows and counts
 * about as many entries). The one home of both rules; leaderboard_read.c reads the rows.
 */
#define SPLIT_MIN 1024
#define SHIFT_FOR(id_range, n) \
	"least(62, greatest(0, ceil(log(2.0, greatest(1.0, (" id_range ")::numeric / sqrt((" n ")::numeric))))))::int"

/*
 * Keeping the split groups of a diff's learners: the learners moved between the parts of groups
 * already split, and the groups the diff fills to SPLIT_MIN split from the entries as they are
 * before this statement (less the diff's learners) and the diff's own rows.
 */
#define PARTS_DIFF \
	"parts AS (INSERT INTO lms.board_parts AS p (board, win, points, reached_at, part, shift, learners)" \
	"          SELECT $1, $2, x.p, x.r, x.u >> g.shift, g.shift, sum(x.d) FROM" \
	"            (SELECT d.points AS p, d.reached_at AS r, d.user_id AS u, 1 AS d FROM diff d WHERE NOT d.gone" \
	"             UNION ALL SELECT d.old_points, d.old_reached, d.user_id, -1 FROM diff d WHERE d.existed) x" \
	"            CROSS JOIN LATERAL (SELECT q.shift FROM lms.board_parts q WHERE q.board = $1 AND q.win = $2" \
	"                                  AND q.points = x.p AND q.reached_at = x.r LIMIT 1) g" \
	"           GROUP BY x.p, x.r, x.u >> g.shift, g.shift HAVING sum(x.d) <> 0" \
	"          ON CONFLICT (board, win, points, reached_at, part) DO UPDATE SET learners = p.learners + EXCLUDED.learners" \
	"          RETURNING 1), " \
	"big AS (SELECT x.p, x.r FROM" \
	"          (SELECT d.points AS p, d.reached_at AS r, count(*) AS n FROM diff d WHERE NOT d.gone GROUP BY 1, 2) x" \
	"         WHERE NOT EXISTS (SELECT FROM lms.board_parts q WHERE q.board = $1 AND q.win = $2" \
	"                             AND q.points = x.p AND q.reached_at = x.r)" \
	"           AND x.n + (SELECT count(*) FROM (SELECT FROM lms.board_entries e WHERE e.board = $1 AND e.win = $2" \
	"                        AND e.points = x.p AND e.reached_at = x.r LIMIT " CppAsString2(SPLIT_MIN) ") c)" \
	"               >= " CppAsString2(SPLIT_MIN) "), " \
	"members AS (SELECT e.points AS p, e.reached_at AS r, e.user_id AS u" \
	"              FROM big g JOIN lms.board_entries e ON e.board = $1 AND e.win = $2 AND e.points = g.p AND e.reached_at = g.r" \
	"             WHERE NOT EXISTS (SELECT FROM diff d WHERE d.user_id = e.user_id)" \
	"            UNION ALL SELECT d.points, d.reached_at, d.user_id FROM big g" \
	"              JOIN diff d ON d.points = g.p AND d.reached_at = g.r AND NOT d.gone), " \
	"split AS (INSERT INTO lms.board_parts (board, win, points, reached_at, part, shift, learners)" \
	"          SELECT $1, $2, m.p, m.r, m.u >> s.shift, s.shift, count(*) FROM members m" \
	"            JOIN (SELECT p, r, " SHIFT_FOR("max(u) - min(u) + 1", "count(*)") " AS shift" \
	"                    FROM members GROUP BY p, r) s ON s.p = m.p AND s.r = m.r" \
	"           GROUP BY m.p, m.r, m.u >> s.shift, s.shift RETURNING 1), "

/*
 * Whether a built board b (an lms.boards row) has changed: ledger rows of its source past its
 * mark (ledger_max: the highest ledger id of its source), a logged user change past its mark, or
 * a writer its last refresh saw running has committed since. The one test of a board's check
 * (lms_board_refresh) and of a pass's search for boards that need work (pass_boards).
 */
#define BOARD_CHANGED(ledger_max) \
	"(" ledger_max " > b.ledger_mark" \
	" OR coalesce((SELECT max(uc.id) FROM lms.board_user_changes uc), 0) > b.users_mark" \
	" OR EXISTS (SELECT FROM pg_catalog.pg_snapshot_xip(b.snap) x" \
	"            WHERE pg_catalog.pg_xact_status(x) = 'committed'))"

/* Past this many changes since a board's marks, a full build costs less than the incremental path. */
#define FULL_BUILD_CHANGES 5000

/*
 * Whether a board's pending changes are many: FULL_BUILD_CHANGES ledger rows of its source past
 * its low mark, or as many user changes. The incremental path recomputes each changed learner
 * on its own, a full build hashes the source once: after a burst (98,000 learners earning points
 * between two passes) a pass over 603 boards took more than 8 minutes incrementally. The counts
 * stop at the threshold: a pass with few changes pays two short index scans.
 */
static bool
many_changes(bool course, Datum *values)
{
	static SPIPlanPtr plan[2];
	Oid			types[3] = {INT8OID, INT8OID, INT8OID};
	Datum		v[3] = {values[2], values[7], values[8]};
	char		n[3] = {course ? ' ' : 'n', ' ', ' '};
	bool		isnull;

	lms_read_plan(&plan[course],
				  course ?
				  "SELECT (SELECT count(*) FROM (SELECT FROM lms.points_ledger l WHERE l.course_id = $1"
				  "          AND l.id > $2 LIMIT " CppAsString2(FULL_BUILD_CHANGES) ") x)"
				  "     + (SELECT count(*) FROM (SELECT FROM lms.board_user_changes c WHERE c.id > $3"
				  "          LIMIT " CppAsString2(FULL_BUILD_CHANGES) ") y) >= " CppAsString2(FULL_BUILD_CHANGES) :
				  "SELECT (SELECT count(*) FROM (SELECT FROM lms.points_ledger l WHERE l.id > $2"
				  "          LIMIT " CppAsString2(FULL_BUILD_CHANGES) ") x)"
				  "     + (SELECT count(*) FROM (SELECT FROM lms.board_user_changes c WHERE c.id > $3"
				  "          LIMIT " CppAsString2(FULL_BUILD_CHANGES) ") y) >= " CppAsString2(FULL_BUILD_CHANGES)
				  " AND $1 IS NULL",
				  3, types);
	lms_exec_expect(plan[course], v, n, true, 1, SPI_OK_SELECT, "count the leaderboard's changes");
	return SPI_processed == 1 && DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)) && !isnull;
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
incr_plan(bool course, bool period, bool slots)
{
	SPIPlanPtr *slot = &plan_incr[course][period][slots];

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
					   "         o.points AS old_points, o.reached_at AS old_reached,"
					   "         o.user_id IS NOT NULL AS existed, r.user_id IS NULL AS gone"
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
					   "%s"
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
					   one_sources[course][period],
					   slots ? SLOTS_DIFF PARTS_DIFF : "");
		{
			/* custom plans: the estimates must see how few rows lie past the marks */
			static const Oid itypes[9] = {TEXTOID, TEXTOID, INT8OID, TIMESTAMPTZOID, TIMESTAMPTZOID,
			TIMESTAMPTZOID, DATEOID, INT8OID, INT8OID};

			lms_plan_opts(slot, sql, 9, itypes, CURSOR_OPT_CUSTOM_PLAN);
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

	lms_plan(&plan_above,
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
	lms_exec_expect(plan_above, values, NULL, false, 0, SPI_OK_UPDATE, "count the leaderboard");
	AtEOXact_GUC(true, save_nestlevel);
}

/*
 * The hour slots of a board's tie groups counted again from its entries after a full build:
 * rows that differ are written, empty ones removed.
 */
static void
board_recount_slots(Datum *values)
{
	Oid			types[2] = {TEXTOID, TEXTOID};

	lms_plan(&plan_slots,
			 "WITH agg AS (SELECT e.points, lms.hour_of(e.reached_at) AS slot, count(*) AS n"
			 "               FROM lms.board_entries e WHERE e.board = $1 AND e.win = $2 GROUP BY 1, 2), "
			 "gone AS (DELETE FROM lms.board_slots s WHERE s.board = $1 AND s.win = $2"
			 "           AND NOT EXISTS (SELECT FROM agg a WHERE a.points = s.points AND a.slot = s.slot) RETURNING 1) "
			 "INSERT INTO lms.board_slots AS s (board, win, points, slot, learners)"
			 " SELECT $1, $2, a.points, a.slot, a.n FROM agg a"
			 " ON CONFLICT (board, win, points, slot) DO UPDATE SET learners = EXCLUDED.learners"
			 "  WHERE s.learners <> EXCLUDED.learners",
			 2, types);
	lms_exec_expect(plan_slots, values, NULL, false, 0, SPI_OK_INSERT, "split the leaderboard's tie groups");
}

/*
 * The split groups of a board (lms.board_parts) made again from its entries after a full build:
 * every group of SPLIT_MIN learners or more, rows that differ written, the others removed.
 */
static void
board_recount_parts(Datum *values)
{
	static SPIPlanPtr plan;
	Oid			types[2] = {TEXTOID, TEXTOID};

	lms_plan(&plan,
			 "WITH g AS (SELECT e.points AS p, e.reached_at AS r,"
			 "                  " SHIFT_FOR("max(e.user_id) - min(e.user_id) + 1", "count(*)") " AS shift"
			 "             FROM lms.board_entries e WHERE e.board = $1 AND e.win = $2"
			 "            GROUP BY 1, 2 HAVING count(*) >= " CppAsString2(SPLIT_MIN) "), "
			 "agg AS (SELECT g.p, g.r, e.user_id >> g.shift AS part, g.shift, count(*) AS n"
			 "          FROM g JOIN lms.board_entries e ON e.board = $1 AND e.win = $2 AND e.points = g.p AND e.reached_at = g.r"
			 "         GROUP BY 1, 2, 3, 4), "
			 "gone AS (DELETE FROM lms.board_parts q WHERE q.board = $1 AND q.win = $2"
			 "           AND NOT EXISTS (SELECT FROM agg a WHERE a.p = q.points AND a.r = q.reached_at AND a.part = q.part)"
			 "         RETURNING 1) "
			 "INSERT INTO lms.board_parts AS q (board, win, points, reached_at, part, shift, learners)"
			 " SELECT $1, $2, a.p, a.r, a.part, a.shift, a.n FROM agg a"
			 " ON CONFLICT (board, win, points, reached_at, part) DO UPDATE"
			 "   SET learners = EXCLUDED.learners, shift = EXCLUDED.shift"
			 "   WHERE (q.learners, q.shift) <> (EXCLUDED.learners, EXCLUDED.shift)",
			 2, types);
	lms_exec_expect(plan, values, NULL, false, 0, SPI_OK_INSERT, "split the leaderboard's big tie groups");
}

/* The parts a refresh emptied, removed (a few rows, by their partial index). */
static void
board_prune_parts(Datum *values)
{
	static SPIPlanPtr plan;
	Oid			types[2] = {TEXTOID, TEXTOID};

	lms_plan(&plan, "DELETE FROM lms.board_parts p WHERE p.board = $1 AND p.win = $2 AND p.learners = 0",
			 2, types);
	lms_exec_expect(plan, values, NULL, false, 0, SPI_OK_DELETE, "prune the leaderboard's split groups");
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
bool
lms_board_refresh(BoardRef *b, bool force, bool in_pass, int max_age_ms)
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
		lms_window_period(b->win, now, &pstart, &from, &to);

	values[0] = CStringGetTextDatum(b->name);
	values[1] = CStringGetTextDatum(lms_window_names[b->win]);
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

		lms_read_plan(&plan_changed[course],
				  course ?
				  "SELECT b.period_start, b.generated_at,"
				  " " BOARD_CHANGED("coalesce((SELECT max(l.id) FROM lms.points_ledger l WHERE l.course_id = $3), 0)")
				  ", b.ledger_low, b.users_low"
				  " FROM lms.boards b WHERE b.board = $1 AND b.win = $2" :
				  "SELECT b.period_start, b.generated_at,"
				  " " BOARD_CHANGED("coalesce((SELECT max(l.id) FROM lms.points_ledger l), 0)")
				  ", b.ledger_low, b.users_low"
				  " FROM lms.boards b WHERE b.board = $1 AND b.win = $2 AND $3 IS NULL",
				  3, ctypes);
		lms_exec_expect(plan_changed[course], cvalues, cnulls, false, 1, SPI_OK_SELECT, "check the leaderboard");
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
				if (many_changes(course, values))
					incremental = false;
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
		lms_plan(&plan_trylock_all,
				  "SELECT pg_catalog.pg_try_advisory_xact_lock_shared(" CppAsString2(LOCK_ALL_BOARDS) ", 0)", 0, NULL);
		lms_exec_expect(plan_trylock_all, NULL, NULL, false, 1, SPI_OK_SELECT, "lock the leaderboards");
		if (!DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)))
			return false;
		snprintf(lockname, sizeof(lockname), "%s:%s", b->name, lms_window_names[b->win]);
		lvalues[0] = CStringGetTextDatum(lockname);
		lms_plan(&plan_trylock,
				  "SELECT pg_catalog.pg_try_advisory_xact_lock(" CppAsString2(LOCK_ONE_BOARD) ", pg_catalog.hashtext($1))",
				  1, ltypes);
		lms_exec_expect(plan_trylock, lvalues, NULL, false, 1, SPI_OK_SELECT, "lock the leaderboard");
		if (!DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)))
			return false;
	}

	/*
	 * without JIT: a refresh's plan may cost enough to trigger it (a week's board after every
	 * learner earned points has 100,000 changed rows), and compiling each board's plan cost more
	 * than refreshing it (603 boards took minutes, all of it in LLVM); restored below
	 */
	save_nestlevel = NewGUCNestLevel();
	(void) set_config_option("jit", "off", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	if (incremental)
	{
		/* only the learners whose score or visibility changed */
		lms_exec_expect(incr_plan(course, period, lms_board_tie_tables_exist()), values, nulls, false, 0,
						SPI_OK_SELECT, "refresh the leaderboard");
		if (SPI_processed == 1)
		{
			bool		cnull;
			int64		ndiff = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &cnull));

			if (cnull || ndiff > 0)
			{
				board_recount_above(values);
				if (lms_board_tie_tables_exist())
					board_prune_parts(values);
			}
		}
	}
	else
	{
		Oid			htypes[2] = {TEXTOID, TEXTOID};

		/* a full build hashes the whole source: in memory (restored below) */
		(void) set_config_option("work_mem", "262144", PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, 0, false);
		lms_exec_expect(full_plan(course, period), values, nulls, false, 0, SPI_OK_SELECT, "refresh the leaderboard");
		lms_plan(&plan_hist,
				  "WITH agg AS (SELECT e.points, count(*) AS n FROM lms.board_entries e"
				  "              WHERE e.board = $1 AND e.win = $2 GROUP BY e.points), "
				  "gone AS (DELETE FROM lms.board_counts h WHERE h.board = $1 AND h.win = $2"
				  "           AND NOT EXISTS (SELECT FROM agg a WHERE a.points = h.points) RETURNING 1) "
				  "INSERT INTO lms.board_counts AS h (board, win, points, learners)"
				  " SELECT $1, $2, a.points, a.n FROM agg a"
				  " ON CONFLICT (board, win, points) DO UPDATE SET learners = EXCLUDED.learners"
				  "  WHERE h.learners <> EXCLUDED.learners",
				  2, htypes);
		lms_exec_expect(plan_hist, values, NULL, false, 0, SPI_OK_INSERT, "count the leaderboard");
		if (lms_board_tie_tables_exist())
		{
			board_recount_slots(values);
			board_recount_parts(values);
		}
		board_recount_above(values);
	}
	AtEOXact_GUC(true, save_nestlevel);
	mark_checked(b, pstart);
	return true;
}

/* A board a pass visits: 0 or its course, and its window. */
typedef struct PassBoard
{
	int64		course_id;
	int			win;
} PassBoard;

/*
 * The boards a pass visits, in course order: every board (force), or those that may need work
 * (missing, of a past week or month, or changed, by the test lms_board_refresh makes on each),
 * found by one statement rather than by asking each board alone, which cost an idle worker a
 * good part of a core with thousands of boards (docs/performance.md, "Leaderboards"). Returns
 * how many; *boards is palloc'd.
 */
static uint64
pass_boards(bool force, PassBoard **boards)
{
	static SPIPlanPtr plan_changed_all = NULL;
	Oid			types[2] = {TEXTARRAYOID, DATEARRAYOID};
	Datum		values[2];
	Datum		names[WIN_COUNT],
				starts[WIN_COUNT];
	bool		no_start[WIN_COUNT];
	int			dims[1] = {WIN_COUNT},
				lbs[1] = {1};
	TimestampTz from,
				to,
				now = lms_now();
	uint64		n,
				i;
	int			w;

	if (force)
	{
		lms_plan(&plan_courses, "SELECT id FROM lms.courses ORDER BY id", 0, NULL);
		lms_exec_expect(plan_courses, NULL, NULL, false, 0, SPI_OK_SELECT, "list the courses");
		n = (SPI_processed + 1) * WIN_COUNT;
		*boards = palloc(sizeof(PassBoard) * n);
		for (i = 0; i <= SPI_processed; i++)
			for (w = 0; w < WIN_COUNT; w++)
			{
				(*boards)[i * WIN_COUNT + w].course_id = i == 0 ? 0 : lms_col_int64(i - 1, 1, 0);
				(*boards)[i * WIN_COUNT + w].win = w;
			}
		return n;
	}
	/* each window's name and the period a board of it holds now (none for all), as the check has them */
	for (w = 0; w < WIN_COUNT; w++)
	{
		DateADT		start = 0;

		names[w] = CStringGetTextDatum(lms_window_names[w]);
		no_start[w] = (w == WIN_ALL);
		if (!no_start[w])
			lms_window_period(w, now, &start, &from, &to);
		starts[w] = DateADTGetDatum(start);
	}
	values[0] = PointerGetDatum(construct_array(names, WIN_COUNT, TEXTOID, -1, false, TYPALIGN_INT));
	values[1] = PointerGetDatum(construct_md_array(starts, no_start, 1, dims, lbs, DATEOID, sizeof(DateADT), true, TYPALIGN_INT));
	lms_plan(&plan_changed_all,
			 "SELECT c.id, (w.ord - 1)::int FROM"
			 "  (SELECT 0::bigint AS id, coalesce((SELECT max(l.id) FROM lms.points_ledger l), 0) AS lm"
			 "   UNION ALL"
			 "   SELECT c.id, coalesce((SELECT max(l.id) FROM lms.points_ledger l WHERE l.course_id = c.id), 0)"
			 "     FROM lms.courses c) c"
			 "  CROSS JOIN unnest($1, $2) WITH ORDINALITY w (name, period_start, ord)"
			 "  LEFT JOIN lms.boards b"
			 "    ON b.board = (CASE WHEN c.id = 0 THEN 'global' ELSE 'course:' || c.id END) COLLATE \"C\""
			 "   AND b.win = w.name COLLATE \"C\""
			 " WHERE b.board IS NULL"
			 "    OR b.period_start IS DISTINCT FROM w.period_start"
			 "    OR " BOARD_CHANGED("c.lm")
			 " ORDER BY c.id, w.ord",
			 2, types);
	lms_exec_expect(plan_changed_all, values, NULL, false, 0, SPI_OK_SELECT, "find the changed leaderboards");
	n = SPI_processed;
	*boards = palloc(sizeof(PassBoard) * Max(n, 1));
	for (i = 0; i < n; i++)
	{
		(*boards)[i].course_id = lms_col_int64(i, 1, 0);
		(*boards)[i].win = lms_col_int32(i, 2, 0);
	}
	return n;
}

/*
 * Refresh every board (global and each course, every window): all of them (force) or the
 * changed ones. Calls emit(name) for each board refreshed. The caller is connected to SPI.
 */
void
lms_refresh_boards(bool force, void (*emit) (const char *name, void *arg), void *arg)
{
	PassBoard  *boards;
	uint64		nboards,
				i;
	BoardRef	b;
	char		name[64];

	/* one pass at a time, after the single-board refreshes running now */
	lms_plan(&plan_lock_all, "SELECT pg_catalog.pg_advisory_xact_lock(" CppAsString2(LOCK_ALL_BOARDS) ", 0)", 0, NULL);
	lms_exec_expect(plan_lock_all, NULL, NULL, false, 1, SPI_OK_SELECT, "lock the leaderboards");

	nboards = pass_boards(force, &boards);
	for (i = 0; i < nboards; i++)
	{
		lms_board_ref(&b, boards[i].course_id, boards[i].win);
		if (lms_board_refresh(&b, force, true, 0) && emit)
		{
			snprintf(name, sizeof(name), "%s:%s", b.name, lms_window_names[boards[i].win]);
			emit(name, arg);
		}
	}
	if (!force)
	{
		/* the boards that did not change are exact as of now */
		Oid			types[1] = {TIMESTAMPTZOID};
		Datum		values[1] = {TimestampTzGetDatum(lms_now())};

		lms_plan(&plan_touch, "UPDATE lms.boards SET generated_at = $1 WHERE generated_at < $1", 1, types);
		lms_exec_expect(plan_touch, values, NULL, false, 0, SPI_OK_UPDATE, "stamp the leaderboards");
	}
	/*
	 * visibility changes every board has applied are not needed any more (after a forced
	 * rebuild too: recompute logs a level change for every learner it fixes)
	 */
	lms_plan(&plan_prune,
			  "DELETE FROM lms.board_user_changes c WHERE c.id <= (SELECT min(b.users_low) FROM lms.boards b)",
			  0, NULL);
	lms_exec_expect(plan_prune, NULL, NULL, false, 0, SPI_OK_DELETE, "prune the visibility changes");
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
	lms_spi_connect();
	lms_refresh_boards(!only_changed, emit_name, &st);
	SPI_finish();
	return (Datum) 0;
}

