/*
 * leaderboard.c
 *	  Materialized leaderboards: global and per course, windows all / week / month.
 *
 * Design
 * ------
 * A board (board, window) is materialized in lms.board_entries, one row per visible learner
 * with their position in board order (points desc, reached_at, user_id), their competition
 * rank (1, 2, 2, 4) and points, and described by one lms.boards row (period_start,
 * generated_at, total, and what the board was built from). Reads are index lookups:
 *   - a page is a range scan of (board, win, pos) between offset+1 and offset+limit;
 *   - "my rank" is the primary key (board, win, user_id);
 *   - total and generated_at are one lms.boards row.
 * No read ever looks at more rows than it returns.
 *
 * The boards are rebuilt set-based by a refresh, never on the write path, so progress writes
 * never contend on board rows. One refresh of one board is a single statement: rank the source
 * (learner_scores for global/all, course_scores for course/all, the ledger's rows of the current
 * UTC week or month for the windows, visible active learners only) and apply only the
 * difference to the stored board (FULL JOIN, then DELETE/UPDATE/INSERT of the changed rows), so
 * a quiet board costs one sort and a steady board writes little. It stores what it was built
 * from in the same snapshot: the highest ledger id (of the course for course boards), the epoch
 * of visibility/suspension changes (lms.board_epoch, bumped by a trigger on lms.users) and the
 * snapshot itself. A board has changed when the ledger's highest id or the epoch moved, or when a
 * transaction that was still running at the refresh has committed since (it may have written a
 * ledger row with a lower id): so a refresh beside writes loses nothing.
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
 *   - cost: a refresh ranks the whole board (sort, window functions, a hash join with the
 *     stored board) and writes only the rows that moved, so it is O(board) in CPU: fine for
 *     thousands to a few hundred thousand learners per board; at a million learners a refresh
 *     of every board takes seconds to tens of seconds (bench/leaderboard.sh), which bounds how
 *     stale a board can be. Reads stay index lookups at any size.
 *   - lms.refresh_leaderboards() (and POST /admin/leaderboards/refresh) rebuilds every board now.
 * generated_at says when the board was built; a board whose source has not changed since is
 * exact however old generated_at is (the worker re-stamps it when it finds nothing changed).
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "commands/dbcommands.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "lms.h"
#include "leaderboard.h"

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
static SPIPlanPtr plan_refresh[2][2] = {{NULL, NULL}, {NULL, NULL}};
static SPIPlanPtr plan_changed[2] = {NULL, NULL};
static SPIPlanPtr plan_course_exists = NULL;
static SPIPlanPtr plan_page = NULL;
static SPIPlanPtr plan_me = NULL;
static SPIPlanPtr plan_meta = NULL;
static SPIPlanPtr plan_courses = NULL;
static SPIPlanPtr plan_lock = NULL;
static SPIPlanPtr plan_trylock = NULL;
static SPIPlanPtr plan_touch = NULL;

static SPIPlanPtr
keep_plan(SPIPlanPtr *slot, const char *sql, int nargs, Oid *argtypes)
{
	if (*slot == NULL)
	{
		SPIPlanPtr	p = SPI_prepare(sql, nargs, argtypes);

		if (p == NULL)
			elog(ERROR, "SPI_prepare failed for \"%s\": %s", sql, SPI_result_code_string(SPI_result));
		SPI_keepplan(p);
		*slot = p;
	}
	return *slot;
}

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

/* The refresh statement of one kind of board; see the design note at the top. */
static SPIPlanPtr
refresh_plan(bool course, bool period)
{
	static const char *const sources[2][2] = {
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
	static const char *const marks[2] = {
		"SELECT max(l.id) FROM lms.points_ledger l",
		"SELECT max(l.id) FROM lms.points_ledger l WHERE l.course_id = $3"
	};
	SPIPlanPtr *slot = &plan_refresh[course][period];

	if (*slot == NULL)
	{
		Oid			types[7] = {TEXTOID, TEXTOID, INT8OID, TIMESTAMPTZOID, TIMESTAMPTZOID, TIMESTAMPTZOID, DATEOID};
		char	   *sql;

		sql = psprintf(
					   "WITH src AS (%s), "
					   "ranked AS ("
					   "  SELECT r.user_id, r.points, r.reached_at,"
					   "         (rank() OVER (ORDER BY r.points DESC))::int AS rk,"
					   "         (row_number() OVER (ORDER BY r.points DESC, r.reached_at, r.user_id))::int AS pos"
					   "    FROM src r"
					   "   WHERE NOT EXISTS (SELECT FROM lms.users u WHERE u.id = r.user_id"
					   "                        AND (NOT u.leaderboard_visible OR u.status <> 'active'))), "
					   "diff AS MATERIALIZED ("
					   "  SELECT coalesce(r.user_id, c.user_id) AS user_id, r.pos, r.rk, r.points, r.reached_at,"
					   "         c.user_id IS NOT NULL AS existed"
					   "    FROM ranked r FULL JOIN (SELECT e.user_id, e.pos, e.rank, e.points, e.reached_at"
					   "                               FROM lms.board_entries e WHERE e.board = $1 AND e.win = $2) c"
					   "      ON c.user_id = r.user_id"
					   "   WHERE r.user_id IS NULL OR c.user_id IS NULL"
					   "      OR (r.pos, r.rk, r.points, r.reached_at) IS DISTINCT FROM (c.pos, c.rank, c.points, c.reached_at)), "
					   "del AS (DELETE FROM lms.board_entries e USING diff d"
					   "         WHERE e.board = $1 AND e.win = $2 AND e.user_id = d.user_id AND d.pos IS NULL RETURNING 1), "
					   "upd AS (UPDATE lms.board_entries e SET pos = d.pos, rank = d.rk, points = d.points, reached_at = d.reached_at"
					   "          FROM diff d WHERE e.board = $1 AND e.win = $2 AND e.user_id = d.user_id"
					   "           AND d.pos IS NOT NULL AND d.existed RETURNING 1), "
					   "ins AS (INSERT INTO lms.board_entries (board, win, user_id, pos, rank, points, reached_at)"
					   "        SELECT $1, $2, d.user_id, d.pos, d.rk, d.points, d.reached_at FROM diff d"
					   "         WHERE NOT d.existed RETURNING 1), "
					   "meta AS (INSERT INTO lms.boards AS b (board, win, period_start, generated_at, total, source_mark, users_epoch, snap)"
					   "         VALUES ($1, $2, $7, $6, (SELECT count(*) FROM ranked), (%s),"
					   "                 (SELECT e.epoch FROM lms.board_epoch e), pg_catalog.pg_current_snapshot())"
					   "         ON CONFLICT (board, win) DO UPDATE SET period_start = EXCLUDED.period_start,"
					   "           generated_at = EXCLUDED.generated_at, total = EXCLUDED.total,"
					   "           source_mark = EXCLUDED.source_mark, users_epoch = EXCLUDED.users_epoch,"
					   "           snap = EXCLUDED.snap RETURNING 1) "
					   "SELECT (SELECT count(*) FROM del) + (SELECT count(*) FROM upd) + (SELECT count(*) FROM ins)"
					   "       + 0 * (SELECT count(*) FROM meta)",
					   sources[course][period], marks[course]);
		keep_plan(slot, sql, 7, types);
	}
	return *slot;
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
 * Bring one board up to date. force: rebuild now, waiting for a concurrent refresh of the same
 * board; otherwise only when it is missing, its period rolled over, or it changed and is older
 * than max_age_ms, and never waiting (another session refreshing it is as good). Returns true
 * when it refreshed. The caller is connected to SPI.
 */
static bool
board_refresh(BoardRef *b, bool force, int max_age_ms)
{
	TimestampTz now = lms_now();
	DateADT		pstart = 0;
	TimestampTz from = 0,
				to = 0;
	bool		period = (b->win != WIN_ALL);
	bool		course = (b->course_id != 0);
	Datum		values[7];
	char		nulls[7] = {' ', ' ', ' ', ' ', ' ', ' ', ' '};
	Oid			ltypes[1] = {TEXTOID};
	Datum		lvalues[1];
	char		lockname[64];
	bool		isnull;
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

		keep_plan(&plan_changed[course],
				  course ?
				  "SELECT b.period_start, b.generated_at,"
				  " (b.source_mark IS DISTINCT FROM (SELECT max(l.id) FROM lms.points_ledger l WHERE l.course_id = $3)"
				  "  OR b.users_epoch IS DISTINCT FROM (SELECT e.epoch FROM lms.board_epoch e)"
				  "  OR EXISTS (SELECT FROM pg_catalog.pg_snapshot_xip(b.snap) x"
				  "             WHERE pg_catalog.pg_xact_status(x) = 'committed'))"
				  " FROM lms.boards b WHERE b.board = $1 AND b.win = $2" :
				  "SELECT b.period_start, b.generated_at,"
				  " (b.source_mark IS DISTINCT FROM (SELECT max(l.id) FROM lms.points_ledger l)"
				  "  OR b.users_epoch IS DISTINCT FROM (SELECT e.epoch FROM lms.board_epoch e)"
				  "  OR EXISTS (SELECT FROM pg_catalog.pg_snapshot_xip(b.snap) x"
				  "             WHERE pg_catalog.pg_xact_status(x) = 'committed'))"
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
			if (pnull == !period && (!period || stored_start == pstart))
			{
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

	/* one refresher per board at a time */
	snprintf(lockname, sizeof(lockname), "%s:%s", b->name, window_names[b->win]);
	lvalues[0] = CStringGetTextDatum(lockname);
	if (force)
	{
		keep_plan(&plan_lock, "SELECT pg_catalog.pg_advisory_xact_lock(1280131906, pg_catalog.hashtext($1))", 1, ltypes);
		if (SPI_execute_plan(plan_lock, lvalues, NULL, false, 1) != SPI_OK_SELECT)
			elog(ERROR, "could not lock the leaderboard");
	}
	else
	{
		keep_plan(&plan_trylock, "SELECT pg_catalog.pg_try_advisory_xact_lock(1280131906, pg_catalog.hashtext($1))", 1, ltypes);
		if (SPI_execute_plan(plan_trylock, lvalues, NULL, false, 1) != SPI_OK_SELECT)
			elog(ERROR, "could not lock the leaderboard");
		if (!DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)))
			return false;
	}

	/* rank in memory: a board of a million learners sorts in ~100 MB (restored below) */
	save_nestlevel = NewGUCNestLevel();
	(void) set_config_option("work_mem", "262144", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	if (SPI_execute_plan(refresh_plan(course, period), values, nulls, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not refresh the leaderboard");
	AtEOXact_GUC(true, save_nestlevel);
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
			if (board_refresh(&b, force, 0))
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
	board_refresh(b, false, worker_serves_this_database() ? -1 : lms_leaderboard_refresh_interval_ms);
}

/*
 * Page rows: (rank, user_id, display_name, points, level). The caller is connected to SPI.
 * Reads run with read_only = false so that they see a refresh this call has just made.
 */
static void
page_rows(FunctionCallInfo fcinfo, BoardRef *b, int64 lim, int64 off)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid			types[4] = {TEXTOID, TEXTOID, INT8OID, INT8OID};
	Datum		values[4];
	uint64		i;

	keep_plan(&plan_page,
			  "SELECT e.rank, e.user_id, u.display_name, e.points, coalesce(s.level, 1)"
			  "  FROM lms.board_entries e JOIN lms.users u ON u.id = e.user_id"
			  "  LEFT JOIN lms.learner_scores s ON s.user_id = e.user_id"
			  " WHERE e.board = $1 AND e.win = $2 AND e.pos > $3 AND e.pos <= $3 + $4"
			  " ORDER BY e.pos",
			  4, types);
	values[0] = CStringGetTextDatum(b->name);
	values[1] = CStringGetTextDatum(window_names[b->win]);
	values[2] = Int64GetDatum(off);
	values[3] = Int64GetDatum(lim);
	if (SPI_execute_plan(plan_page, values, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the leaderboard");
	for (i = 0; i < SPI_processed; i++)
	{
		Datum		v[5];
		bool		n[5];
		int			c;

		for (c = 0; c < 5; c++)
			v[c] = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, c + 1, &n[c]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, n);
	}
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
 * One learner's (pos, rank, points) on a board, by primary key; false when not on it.
 * The caller is connected to SPI.
 */
static bool
board_me(BoardRef *b, int64 user_id, int32 *pos, int32 *rank, int64 *points)
{
	Oid			types[3] = {TEXTOID, TEXTOID, INT8OID};
	Datum		values[3];
	bool		isnull;
	HeapTuple	t;
	TupleDesc	d;

	keep_plan(&plan_me,
			  "SELECT e.pos, e.rank, e.points FROM lms.board_entries e"
			  " WHERE e.board = $1 AND e.win = $2 AND e.user_id = $3",
			  3, types);
	values[0] = CStringGetTextDatum(b->name);
	values[1] = CStringGetTextDatum(window_names[b->win]);
	values[2] = Int64GetDatum(user_id);
	if (SPI_execute_plan(plan_me, values, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read the leaderboard");
	if (SPI_processed == 0)
		return false;
	t = SPI_tuptable->vals[0];
	d = SPI_tuptable->tupdesc;
	*pos = DatumGetInt32(SPI_getbinval(t, d, 1, &isnull));
	*rank = DatumGetInt32(SPI_getbinval(t, d, 2, &isnull));
	*points = DatumGetInt64(SPI_getbinval(t, d, 3, &isnull));
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
	if (!PG_ARGISNULL(2) && board_me(&b, PG_GETARG_INT64(2), &pos, &rank, &points))
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
	if (board_me(&b, PG_GETARG_INT64(2), &pos, &rank, &points))
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
	keep_plan(&plan_meta,
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
