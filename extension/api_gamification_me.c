/*
 * api_gamification_me.c
 *	  GET /gamification/me: the hottest read (every page of the learner's dashboard), so the
 *	  whole request is C: the caller's token, the learner's scores and achievements by direct
 *	  index lookups (direct.c: through SQL the executor's start-up of that join cost more than
 *	  the lookups), both ranks by the leaderboards' own direct reads (lms_board_user_rank: two
 *	  primary-key lookups each, after lms.user_rank's freshness check), and the answer written
 *	  straight in jsonb's text layout.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/json.h"
#include "utils/snapmgr.h"

#include "api.h"
#include "direct.h"
#include "identity.h"
#include "json_out.h"
#include "leaderboard.h"
#include "plans.h"
#include "rules.h"

/* One awarded achievement, in the answer's order: awarded_at, then achievement id. */
typedef struct MeAchievement
{
	int64		id;
	TimestampTz awarded_at;
	char	   *code;
	char	   *title;
} MeAchievement;

static int
achievement_cmp(const void *a, const void *b)
{
	const MeAchievement *x = (const MeAchievement *) a;
	const MeAchievement *y = (const MeAchievement *) b;

	if (x->awarded_at != y->awarded_at)
		return x->awarded_at < y->awarded_at ? -1 : 1;
	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return 0;
}

/*
 * The learner's achievements (user_achievements JOIN achievements) by index, sorted; returns
 * how many. Strings are palloc'd in the current memory context.
 */
static int
read_achievements(int64 user_id, Snapshot snap, MeAchievement **out)
{
	static const int ac[] = {ACH_CODE, ACH_TITLE};
	LmsKey		key = {BTEqualStrategyNumber, Int64GetDatum(user_id)};
	LmsScan    *scan;
	int			n = 0,
				cap = 8,
				kept = 0,
				i;
	MeAchievement *list = palloc(cap * sizeof(MeAchievement));
	bool		isnull;

	scan = lms_scan_begin(LMS_USER_ACHIEVEMENTS_PKEY, snap, 1, &key, ForwardScanDirection);
	while (lms_scan_next(scan))
	{
		if (n == cap)
		{
			cap *= 2;
			list = repalloc(list, cap * sizeof(MeAchievement));
		}
		list[n].id = DatumGetInt64(lms_scan_get(scan, UA_ACHIEVEMENT, &isnull));
		list[n].awarded_at = DatumGetTimestampTz(lms_scan_get(scan, UA_AWARDED_AT, &isnull));
		list[n].code = list[n].title = NULL;
		n++;
	}
	lms_scan_end(scan);

	for (i = 0; i < n; i++)
	{
		Datum		v[lengthof(ac)];
		bool		nl[lengthof(ac)];

		if (!lms_fetch(LMS_ACHIEVEMENTS_PKEY, &list[i].id, snap, lengthof(ac), ac, v, nl))
			continue;
		list[kept] = list[i];
		list[kept].code = nl[0] ? NULL : TextDatumGetCString(v[0]);
		list[kept].title = nl[1] ? NULL : TextDatumGetCString(v[1]);
		kept++;
	}
	if (kept > 1)
		qsort(list, kept, sizeof(MeAchievement), achievement_cmp);
	*out = list;
	return kept;
}

/*
 * lms.api_gamification_me(token, path, query, body): 200 with
 * {user_id, total_points, level, level_progress{level_floor, next_level_at}, current_streak,
 * longest_streak, last_activity_date, achievements_count, achievements[{code, title,
 * awarded_at}], rank{all_time, week}}, or 401. A learner without a scores row reads zeros and
 * level 1. The text is exactly what jsonb prints for that document (keys by length then bytes,
 * ", " and ": " separators), so it matches the former SQL answer byte for byte without a
 * jsonb round trip.
 */
PG_FUNCTION_INFO_V1(lms_api_gamification_me);
Datum
lms_api_gamification_me(PG_FUNCTION_ARGS)
{
	LmsRequest	req;
	BoardRef	board;
	int64		board_points;
	StringInfoData out;
	bool		all_null,
				week_null;
	int32		all_rank = 0,
				week_rank = 0;
	int64		key;
	static const int sc[] = {SCORES_TOTAL, SCORES_LEVEL, SCORES_CURRENT, SCORES_LONGEST, SCORES_LAST_DAY};
	Datum		sv[lengthof(sc)];
	bool		sn[lengthof(sc)];
	int64		total_points = 0,
				level = 1,
				current_streak = 0,
				longest_streak = 0;
	bool		day_null = true;
	DateADT		day = 0;
	MeAchievement *list;
	int			count,
				i;
	Snapshot	snap;

	lms_request_open(PG_ARGISNULL(0) ? NULL : PG_GETARG_TEXT_PP(0), NULL, NULL, LMS_NEEDS_CALLER, &req);
	if (req.problem != NULL)
		PG_RETURN_DATUM(lms_response(fcinfo, req.problem_status, req.problem));
	key = req.caller.user_id;

	/* the ranks first: a refresh they make is then visible to the snapshot below */
	lms_board_ref(&board, 0, WIN_ALL);
	all_null = !lms_board_user_rank(&board, key, &all_rank, &board_points);
	lms_board_ref(&board, 0, WIN_WEEK);
	week_null = !lms_board_user_rank(&board, key, &week_rank, &board_points);

	snap = RegisterSnapshot(GetTransactionSnapshot());
	if (lms_fetch(LMS_LEARNER_SCORES_PKEY, &key, snap, lengthof(sc), sc, sv, sn))
	{
		total_points = sn[0] ? 0 : DatumGetInt64(sv[0]);
		level = sn[1] ? 1 : DatumGetInt32(sv[1]);
		current_streak = sn[2] ? 0 : DatumGetInt32(sv[2]);
		longest_streak = sn[3] ? 0 : DatumGetInt32(sv[3]);
		day_null = sn[4];
		if (!day_null)
			day = DatumGetDateADT(sv[4]);
	}

	count = read_achievements(key, snap, &list);
	UnregisterSnapshot(snap);

	initStringInfo(&out);
	appendStringInfoString(&out, "{\"rank\": {\"week\": ");
	lms_json_int_or_null(&out, week_null, week_rank);
	appendStringInfoString(&out, ", \"all_time\": ");
	lms_json_int_or_null(&out, all_null, all_rank);
	appendStringInfoString(&out, "}, \"level\": ");
	lms_json_int(&out, level);
	appendStringInfoString(&out, ", \"user_id\": ");
	lms_json_int(&out, key);
	appendStringInfoString(&out, ", \"achievements\": [");
	for (i = 0; i < count; i++)
	{
		if (i > 0)
			appendStringInfoString(&out, ", ");
		appendStringInfoString(&out, "{\"code\": ");
		lms_json_str(&out, list[i].code);
		appendStringInfoString(&out, ", \"title\": ");
		lms_json_str(&out, list[i].title);
		appendStringInfoString(&out, ", \"awarded_at\": ");
		lms_json_ts(&out, list[i].awarded_at, false);
		appendStringInfoChar(&out, '}');
	}
	appendStringInfoString(&out, "], \"total_points\": ");
	lms_json_int(&out, total_points);
	appendStringInfoString(&out, ", \"current_streak\": ");
	lms_json_int(&out, current_streak);
	appendStringInfoString(&out, ", \"level_progress\": {\"level_floor\": ");
	lms_json_int(&out, lms_level_floor(level));
	appendStringInfoString(&out, ", \"next_level_at\": ");
	lms_json_int(&out, lms_level_floor(level + 1));
	appendStringInfoString(&out, "}, \"longest_streak\": ");
	lms_json_int(&out, longest_streak);
	appendStringInfoString(&out, ", \"achievements_count\": ");
	lms_json_int(&out, count);
	appendStringInfoString(&out, ", \"last_activity_date\": ");
	if (day_null)
		appendStringInfoString(&out, "null");
	else
	{
		char		datebuf[MAXDATELEN + 1];

		/* the text to_jsonb gives a date (ISO, whatever DateStyle says) */
		escape_json(&out, JsonEncodeDateTime(datebuf, DateADTGetDatum(day), DATEOID, NULL));
	}
	appendStringInfoChar(&out, '}');

	PG_RETURN_DATUM(lms_response(fcinfo, 200, out.data));
}
