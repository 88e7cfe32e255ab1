/*
 * lms.c
 *	  Module entry point: GUC definitions and the extension's clock.
 */
#include "postgres.h"

#include "fmgr.h"
#include "pgtime.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/timestamp.h"
#include "access/xact.h"

#include "lms.h"
#include "leaderboard.h"

PG_MODULE_MAGIC;

int			lms_completion_threshold = 90;
int			lms_token_ttl_seconds = 86400;
int			lms_bcrypt_cost = 10;

static char *clock_override_text = NULL;
static bool clock_override_set = false;
static TimestampTz clock_override_value = 0;

/*
 * Parse lms.clock_override once when it is set, so lms_now() costs nothing per call.
 * An empty string means "use the real clock".
 */
static bool
check_clock_override(char **newval, void **extra, GucSource source)
{
	TimestampTz *parsed;

	if (*newval == NULL || (*newval)[0] == '\0')
	{
		*extra = NULL;
		return true;
	}
	parsed = (TimestampTz *) malloc(sizeof(TimestampTz));
	if (parsed == NULL)
		return false;
	*parsed = DatumGetTimestampTz(DirectFunctionCall3(timestamptz_in,
													  CStringGetDatum(*newval),
													  ObjectIdGetDatum(InvalidOid),
													  Int32GetDatum(-1)));
	*extra = parsed;
	return true;
}

static void
assign_clock_override(const char *newval, void *extra)
{
	clock_override_set = (extra != NULL);
	if (extra != NULL)
		clock_override_value = *(TimestampTz *) extra;
}

void		_PG_init(void);

/*
 * Define the extension's settings. Every one is superuser-only: the gateway's role must not
 * be able to change how progress completes or how long tokens live.
 */
void
_PG_init(void)
{
	DefineCustomIntVariable("lms.completion_threshold",
							"Completion percentage at which a video lesson counts as completed.",
							NULL, &lms_completion_threshold, 90, 1, 100,
							PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("lms.token_ttl",
							"Lifetime of a login token.",
							NULL, &lms_token_ttl_seconds, 86400, 60, 365 * 86400,
							PGC_SUSET, GUC_UNIT_S, NULL, NULL, NULL);
	DefineCustomIntVariable("lms.bcrypt_cost",
							"bcrypt cost factor for new password hashes.",
							"Lower it only for generated test data.",
							&lms_bcrypt_cost, 10, 4, 15,
							PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomStringVariable("lms.clock_override",
							   "Fixed instant used as the current time (tests only); empty for the real clock.",
							   NULL, &clock_override_text, "",
							   PGC_SUSET, 0,
							   check_clock_override, assign_clock_override, NULL);
	lms_gamification_init();	/* leaderboard GUCs; the worker when preloaded */
	MarkGUCPrefixReserved("lms");
}

/*
 * The one notion of "now" used by every write and read path.
 */
TimestampTz
lms_now(void)
{
	return clock_override_set ? clock_override_value : GetCurrentTransactionStartTimestamp();
}

PG_FUNCTION_INFO_V1(lms_clock);
Datum
lms_clock(PG_FUNCTION_ARGS)
{
	PG_RETURN_TIMESTAMPTZ(lms_now());
}
