/*
 * api.h
 *	  The contract layer of the extension (api.c): lms.api_response values, problem documents
 *	  (RFC 7807) built from contract/contract.h, the path's id, and the opening every route
 *	  shares (caller, id, body, and the first problem of the 401 / 400 ladder).
 */
#ifndef LMS_API_H
#define LMS_API_H

#include "postgres.h"
#include "fmgr.h"
#include "utils/jsonb.h"

#include "identity.h"

/* An lms.api_response datum for this function's result type; body NULL for 204. */
extern Datum lms_response(FunctionCallInfo fcinfo, int status, const char *body);

/*
 * A problem document {"type","title","status","detail","code"[,"errors"]} as jsonb text; a NULL
 * code or detail is left out, as is errors_json (a JSON array) when NULL.
 */
extern char *lms_problem_text(int status, const char *code, const char *detail, const char *errors_json);
extern Datum lms_problem(FunctionCallInfo fcinfo, int status, const char *code, const char *detail,
						 const char *errors_json);

/* The path argument as an id (contract.h's syntax), 0 when it is not one. */
extern int64 lms_path_id(text *path);

/* What a route needs before it starts, in the contract's order of problems. */
#define LMS_NEEDS_CALLER 1		/* 401 unauthenticated without a live session */
#define LMS_NEEDS_ID 2			/* 400 invalid_id when the path is not an id */
#define LMS_NEEDS_OBJECT 4		/* 400 invalid_json when the body is not a JSON object */

typedef struct LmsRequest
{
	LmsCaller	caller;			/* user_id 0: nobody */
	int64		id;				/* 0: the path is not an id */
	Jsonb	   *body;			/* NULL: absent or not an object */
	int			problem_status; /* 0: none */
	char	   *problem;		/* the first problem of the ladder the route needs */
} LmsRequest;

/* The opening every route shares (lms.request in SQL). */
extern void lms_request_open(text *token, text *path, Jsonb *body, int needs, LmsRequest *req);

#endif							/* LMS_API_H */
