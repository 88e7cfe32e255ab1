/*
 * api_progress_course.c
 *	  GET /progress/courses/{id}: a learner's progress in one course with its module breakdown,
 *	  read on every course page. All of it is key lookups (the caller, the course, the
 *	  enrollment, the course's modules and the learner's counts in each), done directly
 *	  (direct.c) under the statement's snapshot, and the answer written in jsonb's text layout:
 *	  the same bytes as the former PL/pgSQL function, whose four statements and jsonb building
 *	  cost about 670,000 instructions a call (callgrind).
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/snapmgr.h"

#include "api.h"
#include "direct.h"
#include "identity.h"
#include "json_out.h"
#include "lms.h"
#include "rules.h"

typedef struct CourseModule
{
	int64		id;
	int32		position;
	int32		lesson_count;
	int32		completed;
	char	   *title;
} CourseModule;

static int
module_cmp(const void *a, const void *b)
{
	const CourseModule *x = (const CourseModule *) a;
	const CourseModule *y = (const CourseModule *) b;

	if (x->position != y->position)
		return x->position < y->position ? -1 : 1;
	return x->id < y->id ? -1 : (x->id > y->id ? 1 : 0);
}

/* {"completed_lessons": n, "progress_percentage": p}: the two keys every level shares. */
static void
counts(StringInfo out, int32 completed, int32 total)
{
	appendStringInfoString(out, "\"completed_lessons\": ");
	lms_json_int(out, Min(completed, total));
	appendStringInfoString(out, ", \"progress_percentage\": ");
	lms_json_hundredths(out, lms_percent_hundredths(completed, total));
}

PG_FUNCTION_INFO_V1(lms_api_progress_course);

/*
 * lms.api_progress_course(token, path, query, body): 200 {status, modules[{title, module_id,
 * total_lessons, completed_lessons, progress_percentage}], course_id, total_lessons,
 * last_lesson_id, completed_lessons, progress_percentage, last_position_seconds}; 401, 400
 * invalid_id, 404 for an unknown course, 403 not_enrolled without an enrollment or with a
 * dropped one (an expired learner keeps read access; status reads as the enrollment shows it).
 */
Datum
lms_api_progress_course(PG_FUNCTION_ARGS)
{
	static const int cc[] = {COURSE_LESSON_COUNT};
	static const int ec[] = {ENROLLMENT_STATUS, ENROLLMENT_EXPIRES, ENROLLMENT_COMPLETED,
	ENROLLMENT_LAST_LESSON, ENROLLMENT_LAST_POSITION};
	static const int pc[] = {MP_COMPLETED};
	LmsRequest	req;
	int64		cid,
				keys[2];
	Snapshot	snap;
	Datum		cv[lengthof(cc)],
				ev[lengthof(ec)],
				pv[1];
	bool		cn[lengthof(cc)],
				en[lengthof(ec)],
				pn[1],
				isnull;
	char	   *status;
	int32		lesson_count,
				completed;
	LmsKey		key;
	LmsScan    *scan;
	CourseModule *mods;
	int			n = 0,
				cap = 8,
				i;
	StringInfoData out;

	lms_request_open(PG_ARGISNULL(0) ? NULL : PG_GETARG_TEXT_PP(0), PG_ARGISNULL(1) ? NULL : PG_GETARG_TEXT_PP(1),
					 PG_ARGISNULL(3) ? NULL : PG_GETARG_JSONB_P(3), LMS_NEEDS_CALLER | LMS_NEEDS_ID, &req);
	if (req.problem != NULL)
		PG_RETURN_DATUM(lms_response(fcinfo, req.problem_status, req.problem));
	cid = req.id;

	/* a STABLE function's reads: the calling statement's snapshot */
	snap = ActiveSnapshotSet() ? GetActiveSnapshot() : GetTransactionSnapshot();
	if (!lms_fetch(LMS_COURSES_PKEY, &cid, snap, lengthof(cc), cc, cv, cn))
		PG_RETURN_DATUM(lms_problem(fcinfo, 404, "not_found", "Course not found.", NULL));
	lesson_count = cn[0] ? 0 : DatumGetInt32(cv[0]);
	keys[0] = req.caller.user_id;
	keys[1] = cid;
	if (!lms_fetch(LMS_ENROLLMENTS_BY_LEARNER, keys, snap, lengthof(ec), ec, ev, en) || en[0] ||
		strcmp(status = TextDatumGetCString(ev[0]), "dropped") == 0)
		PG_RETURN_DATUM(lms_problem(fcinfo, 403, "not_enrolled", "You are not enrolled in this course.", NULL));
	completed = en[2] ? 0 : DatumGetInt32(ev[2]);

	/* the modules in order (position, then id), each with the learner's count */
	mods = palloc(cap * sizeof(CourseModule));
	key.strategy = BTEqualStrategyNumber;
	key.value = Int64GetDatum(cid);
	scan = lms_scan_begin(LMS_MODULES_BY_COURSE, snap, 1, &key, ForwardScanDirection);
	while (lms_scan_next(scan))
	{
		Datum		v;

		if (n == cap)
		{
			cap *= 2;
			mods = repalloc(mods, cap * sizeof(CourseModule));
		}
		mods[n].id = DatumGetInt64(lms_scan_get(scan, MODULE_ID, &isnull));
		mods[n].position = DatumGetInt32(lms_scan_get(scan, MODULE_POSITION, &isnull));
		v = lms_scan_get(scan, MODULE_LESSON_COUNT, &isnull);
		mods[n].lesson_count = isnull ? 0 : DatumGetInt32(v);
		v = lms_scan_get(scan, MODULE_TITLE, &isnull);
		mods[n].title = isnull ? NULL : TextDatumGetCString(v);
		n++;
	}
	lms_scan_end(scan);
	qsort(mods, n, sizeof(CourseModule), module_cmp);
	for (i = 0; i < n; i++)
	{
		keys[1] = mods[i].id;
		mods[i].completed = lms_fetch(LMS_MODULE_PROGRESS_PKEY, keys, snap, 1, pc, pv, pn) && !pn[0]
			? DatumGetInt32(pv[0]) : 0;
	}

	initStringInfo(&out);
	appendStringInfoString(&out, "{\"status\": ");
	lms_json_str(&out, lms_shown_status(status, en[1], en[1] ? 0 : DatumGetTimestampTz(ev[1]), lms_now()));
	appendStringInfoString(&out, ", \"modules\": [");
	for (i = 0; i < n; i++)
	{
		if (i > 0)
			appendStringInfoString(&out, ", ");
		appendStringInfoString(&out, "{\"title\": ");
		lms_json_str(&out, mods[i].title);
		appendStringInfoString(&out, ", \"module_id\": ");
		lms_json_int(&out, mods[i].id);
		appendStringInfoString(&out, ", \"total_lessons\": ");
		lms_json_int(&out, mods[i].lesson_count);
		appendStringInfoString(&out, ", ");
		counts(&out, mods[i].completed, mods[i].lesson_count);
		appendStringInfoChar(&out, '}');
	}
	appendStringInfoString(&out, "], \"course_id\": ");
	lms_json_int(&out, cid);
	appendStringInfoString(&out, ", \"total_lessons\": ");
	lms_json_int(&out, lesson_count);
	appendStringInfoString(&out, ", \"last_lesson_id\": ");
	if (en[3])
		appendStringInfoString(&out, "null");
	else
		lms_json_int(&out, DatumGetInt64(ev[3]));
	appendStringInfoString(&out, ", ");
	counts(&out, completed, lesson_count);
	appendStringInfoString(&out, ", \"last_position_seconds\": ");
	if (en[4])
		appendStringInfoString(&out, "null");
	else
		lms_json_int(&out, DatumGetInt32(ev[4]));
	appendStringInfoChar(&out, '}');
	PG_RETURN_DATUM(lms_response(fcinfo, 200, out.data));
}
