/*
 * timezone.c
 *	  The learner's time zone and active day: which zone names are accepted, and which calendar
 *	  day an instant counts as for streaks.
 *
 * Only IANA zone names are accepted (the names pg_timezone_names lists), never the POSIX
 * strings pg_tzset would also parse ("AAA-24", "GMT+99"), whose offsets no real place has.
 * And whatever the zone, an active day is clamped to [UTC date - 1, UTC date + 1]: no real
 * zone is further than -12/+14 hours from UTC, so the clamp changes nothing for a real zone
 * and keeps a streak from running ahead of the calendar if a zone ever could.
 */
#include "postgres.h"

#include <stdlib.h>

#include "fmgr.h"
#include "pgtime.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "lms.h"

/* the sorted IANA names of this server's time zone database, loaded once per backend */
static char **zone_names = NULL;
static int	nzone_names = 0;

static int
cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/*
 * Load the zone names the way pg_timezone_names finds them (pg_tzenumerate: every loadable
 * zone file of the zone database, leap-second variants excluded): about 50 ms, once per
 * backend, and only when a name pg_tzset accepts is checked.
 */
static void
load_zone_names(void)
{
	MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
	pg_tzenum  *e = pg_tzenumerate_start();
	pg_tz	   *tz;
	int			cap = 1024;
	char	  **names = palloc(cap * sizeof(char *));
	int			n = 0;

	while ((tz = pg_tzenumerate_next(e)) != NULL)
	{
		const char *name = pg_get_timezone_name(tz);

		if (name == NULL)
			continue;
		if (n == cap)
		{
			cap *= 2;
			names = repalloc(names, cap * sizeof(char *));
		}
		names[n++] = pstrdup(name);
	}
	pg_tzenumerate_end(e);
	MemoryContextSwitchTo(old);
	qsort(names, n, sizeof(char *), cmp_name);
	zone_names = names;
	nzone_names = n;
}

/*
 * True when `name` is an IANA zone name of this server, spelled exactly as pg_timezone_names
 * lists it ('Europe/Paris', 'UTC', 'America/Argentina/Buenos_Aires').
 */
bool
lms_timezone_is_iana(const char *name)
{
	if (name[0] == '\0' || strlen(name) > TZ_STRLEN_MAX)
		return false;
	if (pg_tzset(name) == NULL)
		return false;			/* not even a POSIX zone: no need to load the names */
	if (zone_names == NULL)
		load_zone_names();
	return bsearch(&name, zone_names, nzone_names, sizeof(char *), cmp_name) != NULL;
}

/*
 * lms.is_valid_timezone(name): the CHECK on users.timezone and the input validation of
 * register and PATCH /users/me.
 */
PG_FUNCTION_INFO_V1(lms_is_valid_timezone);
Datum
lms_is_valid_timezone(PG_FUNCTION_ARGS)
{
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));

	PG_RETURN_BOOL(lms_timezone_is_iana(name));
}

/*
 * The calendar day `at` counts as for a learner in `zone`: the local date, clamped to
 * [UTC date - 1, UTC date + 1]. The one home of the active-day rule: the streak hook and the
 * progress hot path call it in C, SQL (the bench data generator) through lms.active_day.
 */
DateADT
lms_active_day(Datum zone, TimestampTz at)
{
	Datum		local = DirectFunctionCall2(timestamptz_zone, zone, TimestampTzGetDatum(at));
	DateADT		day = DatumGetDateADT(DirectFunctionCall1(timestamp_date, local));
	DateADT		utc = (DateADT) ((at >= 0 ? at : at - (USECS_PER_DAY - 1)) / USECS_PER_DAY);

	if (day < utc - 1)
		return utc - 1;
	if (day > utc + 1)
		return utc + 1;
	return day;
}

/* lms.active_day(zone, at) */
PG_FUNCTION_INFO_V1(lms_active_day_sql);
Datum
lms_active_day_sql(PG_FUNCTION_ARGS)
{
	PG_RETURN_DATEADT(lms_active_day(PG_GETARG_DATUM(0), PG_GETARG_TIMESTAMPTZ(1)));
}
