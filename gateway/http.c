/*
 * http.c — one HTTP request in, one SQL call, one HTTP response out.
 *
 * Reads the request with a size limit, routes it (routes.c), validates what the gateway can
 * validate without the database (body JSON, content type, token syntax, query string),
 * calls the route's function through the pool, and writes the answer with the contract's
 * HTTP manners: caching headers, ETag and 304, CORS preflight, request ids, cookies; the
 * response itself is written by respond.c. No business rule lives here: what the gateway
 * checks is transport (framing, size, content type, JSON syntax, encoding, token syntax) and
 * the path's syntax from contract.h, shared with the extension.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include <civetweb.h>
#include <cjson/cJSON.h>
#include <zlib.h>

#include "contract.h"
#include "gw.h"

static unsigned long access_counter;

/* splitmix64: the next value of a 64-bit generator state. */
static uint64_t
splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/*
 * A fresh request id: 32 hex digits. Each thread seeds a 128-bit counter-based generator once
 * from the kernel's random source and steps it per request (a getrandom call per request was a
 * seventh of the gateway's system calls); ids only need to be unique, not secret.
 */
static void
new_request_id(char *out)
{
    static __thread uint64_t state[2];
    static __thread int seeded;
    unsigned char rnd[16];
    static const char hex[] = "0123456789abcdef";
    uint64_t a, b;

    if (!seeded) {
        if (getrandom(state, sizeof(state), 0) != (ssize_t)sizeof(state)) {
            struct timespec t;

            clock_gettime(CLOCK_REALTIME, &t);
            state[0] = hash64(&t, sizeof(t)) ^ (uint64_t)(uintptr_t)out;
            state[1] = hash64(&state[0], 8) ^ (uint64_t)(uintptr_t)&seeded;
        }
        seeded = 1;
    }
    a = splitmix64(&state[0]);
    b = splitmix64(&state[1]);
    memcpy(rnd, &a, 8);
    memcpy(rnd + 8, &b, 8);
    for (int i = 0; i < 16; i++) {
        out[2 * i] = hex[rnd[i] >> 4];
        out[2 * i + 1] = hex[rnd[i] & 15];
    }
    out[32] = '\0';
}

/*
 * Read the request body into a NUL-terminated buffer, never more than max_body bytes.
 * Returns 0 on success (*body NULL when there is none), 413 when it is too large (the rest
 * is left unread and the connection will close), 400 when the client sent less than it said.
 */
static int
read_body(struct req *r, char **body, size_t *len)
{
    long long cl = r->ri->content_length;
    const char *te = mg_get_header(r->conn, "Transfer-Encoding");
    size_t cap, n = 0;
    char *buf;

    *body = NULL;
    *len = 0;
    if (cl > gw_cfg.max_body)
        return 413;
    if (cl == 0 || (cl < 0 && !(te && strcasestr(te, "chunked"))))
        return 0;
    cap = cl > 0 ? (size_t)cl : 16384;
    buf = malloc(cap + 1);
    if (!buf)
        return 413;
    for (;;) {
        int got;

        if (n == cap) {
            char *nb;

            if (cl > 0)
                break;
            if ((long long)cap >= gw_cfg.max_body + 1) {
                free(buf);
                return 413;
            }
            cap = cap * 2 > (size_t)gw_cfg.max_body + 1 ? (size_t)gw_cfg.max_body + 1 : cap * 2;
            nb = realloc(buf, cap + 1);
            if (!nb) {
                free(buf);
                return 413;
            }
            buf = nb;
        }
        got = mg_read(r->conn, buf + n, cap - n);
        if (got <= 0)
            break;
        n += (size_t)got;
    }
    if (cl < 0 && (long long)n > gw_cfg.max_body) {
        free(buf);
        return 413;
    }
    if (cl > 0 && (long long)n < cl) {
        free(buf);
        return 400;
    }
    if (n == 0) {
        free(buf); /* an empty chunked body is no body */
        return 0;
    }
    buf[n] = '\0';
    *body = buf;
    *len = n;
    return 0;
}

/* Format an HTTP date for Expires. */
static void
http_date(time_t t, char *out, size_t n)
{
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, n, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

/* Whether the request came over TLS (directly, or said so by a trusted proxy). */
static int
request_is_secure(struct req *r)
{
    const char *proto = mg_get_header(r->conn, "X-Forwarded-Proto");

    return r->ri->is_ssl || (gw_cfg.trust_proxy && proto && strcasecmp(proto, "https") == 0);
}

/*
 * Set-Cookie for a 200 login: the access_token and expires_at of the body, HttpOnly,
 * SameSite=Lax, Path=/, Max-Age and Expires (Secure when the request came over TLS).
 */
static void
login_cookie(struct req *r, const char *body, size_t len, struct sbuf *hdr)
{
    cJSON *doc = cJSON_ParseWithLength(body, len);
    const cJSON *tok = cJSON_GetObjectItemCaseSensitive(doc, "access_token");
    const cJSON *exp = cJSON_GetObjectItemCaseSensitive(doc, "expires_at");
    int secure = request_is_secure(r);
    time_t now = time(NULL), until = now + 86400;
    char date[64];

    if (cJSON_IsString(tok) && token_chars_valid(tok->valuestring)) {
        if (cJSON_IsString(exp))
            parse_iso8601(exp->valuestring, &until);
        if (until < now)
            until = now;
        http_date(until, date, sizeof(date));
        sb_printf(hdr,
                  "Set-Cookie: access_token=%s; HttpOnly; SameSite=Lax; Path=/; Max-Age=%lld; "
                  "Expires=%s%s\r\n",
                  tok->valuestring, (long long)(until - now), date, secure ? "; Secure" : "");
    }
    cJSON_Delete(doc);
}

/* The CORS origin to answer with, or NULL when CORS is off or the origin is not allowed. */
static const char *
cors_for(struct mg_connection *conn)
{
    const char *origin = mg_get_header(conn, "Origin");

    if (!gw_cfg.cors_origin || !*gw_cfg.cors_origin || !origin)
        return NULL;
    if (strcmp(gw_cfg.cors_origin, "*") == 0)
        return "*";
    return strcmp(gw_cfg.cors_origin, origin) == 0 ? gw_cfg.cors_origin : NULL;
}

/* The metric slot of an ops route, 0 when the path is not one. */
static int
is_ops_path(const char *path)
{
    if (strcmp(path, "/health") == 0)
        return MR_HEALTH;
    if (strcmp(path, "/ready") == 0)
        return MR_READY;
    if (strcmp(path, "/metrics") == 0)
        return MR_METRICS;
    if (strcmp(path, "/api/v1/openapi.json") == 0)
        return MR_OPENAPI;
    return 0;
}

/* /health, /ready, /metrics and the OpenAPI document: answered without a route function. */
static void
serve_ops(struct req *r, int which)
{
    r->metric_route = which;
    switch (which) {
    case MR_HEALTH:
        respond(r, 200, "application/json", "{\"status\":\"ok\"}", 15,
                      "Cache-Control: no-store\r\n", 0);
        break;
    case MR_READY:
        if (pool_ping())
            respond(r, 200, "application/json", "{\"status\":\"ready\"}", 18,
                          "Cache-Control: no-store\r\n", 0);
        else
            respond_problem(r, 503, "database_unavailable", "The database is not answering.",
                         "Retry-After: 1\r\n", NULL);
        break;
    case MR_METRICS: {
        size_t len = 0;
        struct pool_gauges g;
        char *text;

        pool_stats(&g);
        text = metrics_prometheus(&g, &len);
        if (!text)
            respond_problem(r, 500, "internal_error", "Out of memory.", NULL, NULL);
        else
            respond(r, 200, "text/plain; version=0.0.4; charset=utf-8", text, len,
                          "Cache-Control: no-store\r\n", 1);
        free(text);
        break;
    }
    default: {
        char etag[40], hdr[160];
        const char *inm = mg_get_header(r->conn, "If-None-Match");

        snprintf(etag, sizeof(etag), "W/\"%016llx\"",
                 (unsigned long long)hash64(gw_openapi, gw_openapi_len));
        snprintf(hdr, sizeof(hdr), "Cache-Control: public, max-age=60\r\nETag: %s\r\n", etag);
        if (etag_matches(inm, etag))
            respond(r, 304, NULL, NULL, 0, hdr, 0);
        else
            respond(r, 200, "application/json", gw_openapi, gw_openapi_len, hdr, 1);
        break;
    }
    }
}

/* CORS preflight and plain OPTIONS: 204 with Allow (and the CORS answer when allowed). */
static void
serve_options(struct req *r, const char *allow)
{
    struct sbuf h = {0};

    sb_printf(&h, "Allow: %s, OPTIONS\r\n", allow);
    if (r->cors_origin)
        sb_printf(&h,
                  "Access-Control-Allow-Methods: %s, OPTIONS\r\n"
                  "Access-Control-Allow-Headers: Authorization, Content-Type, If-None-Match, "
                  "X-Request-Id\r\nAccess-Control-Max-Age: 600\r\n",
                  allow);
    respond(r, 204, NULL, NULL, 0, h.data, 0);
    sb_free(&h);
}

/*
 * Answer a route function's result: problem+json for >= 400; caching by the route's class
 * (mutations no-store; GETs with a token private + ETag + 304; anonymous public GETs
 * public, max-age=60); the login cookie set or cleared; a write's position (replica.c).
 */
static void
send_result(struct req *r, const struct route *rt, int has_token, struct exec_result *res,
            uint64_t commit_lsn)
{
    struct sbuf h = {0};
    int status = res->status;
    const char *body = res->body;
    size_t len = res->body_len;
    int is_get = strcmp(rt->method, "GET") == 0;
    char etag[40];

    if (status < 100 || status > 599) {
        gw_log(LOG_WARN, "lms.%s returned status %d", rt->function, status);
        respond_problem(r, 500, "internal_error", "The server could not answer this request.",
                     NULL, NULL);
        return;
    }
    if (status >= 400) {
        sb_puts(&h, "Cache-Control: no-store\r\n");
    } else if (!is_get) {
        sb_puts(&h, "Cache-Control: no-store\r\n");
    } else {
        if (rt->cache == CACHE_PUBLIC && !has_token)
            sb_puts(&h, "Cache-Control: public, max-age=60\r\n");
        else
            sb_puts(&h, "Cache-Control: private, no-cache\r\n");
        if (body && status == 200) {
            snprintf(etag, sizeof(etag), "W/\"%016llx\"",
                     (unsigned long long)hash64(body, len));
            sb_printf(&h, "ETag: %s\r\n", etag);
            if (etag_matches(mg_get_header(r->conn, "If-None-Match"), etag)) {
                respond(r, 304, NULL, NULL, 0, h.data, 1);
                sb_free(&h);
                return;
            }
        }
    }
    if ((rt->flags & RF_LOGIN) && status == 200 && body)
        login_cookie(r, body, len, &h);
    if (commit_lsn)
        replica_cookie(&h, commit_lsn, request_is_secure(r));
    if ((rt->flags & RF_LOGOUT) && status < 500)
        sb_puts(&h, "Set-Cookie: access_token=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0; "
                    "Expires=Thu, 01 Jan 1970 00:00:00 GMT\r\n");
    respond(r, status,
                  body ? (status >= 400 ? "application/problem+json" : "application/json") : NULL,
                  body, body ? len : 0, h.data, is_get);
    sb_free(&h);
}

/* One line per request on stderr: always, never, or every Nth (LMS_ACCESS_LOG). */
static void
access_log(struct req *r)
{
    unsigned long n;
    char ts[32], qs[2048];
    time_t now;
    struct tm tm;

    if (gw_cfg.access_log <= 0)
        return;
    n = __atomic_fetch_add(&access_counter, 1, __ATOMIC_RELAXED);
    if (gw_cfg.access_log > 1 && n % (unsigned long)gw_cfg.access_log != 0)
        return;
    now = time(NULL);
    gmtime_r(&now, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
    /* never a secret: token/password values of the query string are redacted, and no header
     * (Authorization, Cookie) is ever written */
    if (r->ri->query_string)
        redact_query(r->ri->query_string, qs, sizeof(qs));
    fprintf(stderr, "%s access %s \"%s %s%s%s\" %d %zu %.3fms rid=%s\n", ts, r->client,
            r->ri->request_method, r->ri->local_uri_raw ? r->ri->local_uri_raw : "",
            r->ri->query_string ? "?" : "", r->ri->query_string ? qs : "",
            r->status, r->bytes, respond_elapsed_ms(r), r->request_id);
}

/* The route work after the request was read and routed: validation, the SQL call, answer. */
static void
serve_route(struct req *r, int route, const char *arg, const char *body, size_t body_len)
{
    const struct route *rt = &gw_routes[route];
    char token[520], badkey[64];
    int has_token, outcome;
    cJSON *q;
    char *query, *gw_body = NULL;
    struct exec_result res;
    const char *ct = mg_get_header(r->conn, "Content-Type");
    uint64_t need_lsn = 0, commit_lsn = 0;

    /* xAPI routes have their own call shape and HTTP manners (xapi.c) */
    if (rt->flags & RF_XAPI) {
        xapi_serve(r, route, body, body_len);
        return;
    }
    if (body && !content_type_is_json(ct)) {
        respond_problem(r, 415, "unsupported_media_type",
                     "Request bodies must be JSON sent as Content-Type: application/json.", NULL,
                     NULL);
        return;
    }
    if (body && !json_body_valid(body, body_len)) {
        respond_problem(r, 400, "invalid_json", LMS_DETAIL_BODY_NOT_JSON, NULL, NULL);
        return;
    }
    has_token = token_from_request(mg_get_header(r->conn, "Authorization"),
                                   mg_get_header(r->conn, "Cookie"), token, sizeof(token));
    if (has_token < 0) {
        respond_problem(r, 401, "unauthenticated", LMS_DETAIL_UNAUTHENTICATED,
                     "WWW-Authenticate: Bearer\r\n", NULL);
        return;
    }
    q = query_to_json(r->ri->query_string, badkey, sizeof(badkey));
    if (!q) {
        cJSON *errs = cJSON_CreateArray(), *e = cJSON_CreateObject();

        cJSON_AddStringToObject(e, "field", badkey);
        cJSON_AddStringToObject(e, "message", "must be valid UTF-8 without NUL characters");
        cJSON_AddItemToArray(errs, e);
        respond_problem(r, 400, "validation_failed", "The query string has invalid parameters.",
                     NULL, errs);
        return;
    }
    query = cJSON_PrintUnformatted(q);
    cJSON_Delete(q);
    /* exports stream their rows as chunks (stream.c) */
    if (rt->flags & RF_STREAM) {
        stream_serve(r, route, has_token ? token : NULL, arg[0] ? arg : NULL, query ? query : "{}");
        cJSON_free(query);
        return;
    }
    if (rt->flags & RF_GATEWAY_BODY) {
        struct pool_gauges g;

        pool_stats(&g);
        gw_body = metrics_summary_json(&g);
    }
    if (gw_cfg.replica_url && (rt->flags & RF_READ_ONLY))
        need_lsn = replica_required_lsn(mg_get_header(r->conn, "Cookie"));
    outcome = pool_exec(route, rt->flags & RF_READ_ONLY, has_token ? token : NULL,
                        arg[0] ? arg : NULL, query ? query : "{}",
                        gw_body ? gw_body : body, need_lsn, &commit_lsn, &res);
    cJSON_free(query);
    cJSON_free(gw_body);
    if (outcome == EXEC_OK) {
        send_result(r, rt, has_token, &res, commit_lsn);
        pool_result_free(&res);
    } else
        respond_failure(r, outcome);
}

/*
 * civetweb's http_error callback: a request civetweb refused before routing (malformed
 * request line or headers, headers too large) still gets a problem document, never
 * civetweb's text page. The connection closes: the stream cannot be trusted any more.
 */
int
http_library_error(struct mg_connection *conn, int status, const char *msg)
{
    struct req r;
    const char *code, *detail;

    gw_log(LOG_DEBUG, "civetweb refused a request: %d %s", status, msg ? msg : "");
    switch (status) {
    case 411: /* civetweb's answer to a Content-Length that is not a number */
        status = 400;
        code = "invalid_content_length";
        detail = "The Content-Length header is not a valid length.";
        break;
    case 413:
        code = "payload_too_large";
        detail = "The request is larger than this server accepts.";
        break;
    case 414:
        code = "uri_too_long";
        detail = "The request target is too long.";
        break;
    case 431:
        code = "request_header_fields_too_large";
        detail = "The request header fields are too large.";
        break;
    case 505:
        code = "http_version_not_supported";
        detail = "Only HTTP/1.0 and HTTP/1.1 are supported.";
        break;
    default:
        if (status >= 500) {
            code = "internal_error";
            detail = "The server could not read this request.";
        } else {
            status = 400;
            code = "malformed_request";
            detail = "The request could not be parsed.";
        }
        break;
    }
    memset(&r, 0, sizeof(r));
    clock_gettime(CLOCK_MONOTONIC, &r.t0);
    r.conn = conn;
    r.close = 1;
    r.metric_route = MR_UNMATCHED;
    new_request_id(r.request_id);
    respond_problem(&r, status, code, detail, NULL, NULL);
    metrics_observe(r.metric_route, status, respond_elapsed_ms(&r));
    return 0;
}

/*
 * Count a connection against its peer address (connlimit.c) at its first request: civetweb's
 * init_connection callback comes before the peer address is known. The slot, and whether
 * this connection is beyond the address's limit, ride in the connection's user data:
 * (slot + 1) * 2 + over. Returns whether the connection is over the limit.
 */
static int
connection_over_limit(struct req *r)
{
    intptr_t d = (intptr_t)mg_get_user_connection_data(r->conn);
    int nth, slot;

    if (d == 0 && gw_cfg.max_client_connections > 0 && !gw_cfg.trust_proxy) {
        slot = connlimit_open(r->ri->remote_addr, &nth);
        if (slot >= 0) {
            d = (slot + 1) * 2 + (nth > gw_cfg.max_client_connections);
            mg_set_user_connection_data(r->conn, (void *)d);
        }
    }
    return (int)(d & 1);
}

/* civetweb's connection_close callback: the connection no longer counts. */
void
http_connection_close(const struct mg_connection *conn)
{
    intptr_t d = (intptr_t)mg_get_user_connection_data(conn);

    if (d > 0)
        connlimit_close((int)(d / 2) - 1);
}

/*
 * What the gateway checks of a request head before reading anything else: the connection
 * is within its address's limit, the header block within LMS_MAX_HEADER_BYTES and civetweb's
 * field count (fields past it would be dropped unseen), and the framing unambiguous.
 * Returns 0, or 1 after answering (the connection then closes).
 */
static int
refuse_head(struct req *r)
{
    const struct mg_request_info *ri = r->ri;
    const char *names[64], *values[64];
    size_t bytes = strlen(ri->request_method ? ri->request_method : "")
                   + strlen(ri->request_uri ? ri->request_uri : "")
                   + (ri->query_string ? strlen(ri->query_string) + 1 : 0) + 12;
    int n = ri->num_headers < 64 ? ri->num_headers : 64;

    if (connection_over_limit(r)) {
        char detail[160];

        snprintf(detail, sizeof(detail),
                 "This address already holds %d connections; reuse one of them.",
                 gw_cfg.max_client_connections);
        r->close = 1;
        respond_problem(r, 503, "too_many_connections", detail, "Retry-After: 1\r\n", NULL);
        return 1;
    }
    for (int i = 0; i < n; i++) {
        names[i] = ri->http_headers[i].name ? ri->http_headers[i].name : "";
        values[i] = ri->http_headers[i].value ? ri->http_headers[i].value : "";
        bytes += strlen(names[i]) + strlen(values[i]) + 4;
    }
    if (bytes > (size_t)gw_cfg.max_header_bytes || ri->num_headers >= 64) {
        char detail[160];

        snprintf(detail, sizeof(detail),
                 "The request header fields are too large (at most %d bytes and 63 fields).",
                 gw_cfg.max_header_bytes);
        r->close = 1;
        respond_problem(r, 431, "request_header_fields_too_large", detail, NULL, NULL);
        return 1;
    }
    switch (request_framing(n, names, values)) {
    case FRAMING_OK:
        return 0;
    case FRAMING_BAD_LENGTH:
        r->close = 1;
        respond_problem(r, 400, "invalid_content_length",
                     "The Content-Length header is not a valid length.", NULL, NULL);
        return 1;
    case FRAMING_CONFLICTING_LENGTH:
        r->close = 1;
        respond_problem(r, 400, "conflicting_content_length",
                     "The request carries Content-Length values that differ.", NULL, NULL);
        return 1;
    case FRAMING_LENGTH_WITH_CHUNKED:
        r->close = 1;
        respond_problem(r, 400, "conflicting_framing",
                     "The request carries both Content-Length and Transfer-Encoding.", NULL,
                     NULL);
        return 1;
    default:
        r->close = 1;
        respond_problem(r, 501, "unsupported_transfer_encoding",
                     "The only transfer coding accepted is chunked.", NULL, NULL);
        return 1;
    }
}

/*
 * civetweb's begin_request callback: every request of the listener comes here, so
 * civetweb never answers on its own (its error pages would drop keep-alive).
 */
int
http_handle(struct mg_connection *conn, void *cbdata)
{
    struct req r;
    const char *rid, *path, *method;
    struct match m;
    int ops, mres, rc;
    char *body = NULL;
    size_t body_len = 0;
    time_t now;

    (void)cbdata;
    memset(&r, 0, sizeof(r));
    clock_gettime(CLOCK_MONOTONIC, &r.t0);
    r.conn = conn;
    r.ri = mg_get_request_info(conn);
    r.metric_route = MR_UNMATCHED;
    method = r.ri->request_method ? r.ri->request_method : "";
    path = r.ri->local_uri_raw ? r.ri->local_uri_raw : r.ri->local_uri ? r.ri->local_uri : "";
    r.head = strcmp(method, "HEAD") == 0;
    rid = mg_get_header(conn, "X-Request-Id");
    if (request_id_valid(rid))
        snprintf(r.request_id, sizeof(r.request_id), "%s", rid);
    else
        new_request_id(r.request_id);
    r.cors_origin = cors_for(conn);
    client_address(r.ri->remote_addr, mg_get_header(conn, "X-Forwarded-For"), gw_cfg.trust_proxy,
                   r.client, sizeof(r.client));
    now = time(NULL);

    /* a head that is too large, ambiguous, or over its address's limit: answered, closed */
    if (refuse_head(&r))
        goto done;
    /* an oversized body is refused before anything else, without reading it */
    rc = read_body(&r, &body, &body_len);
    if (rc == 413) {
        char msg[128];

        r.close = 1;
        snprintf(msg, sizeof(msg), "The request body is larger than %lld bytes.",
                 gw_cfg.max_body);
        respond_problem(&r, 413, "payload_too_large", msg, NULL, NULL);
        goto done;
    }
    if (rc == 400) {
        r.close = 1;
        respond_problem(&r, 400, "invalid_body", "The request body ended early.", NULL, NULL);
        goto done;
    }
    /* a file of the pages folder (pages.c), when one is configured */
    if ((r.status = pages_serve(conn, &r.bytes)) != 0) {
        r.metric_route = MR_PAGES;
        goto done;
    }
    ops = is_ops_path(path);
    if (ops) {
        r.metric_route = ops;
        if (strcmp(method, "GET") == 0 || r.head)
            serve_ops(&r, ops);
        else if (strcmp(method, "OPTIONS") == 0)
            serve_options(&r, "GET");
        else
            respond_problem(&r, 405, "method_not_allowed", "This path answers GET only.",
                         "Allow: GET\r\n", NULL);
        goto done;
    }
    /* the optional per-client limit spares the ops routes (load balancer probes) */
    if (gw_cfg.global_rate > 0) {
        int wait = ratelimit_check(RL_GLOBAL, r.client, gw_cfg.global_rate, now);

        if (wait) {
            char h[48];

            snprintf(h, sizeof(h), "Retry-After: %d\r\n", wait);
            respond_problem(&r, 429, "rate_limited", "Too many requests; slow down.", h, NULL);
            goto done;
        }
    }
    if (strcmp(method, "OPTIONS") == 0) {
        struct match mm;

        /* the methods of every route this path matches */
        if (route_match("OPTIONS", path, strlen(path), &mm) == MATCH_BAD_METHOD)
            serve_options(&r, mm.allow);
        else
            respond_problem(&r, 404, "not_found", "No such resource.", NULL, NULL);
        goto done;
    }
    mres = route_match(method, path, strlen(path), &m);
    if (mres == MATCH_NOT_FOUND) {
        respond_problem(&r, 404, "not_found", "No such resource.", NULL, NULL);
        goto done;
    }
    if (mres == MATCH_BAD_METHOD) {
        char h[96];

        snprintf(h, sizeof(h), "Allow: %s\r\n", m.allow);
        respond_problem(&r, 405, "method_not_allowed", "This resource does not answer that method.",
                     h, NULL);
        goto done;
    }
    r.metric_route = m.route;
    if (mres == MATCH_INVALID_ID) {
        respond_problem(&r, 400, "invalid_id", LMS_DETAIL_INVALID_ID,
                     NULL, NULL);
        goto done;
    }
    if (gw_routes[m.route].flags & RF_LOGIN_RATE) {
        int wait = ratelimit_check(RL_LOGIN, r.client, gw_cfg.login_rate, now);

        if (wait) {
            char h[48];

            snprintf(h, sizeof(h), "Retry-After: %d\r\n", wait);
            respond_problem(&r, 429, "rate_limited",
                         "Too many sign-in attempts from this address; wait and retry.", h, NULL);
            goto done;
        }
    }
    serve_route(&r, m.route, m.arg, body, body_len);

done:
    free(body);
    metrics_observe(r.metric_route, r.status, respond_elapsed_ms(&r));
    access_log(&r);
    return r.status ? r.status : 500;
}
