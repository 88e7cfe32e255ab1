/*
 * api.h
 *	  What the C API functions share: lms.api_response values (success documents and RFC 7807
 *	  problem documents) and the path argument's id.
 */
#ifndef LMS_API_H
#define LMS_API_H

#include "postgres.h"
#include "fmgr.h"
#include "lib/stringinfo.h"

/* An lms.api_response datum for this function's result type; body NULL for 204. */
extern Datum lms_response(FunctionCallInfo fcinfo, int status, const char *body);
/* A problem document {"type","title","status","detail","code"[,"errors"]} as jsonb text. */
extern char *lms_problem_text(int status, const char *code, const char *detail, const char *errors_json);
extern Datum lms_problem(FunctionCallInfo fcinfo, int status, const char *code, const char *detail,
						 const char *errors_json);

/* The path argument as a positive id, 0 when it is not one. */
extern int64 lms_path_id(text *path);

#endif							/* LMS_API_H */
