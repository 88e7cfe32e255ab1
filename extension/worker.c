/*
 * worker.c
 *	  Background worker keeping the leaderboards at most a few seconds stale.
 *
 * Registered only when lms is in shared_preload_libraries (and not during pg_upgrade), modeled
 * on pg_cron's src/pg_cron.c: it connects to lms.leaderboard_database, and every
 * lms.leaderboard_refresh_interval it refreshes the boards whose source changed, in one short
 * transaction; a refresh applies only the learners whose ledger rows or visibility changed since
 * the previous one (leaderboard_refresh.c), so a pass costs what changed, not the size of the
 * boards. Latch wait with WL_POSTMASTER_DEATH, CHECK_FOR_INTERRUPTS, SIGHUP reloads the
 * configuration, and a memory context reset every loop. A database without the extension is
 * simply polled until it has it. Without the worker the boards stay correct: reads refresh a
 * stale board on demand (see leaderboard.c). lms.c registers the worker by this file's
 * function name when the library is preloaded. Each pass also runs the weekly leagues'
 * rollover when a week has ended (leagues_once).
 */
#include "postgres.h"

#include "access/xact.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "leaderboard_refresh.h"
#include "lms.h"
#include "plans.h"

/* The worker's entry point, named in lms.c's registration. */
extern PGDLLEXPORT void lms_leaderboard_worker_main(Datum main_arg);

/* One pass: refresh the changed boards if the extension is installed here. */
static void
refresh_once(void)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	lms_spi_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "lms: refresh leaderboards");

	if (SPI_execute("SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'lms'", true, 1) == SPI_OK_SELECT
		&& SPI_processed == 1)
		lms_refresh_boards(false, NULL, NULL);

	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_stat(false);
	pgstat_report_activity(STATE_IDLE, NULL);
}

/*
 * One pass for the weekly leagues, in a transaction of its own (a rollover of a large week takes
 * tens of seconds): the rollover of a week that has ended and the placing of learners who waited
 * for one, when due (lms.league_rollover_due, 93_leagues.sql). A 1.0 install has no leagues.
 */
static void
leagues_once(void)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	lms_spi_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "lms: league rollover");

	if (SPI_execute("SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'lms' "
					"AND pg_catalog.to_regprocedure('lms.league_rollover_due()') IS NOT NULL", true, 1) == SPI_OK_SELECT
		&& SPI_processed == 1
		&& SPI_execute("SELECT lms.league_rollover_due()", false, 0) != SPI_OK_SELECT)
		elog(ERROR, "lms.league_rollover_due() failed");

	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_stat(false);
	pgstat_report_activity(STATE_IDLE, NULL);
}

/*
 * The worker's main loop.
 */
void
lms_leaderboard_worker_main(Datum main_arg)
{
	MemoryContext loop_context;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	BackgroundWorkerInitializeConnection(lms_leaderboard_database, NULL, 0);
	pgstat_report_appname("lms leaderboard refresher");

	loop_context = AllocSetContextCreate(TopMemoryContext, "lms leaderboard worker",
										 ALLOCSET_DEFAULT_SIZES);
	elog(LOG, "lms leaderboard refresher started in database \"%s\"", lms_leaderboard_database);

	for (;;)
	{
		int			rc;
		long		timeout = Max(lms_leaderboard_refresh_interval_ms, 100);

		rc = WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_POSTMASTER_DEATH,
					   timeout, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		if (rc & WL_POSTMASTER_DEATH)
			proc_exit(1);
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}

		MemoryContextSwitchTo(loop_context);
		refresh_once();
		leagues_once();
		MemoryContextSwitchTo(TopMemoryContext);
		MemoryContextReset(loop_context);
	}
}
