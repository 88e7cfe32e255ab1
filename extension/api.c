/*
 * api.c
 *	  Shared machinery of the C API functions and the C core: SPI plans prepared once per
 *	  backend, typed column reads, and lms.api_response values.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "utils/builtins.h"

#include "api.h"
#include "json_out.h"

/*
 * Prepare a statement once per backend. Plans survive DROP/CREATE EXTENSION: the plan cache
 * re-analyzes the saved query text when the objects it uses change.
 */
SPIPlanPtr
lms_plan(SPIPlanPtr *slot, const char *sql, int nargs, const Oid *types)
{
	SPIPlanPtr	plan;

	if (*slot != NULL)
		return *slot;
	plan = SPI_prepare(sql, nargs, (Oid *) types);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed for \"%s\": %s", sql, SPI_result_code_string(SPI_result));
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "SPI_keepplan failed");
	*slot = plan;
	return plan;
}

int
lms_exec(SPIPlanPtr plan, Datum *args, const char *nulls, bool read_only, long count)
{
	int			rc = SPI_execute_plan(plan, args, nulls, read_only, count);

	if (rc < 0)
		elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(rc));
	return rc;
}

bool
lms_col_isnull(int row, int col)
{
	bool		isnull;

	(void) SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col, &isnull);
	return isnull;
}

int64
lms_col_int64(int row, int col, int64 if_null)
{
	bool		isnull;
	Datum		d = SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col, &isnull);

	return isnull ? if_null : DatumGetInt64(d);
}

int32
lms_col_int32(int row, int col, int32 if_null)
{
	bool		isnull;
	Datum		d = SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col, &isnull);

	return isnull ? if_null : DatumGetInt32(d);
}

bool
lms_col_bool(int row, int col, bool if_null)
{
	bool		isnull;
	Datum		d = SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col, &isnull);

	return isnull ? if_null : DatumGetBool(d);
}

TimestampTz
lms_col_ts(int row, int col, bool *isnull)
{
	Datum		d = SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col, isnull);

	return *isnull ? 0 : DatumGetTimestampTz(d);
}

char *
lms_col_text(int row, int col)
{
	return SPI_getvalue(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col);
}

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
