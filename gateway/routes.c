/*
 * routes.c — the one routing table of lms-gateway.
 *
 * Each row is one route of the REST contract (../shared/API.md) and names the one SQL
 * function that serves it (docs/calling-convention.md). The table is the documentation of
 * what the gateway serves: the prepared statements (pool.c), the metrics labels (metrics.c),
 * the caching rules (http.c) and `lms-gateway --routes` all come from it, and the HTTP suite
 * checks that gateway/openapi.json lists exactly these routes.
 */
#include <pthread.h>
#include <string.h>
#include <stdio.h>

#include "gw.h"

#define RO RF_READ_ONLY
#define P CACHE_PERSONAL
#define PUB CACHE_PUBLIC
#define NS CACHE_NONE

const struct route gw_routes[] = {
    {"POST", "/api/v1/auth/register", "api_auth_register", ARG_NONE, NS, RF_LOGIN_RATE},
    {"POST", "/api/v1/auth/login", "api_auth_login", ARG_NONE, NS, RF_LOGIN_RATE | RF_LOGIN},
    {"POST", "/api/v1/auth/logout", "api_auth_logout", ARG_NONE, NS, RF_LOGOUT},
    {"GET", "/api/v1/users/me", "api_users_me_get", ARG_NONE, P, RO},
    {"PATCH", "/api/v1/users/me", "api_users_me_patch", ARG_NONE, NS, 0},
    {"GET", "/api/v1/courses", "api_courses_list", ARG_NONE, PUB, RO},
    {"POST", "/api/v1/courses", "api_course_create", ARG_NONE, NS, 0},
    {"GET", "/api/v1/courses/{id}", "api_course_get", ARG_ID, PUB, RO},
    {"PATCH", "/api/v1/courses/{id}", "api_course_patch", ARG_ID, NS, 0},
    {"POST", "/api/v1/courses/{id}/publish", "api_course_publish", ARG_ID, NS, 0},
    {"POST", "/api/v1/courses/{id}/modules", "api_module_create", ARG_ID, NS, 0},
    {"POST", "/api/v1/courses/{id}/enroll", "api_enroll", ARG_ID, NS, 0},
    {"DELETE", "/api/v1/courses/{id}/enroll", "api_unenroll", ARG_ID, NS, 0},
    {"GET", "/api/v1/courses/{id}/analytics", "api_course_analytics", ARG_ID, P, RO},
    {"GET", "/api/v1/courses/{id}/students", "api_course_students", ARG_ID, P, RO},
    {"POST", "/api/v1/modules/{id}/lessons", "api_lesson_create", ARG_ID, NS, 0},
    {"GET", "/api/v1/lessons/{id}", "api_lesson_get", ARG_ID, P, RO},
    {"PATCH", "/api/v1/lessons/{id}", "api_lesson_patch", ARG_ID, NS, 0},
    {"POST", "/api/v1/lessons/{id}/quiz", "api_quiz_create", ARG_ID, NS, 0},
    {"GET", "/api/v1/enrollments/me", "api_enrollments_me", ARG_NONE, P, RO},
    {"POST", "/api/v1/progress/lessons/{id}", "api_progress_record", ARG_ID, NS, 0},
    {"GET", "/api/v1/progress/courses/{id}", "api_progress_course", ARG_ID, P, RO},
    {"GET", "/api/v1/quizzes/{id}", "api_quiz_get", ARG_ID, P, RO},
    {"POST", "/api/v1/quizzes/{id}/attempts", "api_quiz_attempt", ARG_ID, NS, 0},
    {"GET", "/api/v1/gamification/me", "api_gamification_me", ARG_NONE, P, RO},
    {"GET", "/api/v1/gamification/me/history", "api_gamification_history", ARG_NONE, P, RO},
    {"GET", "/api/v1/achievements", "api_achievements_list", ARG_NONE, PUB, RO},
    {"POST", "/api/v1/admin/achievements", "api_admin_achievement_create", ARG_NONE, NS, 0},
    {"POST", "/api/v1/admin/points", "api_admin_points", ARG_NONE, NS, 0},
    {"POST", "/api/v1/admin/gamification/recompute", "api_admin_recompute", ARG_NONE, NS, 0},
    {"GET", "/api/v1/admin/gamification/rules", "api_admin_point_rules_get", ARG_NONE, P, RO},
    {"PUT", "/api/v1/admin/gamification/rules", "api_admin_point_rules_put", ARG_NONE, NS, 0},
    {"POST", "/api/v1/admin/gamification/recalculate", "api_admin_recalculate", ARG_NONE, NS, 0},
    {"GET", "/api/v1/leaderboards/global", "api_leaderboard_global", ARG_NONE, PUB, RO},
    {"GET", "/api/v1/leaderboards/courses/{id}", "api_leaderboard_course", ARG_ID, PUB, RO},
    {"POST", "/api/v1/admin/leaderboards/refresh", "api_admin_leaderboards_refresh", ARG_NONE, NS, 0},
    {"GET", "/api/v1/leaderboards/groups", "api_leaderboard_groups", ARG_NONE, PUB, RO},
    {"GET", "/api/v1/leagues/me", "api_leagues_me", ARG_NONE, P, RO},
    {"GET", "/api/v1/leagues/me/history", "api_leagues_history", ARG_NONE, P, RO},
    {"GET", "/api/v1/admin/leagues/tiers", "api_admin_league_tiers_get", ARG_NONE, P, RO},
    {"PUT", "/api/v1/admin/leagues/tiers", "api_admin_league_tiers_put", ARG_NONE, NS, 0},
    {"POST", "/api/v1/admin/leagues/rollover", "api_admin_league_rollover", ARG_NONE, NS, 0},
    {"GET", "/api/v1/groups", "api_groups_list", ARG_NONE, P, RO},
    {"POST", "/api/v1/groups", "api_group_create", ARG_NONE, NS, 0},
    {"GET", "/api/v1/groups/{id}", "api_group_get", ARG_ID, P, RO},
    {"PATCH", "/api/v1/groups/{id}", "api_group_patch", ARG_ID, NS, 0},
    {"DELETE", "/api/v1/groups/{id}", "api_group_delete", ARG_ID, NS, 0},
    {"GET", "/api/v1/groups/{id}/members", "api_group_members", ARG_ID, P, RO},
    {"POST", "/api/v1/groups/{id}/members", "api_group_members_add", ARG_ID, NS, 0},
    {"PUT", "/api/v1/groups/{id}/members", "api_group_members_set", ARG_ID, NS, 0},
    {"POST", "/api/v1/certificates/courses/{id}", "api_certificate_issue", ARG_ID, NS, 0},
    {"GET", "/api/v1/certificates/{code}", "api_certificate_get", ARG_CODE, PUB, RO},
    {"GET", "/api/v1/admin/users", "api_admin_users_list", ARG_NONE, P, RO},
    {"PATCH", "/api/v1/admin/users/{id}", "api_admin_user_patch", ARG_ID, NS, 0},
    {"GET", "/api/v1/admin/audit", "api_admin_audit", ARG_NONE, P, RO},
    /* reads pg_stat_* of the primary, so never sent to the replica */
    {"GET", "/api/v1/admin/performance", "api_admin_performance", ARG_NONE, P, RF_GATEWAY_BODY},
    /* the learner's home page in one call (docs/dashboard.md) */
    {"GET", "/api/v1/me/dashboard", "api_me_dashboard", ARG_NONE, P, RO},
    /* exports streamed from a cursor as chunks (stream.c, docs/exports.md) */
    {"GET", "/api/v1/courses/{id}/export/progress", "api_export_course_progress", ARG_ID, NS, RF_STREAM},
    {"GET", "/api/v1/courses/{id}/export/gradebook", "api_export_course_gradebook", ARG_ID, NS, RF_STREAM},
    {"GET", "/api/v1/admin/export/ledger", "api_export_ledger", ARG_NONE, NS, RF_STREAM},
    {"GET", "/api/v1/admin/export/statements", "api_export_statements", ARG_NONE, NS, RF_STREAM},
    /* the xAPI Learning Record Store (xapi.c, docs/xapi.md); credentials by an admin */
    {"POST", "/api/v1/admin/xapi/clients", "api_admin_xapi_client_create", ARG_NONE, NS, 0},
    {"GET", "/xapi/statements", "api_xapi_statements", ARG_NONE, NS, RF_XAPI},
    {"PUT", "/xapi/statements", "api_xapi_statements", ARG_NONE, NS, RF_XAPI},
    {"POST", "/xapi/statements", "api_xapi_statements", ARG_NONE, NS, RF_XAPI},
    {"GET", "/xapi/activities/state", "api_xapi_state", ARG_NONE, NS, RF_XAPI},
    {"PUT", "/xapi/activities/state", "api_xapi_state", ARG_NONE, NS, RF_XAPI},
    {"POST", "/xapi/activities/state", "api_xapi_state", ARG_NONE, NS, RF_XAPI},
    {"DELETE", "/xapi/activities/state", "api_xapi_state", ARG_NONE, NS, RF_XAPI},
    {"GET", "/xapi/activities/profile", "api_xapi_activity_profile", ARG_NONE, NS, RF_XAPI},
    {"PUT", "/xapi/activities/profile", "api_xapi_activity_profile", ARG_NONE, NS, RF_XAPI},
    {"POST", "/xapi/activities/profile", "api_xapi_activity_profile", ARG_NONE, NS, RF_XAPI},
    {"DELETE", "/xapi/activities/profile", "api_xapi_activity_profile", ARG_NONE, NS, RF_XAPI},
    {"GET", "/xapi/agents/profile", "api_xapi_agent_profile", ARG_NONE, NS, RF_XAPI},
    {"PUT", "/xapi/agents/profile", "api_xapi_agent_profile", ARG_NONE, NS, RF_XAPI},
    {"POST", "/xapi/agents/profile", "api_xapi_agent_profile", ARG_NONE, NS, RF_XAPI},
    {"DELETE", "/xapi/agents/profile", "api_xapi_agent_profile", ARG_NONE, NS, RF_XAPI},
    {"GET", "/xapi/activities", "api_xapi_activities", ARG_NONE, NS, RF_XAPI},
    {"GET", "/xapi/agents", "api_xapi_agents", ARG_NONE, NS, RF_XAPI},
    {"GET", "/xapi/about", "api_xapi_about", ARG_NONE, NS, RF_XAPI},
};

const int gw_nroutes = (int)(sizeof(gw_routes) / sizeof(gw_routes[0]));
_Static_assert(sizeof(gw_routes) / sizeof(gw_routes[0]) <= GW_MAX_ROUTES, "more routes than GW_MAX_ROUTES");

/*
 * The patterns cut into segments once (the first route_match): matching a request then compares
 * its segments with those of the patterns of the same length, instead of re-scanning every
 * pattern with strchr for every request (12,000 instructions a request by callgrind, a quarter
 * of the gateway's own work on GET /gamification/me).
 */
#define MAX_SEGS 8

struct seg {
    const char *p;
    size_t len;
    int param;             /* "{...}": any non-empty segment */
};

static struct {
    int n;                 /* segments, or -1 when the pattern has more than MAX_SEGS */
    struct seg s[MAX_SEGS];
} pat[GW_MAX_ROUTES];
static pthread_once_t pat_once = PTHREAD_ONCE_INIT;

/* Cut "/a/b/{id}" into its segments; returns how many, or -1 past max or when malformed. */
static int
split(const char *path, size_t len, struct seg *out, int max)
{
    size_t i = 0;
    int n = 0;

    if (len == 0 || path[0] != '/')
        return -1;
    while (i < len && path[i] == '/') {
        size_t start = ++i;

        while (i < len && path[i] != '/')
            i++;
        if (n == max)
            return -1;
        out[n].p = path + start;
        out[n].len = i - start;
        out[n].param = out[n].len >= 2 && path[start] == '{';
        n++;
    }
    return n;
}

static void
cut_patterns(void)
{
    for (int i = 0; i < gw_nroutes && i < GW_MAX_ROUTES; i++)
        pat[i].n = split(gw_routes[i].pattern, strlen(gw_routes[i].pattern), pat[i].s, MAX_SEGS);
}

/*
 * Match a request's segments against route i. Returns -1 for no match, else the number of
 * literal segments (so that a literal route wins over a parameter one), and stores the
 * parameter segment's position.
 */
static int
pattern_match(int i, const struct seg *req, int n, const char **argp, size_t *arglen)
{
    int literals = 0;

    *argp = NULL;
    *arglen = 0;
    if (pat[i].n != n)
        return -1;
    for (int k = 0; k < n; k++) {
        const struct seg *ps = &pat[i].s[k];

        if (ps->param) {
            if (req[k].len == 0)
                return -1;
            *argp = req[k].p;
            *arglen = req[k].len;
        } else if (ps->len == req[k].len && memcmp(ps->p, req[k].p, ps->len) == 0)
            literals++;
        else
            return -1;
    }
    return literals;
}

/*
 * Route one request. A path no pattern matches is 404; a path some pattern matches but not
 * with this method is 405 with the Allow list of those patterns' methods; a matched route
 * whose {id} is not an integer 1..2^63-1 is 400 invalid_id. HEAD is routed like GET.
 */
int
route_match(const char *method, const char *path, size_t pathlen, struct match *m)
{
    int best = -1, best_literals = -1, any = 0, n;
    const char *best_arg = NULL;
    size_t best_arglen = 0;
    struct seg req[MAX_SEGS];

    m->route = -1;
    m->arg[0] = '\0';
    m->allow[0] = '\0';
    if (strcmp(method, "HEAD") == 0)
        method = "GET";
    pthread_once(&pat_once, cut_patterns);
    n = split(path, pathlen, req, MAX_SEGS);
    if (n < 0)
        return MATCH_NOT_FOUND;
    for (int i = 0; i < gw_nroutes && i < GW_MAX_ROUTES; i++) {
        const char *a;
        size_t al;
        int lit = pattern_match(i, req, n, &a, &al);

        if (lit < 0)
            continue;
        any = 1;
        if (strcmp(gw_routes[i].method, method) == 0) {
            if (lit > best_literals) {
                best = i;
                best_literals = lit;
                best_arg = a;
                best_arglen = al;
            }
        } else if (!strstr(m->allow, gw_routes[i].method)) {
            size_t used = strlen(m->allow);
            snprintf(m->allow + used, sizeof(m->allow) - used, "%s%s",
                     used ? ", " : "", gw_routes[i].method);
        }
    }
    if (best < 0)
        return any ? MATCH_BAD_METHOD : MATCH_NOT_FOUND;
    m->route = best;
    switch (gw_routes[best].arg) {
    case ARG_ID:
        if (!parse_id(best_arg, best_arglen, m->arg, sizeof(m->arg)))
            return MATCH_INVALID_ID;
        break;
    case ARG_CODE:
        if (!parse_code(best_arg, best_arglen, m->arg, sizeof(m->arg)))
            return MATCH_NOT_FOUND;
        break;
    default:
        break;
    }
    return MATCH_OK;
}
