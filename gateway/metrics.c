/*
 * metrics.c — request counters and latency histograms.
 *
 * Every response is counted by route (the pattern of the routing table, or an ops route, or
 * "unmatched"), method and status, and its latency goes into two histograms: the coarse
 * Prometheus buckets of /metrics and a fine log-scale one (10 % steps) from which the p50,
 * p95 and p99 of the /admin/performance summary are read. All counters are relaxed atomics:
 * recording costs a few adds and never takes a lock.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "gw.h"

#define NSPECIAL 6
#define NSLOTS (GW_MAX_ROUTES + NSPECIAL)
#define NSTATUS 600
#define NFINE 170
#define FINE_BASE_MS 0.02
#define FINE_FACTOR 1.1

static const double buckets_s[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                   0.05,   0.1,   0.25,   0.5,   1.0,  2.5, 5.0};
#define NBUCKETS (int)(sizeof(buckets_s) / sizeof(buckets_s[0]))

struct slot {
    uint64_t status[NSTATUS];
    uint64_t bucket[NBUCKETS + 1];
    uint64_t fine[NFINE];
    uint64_t count;
    uint64_t sum_us;
};

static struct slot *slots;
static const char *db_error_kinds[] = {"connect", "connection_lost", "prepare", "sql_error",
                                       "statement_timeout", "bad_result", "pool_timeout",
                                       "unavailable"};
#define NDBERR (int)(sizeof(db_error_kinds) / sizeof(db_error_kinds[0]))
static uint64_t db_errors[NDBERR];
static double log_factor;

/* Allocate the counters once. */
void
metrics_init(void)
{
    slots = calloc(NSLOTS, sizeof(struct slot));
    log_factor = log(FINE_FACTOR);
}

/* Map a route index or MR_* ops slot to its counter slot. */
static int
slot_of(int route)
{
    if (route >= 0 && route < gw_nroutes && route < GW_MAX_ROUTES)
        return NSPECIAL + route;
    if (route < 0 && route >= -NSPECIAL)
        return -route - 1;
    return 0;
}

/* The route and method labels of a counter slot. */
static const char *
slot_label(int s, const char **method)
{
    static const char *special[NSPECIAL] = {"unmatched", "/health", "/ready", "/metrics",
                                            "/api/v1/openapi.json", "pages"};

    if (s < NSPECIAL) {
        *method = s == 0 ? "*" : "GET";
        return special[s];
    }
    *method = gw_routes[s - NSPECIAL].method;
    return gw_routes[s - NSPECIAL].pattern;
}

/* Record one finished request. */
void
metrics_observe(int route, int status, double ms)
{
    struct slot *sl;
    int b = 0, f;

    if (!slots)
        return;
    sl = &slots[slot_of(route)];
    if (status < 0 || status >= NSTATUS)
        status = 0;
    __atomic_fetch_add(&sl->status[status], 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&sl->count, 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&sl->sum_us, (uint64_t)(ms * 1000.0), __ATOMIC_RELAXED);
    while (b < NBUCKETS && ms / 1000.0 > buckets_s[b])
        b++;
    __atomic_fetch_add(&sl->bucket[b], 1, __ATOMIC_RELAXED);
    f = ms <= FINE_BASE_MS ? 0 : (int)ceil(log(ms / FINE_BASE_MS) / log_factor);
    if (f >= NFINE)
        f = NFINE - 1;
    if (f < 0)
        f = 0;
    __atomic_fetch_add(&sl->fine[f], 1, __ATOMIC_RELAXED);
}

/* Count a database-side failure by kind (see db_error_kinds). */
void
metrics_db_error(const char *kind)
{
    for (int i = 0; i < NDBERR; i++)
        if (strcmp(kind, db_error_kinds[i]) == 0)
            __atomic_fetch_add(&db_errors[i], 1, __ATOMIC_RELAXED);
}

/* Relaxed atomic read of a counter. */
static uint64_t
ld(const uint64_t *p)
{
    return __atomic_load_n(p, __ATOMIC_RELAXED);
}

/* The q-quantile of a slot's fine histogram, as the upper bound of its bucket in ms. */
static double
quantile_ms(const struct slot *sl, double q)
{
    uint64_t total = 0, seen = 0, want;

    for (int i = 0; i < NFINE; i++)
        total += ld(&sl->fine[i]);
    if (total == 0)
        return 0;
    want = (uint64_t)ceil(q * (double)total);
    if (want < 1)
        want = 1;
    for (int i = 0; i < NFINE; i++) {
        seen += ld(&sl->fine[i]);
        if (seen >= want)
            return FINE_BASE_MS * pow(FINE_FACTOR, i);
    }
    return FINE_BASE_MS * pow(FINE_FACTOR, NFINE - 1);
}

/*
 * The Prometheus text exposition of every counter, histogram and the pool gauges g (the caller
 * reads them from pool.c: this file is below the pool, which reports its errors here).
 */
char *
metrics_prometheus(const struct pool_gauges *pg, size_t *len)
{
    struct sbuf b = {0};
    struct pool_gauges g = *pg;

    sb_puts(&b, "# HELP lms_http_requests_total HTTP requests by route, method and status.\n"
                "# TYPE lms_http_requests_total counter\n");
    for (int s = 0; s < NSLOTS && slots; s++) {
        const char *method, *label;

        if (s >= NSPECIAL + gw_nroutes)
            break;
        label = slot_label(s, &method);
        for (int st = 0; st < NSTATUS; st++) {
            uint64_t v = ld(&slots[s].status[st]);

            if (v)
                sb_printf(&b,
                          "lms_http_requests_total{route=\"%s\",method=\"%s\",status=\"%d\"} "
                          "%llu\n",
                          label, method, st, (unsigned long long)v);
        }
    }
    sb_puts(&b, "# HELP lms_http_request_duration_seconds Request latency by route.\n"
                "# TYPE lms_http_request_duration_seconds histogram\n");
    for (int s = 0; s < NSLOTS && slots; s++) {
        const char *method, *label;
        uint64_t cum = 0, count;

        if (s >= NSPECIAL + gw_nroutes)
            break;
        count = ld(&slots[s].count);
        if (!count)
            continue;
        label = slot_label(s, &method);
        for (int i = 0; i <= NBUCKETS; i++) {
            cum += ld(&slots[s].bucket[i]);
            if (i < NBUCKETS)
                sb_printf(&b,
                          "lms_http_request_duration_seconds_bucket{route=\"%s\",method=\"%s\","
                          "le=\"%g\"} %llu\n",
                          label, method, buckets_s[i], (unsigned long long)cum);
            else
                sb_printf(&b,
                          "lms_http_request_duration_seconds_bucket{route=\"%s\",method=\"%s\","
                          "le=\"+Inf\"} %llu\n",
                          label, method, (unsigned long long)cum);
        }
        sb_printf(&b,
                  "lms_http_request_duration_seconds_sum{route=\"%s\",method=\"%s\"} %.6f\n"
                  "lms_http_request_duration_seconds_count{route=\"%s\",method=\"%s\"} %llu\n",
                  label, method, (double)ld(&slots[s].sum_us) / 1e6, label, method,
                  (unsigned long long)count);
    }
    sb_printf(&b,
              "# HELP lms_db_pool_size Database connections in the pool.\n"
              "# TYPE lms_db_pool_size gauge\nlms_db_pool_size %d\n"
              "# HELP lms_db_pool_live Pool connections currently connected (the rest reconnect in the background).\n"
              "# TYPE lms_db_pool_live gauge\nlms_db_pool_live %d\n"
              "# HELP lms_db_pool_in_use Database connections lent to requests.\n"
              "# TYPE lms_db_pool_in_use gauge\nlms_db_pool_in_use %d\n"
              "# HELP lms_db_pool_waiting Requests waiting for a database connection.\n"
              "# TYPE lms_db_pool_waiting gauge\nlms_db_pool_waiting %d\n"
              "# HELP lms_db_errors_total Database failures seen by the gateway, by kind.\n"
              "# TYPE lms_db_errors_total counter\n",
              g.size, g.live, g.in_use, g.waiting);
    for (int i = 0; i < NDBERR; i++)
        sb_printf(&b, "lms_db_errors_total{kind=\"%s\"} %llu\n", db_error_kinds[i],
                  (unsigned long long)ld(&db_errors[i]));
    replica_prometheus(&b);
    if (b.oom) {
        sb_free(&b);
        return NULL;
    }
    *len = b.len;
    return b.data;
}

/*
 * The gateway's figures for /admin/performance, passed as the body of
 * lms.api_admin_performance: {"requests_total","errors_total" (5xx answers),
 * "routes":[{"route","count","p50_ms","p95_ms","p99_ms"}],"pool":{"size","in_use","waiting"}}.
 */
char *
metrics_summary_json(const struct pool_gauges *pg)
{
    cJSON *doc = cJSON_CreateObject(), *routes, *pool;
    uint64_t total = 0, errors = 0;
    struct pool_gauges g;
    char *out;

    if (!doc || !slots) {
        cJSON_Delete(doc);
        return NULL;
    }
    routes = cJSON_CreateArray();
    for (int s = 0; s < NSPECIAL + gw_nroutes && s < NSLOTS; s++) {
        const char *method, *label;
        uint64_t count = ld(&slots[s].count);
        char name[128];
        cJSON *r;

        total += count;
        for (int st = 500; st < NSTATUS; st++)
            errors += ld(&slots[s].status[st]);
        if (!count)
            continue;
        label = slot_label(s, &method);
        snprintf(name, sizeof(name), "%s %s", method, label);
        r = cJSON_CreateObject();
        cJSON_AddStringToObject(r, "route", name);
        cJSON_AddNumberToObject(r, "count", (double)count);
        cJSON_AddNumberToObject(r, "p50_ms", round(quantile_ms(&slots[s], 0.50) * 1000) / 1000);
        cJSON_AddNumberToObject(r, "p95_ms", round(quantile_ms(&slots[s], 0.95) * 1000) / 1000);
        cJSON_AddNumberToObject(r, "p99_ms", round(quantile_ms(&slots[s], 0.99) * 1000) / 1000);
        cJSON_AddItemToArray(routes, r);
    }
    cJSON_AddNumberToObject(doc, "requests_total", (double)total);
    cJSON_AddNumberToObject(doc, "errors_total", (double)errors);
    cJSON_AddItemToObject(doc, "routes", routes);
    g = *pg;
    pool = cJSON_CreateObject();
    cJSON_AddNumberToObject(pool, "size", g.size);
    cJSON_AddNumberToObject(pool, "live", g.live);
    cJSON_AddNumberToObject(pool, "in_use", g.in_use);
    cJSON_AddNumberToObject(pool, "waiting", g.waiting);
    cJSON_AddItemToObject(doc, "pool", pool);
    out = cJSON_PrintUnformatted(doc);
    cJSON_Delete(doc);
    return out;
}
