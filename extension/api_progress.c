/*
 * api_progress.c
 *	  POST /progress/lessons/{id}: the hottest route, so the whole request is C: the caller's
 *	  token, the body's validation, the core write and the answer, with no SQL glue.
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"

#include "api.h"
#include "contract.h"
#include "identity.h"
#include "json_out.h"
#include "progress.h"
#include "progress_answer.h"
#include "rules.h"

static void
add_error(StringInfo errs, const char *field, const char *message)
{
	bool		first = true;

	appendStringInfoString(errs, errs->len == 0 ? "[{" : ",{");
	lms_json_key(errs, "field", &first);
	lms_json_str(errs, field);
	lms_json_key(errs, "message", &first);
	lms_json_str(errs, message);
	appendStringInfoChar(errs, '}');
}

static JsonbValue *
body_field(Jsonb *body, const char *key)
{
	JsonbValue *v = getKeyJsonValueFromContainer(&body->root, key, strlen(key), NULL);

	if (v != NULL && v->type == jbvNull)
		return NULL;
	return v;
}

/*
 * A whole number of seconds: absent or null is 0; anything else must be an integral JSON
 * number from 0 to 2^31-1 (30 and 30.0 are fine, 30.5, -1 and "30" are not).
 */
static bool
body_seconds(Jsonb *body, const char *key, int32 *out)
{
	JsonbValue *v = body_field(body, key);
	char	   *s;
	const char *p;
	int64		acc = 0;
	bool		fraction = false;

	*out = 0;
	if (v == NULL)
		return true;
	if (v->type != jbvNumeric)
		return false;
	s = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(v->val.numeric)));
	for (p = s; *p; p++)
	{
		if (*p == '.')
			fraction = true;
		else if (*p < '0' || *p > '9')
			return false;		/* minus sign, exponent, NaN */
		else if (fraction)
		{
			if (*p != '0')
				return false;
		}
		else
		{
			acc = acc * 10 + (*p - '0');
			if (acc > LMS_SECONDS_MAX)
				return false;
		}
	}
	*out = (int32) acc;
	return true;
}

/*
 * lms.api_progress_record(token, path, query, body): body {watched_seconds,
 * last_position_seconds, completion_percentage, completed?}; 200 with the progress document,
 * 400 validation_failed / invalid_json, 401, 403 not_enrolled / lesson_locked, 404.
 */
PG_FUNCTION_INFO_V1(lms_api_progress_record);
Datum
lms_api_progress_record(PG_FUNCTION_ARGS)
{
	LmsRequest	req;
	LmsProgressInput in;
	LmsProgressAnswer ans;
	LmsScore	score;
	Jsonb	   *body;
	JsonbValue *v;
	StringInfoData errs;
	StringInfoData out;
	LmsProgressResult r;

	lms_request_open(PG_ARGISNULL(0) ? NULL : PG_GETARG_TEXT_PP(0),
					 PG_ARGISNULL(1) ? NULL : PG_GETARG_TEXT_PP(1),
					 PG_ARGISNULL(3) ? NULL : PG_GETARG_JSONB_P(3),
					 LMS_NEEDS_CALLER | LMS_NEEDS_ID | LMS_NEEDS_OBJECT, &req);
	if (req.problem != NULL)
		PG_RETURN_DATUM(lms_response(fcinfo, req.problem_status, req.problem));
	body = req.body;
	memset(&in, 0, sizeof(in));
	in.user_id = req.caller.user_id;
	in.lesson_id = req.id;

	initStringInfo(&errs);
	if (!body_seconds(body, "watched_seconds", &in.watched_seconds))
		add_error(&errs, "watched_seconds", "must be a whole number of seconds, 0 or more");
	if (!body_seconds(body, "last_position_seconds", &in.last_position_seconds))
		add_error(&errs, "last_position_seconds", "must be a whole number of seconds, 0 or more");
	v = body_field(body, "completion_percentage");
	if (v != NULL)
	{
		if (v->type != jbvNumeric || !lms_percentage_in_range(NumericGetDatum(v->val.numeric)))
			add_error(&errs, "completion_percentage", "must be a number from 0 to 100");
		else
			in.percent_hundredths = lms_percentage_hundredths(NumericGetDatum(v->val.numeric));
	}
	in.completed = -1;
	v = body_field(body, "completed");
	if (v != NULL)
	{
		if (v->type != jbvBool)
			add_error(&errs, "completed", "must be true or false");
		else
			in.completed = v->val.boolean ? 1 : 0;
	}
	if (errs.len > 0)
	{
		appendStringInfoChar(&errs, ']');
		PG_RETURN_DATUM(lms_problem(fcinfo, 400, "validation_failed",
									LMS_DETAIL_VALIDATION_FAILED, errs.data));
	}

	r = lms_progress_record(&in, &ans, &score);
	switch (r)
	{
		case LMS_PROGRESS_OK:
			break;
		case LMS_PROGRESS_NOT_FOUND:
			PG_RETURN_DATUM(lms_problem(fcinfo, 404, "not_found", "Lesson not found.", NULL));
		case LMS_PROGRESS_NOT_ENROLLED:
			PG_RETURN_DATUM(lms_problem(fcinfo, 403, "not_enrolled",
										"You are not enrolled in this course, or your access has ended.", NULL));
		case LMS_PROGRESS_LOCKED:
			PG_RETURN_DATUM(lms_problem(fcinfo, 403, "lesson_locked",
										"This lesson is not available yet.", NULL));
		case LMS_PROGRESS_COMPLETED_NOT_TEXT:
			PG_RETURN_DATUM(lms_problem(fcinfo, 400, "validation_failed",
										LMS_DETAIL_VALIDATION_FAILED,
										"[{\"field\":\"completed\",\"message\":\"applies to text lessons only\"}]"));
	}
	/* compact JSON straight from the builder: no jsonb round trip on the hottest route */
	initStringInfo(&out);
	lms_progress_answer_text(&out, &ans, &score);
	PG_RETURN_DATUM(lms_response(fcinfo, 200, out.data));
}
