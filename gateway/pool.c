/*
 * pool.c — the libpq connection pool, separate from the HTTP threads.
 *
 * A fixed number of slots shared by all civetweb workers. A slot is either live (connected,
 * statement_timeout set, one statement prepared per route: "r<index>" = SELECT status, body
 * FROM lms.api_<name>($1,$2,$3,$4)) or dead. Requests only ever take live slots: a request
 * waits, first come first served, up to the acquisition timeout for any live one. Dead slots
 * belong to one background thread per pool that reconnects them with exponential backoff
 * (RECONNECT_MIN_MS doubling to RECONNECT_MAX_MS, with jitter), so a slot the server refuses
 * (max_connections reached) costs a connection attempt now and then, never a request.
 *
 * Outcomes: a request that got no live slot within the timeout is EXEC_TIMEOUT while some
 * slot is live (the pool is busy) and EXEC_UNAVAILABLE while none is; when no slot is live
 * and the last connection attempt failed (the database is known to be away) it is
 * EXEC_UNAVAILABLE at once, without waiting. A connection lost in use marks its slot dead
 * and ages every idle slot (epoch), which is checked with an empty query before its next use.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "gw.h"

#define RECONNECT_MIN_MS 100
#define RECONNECT_MAX_MS 2000

struct pconn {
    PGconn *conn;                /* NULL while the slot is dead */
    int live;                    /* connected and prepared; only live slots are lent */
    unsigned epoch;              /* pool epoch when last known good */
    int failures;                /* consecutive failed connection attempts (backoff) */
    long long next_try_ms;       /* dead: no attempt before this (monotonic ms) */
    unsigned char prepared[GW_MAX_ROUTES];
};

/* A request waiting for a connection; release() hands slots to waiters in arrival order. */
struct waiter {
    pthread_cond_t cv;
    int slot;                    /* -1 until a connection is handed over */
    struct waiter *next;
};

struct pool {
    const char *name;
    char *url;
    int size;
    struct pconn *c;
    int *free_stack;             /* idle live slots */
    int nfree;
    int nlive;
    int in_use;
    int waiting;
    int known_down;              /* no slot live and the last connection attempt failed */
    unsigned epoch;              /* bumped on every connection lost in use */
    struct waiter *head, *tail;  /* FIFO of waiting requests */
    pthread_mutex_t mu;
    pthread_cond_t wake;         /* the reconnector's: a slot died, or stop */
    pthread_t thread;
    int started, stop;
};

static pthread_condattr_t mono_attr;

static struct pool primary, replica;
static int have_replica;
static int acquire_timeout_ms = 1000;
static int stmt_timeout_ms = 0;

/* Monotonic milliseconds, for deadlines and the reconnect backoff. */
static long long
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct timespec
deadline_in(long long ms)
{
    struct timespec dl;

    clock_gettime(CLOCK_MONOTONIC, &dl);
    dl.tv_sec += ms / 1000;
    dl.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (dl.tv_nsec >= 1000000000L) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000L;
    }
    return dl;
}

/* Set up one pool's bookkeeping: every slot starts dead, due for an attempt at once. */
static int
pool_setup(struct pool *p, const char *name, const char *url, int size)
{
    memset(p, 0, sizeof(*p));
    p->name = name;
    p->url = strdup(url ? url : "");
    p->size = size;
    p->c = calloc((size_t)size, sizeof(struct pconn));
    p->free_stack = calloc((size_t)size, sizeof(int));
    if (!p->url || !p->c || !p->free_stack)
        return -1;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->wake, &mono_attr);
    return 0;
}

/* Prepare the statement of one route; a missing function leaves it unprepared (retried). */
static int
prepare_route(PGconn *conn, int r)
{
    char name[16], sql[256];
    PGresult *res;
    int ok;

    snprintf(name, sizeof(name), "r%d", r);
    stmt_sql(r, sql, sizeof(sql));
    res = PQprepare(conn, name, sql, 4, NULL);
    ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    if (!ok)
        gw_log(LOG_DEBUG, "prepare %s failed: %s", gw_routes[r].function,
               PQresultErrorMessage(res));
    PQclear(res);
    return ok;
}

/*
 * Open a connection for a slot: connect, set statement_timeout, prepare every route. Runs
 * outside the pool lock (only the reconnector calls it, on a dead slot nobody else touches).
 */
static PGconn *
open_connection(struct pool *p, int i)
{
    const char *kw[] = {"dbname", "application_name", "connect_timeout", NULL};
    const char *val[] = {p->url[0] ? p->url : NULL, "lms-gateway", "3", NULL};
    char set[96];
    PGconn *conn = PQconnectdbParams(kw, val, 1);
    PGresult *res;

    if (!conn || PQstatus(conn) != CONNECTION_OK) {
        gw_log(p->c[i].failures == 0 ? LOG_WARN : LOG_DEBUG, "%s connection %d: %s", p->name, i,
               conn ? PQerrorMessage(conn) : "out of memory");
        metrics_db_error("connect");
        if (conn)
            PQfinish(conn);
        return NULL;
    }
    snprintf(set, sizeof(set), "SET statement_timeout = %d", stmt_timeout_ms);
    res = PQexec(conn, set);
    PQclear(res);
    for (int r = 0; gw_cfg.prepare && r < gw_nroutes && r < GW_MAX_ROUTES; r++)
        p->c[i].prepared[r] = (unsigned char)prepare_route(conn, r);
    /* /ready: one trivial prepared statement, the cheapest round trip a route can make */
    if (gw_cfg.prepare) {
        res = PQprepare(conn, "ready", "SELECT 1", 0, NULL);
        PQclear(res);
    }
    if (PQstatus(conn) != CONNECTION_OK) {
        PQfinish(conn);
        return NULL;
    }
    return conn;
}

/* Hand an idle live slot to the oldest waiter, or put it on the free stack. Lock held. */
static void
give_slot(struct pool *p, int i)
{
    if (p->head) {
        struct waiter *w = p->head;

        p->head = w->next;
        if (!p->head)
            p->tail = NULL;
        w->slot = i;
        pthread_cond_signal(&w->cv);
    } else
        p->free_stack[p->nfree++] = i;
}

/* Wake every waiter (they re-check whether waiting still makes sense). Lock held. */
static void
wake_waiters(struct pool *p)
{
    for (struct waiter *w = p->head; w; w = w->next)
        pthread_cond_signal(&w->cv);
}

/*
 * The reconnector: one thread per pool. Connects every dead slot whose backoff has passed,
 * one at a time; a success makes the slot live (handed to the oldest waiter) and lets the
 * other dead slots try at once, a failure doubles that slot's backoff. Sleeps until the next
 * slot is due or a slot dies.
 */
static void *
reconnector(void *arg)
{
    struct pool *p = arg;

    pthread_mutex_lock(&p->mu);
    while (!p->stop) {
        long long now = now_ms(), next = -1;
        int due = -1;

        for (int i = 0; i < p->size; i++) {
            struct pconn *pc = &p->c[i];

            if (pc->live)
                continue;
            if (pc->next_try_ms <= now) {
                due = i;
                break;
            }
            if (next < 0 || pc->next_try_ms < next)
                next = pc->next_try_ms;
        }
        if (due >= 0) {
            struct pconn *pc = &p->c[due];
            PGconn *conn;

            pthread_mutex_unlock(&p->mu);
            memset(pc->prepared, 0, sizeof(pc->prepared));
            conn = open_connection(p, due);
            pthread_mutex_lock(&p->mu);
            if (conn) {
                if (pc->failures > 0 || p->known_down)
                    gw_log(LOG_INFO, "%s connection %d ready", p->name, due);
                pc->conn = conn;
                pc->live = 1;
                pc->failures = 0;
                pc->epoch = p->epoch;
                p->nlive++;
                p->known_down = 0;
                /* the server answers again: let the other dead slots try now */
                for (int i = 0; i < p->size; i++)
                    if (!p->c[i].live)
                        p->c[i].next_try_ms = 0;
                give_slot(p, due);
            } else {
                long long backoff = RECONNECT_MIN_MS;

                for (int k = 0; k < pc->failures && backoff < RECONNECT_MAX_MS; k++)
                    backoff *= 2;
                if (backoff > RECONNECT_MAX_MS)
                    backoff = RECONNECT_MAX_MS;
                backoff += rand() % (backoff / 4 + 1); /* jitter: slots do not retry in step */
                pc->failures++;
                pc->next_try_ms = now_ms() + backoff;
                if (p->nlive == 0 && !p->known_down) {
                    p->known_down = 1;
                    wake_waiters(p); /* they answer 503 now rather than at their timeout */
                }
            }
            continue;
        }
        if (next < 0) {
            pthread_cond_wait(&p->wake, &p->mu);
        } else {
            struct timespec dl = deadline_in(next - now);

            pthread_cond_timedwait(&p->wake, &p->mu, &dl);
        }
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/*
 * Take a live slot, waiting at most the acquisition timeout, first come first served (each
 * waiter sleeps on its own condition variable and the oldest gets the next slot). Returns
 * the slot, or -1 with *down set when no slot is live (the database is away).
 */
static int
acquire(struct pool *p, int *down)
{
    struct timespec dl;
    struct waiter w;
    int i = -1;

    *down = 0;
    pthread_mutex_lock(&p->mu);
    if (p->nfree > 0 && !p->head) {
        i = p->free_stack[--p->nfree];
        p->in_use++;
        pthread_mutex_unlock(&p->mu);
        return i;
    }
    if (p->known_down) {
        *down = 1;
        pthread_mutex_unlock(&p->mu);
        return -1;
    }
    dl = deadline_in(acquire_timeout_ms);
    pthread_cond_init(&w.cv, &mono_attr);
    w.slot = -1;
    w.next = NULL;
    if (p->tail)
        p->tail->next = &w;
    else
        p->head = &w;
    p->tail = &w;
    p->waiting++;
    while (w.slot < 0 && !p->known_down)
        if (pthread_cond_timedwait(&w.cv, &p->mu, &dl) == ETIMEDOUT)
            break;
    if (w.slot < 0) {
        /* timed out, or the database is known away: leave the queue */
        struct waiter **pp = &p->head, *prev = NULL;

        while (*pp && *pp != &w) {
            prev = *pp;
            pp = &(*pp)->next;
        }
        if (*pp)
            *pp = w.next;
        if (p->tail == &w)
            p->tail = prev;
        *down = p->nlive == 0;
    } else {
        i = w.slot;
        p->in_use++;
    }
    p->waiting--;
    pthread_mutex_unlock(&p->mu);
    pthread_cond_destroy(&w.cv);
    return i;
}

/*
 * Give a slot back. A broken one (`failed`) is closed and goes to the reconnector; its
 * failure ages every idle slot (epoch bump) so each is checked before its next use.
 */
static void
release(struct pool *p, int i, int failed)
{
    struct pconn *pc = &p->c[i];

    if (failed && pc->conn) {
        PQfinish(pc->conn);
        pc->conn = NULL;
    }
    pthread_mutex_lock(&p->mu);
    p->in_use--;
    if (failed) {
        if (pc->epoch == p->epoch)
            p->epoch++;
        pc->live = 0;
        pc->failures = 0;
        pc->next_try_ms = 0;
        p->nlive--;
        pthread_cond_signal(&p->wake);
    } else
        give_slot(p, i);
    pthread_mutex_unlock(&p->mu);
}

/*
 * A slot older than the pool's last connection loss may hold a connection the server closed
 * (a restart ends every backend): check it with an empty query before trusting it.
 */
static int
slot_usable(struct pool *p, int i)
{
    struct pconn *pc = &p->c[i];
    unsigned epoch;
    PGresult *res;
    int ok;

    pthread_mutex_lock(&p->mu);
    epoch = p->epoch;
    pthread_mutex_unlock(&p->mu);
    if (pc->epoch == epoch && PQstatus(pc->conn) == CONNECTION_OK)
        return 1;
    res = PQexec(pc->conn, "");
    ok = PQresultStatus(res) == PGRES_EMPTY_QUERY && PQstatus(pc->conn) == CONNECTION_OK;
    PQclear(res);
    if (ok)
        pc->epoch = epoch;
    return ok;
}

/* Take a live slot that passed slot_usable; -1 (with the outcome in *outcome) when none. */
static int
take(struct pool *p, int *outcome)
{
    for (;;) {
        int down, i = acquire(p, &down);

        if (i < 0) {
            metrics_db_error(down ? "unavailable" : "pool_timeout");
            *outcome = down ? EXEC_UNAVAILABLE : EXEC_TIMEOUT;
            return -1;
        }
        if (slot_usable(p, i))
            return i;
        gw_log(LOG_WARN, "%s connection %d was closed by the server", p->name, i);
        metrics_db_error("connection_lost");
        release(p, i, 1);
    }
}

/*
 * SQLSTATEs that mean "the server is going or gone" rather than "the function failed":
 * connection exceptions (08) and operator intervention (57P01..57P03).
 */
static int
is_outage(PGconn *conn, PGresult *res)
{
    const char *st = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

    if (PQstatus(conn) != CONNECTION_OK)
        return 1;
    if (!st)
        return res == NULL;
    return strncmp(st, "08", 2) == 0 || strcmp(st, "57P01") == 0 || strcmp(st, "57P02") == 0
           || strcmp(st, "57P03") == 0;
}

/* exec_on's answer when the standby had not replayed the position the caller must see */
#define EXEC_STALE (-1)

/*
 * The answer row of a route's statement: (status, body) in text, or for xAPI routes
 * (status int4, headers jsonb, body bytea) in binary (the body may hold any byte).
 */
static int
read_answer(int route, PGresult *res, struct exec_result *out)
{
    int xapi = (gw_routes[route].flags & RF_XAPI) != 0;
    const unsigned char *st;

    if (PQntuples(res) != 1 || PQnfields(res) != (xapi ? 3 : 2) || PQgetisnull(res, 0, 0))
        return 0;
    if (!xapi) {
        out->status = atoi(PQgetvalue(res, 0, 0));
        out->body = PQgetisnull(res, 0, 1) ? NULL : PQgetvalue(res, 0, 1);
        out->body_len = out->body ? (size_t)PQgetlength(res, 0, 1) : 0;
        return 1;
    }
    if (PQgetlength(res, 0, 0) != 4)
        return 0;
    st = (const unsigned char *)PQgetvalue(res, 0, 0);
    out->status = (int)((uint32_t)st[0] << 24 | (uint32_t)st[1] << 16 | (uint32_t)st[2] << 8 | st[3]);
    /* jsonb's binary form is a version byte (1) and the text; libpq ends every value with NUL */
    out->headers = NULL;
    if (!PQgetisnull(res, 0, 1) && PQgetlength(res, 0, 1) >= 1 && PQgetvalue(res, 0, 1)[0] == 1)
        out->headers = PQgetvalue(res, 0, 1) + 1;
    out->body = PQgetisnull(res, 0, 2) ? NULL : PQgetvalue(res, 0, 2);
    out->body_len = out->body ? (size_t)PQgetlength(res, 0, 2) : 0;
    return 1;
}

/*
 * Run one route's statement on one pool; the outcome tells the caller which answer to give.
 * mode (statement.c): STMT_CHECK_REPLAY answers EXEC_STALE unless the server had replayed
 * `need`; STMT_CAPTURE_LSN stores the position after the write in *lsn. lengths: of binary
 * parameters (the xAPI body), NULL when every parameter is text.
 */
static int
exec_on(struct pool *p, int route, const char *const params[4], const int lengths[4], int mode,
        uint64_t need, uint64_t *lsn, struct exec_result *out)
{
    PGresult *res;
    int i, tries = 0, outcome, in_recovery;

again:
    i = take(p, &outcome);
    if (i < 0)
        return outcome;
    if (gw_cfg.prepare && !p->c[i].prepared[route])
        p->c[i].prepared[route] = (unsigned char)prepare_route(p->c[i].conn, route);
    if (gw_cfg.prepare && !p->c[i].prepared[route]) {
        int outage = PQstatus(p->c[i].conn) != CONNECTION_OK;

        release(p, i, outage);
        if (outage)
            return EXEC_UNAVAILABLE;
        gw_log(LOG_WARN, "lms.%s cannot be prepared (missing function?)",
               gw_routes[route].function);
        metrics_db_error("prepare");
        return EXEC_ERROR;
    }
    res = stmt_run(p->c[i].conn, route, params, lengths, gw_cfg.prepare, mode, lsn, &in_recovery);
    if (mode == STMT_CHECK_REPLAY && res && PQstatus(p->c[i].conn) == CONNECTION_OK
        && !replica_replayed(need, *lsn, in_recovery)) {
        PQclear(res);
        release(p, i, 0);
        return EXEC_STALE;
    }
    if (PQresultStatus(res) == PGRES_TUPLES_OK) {
        release(p, i, 0);
        if (!read_answer(route, res, out)) {
            gw_log(LOG_WARN, "lms.%s returned no status", gw_routes[route].function);
            metrics_db_error("bad_result");
            PQclear(res);
            return EXEC_ERROR;
        }
        out->owner = res;
        return EXEC_OK;
    }
    if (is_outage(p->c[i].conn, res)) {
        gw_log(LOG_WARN, "%s connection %d lost: %s", p->name, i,
               res ? PQresultErrorMessage(res) : PQerrorMessage(p->c[i].conn));
        metrics_db_error("connection_lost");
        PQclear(res);
        release(p, i, 1);
        /* A connection the server ended under us: reads are safe to repeat once. */
        if (tries++ == 0 && (gw_routes[route].flags & RF_READ_ONLY))
            goto again;
        return EXEC_UNAVAILABLE;
    }
    {
        const char *st = PQresultErrorField(res, PG_DIAG_SQLSTATE);

        /* serialization failure or deadlock: the transaction rolled back, run it again */
        if (st && (strcmp(st, "40001") == 0 || strcmp(st, "40P01") == 0) && tries++ < 2) {
            PQclear(res);
            release(p, i, 0);
            goto again;
        }
        gw_log(LOG_WARN, "lms.%s raised %s: %s", gw_routes[route].function, st ? st : "?",
               PQresultErrorMessage(res));
        metrics_db_error(st && strcmp(st, "57014") == 0 ? "statement_timeout" : "sql_error");
        release(p, i, 0);
        PQclear(res);
        return (st && strcmp(st, "57014") == 0) ? EXEC_TIMEOUT : EXEC_ERROR;
    }
}

static int
start_reconnector(struct pool *p)
{
    if (pthread_create(&p->thread, NULL, reconnector, p) != 0)
        return -1;
    p->started = 1;
    return 0;
}

/*
 * Start the pools. The first primary connection is attempted here so that configuration
 * mistakes show in the log at startup; a database that is not up yet is only a warning.
 */
int
pool_init(const char *primary_url, const char *replica_url, int size, int timeout_ms,
          int statement_timeout_ms)
{
    pthread_condattr_init(&mono_attr);
    pthread_condattr_setclock(&mono_attr, CLOCK_MONOTONIC);
    acquire_timeout_ms = timeout_ms > 0 ? timeout_ms : 1;
    stmt_timeout_ms = statement_timeout_ms;
    srand((unsigned)now_ms());
    if (size > 1000)
        size = 1000;
    if (pool_setup(&primary, "primary", primary_url, size) != 0)
        return -1;
    if (replica_url && *replica_url) {
        if (pool_setup(&replica, "replica", replica_url, size) != 0)
            return -1;
        have_replica = 1;
    }
    primary.c[0].conn = open_connection(&primary, 0);
    if (primary.c[0].conn) {
        primary.c[0].live = 1;
        primary.nlive = 1;
        give_slot(&primary, 0);
    } else {
        gw_log(LOG_WARN, "database not reachable at startup; answering 503 and retrying");
        primary.c[0].failures = 1;
        primary.c[0].next_try_ms = now_ms() + RECONNECT_MIN_MS;
        primary.known_down = 1;
    }
    if (start_reconnector(&primary) != 0 || (have_replica && start_reconnector(&replica) != 0))
        return -1;
    return 0;
}

/*
 * Run the route's function: read-only routes on the replica when there is one and it may
 * answer (replica.c: it has replayed what the caller must see, else the primary; also when
 * the replica is away or busy, or does not know the caller's token yet), everything else on
 * the primary, where a write's position is read back into *commit_lsn.
 */
int
pool_exec(int route, int read_only, const char *token, const char *arg, const char *query,
          const char *body, uint64_t need_lsn, uint64_t *commit_lsn, struct exec_result *res)
{
    const char *params[4] = {token, arg, query, body};
    uint64_t lsn = 0;
    int target = READ_PRIMARY_UNAVAILABLE, r;

    memset(res, 0, sizeof(*res));
    *commit_lsn = 0;
    if (route < 0 || route >= gw_nroutes || route >= GW_MAX_ROUTES)
        return EXEC_ERROR;
    if (read_only && have_replica) {
        int check = replica_needs_check(need_lsn);

        r = exec_on(&replica, route, params, NULL, check ? STMT_CHECK_REPLAY : STMT_PLAIN,
                    need_lsn, &lsn, res);
        if (r == EXEC_OK && res->status == 401 && token) {
            pool_result_free(res);
            target = READ_PRIMARY_SESSION;
        } else if (r == EXEC_OK || r == EXEC_ERROR) {
            replica_count(route, check ? READ_STANDBY_CHECKED : READ_STANDBY);
            return r;
        } else if (r == EXEC_STALE)
            target = READ_PRIMARY_LAG;
        memset(res, 0, sizeof(*res));
        replica_count(route, target);
    }
    r = exec_on(&primary, route, params, NULL,
                (read_only || !have_replica) ? STMT_PLAIN : STMT_CAPTURE_LSN, 0, &lsn, res);
    if (!read_only)
        *commit_lsn = lsn;
    return r;
}

/*
 * An xAPI route (RF_XAPI): lms.<function>(method, query, headers, body bytea) on the primary,
 * the body sent in binary (any bytes); the answer's headers (JSON text) are in res->headers.
 * xAPI clients have no session cookie, so there is no position to read back.
 */
int
pool_exec_xapi(int route, const char *method, const char *query, const char *headers,
               const char *body, size_t body_len, struct exec_result *res)
{
    const char *params[4] = {method, query, headers, body};
    int lengths[4] = {0, 0, 0, (int)body_len};
    uint64_t lsn = 0;

    memset(res, 0, sizeof(*res));
    if (route < 0 || route >= gw_nroutes || route >= GW_MAX_ROUTES)
        return EXEC_ERROR;
    return exec_on(&primary, route, params, lengths, STMT_PLAIN, 0, &lsn, res);
}

/*
 * A streamed route (RF_STREAM): its function returns a set of text rows, sent by the server
 * as they are made and read here one at a time (libpq's single-row mode), each handed to
 * `emit` and freed, so a large answer never sits in the gateway. Exports may run longer than
 * statement_timeout: the connection runs them with STREAM_TIMEOUT_MS and is set back after.
 * Returns EXEC_OK when every row was delivered; EXEC_ERROR when the function failed or
 * `emit` gave up (the client went away), with *rows telling how many rows went out first.
 */
#define STREAM_TIMEOUT_MS 600000
int
pool_stream(int route, const char *token, const char *arg, const char *query,
            int (*emit)(void *ctx, const char *row, size_t len), void *ctx, long *rows)
{
    struct pool *p = &primary;
    const char *params[4] = {token, arg, query, NULL};
    char set[64];
    PGresult *res;
    PGconn *conn;
    int i, outcome = EXEC_OK;

    *rows = 0;
    if (route < 0 || route >= gw_nroutes || route >= GW_MAX_ROUTES)
        return EXEC_ERROR;
    i = take(p, &outcome);
    if (i < 0)
        return outcome;
    conn = p->c[i].conn;
    if (gw_cfg.prepare && !p->c[i].prepared[route])
        p->c[i].prepared[route] = (unsigned char)prepare_route(conn, route);
    snprintf(set, sizeof(set), "SET statement_timeout = %d", STREAM_TIMEOUT_MS);
    PQclear(PQexec(conn, set));
    if ((gw_cfg.prepare && !p->c[i].prepared[route])
        || !stmt_send(conn, route, params, NULL, gw_cfg.prepare) || !PQsetSingleRowMode(conn)) {
        gw_log(LOG_WARN, "lms.%s could not be started: %s", gw_routes[route].function,
               PQerrorMessage(conn));
        outcome = EXEC_ERROR;
    }
    while (outcome == EXEC_OK && (res = PQgetResult(conn)) != NULL) {
        ExecStatusType st = PQresultStatus(res);

        if (st == PGRES_SINGLE_TUPLE) {
            if (emit(ctx, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0)) != 0) {
                /* the client is gone: stop the query, drop the rest */
                PGcancel *c = PQgetCancel(conn);
                char err[128];

                if (c) {
                    PQcancel(c, err, sizeof(err));
                    PQfreeCancel(c);
                }
                outcome = EXEC_ERROR;
            } else
                (*rows)++;
        } else if (st != PGRES_TUPLES_OK) {
            gw_log(LOG_WARN, "lms.%s raised: %s", gw_routes[route].function, PQresultErrorMessage(res));
            metrics_db_error("sql_error");
            outcome = EXEC_ERROR;
        }
        PQclear(res);
    }
    while ((res = PQgetResult(conn)) != NULL)
        PQclear(res);
    snprintf(set, sizeof(set), "SET statement_timeout = %d", stmt_timeout_ms);
    PQclear(PQexec(conn, set));
    release(p, i, PQstatus(conn) != CONNECTION_OK);
    return outcome;
}

/* Release the libpq result a response body pointed into. */
void
pool_result_free(struct exec_result *res)
{
    if (res->owner)
        PQclear((PGresult *)res->owner);
    res->owner = NULL;
    res->body = NULL;
}

/* /ready: does the primary answer a trivial prepared query right now? */
int
pool_ping(void)
{
    int outcome, i = take(&primary, &outcome), ok;
    PGresult *res;

    if (i < 0)
        return 0;
    res = gw_cfg.prepare ? PQexecPrepared(primary.c[i].conn, "ready", 0, NULL, NULL, NULL, 0)
                         : PQexec(primary.c[i].conn, "SELECT 1");
    ok = PQresultStatus(res) == PGRES_TUPLES_OK;
    PQclear(res);
    release(&primary, i, !ok);
    return ok;
}

/* Gauges for /metrics and /admin/performance (primary pool). */
void
pool_stats(struct pool_gauges *g)
{
    pthread_mutex_lock(&primary.mu);
    g->size = primary.size;
    g->live = primary.nlive;
    g->in_use = primary.in_use;
    g->waiting = primary.waiting;
    pthread_mutex_unlock(&primary.mu);
}

/* Stop the reconnectors and close every connection; called after the HTTP server stopped. */
void
pool_shutdown(void)
{
    struct pool *ps[2] = {&primary, have_replica ? &replica : NULL};

    for (int k = 0; k < 2; k++) {
        struct pool *p = ps[k];

        if (!p || !p->c)
            continue;
        if (p->started) {
            pthread_mutex_lock(&p->mu);
            p->stop = 1;
            pthread_cond_signal(&p->wake);
            pthread_mutex_unlock(&p->mu);
            pthread_join(p->thread, NULL);
        }
        for (int i = 0; i < p->size; i++)
            if (p->c[i].conn)
                PQfinish(p->c[i].conn);
        free(p->c);
        free(p->free_stack);
        free(p->url);
        p->c = NULL;
    }
}
