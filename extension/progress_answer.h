/*
 * progress_answer.h
 *	  The progress write's answer rendered (progress_answer.c): the contract's document as JSON
 *	  text for the route, as jsonb for lms.record_progress.
 */
#ifndef LMS_PROGRESS_ANSWER_H
#define LMS_PROGRESS_ANSWER_H

#include "postgres.h"
#include "lib/stringinfo.h"

#include "progress.h"
#include "scoring.h"

/* The contract's progress document, appended to out as compact JSON text. */
extern void lms_progress_answer_text(StringInfo out, const LmsProgressAnswer *a, const LmsScore *score);

#endif							/* LMS_PROGRESS_ANSWER_H */
