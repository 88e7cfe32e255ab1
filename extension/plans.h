/*
 * plans.h
 *	  SPI statements prepared once per backend, and typed reads of their results: the one
 *	  "prepare once" helper of the C code.
 */
#ifndef LMS_PLANS_H
#define LMS_PLANS_H

#include "postgres.h"
#include "executor/spi.h"
#include "utils/timestamp.h"

/* SPI_connect, or an error. */
extern void lms_spi_connect(void);

/*
 * Prepare once per backend and keep: *slot is filled on first use. The caller is connected
 * to SPI. lms_plan_opts passes cursor options (CURSOR_OPT_GENERIC_PLAN, ..._CUSTOM_PLAN).
 */
extern SPIPlanPtr lms_plan(SPIPlanPtr *slot, const char *sql, int nargs, const Oid *types);
extern SPIPlanPtr lms_plan_opts(SPIPlanPtr *slot, const char *sql, int nargs, const Oid *types,
								int cursor_options);

/*
 * A read's plan: always the generic plan (index scans whatever the parameters); a custom plan
 * would be planned again on every call, which costs more than the read.
 */
#define lms_read_plan(slot, sql, nargs, types) \
	lms_plan_opts(slot, sql, nargs, types, CURSOR_OPT_GENERIC_PLAN)

/*
 * Execute a kept plan; errors out on SPI failure, or (when expect is not 0) when the result
 * code is not expect. nulls as in SPI_execute_plan.
 */
extern int	lms_exec(SPIPlanPtr plan, Datum *args, const char *nulls, bool read_only, long count);
extern void lms_exec_expect(SPIPlanPtr plan, Datum *args, const char *nulls, bool read_only,
							long count, int expect, const char *what);

/* Column readers over SPI_tuptable (0-based rows, 1-based column numbers). */
extern bool lms_col_isnull(int row, int col);
extern Datum lms_col_datum(int row, int col, bool *isnull);
extern int64 lms_col_int64(int row, int col, int64 if_null);
extern int32 lms_col_int32(int row, int col, int32 if_null);
extern bool lms_col_bool(int row, int col, bool if_null);
extern TimestampTz lms_col_ts(int row, int col, bool *isnull);
/* Text form of a column (palloc'd in the current context), NULL when null. */
extern char *lms_col_text(int row, int col);

#endif							/* LMS_PLANS_H */
