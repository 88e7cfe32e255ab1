/*
 * leaderboard.h
 *	  Materialized leaderboards (leaderboard.c) and their background worker (worker.c).
 */
#ifndef LMS_LEADERBOARD_H
#define LMS_LEADERBOARD_H

#include "postgres.h"

/* GUCs, defined in leaderboard.c */
extern int	lms_leaderboard_refresh_interval_ms;	/* lms.leaderboard_refresh_interval */
extern char *lms_leaderboard_database;	/* lms.leaderboard_database */

/* Settings and, when preloaded, the worker; called from _PG_init. */
extern void lms_gamification_init(void);

/* Refresh every board (force) or the changed ones; the caller is connected to SPI. */
extern void lms_refresh_boards(bool force, void (*emit) (const char *name, void *arg), void *arg);

/* worker.c */
extern void lms_worker_register(void);
extern PGDLLEXPORT void lms_leaderboard_worker_main(Datum main_arg);

#endif							/* LMS_LEADERBOARD_H */
