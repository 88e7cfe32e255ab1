/*
 * progress.c
 *	  The hottest write: a progress report every few seconds per playing video.
 *
 * One call does, in this order (the house lock order):
 *	 1. key lookups of the lesson, its course and the learner's enrollment (access rules);
 *	 2. when this write completes the lesson: the lesson row (KEY SHARE, against a concurrent
 *		unpublish), then the course row if it may also complete the course;
 *	 3. the enrollment's last activity (its row lock serializes this learner's writes in the
 *		course), then the lesson_progress upsert (monotonic maxima, latest position);
 *	 4. when the write reaches completion: a guarded UPDATE ... WHERE NOT is_completed, which
 *		flips the row for exactly one caller, whatever the retries and concurrent duplicates;
 *	 5. only for that caller: the enrollment's and the module's completed counters, the
 *		lesson's points, and, when the last lesson completes, the enrollment's completion, the
 *		course's active count and the course bonus.
 * Nothing scans the course's lessons or the learner's progress: every step is a key lookup.
 * A steady-state write (no completion) is key lookups, the enrollment's update done in C (an
 * ordinary MVCC update with its index entries, not through the executor) and one SQL
 * statement, the lesson_progress upsert; on an already active day the scoring hooks are
 * skipped.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "api.h"
#include "enrollment.h"
#include "json_out.h"
#include "lms.h"
#include "progress.h"
#include "relcache.h"
#include "scoring.h"

/*
 * Step 1 reads four rows by primary or unique key. Through SQL that was a four-table join whose
 * executor start-up cost more than the lookups themselves (a fifth of the whole call), so it
 * is done with direct index lookups instead: relation, index and column numbers are resolved
 * once per backend and forgotten on any relcache invalidation of those relations (DDL, or
 * DROP/CREATE EXTENSION in the same session).
 */
enum
{
	REL_LESSONS,
	REL_COURSES,
	REL_ENROLLMENTS,
	REL_PROGRESS,
	REL_USERS,
	REL_SCORES,
	REL_ENROLLMENT_BY_ID,		/* enrollments again, by its primary key */
	REL_COUNT
};

/* lessons columns, then courses, enrollments and lesson_progress columns */
enum
{
	L_ID, L_KIND, L_DURATION, L_POINTS, L_MODULE, L_COURSE, L_PUBLISHED, L_AVAILABLE, L_NCOLS
};
static const char *const l_cols[L_NCOLS] = {"id", "kind", "duration_seconds", "points", "module_id",
"course_id", "is_published", "available_from"};
static AttrNumber l_att[L_NCOLS];
enum
{
	C_ID, C_PUBLISHED, C_LESSON_COUNT, C_NCOLS
};
static const char *const c_cols[C_NCOLS] = {"id", "is_published", "lesson_count"};
static AttrNumber c_att[C_NCOLS];
enum
{
	E_USER, E_COURSE, E_ID, E_STATUS, E_EXPIRES, E_COMPLETED, E_LAST_AT, E_LAST_LESSON,
	E_LAST_POSITION, E_NCOLS
};
static const char *const e_cols[E_NCOLS] = {"user_id", "course_id", "id", "status", "expires_at",
"completed_lessons", "last_activity_at", "last_lesson_id", "last_position_seconds"};
static AttrNumber e_att[E_NCOLS];
enum
{
	P_USER, P_LESSON, P_COMPLETED, P_NCOLS
};
static const char *const p_cols[P_NCOLS] = {"user_id", "lesson_id", "is_completed"};
static AttrNumber p_att[P_NCOLS];
enum
{
	U_ID, U_TIMEZONE, U_NCOLS
};
static const char *const u_cols[U_NCOLS] = {"id", "timezone"};
static AttrNumber u_att[U_NCOLS];
enum
{
	S_USER, S_LAST_DAY, S_TOTAL, S_LEVEL, S_CURRENT, S_LONGEST, S_NCOLS
};
static const char *const s_cols[S_NCOLS] = {"user_id", "last_activity_date", "total_points", "level",
"current_streak", "longest_streak"};
static AttrNumber s_att[S_NCOLS];

static LmsRel rels[REL_COUNT] = {
	[REL_LESSONS] = {"lessons", "lessons_pkey", l_cols, L_NCOLS, l_att},
	[REL_COURSES] = {"courses", "courses_pkey", c_cols, C_NCOLS, c_att},
	[REL_ENROLLMENTS] = {"enrollments", "enrollments_user_id_course_id_key", e_cols, E_NCOLS, e_att},
	[REL_PROGRESS] = {"lesson_progress", "lesson_progress_pkey", p_cols, P_NCOLS, p_att},
	[REL_USERS] = {"users", "users_pkey", u_cols, U_NCOLS, u_att},
	[REL_SCORES] = {"learner_scores", "learner_scores_pkey", s_cols, S_NCOLS, s_att},
	[REL_ENROLLMENT_BY_ID] = {"enrollments", "enrollments_pkey", NULL, 0, NULL},
};
static LmsRelSet relset = {rels, REL_COUNT};

/*
 * One row by its key (int8 columns, equality) under snap; copies the wanted columns out
 * (by-reference values are copied into the current memory context). The relation stays
 * locked AccessShare until the end of the transaction, as a query would leave it.
 */
static bool
fetch_row(int which, int nkeys, const AttrNumber *key_atts, const int64 *key_vals,
		  Snapshot snap, int ncols, const AttrNumber *atts, Datum *vals, bool *nulls)
{
	Relation	rel = table_open(rels[which].relid, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	ScanKeyData keys[2];
	SysScanDesc scan;
	HeapTuple	tup;
	bool		found;
	int			i;

	for (i = 0; i < nkeys; i++)
		ScanKeyInit(&keys[i], key_atts[i], BTEqualStrategyNumber, F_INT8EQ,
					Int64GetDatum(key_vals[i]));
	scan = systable_beginscan(rel, rels[which].indexid, true, snap, nkeys, keys);
	tup = systable_getnext(scan);
	found = HeapTupleIsValid(tup);
	if (found)
		for (i = 0; i < ncols; i++)
		{
			Form_pg_attribute a = TupleDescAttr(desc, atts[i] - 1);

			vals[i] = heap_getattr(tup, atts[i], desc, &nulls[i]);
			if (!nulls[i] && !a->attbyval)
				vals[i] = datumCopy(vals[i], false, a->attlen);
		}
	systable_endscan(scan);
	table_close(rel, NoLock);
	return found;
}

/*
 * Step 3's last-activity update of the enrollment, without the executor: the row by its key,
 * locked as UPDATE would lock it (the latest version, waiting for a concurrent writer), the
 * liveness condition re-checked on that version, three columns replaced. Through SQL this
 * statement re-read and re-planned every CHECK constraint of lms.enrollments on each call
 * (the executor prepares them per statement), none of which involves the columns written
 * here; last_position_seconds is 0 or more by the caller's validation. Index entries are added
 * when the update is not HOT, with their predicates, as the executor would.
 *
 * Returns 1 when updated (status and completed lessons of the locked row in *status_out /
 * *completed_out), 0 when the enrollment is gone or no longer live, -1 when the table has a
 * trigger on UPDATE other than foreign-key checks (which only act on key changes): then the
 * caller uses the SQL statement, so that no trigger is bypassed.
 */
static int
touch_enrollment(int64 enrollment_id, TimestampTz now, int64 lesson_id, bool keep_position,
				 int32 position, char *status_out, size_t status_len, int32 *completed_out)
{
	Relation	rel = table_open(rels[REL_ENROLLMENTS].relid, RowExclusiveLock);
	TupleDesc	desc = RelationGetDescr(rel);
	Snapshot	snap;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	ItemPointerData tid;
	TupleTableSlot *slot;
	TM_FailureData tmfd;
	TM_Result	res;
	int			result = 0;

	if (rel->trigdesc != NULL)
	{
		int			i;

		for (i = 0; i < rel->trigdesc->numtriggers; i++)
		{
			Trigger    *t = &rel->trigdesc->triggers[i];

			if (TRIGGER_FOR_UPDATE(t->tgtype) && RI_FKey_trigger_type(t->tgfoid) == RI_TRIGGER_NONE)
			{
				table_close(rel, NoLock);
				return -1;
			}
		}
	}

	/* see this transaction's own earlier writes of the row */
	CommandCounterIncrement();
	snap = RegisterSnapshot(GetTransactionSnapshot());
	ScanKeyInit(&key, e_att[E_ID], BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(enrollment_id));
	scan = systable_beginscan(rel, rels[REL_ENROLLMENT_BY_ID].indexid, true, snap, 1, &key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
		tid = tup->t_self;
	systable_endscan(scan);
	if (!HeapTupleIsValid(tup))
	{
		UnregisterSnapshot(snap);
		table_close(rel, NoLock);
		return 0;
	}

	slot = table_slot_create(rel, NULL);
	res = table_tuple_lock(rel, &tid, snap, slot, GetCurrentCommandId(true),
						   LockTupleNoKeyExclusive, LockWaitBlock,
						   TUPLE_LOCK_FLAG_FIND_LAST_VERSION, &tmfd);
	if (res == TM_Ok)
	{
		bool		isnull;
		Datum		st = slot_getattr(slot, e_att[E_STATUS], &isnull);
		char	   *status = isnull ? NULL : TextDatumGetCString(st);
		Datum		ex = slot_getattr(slot, e_att[E_EXPIRES], &isnull);
		bool		live;

		live = status != NULL &&
			(strcmp(status, "completed") == 0 ||
			 (strcmp(status, "active") == 0 && (isnull || DatumGetTimestampTz(ex) > now)));
		if (live)
		{
			Datum	   *values = palloc0(sizeof(Datum) * desc->natts);
			bool	   *nulls = palloc0(sizeof(bool) * desc->natts);
			bool	   *repl = palloc0(sizeof(bool) * desc->natts);
			bool		should_free;
			HeapTuple	old = ExecFetchSlotHeapTuple(slot, false, &should_free);
			HeapTuple	newtup;

			*completed_out = DatumGetInt32(slot_getattr(slot, e_att[E_COMPLETED], &isnull));
			if (isnull)
				*completed_out = 0;
			strlcpy(status_out, status, status_len);

			values[e_att[E_LAST_AT] - 1] = TimestampTzGetDatum(now);
			repl[e_att[E_LAST_AT] - 1] = true;
			values[e_att[E_LAST_LESSON] - 1] = Int64GetDatum(lesson_id);
			repl[e_att[E_LAST_LESSON] - 1] = true;
			if (!keep_position)
			{
				values[e_att[E_LAST_POSITION] - 1] = Int32GetDatum(position);
				repl[e_att[E_LAST_POSITION] - 1] = true;
			}
			newtup = heap_modify_tuple(old, desc, values, nulls, repl);
			simple_heap_update(rel, &slot->tts_tid, newtup);

			if (!HeapTupleIsHeapOnly(newtup))
			{
				EState	   *estate = CreateExecutorState();
				ResultRelInfo *rri = makeNode(ResultRelInfo);
				TupleTableSlot *nslot;

				InitResultRelInfo(rri, rel, 1, NULL, 0);
				ExecOpenIndices(rri, false);
				nslot = ExecInitExtraTupleSlot(estate, desc, &TTSOpsHeapTuple);
				ExecStoreHeapTuple(newtup, nslot, false);
				/* update = false: only a hint (indexUnchanged) that needs a range table */
				(void) ExecInsertIndexTuples(rri, nslot, estate, false, false, NULL, NIL);
				ExecCloseIndices(rri);
				ExecResetTupleTable(estate->es_tupleTable, false);
				FreeExecutorState(estate);
			}
			if (should_free)
				heap_freetuple(old);
			result = 1;
		}
	}
	else if (res != TM_Deleted)
		elog(ERROR, "could not lock enrollment " INT64_FORMAT ": result %d", enrollment_id, (int) res);
	ExecDropSingleTupleTableSlot(slot);
	UnregisterSnapshot(snap);
	table_close(rel, NoLock);
	/* the statements that follow see the update */
	CommandCounterIncrement();
	return result;
}

static SPIPlanPtr lock_lesson_plan = NULL;
static SPIPlanPtr lock_course_plan = NULL;
static SPIPlanPtr write_plan = NULL;
static SPIPlanPtr upsert_plan = NULL;
static SPIPlanPtr flip_plan = NULL;
static SPIPlanPtr count_plan = NULL;
static SPIPlanPtr module_plan = NULL;
static SPIPlanPtr course_done_plan = NULL;

/*
 * The answer's values, copied out of SPI memory, so that the API route can write them as JSON
 * text and the SQL interface can build its jsonb directly (no text round trip).
 */
typedef struct LmsProgressAnswer
{
	int64		lesson_id;
	int32		watched;
	int32		position;
	int32		pct_hundredths;
	bool		done;
	bool		at_null;
	TimestampTz at;
	int64		course_id;
	int32		completed_lessons;
	int32		lesson_count;
	char		status[16];
} LmsProgressAnswer;

/* What a completion did, for the callers that need more than the document. */
typedef struct LmsCompletion
{
	bool		lesson_completed;	/* this call flipped is_completed */
	bool		course_completed;	/* this call completed the enrollment */
} LmsCompletion;

int32
lms_percent_hundredths(Datum numeric)
{
	Datum		r = DirectFunctionCall2(numeric_round, numeric, Int32GetDatum(2));
	Datum		m = DirectFunctionCall2(numeric_mul, r,
										DirectFunctionCall1(int4_numeric, Int32GetDatum(100)));

	return DatumGetInt32(DirectFunctionCall1(numeric_int4, m));
}

/*
 * The write itself. force_complete is the quiz pass (lms.complete_lesson): the lesson
 * completes whatever its kind, and the position and times are left alone. score collects the
 * awards; the caller owns it. Runs inside the caller's SPI connection.
 */
static LmsProgressResult
progress_apply(const LmsProgressInput *in, bool force_complete, LmsScore *score,
			   LmsCompletion *done, LmsProgressAnswer *ans)
{
	static const Oid read_types[2] = {INT8OID, INT8OID};	/* lock_lesson_plan */
	static const Oid lock_types[1] = {INT8OID};
	static const Oid write_types[9] = {INT8OID, INT8OID, INT8OID, INT8OID, INT4OID, INT4OID,
	INT4OID, TIMESTAMPTZOID, INT8OID};
	static const Oid flip_types[3] = {INT8OID, INT8OID, TIMESTAMPTZOID};
	static const Oid count_types[2] = {INT8OID, TIMESTAMPTZOID};
	static const Oid module_types[2] = {INT8OID, INT8OID};
	TimestampTz now = lms_now();
	Datum		args[10];
	char		nulls[10];
	char	   *kind;
	int32		duration,
				points,
				lesson_count,
				completed_lessons;
	int64		module_id,
				course_id,
				enrollment_id;
	bool		avail_null,
				exp_null,
				flipped,
				want_complete;
	TimestampTz avail,
				exp;
	char	   *status;
	char	   *old_status;
	char	   *predict_status;
	int32		predict_completed;
	bool		already_completed;
	LmsAccess	access;
	int32		watched = in->watched_seconds;
	int32		position = in->last_position_seconds;
	int32		pct = in->percent_hundredths;
	int32		r_watched,
				r_position,
				r_pct;
	bool		r_done,
				r_at_null;
	TimestampTz r_at;
	bool		lesson_published,
				course_published;
	int			touched;
	char		touched_status[16];

	memset(done, 0, sizeof(*done));
	memset(nulls, ' ', sizeof(nulls));

	/* 1. lesson, course, enrollment (and, for a completion, the learner's row): key lookups */
	{
		Snapshot	snap;
		Datum		lv[L_NCOLS],
					cv[C_NCOLS],
					ev[E_NCOLS];
		bool		ln[L_NCOLS],
					cn[C_NCOLS],
					en[E_NCOLS];
		int64		keys[2];
		bool		found;

		lms_relset_resolve(&relset);
		snap = RegisterSnapshot(GetTransactionSnapshot());
		keys[0] = in->lesson_id;
		found = fetch_row(REL_LESSONS, 1, &l_att[L_ID], keys, snap, L_NCOLS, l_att, lv, ln);
		if (found)
		{
			keys[0] = DatumGetInt64(lv[L_COURSE]);
			found = fetch_row(REL_COURSES, 1, &c_att[C_ID], keys, snap, C_NCOLS, c_att, cv, cn);
		}
		if (!found)
		{
			UnregisterSnapshot(snap);
			return LMS_PROGRESS_NOT_FOUND;
		}
		kind = TextDatumGetCString(lv[L_KIND]);
		duration = ln[L_DURATION] ? 0 : DatumGetInt32(lv[L_DURATION]);
		points = ln[L_POINTS] ? 0 : DatumGetInt32(lv[L_POINTS]);
		module_id = DatumGetInt64(lv[L_MODULE]);
		course_id = DatumGetInt64(lv[L_COURSE]);
		avail_null = ln[L_AVAILABLE];
		avail = avail_null ? 0 : DatumGetTimestampTz(lv[L_AVAILABLE]);
		lesson_count = cn[C_LESSON_COUNT] ? 0 : DatumGetInt32(cv[C_LESSON_COUNT]);

		keys[0] = in->user_id;
		keys[1] = course_id;
		if (fetch_row(REL_ENROLLMENTS, 2, &e_att[E_USER], keys, snap, E_NCOLS, e_att, ev, en))
		{
			enrollment_id = DatumGetInt64(ev[E_ID]);
			old_status = en[E_STATUS] ? NULL : TextDatumGetCString(ev[E_STATUS]);
			exp_null = en[E_EXPIRES];
			exp = exp_null ? 0 : DatumGetTimestampTz(ev[E_EXPIRES]);
			predict_completed = en[E_COMPLETED] ? 0 : DatumGetInt32(ev[E_COMPLETED]);
		}
		else
		{
			enrollment_id = 0;
			old_status = NULL;
			exp_null = true;
			exp = 0;
			predict_completed = 0;
		}

		/* the learner's row only matters to a write that may complete the lesson */
		already_completed = false;
		if (force_complete || (strcmp(kind, "text") == 0 && in->completed == 1) ||
			(strcmp(kind, "video") == 0 && pct >= lms_completion_threshold * 100))
		{
			Datum		pv[1];
			bool		pn[1];

			keys[0] = in->user_id;
			keys[1] = in->lesson_id;
			if (fetch_row(REL_PROGRESS, 2, &p_att[P_USER], keys, snap, 1, &p_att[P_COMPLETED], pv, pn))
				already_completed = !pn[0] && DatumGetBool(pv[0]);
		}
		UnregisterSnapshot(snap);
		predict_status = old_status;
		lesson_published = !ln[L_PUBLISHED] && DatumGetBool(lv[L_PUBLISHED]);
		course_published = !cn[C_PUBLISHED] && DatumGetBool(cv[C_PUBLISHED]);
	}
	access = lms_access_decide(false, false, lesson_published, course_published,
							   false, old_status, exp_null, exp, avail_null, avail, now);
	switch (access)
	{
		case LMS_ACCESS_OK:
			break;
		case LMS_ACCESS_NOT_FOUND:
			return LMS_PROGRESS_NOT_FOUND;
		case LMS_ACCESS_LOCKED:
			return LMS_PROGRESS_LOCKED;
		default:
			return LMS_PROGRESS_NOT_ENROLLED;
	}
	if (in->completed != -1 && strcmp(kind, "text") != 0)
		return LMS_PROGRESS_COMPLETED_NOT_TEXT;

	if (duration > 0)
	{
		watched = Min(watched, duration);
		position = Min(position, duration);
	}
	if (force_complete)
		want_complete = true;
	else if (strcmp(kind, "video") == 0)
		want_complete = pct >= lms_completion_threshold * 100;
	else if (strcmp(kind, "text") == 0)
		want_complete = (in->completed == 1);
	else
	{
		/* quiz lessons complete only by passing the quiz: record time, nothing more */
		want_complete = false;
		pct = 0;
	}

	/*
	 * 2a. a completion changes counters that unpublishing the lesson also changes: hold the
	 * lesson (KEY SHARE, as a foreign key check would) so an author's unpublish (FOR UPDATE)
	 * either waits for this write or is seen by it. Only completing writes pay this, so
	 * re-watching a popular lesson does not pile lockers onto its row.
	 */
	if (want_complete && !already_completed)
	{
		args[0] = Int64GetDatum(in->lesson_id);
		lms_plan(&lock_lesson_plan,
				 "SELECT c.lesson_count, e.completed_lessons, e.status "
				 "FROM lms.lessons l JOIN lms.courses c ON c.id = l.course_id "
				 "LEFT JOIN lms.enrollments e ON e.id = $2 "
				 "WHERE l.id = $1 AND l.is_published FOR KEY SHARE OF l", 2, read_types);
		args[1] = Int64GetDatum(enrollment_id);
		lms_exec(lock_lesson_plan, args, NULL, false, 1);
		if (SPI_processed != 1)
			return LMS_PROGRESS_NOT_FOUND;	/* unpublished meanwhile */
		lesson_count = lms_col_int32(0, 1, 0);
		predict_completed = lms_col_int32(0, 2, 0);
		predict_status = lms_col_text(0, 3);
	}

	/* 2b. the course row first when this write may complete the course (lock order) */
	if (want_complete && !already_completed && predict_status != NULL &&
		strcmp(predict_status, "active") == 0 && predict_completed + 1 >= lesson_count)
	{
		args[0] = Int64GetDatum(course_id);
		lms_plan(&lock_course_plan,
				 "SELECT 1 FROM lms.courses WHERE id = $1 FOR NO KEY UPDATE", 1, lock_types);
		lms_exec(lock_course_plan, args, NULL, false, 1);
	}

	/*
	 * 3+4. last activity on the enrollment (its row lock serializes this learner's writes in
	 * the course; nothing when the enrollment was dropped or expired meanwhile), directly
	 * (touch_enrollment), then the lesson_progress upsert: monotonic maxima, latest position
	 * (kept by the quiz path). ON CONFLICT works on the latest committed row, so is_completed as
	 * returned is current. With an UPDATE trigger of its own on lms.enrollments, both are one
	 * SQL statement as before.
	 */
	args[0] = Int64GetDatum(in->user_id);
	args[1] = Int64GetDatum(in->lesson_id);
	args[2] = Int64GetDatum(course_id);
	args[3] = Int64GetDatum(module_id);
	args[4] = Int32GetDatum(watched);
	args[5] = Int32GetDatum(position);
	nulls[5] = force_complete ? 'n' : ' ';
	args[6] = Int32GetDatum(pct);
	args[7] = TimestampTzGetDatum(now);
	args[8] = Int64GetDatum(enrollment_id);
	touched = touch_enrollment(enrollment_id, now, in->lesson_id, force_complete, position,
							   touched_status, sizeof(touched_status), &completed_lessons);
	if (touched == 0)
		return LMS_PROGRESS_NOT_ENROLLED;	/* dropped or expired meanwhile */
	if (touched == 1)
	{
		lms_plan(&upsert_plan,
				 "INSERT INTO lms.lesson_progress AS lp (user_id, lesson_id, course_id, module_id, "
				 "  watched_seconds, last_position_seconds, completion_percentage, is_completed, "
				 "  completed_at, started_at, updated_at) "
				 "VALUES ($1, $2, $3, $4, $5, coalesce($6, 0), $7::numeric / 100, false, NULL, $8, $8) "
				 "ON CONFLICT (user_id, lesson_id) DO UPDATE SET "
				 "  watched_seconds = GREATEST(lp.watched_seconds, EXCLUDED.watched_seconds), "
				 "  last_position_seconds = CASE WHEN $6 IS NULL THEN lp.last_position_seconds "
				 "                               ELSE EXCLUDED.last_position_seconds END, "
				 "  completion_percentage = GREATEST(lp.completion_percentage, EXCLUDED.completion_percentage), "
				 "  updated_at = EXCLUDED.updated_at "
				 "RETURNING watched_seconds, last_position_seconds, (completion_percentage * 100)::int4, "
				 "          is_completed, completed_at",
				 8, write_types);
		lms_exec(upsert_plan, args, nulls, false, 0);
		if (SPI_processed != 1)
			elog(ERROR, "the progress upsert returned no row");
		old_status = touched_status;
	}
	else
	{
		lms_plan(&write_plan,
				 "WITH t AS (UPDATE lms.enrollments SET last_activity_at = $8, last_lesson_id = $2, "
				 "             last_position_seconds = coalesce($6, last_position_seconds) "
				 "           WHERE id = $9 AND (status = 'completed' OR (status = 'active' "
				 "                 AND (expires_at IS NULL OR expires_at > $8))) "
				 "           RETURNING status, completed_lessons) "
				 "INSERT INTO lms.lesson_progress AS lp (user_id, lesson_id, course_id, module_id, "
				 "  watched_seconds, last_position_seconds, completion_percentage, is_completed, "
				 "  completed_at, started_at, updated_at) "
				 "SELECT $1, $2, $3, $4, $5, coalesce($6, 0), $7::numeric / 100, false, NULL, $8, $8 FROM t "
				 "ON CONFLICT (user_id, lesson_id) DO UPDATE SET "
				 "  watched_seconds = GREATEST(lp.watched_seconds, EXCLUDED.watched_seconds), "
				 "  last_position_seconds = CASE WHEN $6 IS NULL THEN lp.last_position_seconds "
				 "                               ELSE EXCLUDED.last_position_seconds END, "
				 "  completion_percentage = GREATEST(lp.completion_percentage, EXCLUDED.completion_percentage), "
				 "  updated_at = EXCLUDED.updated_at "
				 "RETURNING watched_seconds, last_position_seconds, (completion_percentage * 100)::int4, "
				 "          is_completed, completed_at, "
				 "          (SELECT t.status FROM t), (SELECT t.completed_lessons FROM t)",
				 9, write_types);
		lms_exec(write_plan, args, nulls, false, 0);
		if (SPI_processed != 1)
			return LMS_PROGRESS_NOT_ENROLLED;	/* dropped or expired meanwhile */
		old_status = lms_col_text(0, 6);
		completed_lessons = lms_col_int32(0, 7, 0);
	}
	r_watched = lms_col_int32(0, 1, 0);
	r_position = lms_col_int32(0, 2, 0);
	r_pct = lms_col_int32(0, 3, 0);
	r_done = lms_col_bool(0, 4, false);
	r_at = lms_col_ts(0, 5, &r_at_null);
	status = old_status;

	/*
	 * 4b. the completion itself, guarded: only an UPDATE that finds the row not completed
	 * flips it. A concurrent duplicate waits on the row lock, re-checks the condition on the
	 * committed row and flips nothing, so exactly one call counts the completion.
	 */
	flipped = false;
	if (want_complete && !r_done)
	{
		args[0] = Int64GetDatum(in->user_id);
		args[1] = Int64GetDatum(in->lesson_id);
		args[2] = TimestampTzGetDatum(now);
		lms_plan(&flip_plan,
				 "UPDATE lms.lesson_progress SET is_completed = true, completed_at = $3 "
				 "WHERE user_id = $1 AND lesson_id = $2 AND NOT is_completed RETURNING completed_at",
				 3, flip_types);
		lms_exec(flip_plan, args, NULL, false, 0);
		if (SPI_processed == 1)
		{
			flipped = true;
			r_done = true;
			r_at = lms_col_ts(0, 1, &r_at_null);
		}
	}

	/* 5. exactly once: only the call that flipped the row counts and awards */
	if (flipped)
	{
		done->lesson_completed = true;
		args[0] = Int64GetDatum(enrollment_id);
		args[1] = TimestampTzGetDatum(now);
		lms_plan(&count_plan,
				 "UPDATE lms.enrollments e SET completed_lessons = e.completed_lessons + 1, "
				 "  status = CASE WHEN e.status = 'active' AND e.completed_lessons + 1 >= c.lesson_count "
				 "                THEN 'completed' ELSE e.status END, "
				 "  completed_at = CASE WHEN e.status = 'active' AND e.completed_lessons + 1 >= c.lesson_count "
				 "                      THEN $2 ELSE e.completed_at END "
				 "FROM lms.courses c WHERE e.id = $1 AND c.id = e.course_id "
				 "RETURNING e.status, e.completed_lessons", 2, count_types);
		lms_exec(count_plan, args, NULL, false, 0);
		status = lms_col_text(0, 1);
		completed_lessons = lms_col_int32(0, 2, 0);

		args[0] = Int64GetDatum(in->user_id);
		args[1] = Int64GetDatum(module_id);
		lms_plan(&module_plan,
				 "INSERT INTO lms.module_progress AS mp (user_id, module_id, completed_lessons) "
				 "VALUES ($1, $2, 1) ON CONFLICT (user_id, module_id) "
				 "DO UPDATE SET completed_lessons = mp.completed_lessons + 1", 2, module_types);
		lms_exec(module_plan, args, NULL, false, 0);

		if (strcmp(old_status, "active") == 0 && strcmp(status, "completed") == 0)
		{
			done->course_completed = true;
			args[0] = Int64GetDatum(course_id);
			lms_plan(&course_done_plan,
					 "UPDATE lms.courses SET active_enrollments = active_enrollments - 1 WHERE id = $1",
					 1, lock_types);
			lms_exec(course_done_plan, args, NULL, false, 0);
		}
		lms_score_lesson_completed(in->user_id, course_id, in->lesson_id, points, score);
		if (done->course_completed)
			lms_score_course_completed(in->user_id, course_id, score);
	}

	if (ans != NULL)
	{
		ans->lesson_id = in->lesson_id;
		ans->watched = r_watched;
		ans->position = r_position;
		ans->pct_hundredths = r_pct;
		ans->done = r_done;
		ans->at_null = r_at_null;
		ans->at = r_at;
		ans->course_id = course_id;
		ans->completed_lessons = completed_lessons;
		ans->lesson_count = lesson_count;
		strlcpy(ans->status, status, sizeof(ans->status));
	}
	return LMS_PROGRESS_OK;
}

/* The contract's answer as JSON text (the API route; the SQL interface when it is rare). */
static void
answer_text(StringInfo out, const LmsProgressAnswer *a, const LmsScore *score)
{
	bool		first = true;

	appendStringInfoString(out, "{\"lesson\":{");
	lms_json_key(out, "lesson_id", &first);
	lms_json_int(out, a->lesson_id);
	lms_json_key(out, "watched_seconds", &first);
	lms_json_int(out, a->watched);
	lms_json_key(out, "last_position_seconds", &first);
	lms_json_int(out, a->position);
	lms_json_key(out, "completion_percentage", &first);
	appendStringInfo(out, "%d.%02d", a->pct_hundredths / 100, a->pct_hundredths % 100);
	lms_json_key(out, "is_completed", &first);
	lms_json_bool(out, a->done);
	lms_json_key(out, "completed_at", &first);
	lms_json_ts(out, a->at, a->at_null);
	appendStringInfoString(out, "},\"course\":{");
	first = true;
	lms_json_key(out, "course_id", &first);
	lms_json_int(out, a->course_id);
	lms_json_key(out, "completed_lessons", &first);
	lms_json_int(out, Min(a->completed_lessons, a->lesson_count));
	lms_json_key(out, "total_lessons", &first);
	lms_json_int(out, a->lesson_count);
	lms_json_key(out, "progress_percentage", &first);
	lms_json_percent(out, a->completed_lessons, a->lesson_count);
	lms_json_key(out, "status", &first);
	lms_json_str(out, a->status);
	appendStringInfoString(out, "},\"certificate_eligible\":");
	lms_json_bool(out, strcmp(a->status, "completed") == 0);
	appendStringInfo(out, ",\"points_awarded\":" INT64_FORMAT ",\"total_points\":" INT64_FORMAT
					 ",\"level\":%d,\"streak\":{\"current\":%d,\"longest\":%d},\"new_achievements\":[%s]}",
					 score->points_awarded, score->total_points, score->level,
					 score->streak_current, score->streak_longest, score->new_achievements.data);
}

/* jsonb building blocks for answer_jsonb */
static void
jb_key(JsonbParseState **st, const char *key)
{
	JsonbValue	v;

	v.type = jbvString;
	v.val.string.val = (char *) key;
	v.val.string.len = strlen(key);
	pushJsonbValue(st, WJB_KEY, &v);
}

static void
jb_numeric(JsonbParseState **st, const char *key, Numeric n)
{
	JsonbValue	v;

	jb_key(st, key);
	v.type = jbvNumeric;
	v.val.numeric = n;
	pushJsonbValue(st, WJB_VALUE, &v);
}

static void
jb_int(JsonbParseState **st, const char *key, int64 i)
{
	jb_numeric(st, key, int64_to_numeric(i));
}

/* a decimal written as text (the same digits and scale as in the text answer) */
static void
jb_decimal(JsonbParseState **st, const char *key, const char *text)
{
	jb_numeric(st, key, DatumGetNumeric(DirectFunctionCall3(numeric_in, CStringGetDatum(text),
															ObjectIdGetDatum(InvalidOid),
															Int32GetDatum(-1))));
}

static void
jb_bool(JsonbParseState **st, const char *key, bool b)
{
	JsonbValue	v;

	jb_key(st, key);
	v.type = jbvBool;
	v.val.boolean = b;
	pushJsonbValue(st, WJB_VALUE, &v);
}

static void
jb_string(JsonbParseState **st, const char *key, const char *s)
{
	JsonbValue	v;

	jb_key(st, key);
	if (s == NULL)
		v.type = jbvNull;
	else
	{
		v.type = jbvString;
		v.val.string.val = (char *) s;
		v.val.string.len = strlen(s);
	}
	pushJsonbValue(st, WJB_VALUE, &v);
}

/*
 * The same document as answer_text, built as jsonb directly: parsing our own text back
 * (jsonb_in) was a tenth of the SQL interface's cost. New achievements are rare and carry
 * escaped titles: that answer still goes through the text.
 */
static Datum
answer_jsonb(const LmsProgressAnswer *a, const LmsScore *score)
{
	JsonbParseState *st = NULL;
	JsonbValue *res;
	StringInfoData buf;
	char		num[32];

	if (score->new_achievements.len > 0)
	{
		initStringInfo(&buf);
		answer_text(&buf, a, score);
		return lms_json_to_jsonb(buf.data);
	}
	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	jb_key(&st, "lesson");
	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	jb_int(&st, "lesson_id", a->lesson_id);
	jb_int(&st, "watched_seconds", a->watched);
	jb_int(&st, "last_position_seconds", a->position);
	snprintf(num, sizeof(num), "%d.%02d", a->pct_hundredths / 100, a->pct_hundredths % 100);
	jb_decimal(&st, "completion_percentage", num);
	jb_bool(&st, "is_completed", a->done);
	if (a->at_null)
		jb_string(&st, "completed_at", NULL);
	else
	{
		initStringInfo(&buf);
		lms_json_ts(&buf, a->at, false);
		/* drop the quotes the JSON text writer puts around it */
		buf.data[buf.len - 1] = '\0';
		jb_string(&st, "completed_at", buf.data + 1);
	}
	pushJsonbValue(&st, WJB_END_OBJECT, NULL);
	jb_key(&st, "course");
	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	jb_int(&st, "course_id", a->course_id);
	jb_int(&st, "completed_lessons", Min(a->completed_lessons, a->lesson_count));
	jb_int(&st, "total_lessons", a->lesson_count);
	initStringInfo(&buf);
	lms_json_percent(&buf, a->completed_lessons, a->lesson_count);
	jb_decimal(&st, "progress_percentage", buf.data);
	jb_string(&st, "status", a->status);
	pushJsonbValue(&st, WJB_END_OBJECT, NULL);
	jb_bool(&st, "certificate_eligible", strcmp(a->status, "completed") == 0);
	jb_int(&st, "points_awarded", score->points_awarded);
	jb_int(&st, "total_points", score->total_points);
	jb_int(&st, "level", score->level);
	jb_key(&st, "streak");
	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	jb_int(&st, "current", score->streak_current);
	jb_int(&st, "longest", score->streak_longest);
	pushJsonbValue(&st, WJB_END_OBJECT, NULL);
	jb_key(&st, "new_achievements");
	pushJsonbValue(&st, WJB_BEGIN_ARRAY, NULL);
	pushJsonbValue(&st, WJB_END_ARRAY, NULL);
	res = pushJsonbValue(&st, WJB_END_OBJECT, NULL);
	return JsonbPGetDatum(JsonbValueToJsonb(res));
}

/*
 * The hot case of the streak hook (scoring.c, count_activity): the learner was already active
 * on today's date in their time zone, so the write changes nothing in scoring and where the
 * learner stands is their scores row as it is. Two key lookups instead of the hook's SQL read
 * and lms_score_finish's. Runs after the write and its awards (a fresh snapshot sees them);
 * anything else (first activity of the day, no scores row) returns false for the hooks.
 */
static bool
activity_already_counted(int64 user_id, LmsScore *score)
{
	Snapshot	snap;
	Datum		uv[U_NCOLS],
				sv[S_NCOLS];
	bool		un[U_NCOLS],
				sn[S_NCOLS];
	int64		key = user_id;
	bool		counted = false;

	if (score->points_awarded != 0 || score->new_achievements.len > 0)
		return false;
	lms_relset_resolve(&relset);
	snap = RegisterSnapshot(GetTransactionSnapshot());
	if (fetch_row(REL_SCORES, 1, &s_att[S_USER], &key, snap, S_NCOLS, s_att, sv, sn) &&
		!sn[S_LAST_DAY] &&
		fetch_row(REL_USERS, 1, &u_att[U_ID], &key, snap, U_NCOLS, u_att, uv, un) && !un[U_TIMEZONE])
	{
		DateADT		day = lms_active_day(uv[U_TIMEZONE], lms_now());

		if (day <= DatumGetDateADT(sv[S_LAST_DAY]))
		{
			counted = true;
			score->total_points = sn[S_TOTAL] ? 0 : DatumGetInt64(sv[S_TOTAL]);
			score->level = sn[S_LEVEL] ? 1 : DatumGetInt32(sv[S_LEVEL]);
			score->streak_current = sn[S_CURRENT] ? 0 : DatumGetInt32(sv[S_CURRENT]);
			score->streak_longest = sn[S_LONGEST] ? 0 : DatumGetInt32(sv[S_LONGEST]);
			score->standing_known = true;
		}
	}
	UnregisterSnapshot(snap);
	return counted;
}

/* The write with its scoring; ans and score are filled for LMS_PROGRESS_OK. */
static LmsProgressResult
record_with_score(const LmsProgressInput *in, LmsProgressAnswer *ans, LmsScore *score)
{
	LmsCompletion done;
	LmsProgressResult r;

	lms_score_init(score);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	r = progress_apply(in, false, score, &done, ans);
	if (r == LMS_PROGRESS_OK && !activity_already_counted(in->user_id, score))
	{
		/* every accepted write is activity for the learner's streak day */
		lms_score_activity(in->user_id, score);
		lms_score_finish(in->user_id, score);
	}
	SPI_finish();
	return r;
}

LmsProgressResult
lms_progress_record(const LmsProgressInput *in, StringInfo out)
{
	LmsScore	score;
	LmsProgressAnswer ans;
	LmsProgressResult r;

	r = record_with_score(in, &ans, &score);
	if (r == LMS_PROGRESS_OK)
		answer_text(out, &ans, &score);
	return r;
}

/* SQL-interface errors for what the API answers with problem documents. */
static void
raise_progress_error(LmsProgressResult r)
{
	switch (r)
	{
		case LMS_PROGRESS_NOT_FOUND:
			ereport(ERROR,
					(errcode(ERRCODE_NO_DATA_FOUND),
					 errmsg("lesson not found"),
					 errdetail("The lesson does not exist, or it or its course is not published.")));
			break;
		case LMS_PROGRESS_NOT_ENROLLED:
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("not enrolled"),
					 errdetail("The learner has no active or completed enrollment in this course.")));
			break;
		case LMS_PROGRESS_LOCKED:
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("lesson locked"),
					 errdetail("The lesson is not available yet.")));
			break;
		case LMS_PROGRESS_COMPLETED_NOT_TEXT:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("completed applies to text lessons only"),
					 errdetail("Video lessons complete at the completion threshold; quiz lessons by passing the quiz.")));
			break;
		case LMS_PROGRESS_OK:
			break;
	}
}

/* Range checks of the SQL interface (the API reports the same as validation_failed). */
static void
check_progress_args(int32 watched, int32 position, Datum pct)
{
	if (watched < 0 || position < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("seconds must not be negative"),
				 errdetail("watched_seconds and last_position_seconds are 0 or more.")));
	if (DatumGetBool(DirectFunctionCall2(numeric_lt, pct,
										 DirectFunctionCall1(int4_numeric, Int32GetDatum(0)))) ||
		DatumGetBool(DirectFunctionCall2(numeric_gt, pct,
										 DirectFunctionCall1(int4_numeric, Int32GetDatum(100)))))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("completion_percentage must be between 0 and 100"),
				 errdetail("A percentage is a number from 0 to 100.")));
}

/*
 * lms.record_progress(user_id, lesson_id, watched_seconds, last_position_seconds,
 * completion_percentage [, completed]) -> jsonb: the SQL interface of the progress write,
 * the same document as POST /progress/lessons/{id}; failures raise errors.
 */
PG_FUNCTION_INFO_V1(lms_record_progress);
Datum
lms_record_progress(PG_FUNCTION_ARGS)
{
	LmsProgressInput in;
	LmsProgressAnswer ans;
	LmsScore	score;
	LmsProgressResult r;
	int			i;

	for (i = 0; i < 5; i++)
		if (PG_ARGISNULL(i))
			PG_RETURN_NULL();
	in.user_id = PG_GETARG_INT64(0);
	in.lesson_id = PG_GETARG_INT64(1);
	in.watched_seconds = PG_GETARG_INT32(2);
	in.last_position_seconds = PG_GETARG_INT32(3);
	check_progress_args(in.watched_seconds, in.last_position_seconds, PG_GETARG_DATUM(4));
	in.percent_hundredths = lms_percent_hundredths(PG_GETARG_DATUM(4));
	in.completed = (PG_NARGS() > 5 && !PG_ARGISNULL(5)) ? (PG_GETARG_BOOL(5) ? 1 : 0) : -1;

	r = record_with_score(&in, &ans, &score);
	raise_progress_error(r);
	PG_RETURN_DATUM(answer_jsonb(&ans, &score));
}

/*
 * lms.complete_lesson(user_id, lesson_id) -> jsonb {lesson_completed, points_awarded,
 * course_completed}: the quiz pass path. Same exactly-once completion as a progress write;
 * lesson_completed is true only for the call that completed the lesson.
 */
PG_FUNCTION_INFO_V1(lms_complete_lesson);
Datum
lms_complete_lesson(PG_FUNCTION_ARGS)
{
	LmsProgressInput in;
	LmsScore	score;
	LmsCompletion done;
	LmsProgressResult r;
	StringInfoData out;

	memset(&in, 0, sizeof(in));
	in.user_id = PG_GETARG_INT64(0);
	in.lesson_id = PG_GETARG_INT64(1);
	in.completed = -1;

	lms_score_init(&score);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	r = progress_apply(&in, true, &score, &done, NULL);
	SPI_finish();
	if (r != LMS_PROGRESS_OK)
		memset(&done, 0, sizeof(done));

	initStringInfo(&out);
	appendStringInfo(&out, "{\"lesson_completed\":%s,\"points_awarded\":" INT64_FORMAT
					 ",\"course_completed\":%s}",
					 done.lesson_completed ? "true" : "false", score.points_awarded,
					 done.course_completed ? "true" : "false");
	PG_RETURN_DATUM(lms_json_to_jsonb(out.data));
}
