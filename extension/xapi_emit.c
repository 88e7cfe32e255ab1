/*
 * xapi_emit.c
 *	  The xAPI statements lms emits for its own events (docs/xapi.md, "From progress to the
 *	  LRS"): when, and what they say. Each hook is one call at its event site (progress.c,
 *	  enrollment.c, scoring.c; the quiz attempt and the set-based achievement grant in SQL call
 *	  the two SQL entry points at the end) and writes inside the caller's transaction, so a write
 *	  that rolls back emits nothing.
 *
 * The progress write is the hot path: a heartbeat every few seconds per playing video. It
 * emits per meaningful change, not per write: `progressed` when the lesson's stored (maximum)
 * percentage enters a quarter (25, 50, 75 %) it had not reached while the lesson is not
 * completed, so at most three per learner and lesson, and `completed` once. A heartbeat that
 * emits nothing costs one key look-up of the learner's row (its percentage before the write),
 * and none below 25 %.
 *
 * The look-ups run as writes (read_only false): a fresh snapshot sees what the caller just
 * wrote (the new enrollment, the attempt).
 *
 * One emission is: a look-up of what the statement names (titles and IRIs, from SQL's one home
 * for them, lms.xapi_activity_iri and lms.xapi_agent_of), the statement's JSON text built here,
 * and one prepared INSERT of the statement row and its filter rows. Its id is derived from the
 * event (a key such as "completed:lesson:<user>:<lesson>") and the database's secret
 * (lms.xapi_emitter, read each time: a 1-row table): a repeat of the event, such as two racing writes that both saw the
 * percentage below a quarter, stores one statement (ON CONFLICT DO NOTHING). Nothing runs when
 * lms.xapi_emit is off.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/cryptohash.h"
#include "common/sha2.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/uuid.h"

#include "json_out.h"
#include "lms.h"
#include "plans.h"
#include "xapi_emit.h"

/* The quarter a percentage (in hundredths) is in: 0 below 25 %, then 1, 2, 3 (75 % and above). */
#define QUARTER(pct_hundredths) Min((pct_hundredths) / 2500, 3)

#define VERB_ADL "http://adlnet.gov/expapi/verbs/"
#define VERB_EARNED "http://id.tincanapi.com/verb/earned"
#define EXT_PROGRESS "https://w3id.org/xapi/cmi5/result/extensions/progress"
#define AUTHORITY "{\"objectType\":\"Agent\",\"name\":\"lms\"," \
	"\"account\":{\"homePage\":\"urn:lms:system\",\"name\":\"lms\"}}"

/* What a statement says, gathered by its event's hook; emit() writes it. */
typedef struct Statement
{
	char	   *key;			/* the event: the statement id is derived from it */
	char	   *actor;			/* the learner as an Agent (JSON, lms.xapi_agent_of) */
	char	   *actor_ifi;		/* its identifier (lms.xapi_ifi), the key of its filter row */
	const char *verb;			/* registered, progressed, completed, passed, failed, earned */
	char	   *object_iri;
	char	   *definition;		/* the object's definition (JSON, lms.xapi_lms_definition), NULL: none */
	char	   *result;			/* a JSON object, NULL: none */
	int64		enrollment_id;	/* the registration's enrollment, 0: none */
	char	   *parent_iri;		/* the course of a lesson, NULL: none */
} Statement;

static SPIPlanPtr secret_plan = NULL;
static SPIPlanPtr insert_plan = NULL;
static SPIPlanPtr lesson_plan = NULL;
static SPIPlanPtr quiz_lesson_plan = NULL;
static SPIPlanPtr enrollment_plan = NULL;
static SPIPlanPtr attempt_plan = NULL;
static SPIPlanPtr achievement_plan = NULL;
static SPIPlanPtr points_object_plan = NULL;

/* ---- ids ---- */

/* The first 128 bits of SHA-256(secret, key) as a version-8 (custom) UUID, RFC 4122 variant. */
static void
event_uuid(const bytea *secret, const char *key, pg_uuid_t *out)
{
	uint8		digest[PG_SHA256_DIGEST_LENGTH];
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);

	if (ctx == NULL || pg_cryptohash_init(ctx) < 0
		|| pg_cryptohash_update(ctx, (const uint8 *) VARDATA_ANY(secret), VARSIZE_ANY_EXHDR(secret)) < 0
		|| pg_cryptohash_update(ctx, (const uint8 *) key, strlen(key)) < 0
		|| pg_cryptohash_final(ctx, digest, sizeof(digest)) < 0)
	{
		pg_cryptohash_free(ctx);
		elog(ERROR, "could not compute a SHA-256 digest");
	}
	pg_cryptohash_free(ctx);
	memcpy(out->data, digest, UUID_LEN);
	out->data[6] = (out->data[6] & 0x0f) | 0x80;
	out->data[8] = (out->data[8] & 0x3f) | 0x80;
}

/* The registration (xAPI context.registration) of everything a learner does in a course. */
static void
registration_uuid(const bytea *secret, int64 enrollment_id, pg_uuid_t *out)
{
	char		key[64];

	snprintf(key, sizeof(key), "registration:" INT64_FORMAT, enrollment_id);
	event_uuid(secret, key, out);
}

static void
append_uuid(StringInfo buf, const pg_uuid_t *u)
{
	appendStringInfoChar(buf, '"');
	for (int i = 0; i < UUID_LEN; i++)
	{
		if (i == 4 || i == 6 || i == 8 || i == 10)
			appendStringInfoChar(buf, '-');
		appendStringInfo(buf, "%02x", u->data[i]);
	}
	appendStringInfoChar(buf, '"');
}

/* The database's secret: the oldest row of lms.xapi_emitter (87_xapi_schema_lms.sql says why). */
static bytea *
emitter_secret(void)
{
	bool		isnull;
	Datum		d;

	lms_read_plan(&secret_plan, "SELECT secret FROM lms.xapi_emitter ORDER BY made_at LIMIT 1", 0, NULL);
	lms_exec(secret_plan, NULL, NULL, true, 1);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("lms.xapi_emitter holds no secret"),
				 errdetail("The ids of the statements lms emits are derived from it; the extension's install script makes it.")));
	d = lms_col_datum(0, 1, &isnull);
	return DatumGetByteaPCopy(d);
}

/* ---- the statement ---- */

/* An activity object, with its definition when it has one. */
static void
append_object(StringInfo buf, const Statement *st)
{
	appendStringInfoString(buf, "{\"objectType\":\"Activity\",\"id\":");
	lms_json_str(buf, st->object_iri);
	if (st->definition != NULL)
		appendStringInfo(buf, ",\"definition\":%s", st->definition);
	appendStringInfoChar(buf, '}');
}

/*
 * Store the statement: the row and its filter rows (the actor and the object direct, the
 * authority and the parent course related, as lms.xapi_statement_agent_links and
 * _activity_links give for this shape: sql/xapi_lms.sql checks both agree), in one statement. A statement
 * already stored (the same event again) stores nothing. The definitions of lms's activities
 * are not written to lms.xapi_activities: GET /xapi/activities reads lms's own
 * (lms.xapi_lms_activity_definition), so no two writers queue on an activity's row.
 */
static void
emit(const Statement *st)
{
	static const Oid itypes[8] = {UUIDOID, TEXTOID, UUIDOID, TIMESTAMPTZOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID};
	TimestampTz now = lms_now();
	bytea	   *secret = emitter_secret();
	pg_uuid_t  *id = palloc(sizeof(pg_uuid_t));
	pg_uuid_t  *registration = palloc(sizeof(pg_uuid_t));
	StringInfoData buf;
	Datum		args[8];
	char		nulls[8] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};
	char	   *verb_iri = strcmp(st->verb, "earned") == 0 ? VERB_EARNED : psprintf(VERB_ADL "%s", st->verb);

	event_uuid(secret, st->key, id);
	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"id\":");
	append_uuid(&buf, id);
	appendStringInfo(&buf, ",\"actor\":%s,\"verb\":{\"id\":", st->actor);
	lms_json_str(&buf, verb_iri);
	appendStringInfo(&buf, ",\"display\":{\"en-US\":\"%s\"}},\"object\":", st->verb);
	append_object(&buf, st);
	if (st->result != NULL)
		appendStringInfo(&buf, ",\"result\":%s", st->result);
	appendStringInfoString(&buf, ",\"context\":{\"platform\":\"lms\"");
	if (st->enrollment_id != 0)
	{
		registration_uuid(secret, st->enrollment_id, registration);
		appendStringInfoString(&buf, ",\"registration\":");
		append_uuid(&buf, registration);
	}
	if (st->parent_iri != NULL)
	{
		appendStringInfoString(&buf, ",\"contextActivities\":{\"parent\":[{\"objectType\":\"Activity\",\"id\":");
		lms_json_str(&buf, st->parent_iri);
		appendStringInfoString(&buf, "}]}");
	}
	appendStringInfoString(&buf, "},\"timestamp\":");
	lms_json_ts(&buf, now, false);
	appendStringInfoString(&buf, ",\"stored\":");
	lms_json_ts(&buf, now, false);
	appendStringInfoString(&buf, ",\"authority\":" AUTHORITY ",\"version\":\"1.0.0\"}");

	args[0] = UUIDPGetDatum(id);
	args[1] = CStringGetTextDatum(buf.data);
	args[2] = UUIDPGetDatum(registration);
	nulls[2] = st->enrollment_id != 0 ? ' ' : 'n';
	args[3] = TimestampTzGetDatum(now);
	args[4] = CStringGetTextDatum(st->actor_ifi);
	args[5] = CStringGetTextDatum(st->object_iri);
	args[6] = st->parent_iri ? CStringGetTextDatum(st->parent_iri) : (Datum) 0;
	nulls[6] = st->parent_iri ? ' ' : 'n';
	args[7] = CStringGetTextDatum(verb_iri);
	/* the authority's identifier is a constant of the plan */
	lms_plan(&insert_plan,
			 "WITH ins AS ("
			 "  INSERT INTO lms.xapi_statements (id, statement, verb_id, registration, stored)"
			 "  VALUES ($1, $2::jsonb, $8, $3, $4)"
			 "  ON CONFLICT (id) DO NOTHING RETURNING seq),"
			 " ag AS ("
			 "  INSERT INTO lms.xapi_statement_agents (agent, seq, direct)"
			 "  SELECT l.agent, ins.seq, l.direct FROM ins,"
			 "    (VALUES ($5, true), (lms.xapi_ifi('" AUTHORITY "'::jsonb), false)) l(agent, direct))"
			 " INSERT INTO lms.xapi_statement_activities (activity, seq, direct)"
			 " SELECT l.activity, ins.seq, l.direct FROM ins, (VALUES ($6, true), ($7, false)) l(activity, direct)"
			 " WHERE l.activity IS NOT NULL",
			 8, itypes);
	lms_exec_expect(insert_plan, args, nulls, false, 0, SPI_OK_INSERT, "store an lms statement");
}

/* ---- what each event's statement names ---- */

/*
 * The lesson (by id, or the quiz's lesson by quiz id) as object, its course as parent, the
 * learner as actor and the learner's enrollment in the course; false when there is no lesson.
 */
static bool
look_up_lesson(int64 user_id, int64 lesson_id, int64 quiz_id, Statement *st)
{
	static const Oid types[2] = {INT8OID, INT8OID};
	Datum		args[2] = {Int64GetDatum(user_id), Int64GetDatum(quiz_id != 0 ? quiz_id : lesson_id)};
#define LESSON_SQL \
	"SELECT lms.xapi_agent_of($1)::text, lms.xapi_ifi(lms.xapi_agent_of($1)), lms.xapi_activity_iri('lesson', le.id)," \
	"       lms.xapi_lms_definition('lesson', le.title)::text," \
	"       lms.xapi_activity_iri('course', le.course_id)," \
	"       (SELECT en.id FROM lms.enrollments en WHERE en.user_id = $1 AND en.course_id = le.course_id) " \
	"FROM lms.lessons le WHERE le.id = "

	if (quiz_id != 0)
		lms_read_plan(&quiz_lesson_plan,
					  LESSON_SQL "(SELECT q.lesson_id FROM lms.quizzes q WHERE q.id = $2)", 2, types);
	else
		lms_read_plan(&lesson_plan, LESSON_SQL "$2", 2, types);
	lms_exec(quiz_id != 0 ? quiz_lesson_plan : lesson_plan, args, NULL, false, 1);
	if (SPI_processed == 0)
		return false;
	st->actor = lms_col_text(0, 1);
	st->actor_ifi = lms_col_text(0, 2);
	st->object_iri = lms_col_text(0, 3);
	st->definition = lms_col_text(0, 4);
	st->parent_iri = lms_col_text(0, 5);
	st->enrollment_id = lms_col_int64(0, 6, 0);
	return true;
}

/* The enrollment's course as object, its learner as actor; the start of the enrollment in *started. */
static bool
look_up_enrollment(int64 enrollment_id, Statement *st, TimestampTz *started)
{
	static const Oid types[1] = {INT8OID};
	Datum		args[1] = {Int64GetDatum(enrollment_id)};
	bool		isnull;

	lms_read_plan(&enrollment_plan,
				  "SELECT lms.xapi_agent_of(en.user_id)::text, lms.xapi_ifi(lms.xapi_agent_of(en.user_id)),"
				  "       lms.xapi_activity_iri('course', c.id),"
				  "       lms.xapi_lms_definition('course', c.title)::text,"
				  "       en.enrolled_at "
				  "FROM lms.enrollments en JOIN lms.courses c ON c.id = en.course_id WHERE en.id = $1",
				  1, types);
	lms_exec(enrollment_plan, args, NULL, false, 1);
	if (SPI_processed == 0)
		return false;
	st->actor = lms_col_text(0, 1);
	st->actor_ifi = lms_col_text(0, 2);
	st->object_iri = lms_col_text(0, 3);
	st->definition = lms_col_text(0, 4);
	st->enrollment_id = enrollment_id;
	*started = lms_col_ts(0, 5, &isnull);
	return true;
}

/* A result with extensions of lms's own vocabulary: <lms.xapi_iri_base>/xapi/extensions/<name>. */
static void
append_extension_key(StringInfo buf, const char *name)
{
	StringInfoData iri;

	initStringInfo(&iri);
	appendStringInfo(&iri, "%s/xapi/extensions/%s", lms_xapi_iri_base ? lms_xapi_iri_base : "", name);
	lms_json_str(buf, iri.data);
	appendStringInfoChar(buf, ':');
}

/* ---- the hooks ---- */

/*
 * Whether lms emits: lms.xapi_emit is on and the schema has the LRS (a 1.0 install running this
 * library has none until ALTER EXTENSION lms UPDATE).
 */
static bool
emitting(void)
{
	return lms_xapi_emit && lms_schema_has("xapi_emitter");
}

bool
lms_xapi_wants_percentage(int32 pct_hundredths)
{
	return emitting() && QUARTER(pct_hundredths) > 0;
}

void
lms_xapi_progressed(int64 user_id, int64 lesson_id, int64 enrollment_id, int32 pct_before,
					int32 pct_after, bool completed, int32 watched, int32 position)
{
	Statement	st = {0};
	StringInfoData result;

	if (!emitting() || completed || pct_before < 0 || QUARTER(pct_after) <= QUARTER(pct_before))
		return;
	lms_spi_connect();
	if (look_up_lesson(user_id, lesson_id, 0, &st))
	{
		st.key = psprintf("progressed:" INT64_FORMAT ":" INT64_FORMAT ":%d", user_id, lesson_id,
						  QUARTER(pct_after));
		st.verb = "progressed";
		initStringInfo(&result);
		appendStringInfoString(&result, "{\"extensions\":{\"" EXT_PROGRESS "\":");
		lms_json_int(&result, pct_after / 100);
		appendStringInfoChar(&result, ',');
		append_extension_key(&result, "watched-seconds");
		lms_json_int(&result, watched);
		appendStringInfoChar(&result, ',');
		append_extension_key(&result, "position-seconds");
		lms_json_int(&result, position);
		appendStringInfoString(&result, "}}");
		st.result = result.data;
		st.enrollment_id = enrollment_id;
		emit(&st);
	}
	SPI_finish();
}

void
lms_xapi_lesson_completed(int64 user_id, int64 lesson_id, int64 enrollment_id, bool reported)
{
	Statement	st = {0};

	if (!emitting() || reported)
		return;
	lms_spi_connect();
	if (look_up_lesson(user_id, lesson_id, 0, &st))
	{
		st.key = psprintf("completed:lesson:" INT64_FORMAT ":" INT64_FORMAT, user_id, lesson_id);
		st.verb = "completed";
		st.result = "{\"completion\":true}";
		st.enrollment_id = enrollment_id;
		emit(&st);
	}
	SPI_finish();
}

void
lms_xapi_course_completed(int64 enrollment_id)
{
	Statement	st = {0};
	TimestampTz started;

	if (!emitting())
		return;
	lms_spi_connect();
	if (look_up_enrollment(enrollment_id, &st, &started))
	{
		/* once per learner and course: the enrollment row is the learner's only one */
		st.key = psprintf("completed:course:" INT64_FORMAT, enrollment_id);
		st.verb = "completed";
		st.result = "{\"completion\":true}";
		emit(&st);
	}
	SPI_finish();
}

void
lms_xapi_registered(int64 enrollment_id)
{
	Statement	st = {0};
	TimestampTz started;

	if (!emitting())
		return;
	lms_spi_connect();
	if (look_up_enrollment(enrollment_id, &st, &started))
	{
		/* each start of the enrollment (a re-activation starts it again) */
		st.key = psprintf("registered:" INT64_FORMAT ":" INT64_FORMAT, enrollment_id, (int64) started);
		st.verb = "registered";
		emit(&st);
	}
	SPI_finish();
}

void
lms_xapi_points(int64 user_id, int32 points, const char *reason, const char *source_key,
				int64 course_id, int64 source_id)
{
	static const Oid types[4] = {INT8OID, TEXTOID, INT8OID, INT8OID};
	Statement	st = {0};
	StringInfoData result;
	bool		found;

	/* achievement points are in the achievement's own statement; corrections down are not earned */
	if (!emitting() || points <= 0 || strcmp(reason, "achievement") == 0)
		return;
	lms_spi_connect();
	if (strcmp(reason, "lesson_completed") == 0)
		found = look_up_lesson(user_id, source_id, 0, &st);
	else if (strncmp(reason, "quiz_", 5) == 0)
		found = look_up_lesson(user_id, 0, source_id, &st);
	else
		found = false;
	if (!found)
	{
		/* the course it was earned on, else <base>/xapi/activities/points/<reason> */
		Datum		args[4] = {Int64GetDatum(user_id), CStringGetTextDatum(reason),
		Int64GetDatum(strcmp(reason, "course_completed") == 0 ? source_id : 0), Int64GetDatum(course_id)};

		lms_read_plan(&points_object_plan,
					  "SELECT lms.xapi_agent_of($1)::text, lms.xapi_ifi(lms.xapi_agent_of($1)),"
					  "       coalesce(lms.xapi_activity_iri('course', c.id), lms.xapi_activity_iri('points', $2)),"
					  "       coalesce(lms.xapi_lms_definition('course', c.title), lms.xapi_lms_definition('points', $2))::text,"
					  "       (SELECT en.id FROM lms.enrollments en WHERE en.user_id = $1 AND en.course_id = $4) "
					  "FROM (SELECT) one LEFT JOIN lms.courses c ON c.id = $3",
					  4, types);
		lms_exec(points_object_plan, args, NULL, false, 1);
		st.actor = lms_col_text(0, 1);
		st.actor_ifi = lms_col_text(0, 2);
		st.object_iri = lms_col_text(0, 3);
		st.definition = lms_col_text(0, 4);
		st.enrollment_id = lms_col_int64(0, 5, 0);
	}
	st.key = psprintf("points:%s", source_key);
	st.verb = "earned";
	initStringInfo(&result);
	appendStringInfoString(&result, "{\"score\":{\"raw\":");
	lms_json_int(&result, points);
	appendStringInfoString(&result, "},\"extensions\":{");
	append_extension_key(&result, "points-reason");
	lms_json_str(&result, reason);
	appendStringInfoString(&result, "}}");
	st.result = result.data;
	emit(&st);
	SPI_finish();
}

void
lms_xapi_achievement(int64 user_id, int64 achievement_id)
{
	static const Oid types[2] = {INT8OID, INT8OID};
	Datum		args[2] = {Int64GetDatum(user_id), Int64GetDatum(achievement_id)};
	Statement	st = {0};

	if (!emitting())
		return;
	lms_spi_connect();
	lms_read_plan(&achievement_plan,
				  "SELECT lms.xapi_agent_of($1)::text, lms.xapi_ifi(lms.xapi_agent_of($1)),"
				  "       lms.xapi_activity_iri('achievement', a.id),"
				  "       lms.xapi_lms_definition('achievement', a.title)::text, a.points "
				  "FROM lms.achievements a WHERE a.id = $2",
				  2, types);
	lms_exec(achievement_plan, args, NULL, false, 1);
	if (SPI_processed == 1)
	{
		int32		points = lms_col_int32(0, 5, 0);

		st.actor = lms_col_text(0, 1);
		st.actor_ifi = lms_col_text(0, 2);
		st.object_iri = lms_col_text(0, 3);
		st.definition = lms_col_text(0, 4);
		if (points > 0)
			st.result = psprintf("{\"score\":{\"raw\":%d}}", points);
		st.key = psprintf("achievement:" INT64_FORMAT ":" INT64_FORMAT, user_id, achievement_id);
		st.verb = "earned";
		emit(&st);
	}
	SPI_finish();
}

/* passed / failed: a quiz attempt with its score (scaled 0..1, raw 0..100) and number. */
static void
emit_attempt(int64 attempt_id)
{
	static const Oid types[1] = {INT8OID};
	Datum		args[1] = {Int64GetDatum(attempt_id)};
	Statement	st = {0};
	StringInfoData result;
	char	   *scaled,
			   *raw;
	bool		passed;
	int32		attempt_no;
	int64		user_id,
				quiz_id;

	lms_read_plan(&attempt_plan,
				  "SELECT qa.user_id, qa.quiz_id, pg_catalog.trim_scale(qa.score / 100)::text,"
				  "       pg_catalog.trim_scale(qa.score)::text, qa.passed, qa.attempt_no "
				  "FROM lms.quiz_attempts qa WHERE qa.id = $1",
				  1, types);
	lms_exec(attempt_plan, args, NULL, false, 1);
	if (SPI_processed == 0)
		return;
	user_id = lms_col_int64(0, 1, 0);
	quiz_id = lms_col_int64(0, 2, 0);
	scaled = lms_col_text(0, 3);
	raw = lms_col_text(0, 4);
	passed = lms_col_bool(0, 5, false);
	attempt_no = lms_col_int32(0, 6, 0);
	if (!look_up_lesson(user_id, 0, quiz_id, &st))
		return;
	st.key = psprintf("attempt:" INT64_FORMAT, attempt_id);
	st.verb = passed ? "passed" : "failed";
	initStringInfo(&result);
	appendStringInfo(&result, "{\"score\":{\"scaled\":%s,\"raw\":%s,\"min\":0,\"max\":100},\"success\":%s,"
					 "\"extensions\":{", scaled, raw, passed ? "true" : "false");
	append_extension_key(&result, "attempt");
	lms_json_int(&result, attempt_no);
	appendStringInfoString(&result, "}}");
	st.result = result.data;
	emit(&st);
}

/* ---- SQL ---- */

PG_FUNCTION_INFO_V1(lms_xapi_emit_attempt);

/*
 * lms.xapi_emit_attempt(attempt_id): the quiz attempt's statement (called by the attempt route
 * in its transaction).
 */
Datum
lms_xapi_emit_attempt(PG_FUNCTION_ARGS)
{
	if (emitting())
	{
		lms_spi_connect();
		emit_attempt(PG_GETARG_INT64(0));
		SPI_finish();
	}
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(lms_xapi_emit_achievement);

/*
 * lms.xapi_emit_achievement(user_id, achievement_id): a grant's statement (the set-based grant
 * of lms.grant_qualifying_achievements).
 */
Datum
lms_xapi_emit_achievement(PG_FUNCTION_ARGS)
{
	lms_xapi_achievement(PG_GETARG_INT64(0), PG_GETARG_INT64(1));
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(lms_xapi_event_id);

/*
 * lms.xapi_event_id(secret, event_key) -> uuid: the id of the statement recording an event.
 */
Datum
lms_xapi_event_id(PG_FUNCTION_ARGS)
{
	pg_uuid_t  *u = palloc(sizeof(pg_uuid_t));

	event_uuid(PG_GETARG_BYTEA_PP(0), text_to_cstring(PG_GETARG_TEXT_PP(1)), u);
	PG_RETURN_UUID_P(u);
}

PG_FUNCTION_INFO_V1(lms_xapi_registration);

/*
 * lms.xapi_registration(enrollment_id) -> uuid: the registration of the enrollment's
 * statements.
 */
Datum
lms_xapi_registration(PG_FUNCTION_ARGS)
{
	pg_uuid_t  *u = palloc(sizeof(pg_uuid_t));

	lms_spi_connect();
	registration_uuid(emitter_secret(), PG_GETARG_INT64(0), u);	/* writes into u */
	SPI_finish();
	PG_RETURN_UUID_P(u);
}

PG_FUNCTION_INFO_V1(lms_xapi_emit_enabled);

/*
 * lms.xapi_emit_enabled() -> the setting lms.xapi_emit.
 */
Datum
lms_xapi_emit_enabled(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(lms_xapi_emit);
}
