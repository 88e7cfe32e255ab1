/*
 * api.c
 *	  The contract layer of the extension: lms.api_response values, problem documents, the
 *	  path's id and the opening every route shares, for the C routes and (through the SQL
 *	  functions at the end) the PL/pgSQL ones. The fixed parts (type address, titles, detail
 *	  texts, id syntax) come from contract/contract.h, which the gateway compiles too.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/typcache.h"

#include "api.h"
#include "contract.h"
#include "identity.h"
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

/*
 * The problem document, normalized through jsonb so that every problem of the extension reads
 * the same byte for byte whoever built it. NULL code, detail or errors are left out.
 */
char *
lms_problem_text(int status, const char *code, const char *detail, const char *errors_json)
{
	StringInfoData buf;
	bool		first = true;
	const char *c;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	if (code != NULL)
	{
		lms_json_key(&buf, "type", &first);
		appendStringInfoString(&buf, "\"" LMS_PROBLEM_TYPE_BASE);
		for (c = code; *c; c++)
			appendStringInfoChar(&buf, *c == '_' ? '-' : *c);
		appendStringInfoChar(&buf, '"');
	}
	lms_json_key(&buf, "title", &first);
	lms_json_str(&buf, lms_status_title(status));
	lms_json_key(&buf, "status", &first);
	lms_json_int(&buf, status);
	if (detail != NULL)
	{
		lms_json_key(&buf, "detail", &first);
		lms_json_str(&buf, detail);
	}
	if (code != NULL)
	{
		lms_json_key(&buf, "code", &first);
		lms_json_str(&buf, code);
	}
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

int64
lms_path_id(text *path)
{
	if (path == NULL)
		return 0;
	return (int64) lms_parse_id(VARDATA_ANY(path), VARSIZE_ANY_EXHDR(path));
}

/*
 * The opening of a route: who is calling, the path's id, the body if it is an object, and the
 * first problem of the ladder the route needs (401, then 400 invalid_id, then 400 invalid_json);
 * the route answers its own 404 / 403 / 409 after it.
 */
void
lms_request_open(text *token, text *path, Jsonb *body, int needs, LmsRequest *req)
{
	lms_resolve_caller(token, &req->caller);
	req->id = lms_path_id(path);
	req->body = (body != NULL && JB_ROOT_IS_OBJECT(body)) ? body : NULL;
	req->problem_status = 0;
	req->problem = NULL;
	if ((needs & LMS_NEEDS_CALLER) && req->caller.user_id == 0)
	{
		req->problem_status = 401;
		req->problem = lms_problem_text(401, "unauthenticated", LMS_DETAIL_UNAUTHENTICATED, NULL);
	}
	else if ((needs & LMS_NEEDS_ID) && req->id == 0)
	{
		req->problem_status = 400;
		req->problem = lms_problem_text(400, "invalid_id", LMS_DETAIL_INVALID_ID, NULL);
	}
	else if ((needs & LMS_NEEDS_OBJECT) && req->body == NULL)
	{
		req->problem_status = 400;
		req->problem = lms_problem_text(400, "invalid_json", LMS_DETAIL_BODY_NOT_OBJECT, NULL);
	}
}

/* ---- the contract's SQL face, for the routes written in PL/pgSQL ---- */

/* A composite of the named row type from values (for the fields of lms.request). */
static Datum
row_of(Oid type, Datum *values, bool *nulls)
{
	TupleDesc	desc = lookup_rowtype_tupdesc(type, -1);
	HeapTuple	tup = heap_form_tuple(desc, values, nulls);

	ReleaseTupleDesc(desc);
	return HeapTupleGetDatum(tup);
}

/*
 * lms.request(token, path, body, signed_in, id, object) -> lms.request (who, id, body,
 * problem): the opening of a PL/pgSQL route, the same as the C routes' (lms_request_open).
 */
PG_FUNCTION_INFO_V1(lms_request);
Datum
lms_request(PG_FUNCTION_ARGS)
{
	LmsRequest	req;
	TupleDesc	desc;
	Datum		values[4],
				part[2];
	bool		nulls[4] = {false, false, false, false},
				pnulls[2] = {false, false};
	int			needs = 0;

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "lms.request must return a composite");
	desc = BlessTupleDesc(desc);
	if (!PG_ARGISNULL(3) && PG_GETARG_BOOL(3))
		needs |= LMS_NEEDS_CALLER;
	if (!PG_ARGISNULL(4) && PG_GETARG_BOOL(4))
		needs |= LMS_NEEDS_ID;
	if (!PG_ARGISNULL(5) && PG_GETARG_BOOL(5))
		needs |= LMS_NEEDS_OBJECT;
	lms_request_open(PG_ARGISNULL(0) ? NULL : PG_GETARG_TEXT_PP(0),
					 PG_ARGISNULL(1) ? NULL : PG_GETARG_TEXT_PP(1),
					 PG_ARGISNULL(2) ? NULL : PG_GETARG_JSONB_P(2), needs, &req);

	part[0] = Int64GetDatum(req.caller.user_id);
	part[1] = CStringGetTextDatum(req.caller.role);
	pnulls[0] = pnulls[1] = (req.caller.user_id == 0);
	values[0] = row_of(TupleDescAttr(desc, 0)->atttypid, part, pnulls);
	values[1] = Int64GetDatum(req.id);
	nulls[1] = (req.id == 0);
	values[2] = req.body ? JsonbPGetDatum(req.body) : (Datum) 0;
	nulls[2] = (req.body == NULL);
	nulls[3] = (req.problem == NULL);
	if (req.problem != NULL)
	{
		pnulls[0] = pnulls[1] = false;
		part[0] = Int32GetDatum(req.problem_status);
		part[1] = CStringGetTextDatum(req.problem);
		values[3] = row_of(TupleDescAttr(desc, 3)->atttypid, part, pnulls);
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}

/* lms.problem(status, code, detail, errors): the document, as every route's problems. */
PG_FUNCTION_INFO_V1(lms_problem_sql);
Datum
lms_problem_sql(PG_FUNCTION_ARGS)
{
	int			status = PG_ARGISNULL(0) ? 0 : PG_GETARG_INT32(0);
	char	   *code = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));
	char	   *detail = PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2));
	char	   *errors = NULL;

	if (PG_NARGS() > 3 && !PG_ARGISNULL(3))
		errors = lms_jsonb_to_text(DirectFunctionCall1(jsonb_strip_nulls, PG_GETARG_DATUM(3)));
	PG_RETURN_DATUM(lms_problem(fcinfo, status, code, detail, errors));
}

/* The contract's fixed problems, for PL/pgSQL. */
PG_FUNCTION_INFO_V1(lms_unauthenticated);
Datum
lms_unauthenticated(PG_FUNCTION_ARGS)
{
	PG_RETURN_DATUM(lms_problem(fcinfo, 401, "unauthenticated", LMS_DETAIL_UNAUTHENTICATED, NULL));
}

PG_FUNCTION_INFO_V1(lms_bad_id);
Datum
lms_bad_id(PG_FUNCTION_ARGS)
{
	PG_RETURN_DATUM(lms_problem(fcinfo, 400, "invalid_id", LMS_DETAIL_INVALID_ID, NULL));
}

PG_FUNCTION_INFO_V1(lms_invalid_body);
Datum
lms_invalid_body(PG_FUNCTION_ARGS)
{
	PG_RETURN_DATUM(lms_problem(fcinfo, 400, "invalid_json", LMS_DETAIL_BODY_NOT_OBJECT, NULL));
}

/* lms.validation_failed(errors): 400 with errors [{field, message}]. */
PG_FUNCTION_INFO_V1(lms_validation_failed);
Datum
lms_validation_failed(PG_FUNCTION_ARGS)
{
	PG_RETURN_DATUM(lms_problem(fcinfo, 400, "validation_failed", LMS_DETAIL_VALIDATION_FAILED,
								PG_ARGISNULL(0) ? NULL
								: lms_jsonb_to_text(DirectFunctionCall1(jsonb_strip_nulls, PG_GETARG_DATUM(0)))));
}

/* lms.path_id(path): the path's id, NULL when it is not one. */
PG_FUNCTION_INFO_V1(lms_path_id_sql);
Datum
lms_path_id_sql(PG_FUNCTION_ARGS)
{
	int64		id = lms_path_id(PG_GETARG_TEXT_PP(0));

	if (id == 0)
		PG_RETURN_NULL();
	PG_RETURN_INT64(id);
}
