/*
 * statement.c — how one route's SQL call is sent on one connection.
 *
 * The call is always the same statement, SELECT status, body FROM lms.api_<name>($1..$4):
 *   - prepared once per connection as "r<route>" (LMS_PREPARE=on, the default), or sent as an
 *     unnamed statement every time (LMS_PREPARE=off), for poolers in transaction mode that do
 *     not carry prepared statements between server connections (PgBouncer before 1.21);
 *   - with STMT_CHECK_REPLAY, `SELECT pg_last_wal_replay_lsn()` runs first in the same
 *     pipeline (one round trip; the call's snapshot is taken after it), for replica.c;
 *   - with STMT_CAPTURE_LSN, `SELECT pg_current_wal_insert_lsn()` runs after the call has
 *     committed, again in the same pipeline: a position at or past the write's commit record.
 * Either way the parameters travel separately from the SQL text; nothing is interpolated.
 * Two route shapes differ (gw.h): xAPI routes (RF_XAPI) call lms.api_xapi_*(method, query,
 * headers, body bytea) -> (status, headers, body), their body sent and their answer read in
 * binary; streamed exports (RF_STREAM) call their set-returning function in the select list.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "gw.h"

/* The SQL text of a route's call. */
void
stmt_sql(int route, char *out, size_t outsz)
{
    if (gw_routes[route].flags & RF_XAPI)
        snprintf(out, outsz,
                 "SELECT status, headers, body FROM lms.%s($1::text, $2::jsonb, $3::jsonb, $4::bytea)",
                 gw_routes[route].function);
    else if (gw_routes[route].flags & RF_STREAM)
        snprintf(out, outsz, "SELECT lms.%s($1::text, $2::text, $3::jsonb, $4::jsonb)",
                 gw_routes[route].function);
    else
        snprintf(out, outsz,
                 "SELECT status, body FROM lms.%s($1::text, $2::text, $3::jsonb, $4::jsonb)",
                 gw_routes[route].function);
}

/* Wire formats of a route's call: the xAPI body parameter and answer are binary. */
static const int xapi_formats[4] = {0, 0, 0, 1};
#define PARAM_FORMATS(route) ((gw_routes[route].flags & RF_XAPI) ? xapi_formats : NULL)
#define RESULT_FORMAT(route) ((gw_routes[route].flags & RF_XAPI) ? 1 : 0)

/* Send the route's call (prepared or unnamed) without waiting for it. */
int
stmt_send(PGconn *conn, int route, const char *const params[4], const int lengths[4], int prepared)
{
    char sql[256], name[16];

    if (prepared) {
        snprintf(name, sizeof(name), "r%d", route);
        return PQsendQueryPrepared(conn, name, 4, params, lengths, PARAM_FORMATS(route),
                                   RESULT_FORMAT(route));
    }
    stmt_sql(route, sql, sizeof(sql));
    return PQsendQueryParams(conn, sql, 4, NULL, params, lengths, PARAM_FORMATS(route),
                             RESULT_FORMAT(route));
}

/* The first result of the next query of a pipeline; the rest up to its NULL is dropped. */
static PGresult *
next_result(PGconn *conn)
{
    PGresult *res = PQgetResult(conn), *extra;

    while (res && (extra = PQgetResult(conn)) != NULL)
        PQclear(extra);
    return res;
}

/* An LSN result: the position, or 0 with *isnull set when it is NULL; -1 on an error. */
static int
lsn_of(PGresult *res, uint64_t *lsn, int *isnull)
{
    *lsn = 0;
    *isnull = 0;
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
        return -1;
    if (PQgetisnull(res, 0, 0)) {
        *isnull = 1;
        return 0;
    }
    {
        const char *v = PQgetvalue(res, 0, 0);

        return lsn_parse(v, strlen(v), lsn) ? 0 : -1;
    }
}

/*
 * Run the call. Without a mode this is one PQexecPrepared/PQexecParams. With a mode the pipeline
 * is [check; call; sync] or [call; sync; capture; sync]: the check shares the call's implicit
 * transaction (each statement still takes its own snapshot), the capture runs after the call's
 * commit. *lsn receives the position read (0 when NULL or not read; *in_recovery is 0 when the
 * replay position was NULL, i.e. the server is not a standby). Returns the call's result, or
 * NULL when the connection broke.
 */
PGresult *
stmt_run(PGconn *conn, int route, const char *const params[4], const int lengths[4], int prepared,
         int mode, uint64_t *lsn, int *in_recovery)
{
    PGresult *call = NULL, *aux = NULL, *sync;
    int isnull = 0, ok;

    *lsn = 0;
    *in_recovery = 1;
    if (mode == STMT_PLAIN) {
        if (prepared) {
            char name[16];

            snprintf(name, sizeof(name), "r%d", route);
            return PQexecPrepared(conn, name, 4, params, lengths, PARAM_FORMATS(route),
                                  RESULT_FORMAT(route));
        }
        {
            char sql[256];

            stmt_sql(route, sql, sizeof(sql));
            return PQexecParams(conn, sql, 4, NULL, params, lengths, PARAM_FORMATS(route),
                                RESULT_FORMAT(route));
        }
    }
    if (!PQenterPipelineMode(conn))
        return NULL;
    if (mode == STMT_CHECK_REPLAY)
        ok = PQsendQueryParams(conn, "SELECT pg_catalog.pg_last_wal_replay_lsn()", 0, NULL, NULL,
                               NULL, NULL, 0)
             && stmt_send(conn, route, params, lengths, prepared) && PQpipelineSync(conn);
    else
        ok = stmt_send(conn, route, params, lengths, prepared) && PQpipelineSync(conn)
             && PQsendQueryParams(conn, "SELECT pg_catalog.pg_current_wal_insert_lsn()", 0, NULL,
                                  NULL, NULL, NULL, 0)
             && PQpipelineSync(conn);
    if (!ok) {
        PQexitPipelineMode(conn);
        return NULL;
    }
    if (mode == STMT_CHECK_REPLAY) {
        aux = next_result(conn);
        call = next_result(conn);
    } else
        call = next_result(conn);
    sync = PQgetResult(conn);
    ok = sync && PQresultStatus(sync) == PGRES_PIPELINE_SYNC;
    PQclear(sync);
    if (ok && mode == STMT_CAPTURE_LSN) {
        aux = next_result(conn);
        sync = PQgetResult(conn);
        ok = sync && PQresultStatus(sync) == PGRES_PIPELINE_SYNC;
        PQclear(sync);
    }
    if (!ok || !PQexitPipelineMode(conn)) {
        /* a broken connection: the caller rebuilds it */
        PQclear(aux);
        if (PQstatus(conn) == CONNECTION_OK && call
            && PQresultStatus(call) != PGRES_PIPELINE_ABORTED)
            return call;
        PQclear(call);
        return NULL;
    }
    if (aux && lsn_of(aux, lsn, &isnull) == 0)
        *in_recovery = !isnull;
    else if (mode == STMT_CHECK_REPLAY)
        *lsn = 0; /* the check failed: 0 never covers a required position */
    PQclear(aux);
    return call;
}
