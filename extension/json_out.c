/*
 * json_out.c
 *	  JSON text production for the C paths. Everything C returns goes through jsonb once, so
 *	  C and SQL answers share one layout.
 */
#include "postgres.h"

#include "fmgr.h"
#include "pgtime.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/json.h"
#include "utils/jsonb.h"

#include "json_out.h"

/* Object key with the comma bookkeeping every builder needs. */
void
lms_json_key(StringInfo buf, const char *key, bool *first)
{
	if (!*first)
		appendStringInfoChar(buf, ',');
	*first = false;
	escape_json(buf, key);
	appendStringInfoChar(buf, ':');
}

/* A string value, escaped; NULL becomes null. */
void
lms_json_str(StringInfo buf, const char *s)
{
	if (s == NULL)
		appendStringInfoString(buf, "null");
	else
		escape_json(buf, s);
}

/* The contract's timestamp: UTC, milliseconds, Z (the same text as lms.iso in SQL). */
void
lms_json_ts(StringInfo buf, TimestampTz ts, bool isnull)
{
	struct pg_tm tm;
	fsec_t		fsec;

	if (isnull || TIMESTAMP_NOT_FINITE(ts))
	{
		appendStringInfoString(buf, "null");
		return;
	}
	if (timestamp2tm(ts, NULL, &tm, &fsec, NULL, NULL) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range"),
				 errdetail("A timestamp could not be rendered as ISO 8601.")));
	appendStringInfo(buf, "\"%04d-%02d-%02dT%02d:%02d:%02d.%03dZ\"",
					 tm.tm_year, tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
					 (int) (fsec / 1000));
}

void
lms_json_int_or_null(StringInfo buf, bool isnull, int64 v)
{
	if (isnull)
		appendStringInfoString(buf, "null");
	else
		lms_json_int(buf, v);
}

void
lms_json_int(StringInfo buf, int64 v)
{
	char		digits[MAXINT8LEN + 1];

	/* pg_lltoa, not a printf: pages write a few hundred numbers each */
	appendBinaryStringInfo(buf, digits, pg_lltoa(v, digits));
}

void
lms_json_bool(StringInfo buf, bool v)
{
	appendStringInfoString(buf, v ? "true" : "false");
}

void
lms_json_hundredths(StringInfo buf, int64 hundredths)
{
	appendStringInfo(buf, INT64_FORMAT ".%02d", hundredths / 100, (int) (hundredths % 100));
}

Datum
lms_json_to_jsonb(const char *json)
{
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(json));
}

char *
lms_jsonb_to_text(Datum jsonb)
{
	return DatumGetCString(DirectFunctionCall1(jsonb_out, jsonb));
}

/*
 * A jsonb value as `->>` gives it: NULL for JSON null, the text of any other scalar, the JSON
 * text of an object or array.
 */
char *
lms_jsonb_value_text(const JsonbValue *v)
{
	switch (v->type)
	{
		case jbvNull:
			return NULL;
		case jbvString:
			return pnstrdup(v->val.string.val, v->val.string.len);
		case jbvNumeric:
			return DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(v->val.numeric)));
		case jbvBool:
			return pstrdup(v->val.boolean ? "true" : "false");
		default:
			return JsonbToCString(NULL, v->val.binary.data, v->val.binary.len);
	}
}
