/*
 * json_out.h
 *	  The one place C code produces JSON text: string escaping, numbers, the contract's
 *	  timestamp format (YYYY-MM-DDTHH:MI:SS.mmmZ), and normalization to jsonb.
 */
#ifndef LMS_JSON_OUT_H
#define LMS_JSON_OUT_H

#include "postgres.h"
#include "lib/stringinfo.h"
#include "utils/timestamp.h"

/* "key": with a leading comma unless first; keys are trusted ASCII literals. */
extern void lms_json_key(StringInfo buf, const char *key, bool *first);
extern void lms_json_str(StringInfo buf, const char *s);	/* escaped string or null */
extern void lms_json_ts(StringInfo buf, TimestampTz ts, bool isnull);	/* ISO 8601 UTC or null */
extern void lms_json_int(StringInfo buf, int64 v);
extern void lms_json_int_or_null(StringInfo buf, bool isnull, int64 v);
extern void lms_json_bool(StringInfo buf, bool v);
/* a number of hundredths (0 or more) as a decimal with two digits: 1234 -> 12.34 */
extern void lms_json_hundredths(StringInfo buf, int64 hundredths);
/* Parse JSON text into a jsonb datum (and so normalize its layout). */
extern Datum lms_json_to_jsonb(const char *json);
extern char *lms_jsonb_to_text(Datum jsonb);
/* A jsonb value as ->> gives it: NULL for JSON null, a container as its JSON text. */
struct JsonbValue;
extern char *lms_jsonb_value_text(const struct JsonbValue *v);

#endif							/* LMS_JSON_OUT_H */
