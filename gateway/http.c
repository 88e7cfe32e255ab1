/*
 * http.c — one HTTP request in, one SQL call, one HTTP response out.
 *
 * Reads the request with a size limit, routes it (routes.c), validates what the gateway can
 * validate without the database (body JSON, content type, token syntax, query string),
 * calls the route's function through the pool, and writes the answer with the contract's
 * HTTP manners: problem+json errors written here (keep-alive kept), caching headers, ETag
 * and 304, gzip, CORS, request ids, response time, cookies. Every response goes out in one
 * mg_write with an exact Content-Length. No business rule lives here.
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

#include "gw.h"

#define GZIP_MIN 1024
#define PROBLEM_BASE "https://lms.example/problems/"

struct req {
    struct mg_connection *conn;
    const struct mg_request_info *ri;
    struct timespec t0;
    char request_id[136];
    const char *cors_origin;   /* value for Access-Control-Allow-Origin, NULL for none */
    int head;
    int close;                 /* answer with Connection: close */
    int metric_route;
    int status;
    size_t bytes;
    char client[64];
};

static pthread_key_t zkey;
static unsigned long access_counter;

/* Free a worker thread's cached deflate stream when the thread ends. */
static void
zstream_free(void *p)
{
    if (p) {
        deflateEnd((z_stream *)p);
        free(p);
    }
}

/* One-time setup of the per-thread compressor cache. */
void
http_init(void)
{
    pthread_key_create(&zkey, zstream_free);
}

/* Milliseconds since the request arrived (X-Response-Time, metrics, access log). */
static double
elapsed_ms(const struct req *r)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - r->t0.tv_sec) * 1e3 + (double)(t.tv_nsec - r->t0.tv_nsec) / 1e6;
}

/*
 * gzip `in` with the thread's cached deflate stream (allocated once per thread that ever
 * compresses, reset between uses). Returns a malloc'd buffer or NULL when not worth it.
 */
static unsigned char *
gzip_body(const char *in, size_t n, size_t *outlen)
{
    z_stream *zs = pthread_getspecific(zkey);
    uLong bound;
    unsigned char *out;

    if (!zs) {
        zs = calloc(1, sizeof(*zs));
        if (!zs || deflateInit2(zs, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
            free(zs);
            return NULL;
        }
        pthread_setspecific(zkey, zs);
    } else
        deflateReset(zs);
    bound = deflateBound(zs, (uLong)n);
    out = malloc(bound);
    if (!out)
        return NULL;
    zs->next_in = (Bytef *)(uintptr_t)in;
    zs->avail_in = (uInt)n;
    zs->next_out = out;
    zs->avail_out = (uInt)bound;
    if (deflate(zs, Z_FINISH) != Z_STREAM_END || zs->total_out >= n) {
        free(out);
        return NULL;
    }
    *outlen = zs->total_out;
    return out;
}

/* The reason phrase of a status line and of a problem's title. */
static const char *
status_text(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return status < 300 ? "OK" : status < 500 ? "Client Error" : "Server Error";
    }
}

/*
 * Write the whole response: status line, our headers, `extra` headers (CRLF-terminated
 * lines), and the body (gzip'd when allowed, accepted and >= 1 KiB), in one mg_write.
 */
static void
send_response(struct req *r, int status, const char *ctype, const char *body, size_t len,
              const char *extra, int compressible)
{
    struct sbuf b = {0};
    unsigned char *gz = NULL;
    size_t gzlen = 0;
    char date[64];
    time_t now = time(NULL);
    struct tm tm;
    int no_body = status == 204 || status == 304;
    int chunked = len == HTTP_CHUNKED;   /* the body follows as chunks (stream.c) */

    if (no_body || chunked)
        len = 0;
    if (compressible && len >= GZIP_MIN && accepts_gzip(mg_get_header(r->conn, "Accept-Encoding")))
        gz = gzip_body(body, len, &gzlen);
    gmtime_r(&now, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    sb_reserve(&b, 512 + (gz ? gzlen : len));
    sb_printf(&b, "HTTP/1.1 %d %s\r\nDate: %s\r\n", status, status_text(status), date);
    if (!no_body) {
        if (ctype)
            sb_printf(&b, "Content-Type: %s\r\n", ctype);
        if (chunked)
            sb_puts(&b, "Transfer-Encoding: chunked\r\n");
        else
            sb_printf(&b, "Content-Length: %zu\r\n", gz ? gzlen : len);
    }
    if (gz)
        sb_puts(&b, "Content-Encoding: gzip\r\n");
    if (compressible)
        sb_puts(&b, r->cors_origin && strcmp(gw_cfg.cors_origin, "*") != 0
                        ? "Vary: Accept-Encoding, Authorization, Cookie, Origin\r\n"
                        : "Vary: Accept-Encoding, Authorization, Cookie\r\n");
    sb_printf(&b, "X-Request-Id: %s\r\nX-Response-Time: %.3fms\r\n", r->request_id,
              elapsed_ms(r));
    if (r->cors_origin) {
        sb_printf(&b, "Access-Control-Allow-Origin: %s\r\n", r->cors_origin);
        if (strcmp(r->cors_origin, "*") != 0)
            sb_puts(&b, "Access-Control-Allow-Credentials: true\r\n");
        sb_puts(&b, "Access-Control-Expose-Headers: X-Request-Id, X-Response-Time, ETag, "
                    "Retry-After, Location\r\n");
    }
    if (extra)
        sb_puts(&b, extra);
    if (r->close) {
        sb_puts(&b, "Connection: close\r\n");
        mg_disable_connection_keep_alive(r->conn);
    }
    sb_puts(&b, "\r\n");
    if (!r->head && !no_body) {
        if (gz)
            sb_append(&b, gz, gzlen);
        else if (len)
            sb_append(&b, body, len);
    }
    free(gz);
    if (!b.oom)
        mg_write(r->conn, b.data, b.len);
    r->status = status;
    r->bytes = gz ? gzlen : len;
    sb_free(&b);
}

/*
 * An RFC 7807 problem document written by the gateway itself, same shape as the
 * extension's (lms.problem): {"type","title","status","detail","code"[,"errors"]}.
 */
static void
send_problem(struct req *r, int status, const char *code, const char *detail,
             const char *extra_headers, cJSON *errors)
{
    cJSON *doc = cJSON_CreateObject();
    char type[128], *text, *dash;
    struct sbuf hdr = {0};

    snprintf(type, sizeof(type), PROBLEM_BASE "%s", code);
    for (dash = type + strlen(PROBLEM_BASE); *dash; dash++)
        if (*dash == '_')
            *dash = '-';
    cJSON_AddStringToObject(doc, "type", type);
    cJSON_AddStringToObject(doc, "title", status_text(status));
    cJSON_AddNumberToObject(doc, "status", status);
    cJSON_AddStringToObject(doc, "detail", detail);
    cJSON_AddStringToObject(doc, "code", code);
    if (errors)
        cJSON_AddItemToObject(doc, "errors", errors);
    text = cJSON_PrintUnformatted(doc);
    cJSON_Delete(doc);
    sb_puts(&hdr, "Cache-Control: no-store\r\n");
    if (extra_headers)
        sb_puts(&hdr, extra_headers);
    send_response(r, status, "application/problem+json", text ? text : "{}",
                  text ? strlen(text) : 2, hdr.data, 0);
    sb_free(&hdr);
    cJSON_free(text);
}

/* A fresh request id: 32 hex digits from the kernel's random source. */
static void
new_request_id(char *out)
{
    unsigned char rnd[16];
    static const char hex[] = "0123456789abcdef";

    if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
        struct timespec t;

        clock_gettime(CLOCK_REALTIME, &t);
        uint64_t h = hash64(&t, sizeof(t)) ^ (uint64_t)(uintptr_t)out;
        memcpy(rnd, &h, 8);
        h = hash64(&h, 8);
        memcpy(rnd + 8, &h, 8);
    }
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
        send_response(r, 200, "application/json", "{\"status\":\"ok\"}", 15,
                      "Cache-Control: no-store\r\n", 0);
        break;
    case MR_READY:
        if (pool_ping())
            send_response(r, 200, "application/json", "{\"status\":\"ready\"}", 18,
                          "Cache-Control: no-store\r\n", 0);
        else
            send_problem(r, 503, "database_unavailable", "The database is not answering.",
                         "Retry-After: 1\r\n", NULL);
        break;
    case MR_METRICS: {
        size_t len = 0;
        char *text = metrics_prometheus(&len);

        if (!text)
            send_problem(r, 500, "internal_error", "Out of memory.", NULL, NULL);
        else
            send_response(r, 200, "text/plain; version=0.0.4; charset=utf-8", text, len,
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
            send_response(r, 304, NULL, NULL, 0, hdr, 0);
        else
            send_response(r, 200, "application/json", gw_openapi, gw_openapi_len, hdr, 1);
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
    send_response(r, 204, NULL, NULL, 0, h.data, 0);
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
        send_problem(r, 500, "internal_error", "The server could not answer this request.",
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
                send_response(r, 304, NULL, NULL, 0, h.data, 1);
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
    send_response(r, status,
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
            r->status, r->bytes, elapsed_ms(r), r->request_id);
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
        send_problem(r, 415, "unsupported_media_type",
                     "Request bodies must be JSON sent as Content-Type: application/json.", NULL,
                     NULL);
        return;
    }
    if (body && !json_body_valid(body, body_len)) {
        send_problem(r, 400, "invalid_json", "The request body is not valid JSON.", NULL, NULL);
        return;
    }
    has_token = token_from_request(mg_get_header(r->conn, "Authorization"),
                                   mg_get_header(r->conn, "Cookie"), token, sizeof(token));
    if (has_token < 0) {
        send_problem(r, 401, "unauthenticated", "A valid access token is required.",
                     "WWW-Authenticate: Bearer\r\n", NULL);
        return;
    }
    q = query_to_json(r->ri->query_string, badkey, sizeof(badkey));
    if (!q) {
        cJSON *errs = cJSON_CreateArray(), *e = cJSON_CreateObject();

        cJSON_AddStringToObject(e, "field", badkey);
        cJSON_AddStringToObject(e, "message", "must be valid UTF-8 without NUL characters");
        cJSON_AddItemToArray(errs, e);
        send_problem(r, 400, "validation_failed", "The query string has invalid parameters.",
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
    if (rt->flags & RF_GATEWAY_BODY)
        gw_body = metrics_summary_json();
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
        http_send_failure(r, outcome);
}

/* The answer to a call that did not reach an answer of the function (pool_exec's outcome). */
void
http_send_failure(struct req *r, int outcome)
{
    switch (outcome) {
    case EXEC_TIMEOUT:
        send_problem(r, 503, "database_busy",
                     "The database is busy; retry this request shortly.", "Retry-After: 1\r\n",
                     NULL);
        break;
    case EXEC_UNAVAILABLE:
        send_problem(r, 503, "database_unavailable", "The database is not reachable right now.",
                     "Retry-After: 1\r\n", NULL);
        break;
    default:
        send_problem(r, 500, "internal_error", "The server could not answer this request.",
                     NULL, NULL);
        break;
    }
}

/* The writers above, for the answers written outside this file (xapi.c, stream.c). */
struct mg_connection *
http_conn(struct req *r)
{
    return r->conn;
}

void
http_send(struct req *r, int status, const char *ctype, const char *body, size_t len,
          const char *extra, int compressible)
{
    send_response(r, status, ctype, body, len, extra, compressible);
}

void
http_send_problem(struct req *r, int status, const char *code, const char *detail,
                  const char *extra)
{
    send_problem(r, status, code, detail, extra, NULL);
}

/* Count body bytes written after the head (the access log's size). */
void
http_sent(struct req *r, size_t n)
{
    r->bytes += n;
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
    send_problem(&r, status, code, detail, NULL, NULL);
    metrics_observe(r.metric_route, status, elapsed_ms(&r));
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
        send_problem(r, 503, "too_many_connections", detail, "Retry-After: 1\r\n", NULL);
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
        send_problem(r, 431, "request_header_fields_too_large", detail, NULL, NULL);
        return 1;
    }
    switch (request_framing(n, names, values)) {
    case FRAMING_OK:
        return 0;
    case FRAMING_BAD_LENGTH:
        r->close = 1;
        send_problem(r, 400, "invalid_content_length",
                     "The Content-Length header is not a valid length.", NULL, NULL);
        return 1;
    case FRAMING_CONFLICTING_LENGTH:
        r->close = 1;
        send_problem(r, 400, "conflicting_content_length",
                     "The request carries Content-Length values that differ.", NULL, NULL);
        return 1;
    case FRAMING_LENGTH_WITH_CHUNKED:
        r->close = 1;
        send_problem(r, 400, "conflicting_framing",
                     "The request carries both Content-Length and Transfer-Encoding.", NULL,
                     NULL);
        return 1;
    default:
        r->close = 1;
        send_problem(r, 501, "unsupported_transfer_encoding",
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
        send_problem(&r, 413, "payload_too_large", msg, NULL, NULL);
        goto done;
    }
    if (rc == 400) {
        r.close = 1;
        send_problem(&r, 400, "invalid_body", "The request body ended early.", NULL, NULL);
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
            send_problem(&r, 405, "method_not_allowed", "This path answers GET only.",
                         "Allow: GET\r\n", NULL);
        goto done;
    }
    /* the optional per-client limit spares the ops routes (load balancer probes) */
    if (gw_cfg.global_rate > 0) {
        int wait = ratelimit_check(RL_GLOBAL, r.client, gw_cfg.global_rate, now);

        if (wait) {
            char h[48];

            snprintf(h, sizeof(h), "Retry-After: %d\r\n", wait);
            send_problem(&r, 429, "rate_limited", "Too many requests; slow down.", h, NULL);
            goto done;
        }
    }
    if (strcmp(method, "OPTIONS") == 0) {
        struct match mm;

        /* the methods of every route this path matches */
        if (route_match("OPTIONS", path, strlen(path), &mm) == MATCH_BAD_METHOD)
            serve_options(&r, mm.allow);
        else
            send_problem(&r, 404, "not_found", "No such resource.", NULL, NULL);
        goto done;
    }
    mres = route_match(method, path, strlen(path), &m);
    if (mres == MATCH_NOT_FOUND) {
        send_problem(&r, 404, "not_found", "No such resource.", NULL, NULL);
        goto done;
    }
    if (mres == MATCH_BAD_METHOD) {
        char h[96];

        snprintf(h, sizeof(h), "Allow: %s\r\n", m.allow);
        send_problem(&r, 405, "method_not_allowed", "This resource does not answer that method.",
                     h, NULL);
        goto done;
    }
    r.metric_route = m.route;
    if (mres == MATCH_INVALID_ID) {
        send_problem(&r, 400, "invalid_id", "Ids are integers between 1 and 9223372036854775807.",
                     NULL, NULL);
        goto done;
    }
    if (gw_routes[m.route].flags & RF_LOGIN_RATE) {
        int wait = ratelimit_check(RL_LOGIN, r.client, gw_cfg.login_rate, now);

        if (wait) {
            char h[48];

            snprintf(h, sizeof(h), "Retry-After: %d\r\n", wait);
            send_problem(&r, 429, "rate_limited",
                         "Too many sign-in attempts from this address; wait and retry.", h, NULL);
            goto done;
        }
    }
    serve_route(&r, m.route, m.arg, body, body_len);

done:
    free(body);
    metrics_observe(r.metric_route, r.status, elapsed_ms(&r));
    access_log(&r);
    return r.status ? r.status : 500;
}
