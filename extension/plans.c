/*
 * plans.c
 *	  SPI statements prepared once per backend (SPI_prepare + SPI_keepplan) and typed reads of
 *	  their results. Every C statement of the extension goes through lms_plan: the hot paths
 *	  never re-plan, and a failure names the statement.
 */
#include "postgres.h"

#include "executor/spi.h"
#include "utils/builtins.h"

#include "plans.h"

void
lms_spi_connect(void)
{
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
}

/*
 * Prepare a statement once per backend. Plans survive DROP/CREATE EXTENSION: the plan cache
 * re-analyzes the saved query text when the objects it uses change.
 */
SPIPlanPtr
lms_plan_opts(SPIPlanPtr *slot, const char *sql, int nargs, const Oid *types, int cursor_options)
{
	SPIPlanPtr	plan;

	if (*slot != NULL)
		return *slot;
	plan = SPI_prepare_cursor(sql, nargs, (Oid *) types, cursor_options);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed for \"%s\": %s", sql, SPI_result_code_string(SPI_result));
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "SPI_keepplan failed");
	*slot = plan;
	return plan;
}

SPIPlanPtr
lms_plan(SPIPlanPtr *slot, const char *sql, int nargs, const Oid *types)
{
	return lms_plan_opts(slot, sql, nargs, types, 0);
}

int
lms_exec(SPIPlanPtr plan, Datum *args, const char *nulls, bool read_only, long count)
{
	int			rc = SPI_execute_plan(plan, args, nulls, read_only, count);

	if (rc < 0)
		elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(rc));
	return rc;
}

void
lms_exec_expect(SPIPlanPtr plan, Datum *args, const char *nulls, bool read_only, long count,
				int expect, const char *what)
{
	if (SPI_execute_plan(plan, args, nulls, read_only, count) != expect)
		elog(ERROR, "could not %s", what);
}

Datum
lms_col_datum(int row, int col, bool *isnull)
{
	return SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col, isnull);
}

bool
lms_col_isnull(int row, int col)
{
	bool		isnull;

	(void) lms_col_datum(row, col, &isnull);
	return isnull;
}

int64
lms_col_int64(int row, int col, int64 if_null)
{
	bool		isnull;
	Datum		d = lms_col_datum(row, col, &isnull);

	return isnull ? if_null : DatumGetInt64(d);
}

int32
lms_col_int32(int row, int col, int32 if_null)
{
	bool		isnull;
	Datum		d = lms_col_datum(row, col, &isnull);

	return isnull ? if_null : DatumGetInt32(d);
}

bool
lms_col_bool(int row, int col, bool if_null)
{
	bool		isnull;
	Datum		d = lms_col_datum(row, col, &isnull);

	return isnull ? if_null : DatumGetBool(d);
}

TimestampTz
lms_col_ts(int row, int col, bool *isnull)
{
	Datum		d = lms_col_datum(row, col, isnull);

	return *isnull ? 0 : DatumGetTimestampTz(d);
}

char *
lms_col_text(int row, int col)
{
	return SPI_getvalue(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col);
}
