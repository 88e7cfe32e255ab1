/*
 * direct.h
 *	  Reads and one write of the extension's tables without SQL: index scans, key lookups and the
 *	  locked update of an enrollment's last activity (direct.c, the only file that touches heap
 *	  and index access methods). What the code assumes of each table and index is verified when
 *	  they are resolved.
 */
#ifndef LMS_DIRECT_H
#define LMS_DIRECT_H

#include "postgres.h"
#include "access/sdir.h"
#include "access/stratnum.h"
#include "storage/itemptr.h"
#include "utils/snapshot.h"

/* The tables read or written directly. */
typedef enum LmsTable
{
	LMS_LESSONS,
	LMS_COURSES,
	LMS_ENROLLMENTS,
	LMS_LESSON_PROGRESS,
	LMS_USERS,
	LMS_LEARNER_SCORES,
	LMS_USER_ACHIEVEMENTS,
	LMS_ACHIEVEMENTS,
	LMS_BOARD_ENTRIES,
	LMS_BOARD_COUNTS,
	LMS_SESSIONS,
	LMS_BOARDS,
	LMS_BOARD_SLOTS,
	LMS_MODULES,
	LMS_MODULE_PROGRESS,
	LMS_BOARD_PARTS,
	LMS_NTABLES
} LmsTable;

/* Their columns the C code uses, numbered per table (direct.c names and types them). */
enum
{
	LESSON_ID, LESSON_KIND, LESSON_DURATION, LESSON_POINTS, LESSON_MODULE, LESSON_COURSE,
	LESSON_PUBLISHED, LESSON_AVAILABLE
};
enum
{
	COURSE_ID, COURSE_PUBLISHED, COURSE_LESSON_COUNT
};
enum
{
	ENROLLMENT_ID, ENROLLMENT_USER, ENROLLMENT_COURSE, ENROLLMENT_STATUS, ENROLLMENT_EXPIRES,
	ENROLLMENT_COMPLETED, ENROLLMENT_LAST_AT, ENROLLMENT_LAST_LESSON, ENROLLMENT_LAST_POSITION,
	ENROLLMENT_LAST_HOUR		/* 1.1 */
};
enum
{
	PROGRESS_USER, PROGRESS_LESSON, PROGRESS_COMPLETED, PROGRESS_PERCENT
};
enum
{
	USER_ID, USER_TIMEZONE, USER_ROLE, USER_STATUS
};
enum
{
	SCORES_USER, SCORES_TOTAL, SCORES_LEVEL, SCORES_CURRENT, SCORES_LONGEST, SCORES_LAST_DAY
};
enum
{
	UA_USER, UA_ACHIEVEMENT, UA_AWARDED_AT
};
enum
{
	ACH_ID, ACH_CODE, ACH_TITLE
};
enum
{
	ENTRY_BOARD, ENTRY_WIN, ENTRY_USER, ENTRY_POINTS, ENTRY_NAME, ENTRY_LEVEL, ENTRY_REACHED
};
enum
{
	BUCKET_BOARD, BUCKET_WIN, BUCKET_POINTS, BUCKET_ABOVE
};
enum
{
	SESSION_HASH, SESSION_USER, SESSION_EXPIRES, SESSION_REVOKED
};
enum
{
	BOARD_NAME, BOARD_WIN, BOARD_PERIOD, BOARD_GENERATED, BOARD_TOTAL
};
enum
{
	SLOT_BOARD, SLOT_WIN, SLOT_POINTS, SLOT_SLOT, SLOT_LEARNERS
};
enum
{
	PART_BOARD, PART_WIN, PART_POINTS, PART_REACHED, PART_PART, PART_SHIFT, PART_LEARNERS
};
enum
{
	MODULE_ID, MODULE_COURSE, MODULE_TITLE, MODULE_POSITION, MODULE_LESSON_COUNT
};
enum
{
	MP_USER, MP_MODULE, MP_COMPLETED
};

/* The indexes scanned. */
typedef enum LmsIndex
{
	LMS_LESSONS_PKEY,
	LMS_COURSES_PKEY,
	LMS_ENROLLMENTS_PKEY,
	LMS_ENROLLMENTS_BY_LEARNER, /* (user_id, course_id) */
	LMS_LESSON_PROGRESS_PKEY,
	LMS_USERS_PKEY,
	LMS_LEARNER_SCORES_PKEY,
	LMS_USER_ACHIEVEMENTS_PKEY,
	LMS_ACHIEVEMENTS_PKEY,
	LMS_BOARD_ENTRIES_PKEY,		/* (board, win, user_id) */
	LMS_BOARD_ENTRIES_IN_ORDER, /* (board, win, points DESC, reached_at, user_id) */
	LMS_BOARD_COUNTS_PKEY,		/* (board, win, points) */
	LMS_BOARD_COUNTS_ABOVE,		/* (board, win, above) WHERE learners > 0 */
	LMS_SESSIONS_PKEY,			/* (token_hash) */
	LMS_BOARDS_PKEY,			/* (board, win) */
	LMS_BOARD_SLOTS_PKEY,		/* (board, win, points, slot) */
	LMS_MODULES_BY_COURSE,		/* (course_id, position) */
	LMS_MODULE_PROGRESS_PKEY,	/* (user_id, module_id) */
	LMS_BOARD_PARTS_PKEY,		/* (board, win, points, reached_at, part) */
	LMS_NINDEXES
} LmsIndex;

/* Key columns of board_entries_in_order, for lms_scan_get_key. */
#define IN_ORDER_REACHED 4
#define IN_ORDER_USER 5

/* A condition on the index's next key column, in order: strategy (BT...StrategyNumber), value. */
typedef struct LmsKey
{
	StrategyNumber strategy;
	Datum		value;
} LmsKey;

/*
 * An index scan in index order (or backwards), under snap. Values read with lms_scan_get stay
 * valid until the next lms_scan_next. Tables stay locked AccessShare until the end of the
 * transaction, as a query would leave them.
 */
typedef struct LmsScan LmsScan;
extern LmsScan *lms_scan_begin(LmsIndex index, Snapshot snap, int nkeys, const LmsKey *keys,
							   ScanDirection dir);
extern bool lms_scan_next(LmsScan *scan);
extern Datum lms_scan_get(LmsScan *scan, int column, bool *isnull);
extern void lms_scan_end(LmsScan *scan);

/*
 * The same scan index-only: entries visible under snap, read from the index tuple without a
 * heap visit where the visibility map allows (counting a long run of entries). Read with
 * lms_scan_get_key: the index's key column keycol (1-based), which is the table's column.
 */
extern LmsScan *lms_scan_begin_index_only(LmsIndex index, Snapshot snap, int nkeys,
										  const LmsKey *keys, ScanDirection dir);
extern bool lms_scan_next_index_only(LmsScan *scan);
extern Datum lms_scan_get_key(LmsScan *scan, int keycol, int column, bool *isnull);

/* Whether an optional column (one a later version added) exists in this install. */
extern bool lms_column_present(LmsTable t, int column);

/*
 * The identity of the row version the scan is on: the transaction that wrote it and where it
 * lies. Two reads that find the same pair read the same version of the row.
 */
extern void lms_scan_version(LmsScan *scan, TransactionId *xmin, ItemPointerData *ctid);

/*
 * One row by equality on every key column (bigint) of a unique index; copies the wanted columns
 * out (by-reference values into the current memory context). False when there is none.
 */
extern bool lms_fetch(LmsIndex index, const int64 *keys, Snapshot snap, int ncols,
					  const int *columns, Datum *values, bool *nulls);

/*
 * The one write outside the executor: some columns of the row a unique bigint key finds,
 * locked as UPDATE locks it (its latest version, waiting for a concurrent writer), replaced
 * when check(row) says so on that locked version; index entries added when the update is not
 * HOT, constraints of those indexes enforced. LMS_UPDATE_NOT_DIRECT when the table's
 * assumptions do not hold (a trigger, a foreign key, an unknown CHECK constraint on a written
 * column, ...): the caller then writes through SQL, so that nothing is skipped.
 */
typedef struct LmsRow LmsRow;
typedef bool (*LmsRowCheck) (LmsRow *row, void *arg);
typedef enum LmsUpdateResult
{
	LMS_UPDATE_DONE,
	LMS_UPDATE_SKIPPED,			/* no such row, or check said no */
	LMS_UPDATE_NOT_DIRECT
} LmsUpdateResult;
extern Datum lms_row_get(LmsRow *row, int column, bool *isnull);
extern LmsUpdateResult lms_update_locked(LmsIndex index, int64 key, LmsRowCheck check, void *arg,
										 int ncols, const int *columns, const Datum *values);

#endif							/* LMS_DIRECT_H */
