/*
 * api.h
 *	  Helpers for the C API functions and the C core: kept SPI plans, typed column reads, and
 *	  lms.api_response values (success documents and RFC 7807 problem documents).
 */
#ifndef LMS_API_H
#define LMS_API_H

#include "postgres.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"

/* Prepare once per backend and keep: *slot is filled on first use. Caller is SPI-connected. */
extern SPIPlanPtr lms_plan(SPIPlanPtr *slot, const char *sql, int nargs, const Oid *types);

/* Execute a kept plan; errors out on SPI failure. nulls as in SPI_execute_plan. */
extern int	lms_exec(SPIPlanPtr plan, Datum *args, const char *nulls, bool read_only, long count);

/* Column readers over SPI_tuptable row 0 (1-based column numbers). */
extern bool lms_col_isnull(int row, int col);
extern int64 lms_col_int64(int row, int col, int64 if_null);
extern int32 lms_col_int32(int row, int col, int32 if_null);
extern bool lms_col_bool(int row, int col, bool if_null);
extern TimestampTz lms_col_ts(int row, int col, bool *isnull);
/* Text form of a column (palloc'd in the current context), NULL when null. */
extern char *lms_col_text(int row, int col);

/* An lms.api_response datum for this function's result type; body NULL for 204. */
extern Datum lms_response(FunctionCallInfo fcinfo, int status, const char *body);
/* A problem document {"type","title","status","detail","code"[,"errors"]} as jsonb text. */
extern char *lms_problem_text(int status, const char *code, const char *detail, const char *errors_json);
extern Datum lms_problem(FunctionCallInfo fcinfo, int status, const char *code, const char *detail,
						 const char *errors_json);

/* The path argument as a positive id, 0 when it is not one. */
extern int64 lms_path_id(text *path);

#endif							/* LMS_API_H */
