/*
 * api.c
 *	  What the C API functions share: lms.api_response values (success and problem documents)
 *	  and the path argument's id.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "funcapi.h"
#include "utils/builtins.h"

#include "api.h"
#include "json_out.h"

/*
 * Build the (status, body) composite the calling convention prescribes.
 */
Datum
lms_response(FunctionCallInfo fcinfo, int status, const char *body)
{
	TupleDesc	tupdesc;
	Datum		values[2];
	bool		nulls[2] = {false, false};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "an API function must return lms.api_response");
	tupdesc = BlessTupleDesc(tupdesc);
	values[0] = Int32GetDatum(status);
	if (body == NULL)
		nulls[1] = true;
	else
		values[1] = CStringGetTextDatum(body);
	return HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls));
}

static const char *
status_title(int status)
{
	switch (status)
	{
		case 400:
			return "Bad Request";
		case 401:
			return "Unauthorized";
		case 403:
			return "Forbidden";
		case 404:
			return "Not Found";
		case 409:
			return "Conflict";
		case 422:
			return "Unprocessable Entity";
		default:
			return "Error";
	}
}

/*
 * The same document lms.problem() builds in SQL, normalized through jsonb so both agree
 * byte for byte.
 */
char *
lms_problem_text(int status, const char *code, const char *detail, const char *errors_json)
{
	StringInfoData buf;
	bool		first = true;
	const char *c;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	lms_json_key(&buf, "type", &first);
	appendStringInfoString(&buf, "\"https://lms.example/problems/");
	for (c = code; *c; c++)
		appendStringInfoChar(&buf, *c == '_' ? '-' : *c);
	appendStringInfoChar(&buf, '"');
	lms_json_key(&buf, "title", &first);
	lms_json_str(&buf, status_title(status));
	lms_json_key(&buf, "status", &first);
	lms_json_int(&buf, status);
	lms_json_key(&buf, "detail", &first);
	lms_json_str(&buf, detail);
	lms_json_key(&buf, "code", &first);
	lms_json_str(&buf, code);
	if (errors_json != NULL)
	{
		lms_json_key(&buf, "errors", &first);
		appendStringInfoString(&buf, errors_json);
	}
	appendStringInfoChar(&buf, '}');
	return lms_jsonb_to_text(lms_json_to_jsonb(buf.data));
}

Datum
lms_problem(FunctionCallInfo fcinfo, int status, const char *code, const char *detail,
			const char *errors_json)
{
	return lms_response(fcinfo, status, lms_problem_text(status, code, detail, errors_json));
}

/* Mirrors lms.path_id(): a positive 64-bit integer written in decimal digits only. */
int64
lms_path_id(text *path)
{
	const char *p;
	int			len,
				i;
	uint64		v = 0;

	if (path == NULL)
		return 0;
	p = VARDATA_ANY(path);
	len = VARSIZE_ANY_EXHDR(path);
	if (len < 1 || len > 19)
		return 0;
	for (i = 0; i < len; i++)
	{
		if (p[i] < '0' || p[i] > '9')
			return 0;
		v = v * 10 + (p[i] - '0');
	}
	if (v > (uint64) PG_INT64_MAX)
		return 0;
	return (int64) v;
}
