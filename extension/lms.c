/*
 * lms.c
 *	  Module entry point: every setting, the leaderboard worker's registration and the
 *	  extension's clock. It calls no other file of the extension (the worker is registered by
 *	  its function's name), so every file may call it.
 */
#include "postgres.h"

#include "fmgr.h"
#include "pgtime.h"
#include "catalog/namespace.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/guc.h"
#include "utils/timestamp.h"
#include "access/xact.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"

#include "lms.h"

PG_MODULE_MAGIC;

int			lms_completion_threshold = 90;
int			lms_token_ttl_seconds = 86400;
int			lms_bcrypt_cost = 10;
int			lms_leaderboard_refresh_interval_ms = 2000;
char	   *lms_leaderboard_database = NULL;
bool		lms_worker_registered = false;
char	   *lms_xapi_iri_base = NULL;
bool		lms_xapi_emit = true;

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

/*
 * Ask the postmaster for the leaderboard worker (worker.c), by its function's name.
 */
static void
register_worker(void)
{
	BackgroundWorker worker;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = 10;
	strlcpy(worker.bgw_library_name, "lms", BGW_MAXLEN);
	strlcpy(worker.bgw_function_name, "lms_leaderboard_worker_main", BGW_MAXLEN);
	strlcpy(worker.bgw_name, "lms leaderboard refresher", BGW_MAXLEN);
	strlcpy(worker.bgw_type, "lms leaderboard refresher", BGW_MAXLEN);
	RegisterBackgroundWorker(&worker);
}

void		_PG_init(void);

/*
 * Define the extension's settings, and the worker when preloaded. Every setting is
 * superuser-only: the gateway's role must not be able to change how progress completes or
 * how long tokens live.
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
	DefineCustomIntVariable("lms.leaderboard_refresh_interval",
							"How often changed leaderboards are refreshed, and the age after which a read refreshes a changed board.",
							"0 makes every read of a changed board refresh it.",
							&lms_leaderboard_refresh_interval_ms, 2000, 0, 3600 * 1000,
							PGC_SUSET, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomStringVariable("lms.leaderboard_database",
							   "Database in which the leaderboard worker refreshes the boards.",
							   "Used only when lms is in shared_preload_libraries.",
							   &lms_leaderboard_database, "postgres",
							   /* a postmaster setting can only be defined while preloading */
							   process_shared_preload_libraries_in_progress ? PGC_POSTMASTER : PGC_SUSET,
							   0, NULL, NULL, NULL);
	if (process_shared_preload_libraries_in_progress && !IsBinaryUpgrade)
	{
		register_worker();
		lms_worker_registered = true;	/* inherited by every backend */
	}
	DefineCustomStringVariable("lms.xapi_iri_base",
							   "Base of the xAPI activity IRIs of lessons and courses and of the learners' account homePage.",
							   "Lesson 42 is <base>/xapi/activities/lesson/42 (docs/xapi.md).",
							   &lms_xapi_iri_base, "https://lms.example",
							   PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomBoolVariable("lms.xapi_emit",
							 "Whether lms stores xAPI statements for its own events (enrollments, progress, completions, quiz attempts, points, achievements).",
							 "They are written in the transaction of the event (docs/xapi.md).",
							 &lms_xapi_emit, true,
							 PGC_SUSET, 0, NULL, NULL, NULL);
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

/*
 * Whether the installed schema has this table of lms: a 1.0 install runs this library until
 * ALTER EXTENSION lms UPDATE, and has none of 1.1's tables (a syscache lookup, no SQL).
 */
bool
lms_schema_has(const char *relname)
{
	Oid			ns = get_namespace_oid("lms", true);

	return OidIsValid(ns) && OidIsValid(get_relname_relid(relname, ns));
}
