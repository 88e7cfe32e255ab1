/*
 * pool.c — the libpq connection pool, separate from the HTTP threads.
 *
 * A fixed number of connections shared by all civetweb workers. Each connection prepares
 * one statement per route when it connects ("r<index>": SELECT status, body FROM
 * lms.api_<name>($1,$2,$3,$4)), sets statement_timeout, and is checked and rebuilt after a
 * failure. Waiting for a free connection is bounded (EXEC_TIMEOUT -> 503 + Retry-After), and
 * an unreachable database is EXEC_UNAVAILABLE (503), never an exit: connections are made
 * lazily, so the gateway starts and keeps serving while the database is away.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "gw.h"

#define MAX_ROUTES 64
#define RECONNECT_BACKOFF_MS 200

struct pconn {
    PGconn *conn;
    unsigned epoch;              /* pool epoch when connected; older ones are rebuilt */
    unsigned char prepared[MAX_ROUTES];
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
    int *free_stack;
    int nfree;
    int in_use;
    int waiting;
    unsigned epoch;              /* bumped on every connection failure */
    long long down_until_ms;     /* no reconnect attempt before this (monotonic ms) */
    struct waiter *head, *tail;  /* FIFO of waiting requests */
    pthread_mutex_t mu;
};

static pthread_condattr_t mono_attr;

static struct pool primary, replica;
static int have_replica;
static int acquire_timeout_ms = 1000;
static int stmt_timeout_ms = 0;

/* Monotonic milliseconds, for the reconnect backoff. */
static long long
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Set up one pool's bookkeeping; connections are opened on first use. */
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
    for (int i = 0; i < size; i++)
        p->free_stack[p->nfree++] = size - 1 - i;
    pthread_mutex_init(&p->mu, NULL);
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
    snprintf(sql, sizeof(sql),
             "SELECT status, body FROM lms.%s($1::text, $2::text, $3::jsonb, $4::jsonb)",
             gw_routes[r].function);
    res = PQprepare(conn, name, sql, 4, NULL);
    ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    if (!ok)
        gw_log(LOG_DEBUG, "prepare %s failed: %s", gw_routes[r].function,
               PQresultErrorMessage(res));
    PQclear(res);
    return ok;
}

/*
 * Make slot i usable: (re)connect when it has no connection, a bad one, or one older than
 * the last failure seen by the pool; then set statement_timeout and prepare every route.
 * Honors a short backoff after a failed attempt so an outage is not hammered.
 */
static int
ensure_connected(struct pool *p, int i)
{
    struct pconn *pc = &p->c[i];
    unsigned epoch;
    long long down_until;
    const char *kw[] = {"dbname", "application_name", "connect_timeout", NULL};
    const char *val[] = {p->url[0] ? p->url : NULL, "lms-gateway", "3", NULL};
    char set[96];
    PGresult *res;

    pthread_mutex_lock(&p->mu);
    epoch = p->epoch;
    down_until = p->down_until_ms;
    pthread_mutex_unlock(&p->mu);

    if (pc->conn && PQstatus(pc->conn) == CONNECTION_OK && pc->epoch == epoch)
        return 1;
    if (now_ms() < down_until)
        return 0;
    if (pc->conn)
        PQfinish(pc->conn);
    memset(pc->prepared, 0, sizeof(pc->prepared));
    pc->conn = PQconnectdbParams(kw, val, 1);
    if (!pc->conn || PQstatus(pc->conn) != CONNECTION_OK) {
        gw_log(LOG_WARN, "%s database unreachable: %s", p->name,
               pc->conn ? PQerrorMessage(pc->conn) : "out of memory");
        metrics_db_error("connect");
        if (pc->conn)
            PQfinish(pc->conn);
        pc->conn = NULL;
        pthread_mutex_lock(&p->mu);
        p->down_until_ms = now_ms() + RECONNECT_BACKOFF_MS;
        pthread_mutex_unlock(&p->mu);
        return 0;
    }
    snprintf(set, sizeof(set), "SET statement_timeout = %d", stmt_timeout_ms);
    res = PQexec(pc->conn, set);
    PQclear(res);
    for (int r = 0; r < gw_nroutes && r < MAX_ROUTES; r++)
        pc->prepared[r] = (unsigned char)prepare_route(pc->conn, r);
    if (PQstatus(pc->conn) != CONNECTION_OK)
        return 0;
    pc->epoch = epoch;
    gw_log(LOG_INFO, "%s connection %d ready", p->name, i);
    return 1;
}

/*
 * Take a free slot, waiting at most the acquisition timeout; -1 on timeout. Waiters are
 * served first come, first served (each sleeps on its own condition variable and release()
 * hands the slot to the oldest), so under overload no request starves behind luckier ones
 * and the wait is bounded by the queue ahead of it.
 */
static int
acquire(struct pool *p)
{
    struct timespec dl;
    struct waiter w;
    int i = -1;

    pthread_mutex_lock(&p->mu);
    if (p->nfree > 0 && !p->head) {
        i = p->free_stack[--p->nfree];
        p->in_use++;
        pthread_mutex_unlock(&p->mu);
        return i;
    }
    clock_gettime(CLOCK_MONOTONIC, &dl);
    dl.tv_sec += acquire_timeout_ms / 1000;
    dl.tv_nsec += (long)(acquire_timeout_ms % 1000) * 1000000L;
    if (dl.tv_nsec >= 1000000000L) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000L;
    }
    pthread_cond_init(&w.cv, &mono_attr);
    w.slot = -1;
    w.next = NULL;
    if (p->tail)
        p->tail->next = &w;
    else
        p->head = &w;
    p->tail = &w;
    p->waiting++;
    while (w.slot < 0)
        if (pthread_cond_timedwait(&w.cv, &p->mu, &dl) == ETIMEDOUT)
            break;
    if (w.slot < 0) {
        /* timed out: leave the queue */
        struct waiter **pp = &p->head, *prev = NULL;

        while (*pp && *pp != &w) {
            prev = *pp;
            pp = &(*pp)->next;
        }
        if (*pp)
            *pp = w.next;
        if (p->tail == &w)
            p->tail = prev;
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
 * Give a slot back, to the oldest waiter if any; a failed connection also ages every other
 * one (epoch bump) so they are rebuilt before their next use.
 */
static void
release(struct pool *p, int i, int failed)
{
    pthread_mutex_lock(&p->mu);
    if (failed && p->c[i].epoch == p->epoch)
        p->epoch++;
    p->in_use--;
    if (p->head) {
        struct waiter *w = p->head;

        p->head = w->next;
        if (!p->head)
            p->tail = NULL;
        w->slot = i;
        pthread_cond_signal(&w->cv);
    } else
        p->free_stack[p->nfree++] = i;
    pthread_mutex_unlock(&p->mu);
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

/* Run one route's statement on one pool; the outcome tells the caller which answer to give. */
static int
exec_on(struct pool *p, int route, const char *token, const char *arg, const char *query,
        const char *body, struct exec_result *out)
{
    const char *params[4] = {token, arg, query, body};
    char name[16];
    PGresult *res;
    int i, tries = 0;

again:
    i = acquire(p);
    if (i < 0) {
        metrics_db_error("pool_timeout");
        return EXEC_TIMEOUT;
    }
    if (!ensure_connected(p, i)) {
        release(p, i, 0);
        return EXEC_UNAVAILABLE;
    }
    if (!p->c[i].prepared[route])
        p->c[i].prepared[route] = (unsigned char)prepare_route(p->c[i].conn, route);
    if (!p->c[i].prepared[route]) {
        int outage = PQstatus(p->c[i].conn) != CONNECTION_OK;

        release(p, i, outage);
        if (outage)
            return EXEC_UNAVAILABLE;
        gw_log(LOG_WARN, "lms.%s cannot be prepared (missing function?)",
               gw_routes[route].function);
        metrics_db_error("prepare");
        return EXEC_ERROR;
    }
    snprintf(name, sizeof(name), "r%d", route);
    res = PQexecPrepared(p->c[i].conn, name, 4, params, NULL, NULL, 0);
    if (PQresultStatus(res) == PGRES_TUPLES_OK) {
        release(p, i, 0);
        if (PQntuples(res) != 1 || PQnfields(res) != 2 || PQgetisnull(res, 0, 0)) {
            gw_log(LOG_WARN, "lms.%s returned no status", gw_routes[route].function);
            metrics_db_error("bad_result");
            PQclear(res);
            return EXEC_ERROR;
        }
        out->status = atoi(PQgetvalue(res, 0, 0));
        out->body = PQgetisnull(res, 0, 1) ? NULL : PQgetvalue(res, 0, 1);
        out->body_len = out->body ? (size_t)PQgetlength(res, 0, 1) : 0;
        out->owner = res;
        return EXEC_OK;
    }
    if (is_outage(p->c[i].conn, res)) {
        gw_log(LOG_WARN, "%s connection lost: %s", p->name,
               res ? PQresultErrorMessage(res) : PQerrorMessage(p->c[i].conn));
        metrics_db_error("connection_lost");
        PQclear(res);
        PQfinish(p->c[i].conn);
        p->c[i].conn = NULL;
        release(p, i, 1);
        /* A stale connection after a restart: reads are safe to repeat once. */
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

/*
 * Start the pools. Connections are attempted once here so that configuration mistakes show
 * at startup, but a database that is not up yet is only a warning: slots connect on use.
 */
int
pool_init(const char *primary_url, const char *replica_url, int size, int timeout_ms,
          int statement_timeout_ms)
{
    pthread_condattr_init(&mono_attr);
    pthread_condattr_setclock(&mono_attr, CLOCK_MONOTONIC);
    acquire_timeout_ms = timeout_ms > 0 ? timeout_ms : 1;
    stmt_timeout_ms = statement_timeout_ms;
    if (size > 1000)
        size = 1000;
    if (pool_setup(&primary, "primary", primary_url, size) != 0)
        return -1;
    if (replica_url && *replica_url) {
        if (pool_setup(&replica, "replica", replica_url, size) != 0)
            return -1;
        have_replica = 1;
    }
    if (!ensure_connected(&primary, primary.free_stack[primary.nfree - 1]))
        gw_log(LOG_WARN, "database not reachable at startup; answering 503 and retrying");
    return 0;
}

/*
 * Run the route's function: read-only routes on the replica when there is one (falling back
 * to the primary if the replica is away or busy), everything else on the primary.
 */
int
pool_exec(int route, int read_only, const char *token, const char *arg, const char *query,
          const char *body, struct exec_result *res)
{
    memset(res, 0, sizeof(*res));
    if (route < 0 || route >= gw_nroutes || route >= MAX_ROUTES)
        return EXEC_ERROR;
    if (read_only && have_replica) {
        int r = exec_on(&replica, route, token, arg, query, body, res);

        if (r == EXEC_OK || r == EXEC_ERROR)
            return r;
    }
    return exec_on(&primary, route, token, arg, query, body, res);
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

/* /ready: does the primary answer a trivial query right now? */
int
pool_ping(void)
{
    int i = acquire(&primary), ok;
    PGresult *res;

    if (i < 0)
        return 0;
    if (!ensure_connected(&primary, i)) {
        release(&primary, i, 0);
        return 0;
    }
    res = PQexec(primary.c[i].conn, "SELECT 1");
    ok = PQresultStatus(res) == PGRES_TUPLES_OK;
    PQclear(res);
    if (!ok) {
        PQfinish(primary.c[i].conn);
        primary.c[i].conn = NULL;
    }
    release(&primary, i, !ok);
    return ok;
}

/* Gauges for /metrics and /admin/performance (primary pool). */
void
pool_stats(int *size, int *in_use, int *waiting)
{
    pthread_mutex_lock(&primary.mu);
    *size = primary.size;
    *in_use = primary.in_use;
    *waiting = primary.waiting;
    pthread_mutex_unlock(&primary.mu);
}

/* Close every connection; called after the HTTP server stopped, so nothing is in use. */
void
pool_shutdown(void)
{
    struct pool *ps[2] = {&primary, have_replica ? &replica : NULL};

    for (int k = 0; k < 2; k++) {
        if (!ps[k] || !ps[k]->c)
            continue;
        for (int i = 0; i < ps[k]->size; i++)
            if (ps[k]->c[i].conn)
                PQfinish(ps[k]->c[i].conn);
        free(ps[k]->c);
        free(ps[k]->free_stack);
        free(ps[k]->url);
        ps[k]->c = NULL;
    }
}
