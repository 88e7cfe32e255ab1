/*
 * lms.h
 *	  Declarations shared by the lms extension's C files: the settings, the worker's
 *	  registration and the clock (lms.c, which calls no other file of the extension).
 *
 * Each subsystem has its own header (identity.h, progress.h, ...); this one holds only what
 * every file needs.
 */
#ifndef LMS_H
#define LMS_H

#include "postgres.h"
#include "utils/date.h"
#include "utils/timestamp.h"

/* GUCs, defined in lms.c */
extern int	lms_completion_threshold;	/* lms.completion_threshold, percent */
extern int	lms_token_ttl_seconds;	/* lms.token_ttl */
extern int	lms_bcrypt_cost;	/* lms.bcrypt_cost */
extern int	lms_leaderboard_refresh_interval_ms;	/* lms.leaderboard_refresh_interval */
extern char *lms_leaderboard_database;	/* lms.leaderboard_database */

/* True in every backend of a server where _PG_init registered the leaderboard worker. */
extern bool lms_worker_registered;
extern char *lms_xapi_iri_base;	/* lms.xapi_iri_base */
extern bool lms_xapi_emit;		/* lms.xapi_emit */

/* The extension's "now": the transaction start, or lms.clock_override when set. */
extern TimestampTz lms_now(void);

/* The installed schema has this table of lms (a 1.0 install running this library lacks 1.1's). */
extern bool lms_schema_has(const char *relname);

/* timezone.c: accepted zone names and the learner's active day */
extern bool lms_timezone_is_iana(const char *name);
extern DateADT lms_active_day(Datum zone, TimestampTz at);

#endif							/* LMS_H */
