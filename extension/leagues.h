/*
 * leagues.h
 *	  Weekly leagues (leagues.c): the week rule shared with the boards' week window.
 */
#ifndef LMS_LEAGUES_H
#define LMS_LEAGUES_H

#include "postgres.h"
#include "utils/date.h"
#include "utils/timestamp.h"

/* The Monday (UTC) of the calendar week holding an instant. */
extern DateADT lms_week_start(TimestampTz at);

/* The statement running is a COPY (a restore, a bulk load): triggers count no events. */
extern bool lms_loading(void);

#endif							/* LMS_LEAGUES_H */
