/*
 * point_rules.c
 *	  The points each kind of event earns: the one home of the scoring rules
 *	  (docs/gamification.md#point-rules).
 *
 * An admin sets them in lms.point_rules (GET/PUT /admin/gamification/rules), for every course
 * or for one course; a rule nobody set has the default below. Scoring (scoring.c) asks here at
 * each award, so a change applies to the next event; lms.recalculate_points() re-scores past
 * events under the rules in force, through the ledger.
 *
 *   rule               default   earned by
 *   lesson_video       10        completing a video lesson whose own points are not set
 *   lesson_text        10        ... a text lesson
 *   lesson_quiz        10        ... a quiz lesson
 *   quiz_passed        20        passing a quiz, once per quiz
 *   quiz_perfect       10        a 100 % score, once per quiz (at least 1: its ledger rows are
 *                                what the quiz_perfect achievements count)
 *   course_completed   100       completing a course (at least 1: the courses_completed count)
 *   streak_bonus       50        every 7th consecutive active day (no per-course value)
 *
 * A lesson's own points (lms.lessons.points, set by its author) win over its kind's rule; NULL
 * follows the rule.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"

#include "lms.h"
#include "plans.h"
#include "point_rules.h"

typedef struct PointRule
{
	const char *name;
	int32		points;			/* the default */
	int32		min;			/* the least an admin may set */
	bool		per_course;		/* may a course have its own value */
} PointRule;

static const PointRule rules[] = {
	{"lesson_video", 10, 0, true},
	{"lesson_text", 10, 0, true},
	{"lesson_quiz", 10, 0, true},
	{"quiz_passed", 20, 0, true},
	{"quiz_perfect", 10, 1, true},
	{"course_completed", 100, 1, true},
	{"streak_bonus", 50, 0, false},
};

#define POINT_RULE_MAX 100000

static SPIPlanPtr plan_rule = NULL;

static const PointRule *
find_rule(const char *name)
{
	int			i;

	for (i = 0; i < lengthof(rules); i++)
		if (strcmp(rules[i].name, name) == 0)
			return &rules[i];
	return NULL;
}

static const PointRule *
known_rule(const char *name)
{
	const PointRule *r = find_rule(name);

	if (r == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown point rule \"%s\"", name),
				 errdetail("Rules are lesson_video, lesson_text, lesson_quiz, quiz_passed, quiz_perfect, course_completed and streak_bonus.")));
	return r;
}

/*
 * The points of a rule for a course (0: no course): the course's own value, else the value
 * for every course, else the default (always, on a 1.0 install). The caller is connected to
 * SPI.
 */
int32
lms_point_rule(const char *name, int64 course_id)
{
	static const Oid types[2] = {TEXTOID, INT8OID};
	const PointRule *r = known_rule(name);
	Datum		values[2];

	if (!lms_schema_has("point_rules"))
		return r->points;
	lms_plan(&plan_rule,
			 "SELECT points FROM lms.point_rules WHERE rule = $1 AND (course_id = $2 OR course_id IS NULL) "
			 "ORDER BY course_id NULLS LAST LIMIT 1",
			 2, types);
	values[0] = CStringGetTextDatum(name);
	values[1] = Int64GetDatum(r->per_course ? course_id : 0);
	lms_exec_expect(plan_rule, values, NULL, true, 1, SPI_OK_SELECT, "read the point rule");
	if (SPI_processed == 1)
		return lms_col_int32(0, 1, r->points);
	return r->points;
}

/*
 * The points for completing a lesson: its own when its author set them (own >= 0), else its
 * kind's rule for its course.
 */
int32
lms_lesson_points(const char *kind, int64 course_id, int32 own)
{
	char		rule[32];

	if (own >= 0)
		return own;
	snprintf(rule, sizeof(rule), "lesson_%s", kind);
	return lms_point_rule(rule, course_id);
}

PG_FUNCTION_INFO_V1(lms_point_rule_sql);

/*
 * lms.point_rule(rule, course_id): the rule in force for a course (NULL: every course).
 */
Datum
lms_point_rule_sql(PG_FUNCTION_ARGS)
{
	char	   *name;
	int64		course_id = PG_ARGISNULL(1) ? 0 : PG_GETARG_INT64(1);
	int32		points;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));

	lms_spi_connect();
	points = lms_point_rule(name, course_id);
	SPI_finish();
	PG_RETURN_INT32(points);
}

PG_FUNCTION_INFO_V1(lms_lesson_points_sql);

/*
 * lms.lesson_points(kind, course_id, points): what completing a lesson earns (its own points,
 * NULL: its kind's rule).
 */
Datum
lms_lesson_points_sql(PG_FUNCTION_ARGS)
{
	char	   *kind;
	int64		course_id;
	int32		points;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_NULL();
	if (!PG_ARGISNULL(2))
		PG_RETURN_INT32(PG_GETARG_INT32(2));
	kind = text_to_cstring(PG_GETARG_TEXT_PP(0));
	course_id = PG_GETARG_INT64(1);
	lms_spi_connect();
	points = lms_lesson_points(kind, course_id, -1);
	SPI_finish();
	PG_RETURN_INT32(points);
}

PG_FUNCTION_INFO_V1(lms_point_rule_default);

/*
 * lms.point_rule_default(rule): its default, NULL for a name that is not a rule.
 */
Datum
lms_point_rule_default(PG_FUNCTION_ARGS)
{
	const PointRule *r = find_rule(text_to_cstring(PG_GETARG_TEXT_PP(0)));

	if (r == NULL)
		PG_RETURN_NULL();
	PG_RETURN_INT32(r->points);
}

PG_FUNCTION_INFO_V1(lms_point_rule_allows);

/*
 * lms.point_rule_allows(rule, course_id, points): whether an admin may set this value: a
 * known rule, a course value only for a rule that has them, points from the rule's least to
 * 100000. The table's CHECK and the PUT route ask the same question.
 */
Datum
lms_point_rule_allows(PG_FUNCTION_ARGS)
{
	const PointRule *r = find_rule(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	bool		for_course = !PG_ARGISNULL(1);
	int32		points = PG_GETARG_INT32(2);

	PG_RETURN_BOOL(r != NULL && (r->per_course || !for_course) &&
				   points >= r->min && points <= POINT_RULE_MAX);
}

PG_FUNCTION_INFO_V1(lms_point_rules_list);

/*
 * lms.point_rules_list(): every rule with its default, least value and whether a course may
 * have its own (the GET route, the docs).
 */
Datum
lms_point_rules_list(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			i;

	InitMaterializedSRF(fcinfo, 0);
	for (i = 0; i < lengthof(rules); i++)
	{
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};

		values[0] = CStringGetTextDatum(rules[i].name);
		values[1] = Int32GetDatum(rules[i].points);
		values[2] = Int32GetDatum(rules[i].min);
		values[3] = BoolGetDatum(rules[i].per_course);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
