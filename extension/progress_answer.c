/*
 * progress_answer.c
 *	  The progress write's answer, rendered: the contract's document as JSON text (the route,
 *	  api_progress.c) and as jsonb built directly (lms.record_progress), and the two SQL entry
 *	  points of the write, lms.record_progress and lms.complete_lesson.
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"

#include "json_out.h"
#include "progress.h"
#include "progress_answer.h"
#include "rules.h"
#include "scoring.h"

/* The request's new achievements: [{"code","title","points"}, ...] */
static void
grants_text(StringInfo out, const LmsScore *score)
{
	int			i;

	appendStringInfoChar(out, '[');
	for (i = 0; i < score->ngrants; i++)
	{
		bool		first = true;

		appendStringInfoString(out, i == 0 ? "{" : ",{");
		lms_json_key(out, "code", &first);
		lms_json_str(out, score->grants[i].code);
		lms_json_key(out, "title", &first);
		lms_json_str(out, score->grants[i].title);
		lms_json_key(out, "points", &first);
		lms_json_int(out, score->grants[i].points);
		appendStringInfoChar(out, '}');
	}
	appendStringInfoChar(out, ']');
}

void
lms_progress_answer_text(StringInfo out, const LmsProgressAnswer *a, const LmsScore *score)
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
	lms_json_hundredths(out, a->pct_hundredths);
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
	lms_json_hundredths(out, lms_percent_hundredths(a->completed_lessons, a->lesson_count));
	lms_json_key(out, "status", &first);
	lms_json_str(out, a->status);
	appendStringInfoString(out, "},\"certificate_eligible\":");
	lms_json_bool(out, strcmp(a->status, "completed") == 0);
	appendStringInfo(out, ",\"points_awarded\":" INT64_FORMAT ",\"total_points\":" INT64_FORMAT
					 ",\"level\":%d,\"streak\":{\"current\":%d,\"longest\":%d},\"new_achievements\":",
					 score->points_awarded, score->total_points, score->level,
					 score->streak_current, score->streak_longest);
	grants_text(out, score);
	appendStringInfoChar(out, '}');
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
 * The same document as lms_progress_answer_text, built as jsonb directly: parsing our own text back
 * (jsonb_in) was a tenth of the SQL interface's cost. New achievements are rare and carry
 * escaped titles: that answer still goes through the text.
 */
static Datum
answer_jsonb(const LmsProgressAnswer *a, const LmsScore *score)
{
	JsonbParseState *st = NULL;
	JsonbValue *res;
	StringInfoData buf;

	if (score->ngrants > 0)
	{
		initStringInfo(&buf);
		lms_progress_answer_text(&buf, a, score);
		return lms_json_to_jsonb(buf.data);
	}
	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	jb_key(&st, "lesson");
	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	jb_int(&st, "lesson_id", a->lesson_id);
	jb_int(&st, "watched_seconds", a->watched);
	jb_int(&st, "last_position_seconds", a->position);
	initStringInfo(&buf);
	lms_json_hundredths(&buf, a->pct_hundredths);
	jb_decimal(&st, "completion_percentage", buf.data);
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
	lms_json_hundredths(&buf, lms_percent_hundredths(a->completed_lessons, a->lesson_count));
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

/* Range checks of the SQL interface (the API reports the same rule as validation_failed). */
static void
check_progress_args(int32 watched, int32 position, Datum pct)
{
	if (watched < 0 || position < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("seconds must not be negative"),
				 errdetail("watched_seconds and last_position_seconds are 0 or more.")));
	if (!lms_percentage_in_range(pct))
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
	int			i;

	for (i = 0; i < 5; i++)
		if (PG_ARGISNULL(i))
			PG_RETURN_NULL();
	in.user_id = PG_GETARG_INT64(0);
	in.lesson_id = PG_GETARG_INT64(1);
	in.watched_seconds = PG_GETARG_INT32(2);
	in.last_position_seconds = PG_GETARG_INT32(3);
	check_progress_args(in.watched_seconds, in.last_position_seconds, PG_GETARG_DATUM(4));
	in.percent_hundredths = lms_percentage_hundredths(PG_GETARG_DATUM(4));
	in.completed = (PG_NARGS() > 5 && !PG_ARGISNULL(5)) ? (PG_GETARG_BOOL(5) ? 1 : 0) : -1;

	raise_progress_error(lms_progress_record(&in, &ans, &score));
	PG_RETURN_DATUM(answer_jsonb(&ans, &score));
}

/*
 * lms.complete_lesson(user_id, lesson_id [, reported]) -> jsonb {lesson_completed,
 * points_awarded, course_completed}: the quiz pass path, and a completion reported over xAPI
 * (reported: by a `completed` statement). Same exactly-once completion as a progress write;
 * lesson_completed is true only for the call that completed the lesson.
 */
PG_FUNCTION_INFO_V1(lms_complete_lesson);
Datum
lms_complete_lesson(PG_FUNCTION_ARGS)
{
	LmsScore	score;
	LmsCompletion done;
	StringInfoData out;

	(void) lms_progress_complete_lesson(PG_GETARG_INT64(0), PG_GETARG_INT64(1),
										PG_NARGS() > 2 && PG_GETARG_BOOL(2), &score, &done);
	initStringInfo(&out);
	appendStringInfo(&out, "{\"lesson_completed\":%s,\"points_awarded\":" INT64_FORMAT
					 ",\"course_completed\":%s}",
					 done.lesson_completed ? "true" : "false", score.points_awarded,
					 done.course_completed ? "true" : "false");
	PG_RETURN_DATUM(lms_json_to_jsonb(out.data));
}
