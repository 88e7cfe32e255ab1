/*
 * respond.c — writing one response: the status line and headers, gzip, CORS, request id and
 * response time, the body in one mg_write with an exact Content-Length (or a chunked head for
 * exports), and the problem documents the gateway writes itself. Every part of the gateway
 * that answers (http.c, xapi.c, stream.c) writes through here; this file calls nothing above
 * it. Titles and the problem type address come from contract.h, shared with the extension.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <civetweb.h>
#include <cjson/cJSON.h>
#include <zlib.h>

#include "contract.h"
#include "gw.h"

#define GZIP_MIN 1024

static pthread_key_t zkey;

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
respond_init(void)
{
    pthread_key_create(&zkey, zstream_free);
}

/* Milliseconds since the request arrived (X-Response-Time, metrics, access log). */
double
respond_elapsed_ms(const struct req *r)
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

/*
 * Write the whole response: status line, our headers, `extra` headers (CRLF-terminated
 * lines), and the body (gzip'd when allowed, accepted and >= 1 KiB), in one mg_write.
 */
void
respond(struct req *r, int status, const char *ctype, const char *body, size_t len,
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
    sb_printf(&b, "HTTP/1.1 %d %s\r\nDate: %s\r\n", status, lms_status_title(status), date);
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
              respond_elapsed_ms(r));
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
 * extension's (lms.problem): {"type","title","status","detail","code"[,"errors"]}; the type
 * address and the title from contract.h, as the extension's. Keep-alive is kept.
 */
void
respond_problem(struct req *r, int status, const char *code, const char *detail,
                const char *extra_headers, cJSON *errors)
{
    cJSON *doc = cJSON_CreateObject();
    char type[128], *text, *dash;
    struct sbuf hdr = {0};

    snprintf(type, sizeof(type), LMS_PROBLEM_TYPE_BASE "%s", code);
    for (dash = type + strlen(LMS_PROBLEM_TYPE_BASE); *dash; dash++)
        if (*dash == '_')
            *dash = '-';
    cJSON_AddStringToObject(doc, "type", type);
    cJSON_AddStringToObject(doc, "title", lms_status_title(status));
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
    respond(r, status, "application/problem+json", text ? text : "{}",
                  text ? strlen(text) : 2, hdr.data, 0);
    sb_free(&hdr);
    cJSON_free(text);
}

/* The answer to a call that did not reach an answer of the function (pool_exec's outcome). */
void
respond_failure(struct req *r, int outcome)
{
    switch (outcome) {
    case EXEC_TIMEOUT:
        respond_problem(r, 503, "database_busy",
                        "The database is busy; retry this request shortly.", "Retry-After: 1\r\n",
                     NULL);
        break;
    case EXEC_UNAVAILABLE:
        respond_problem(r, 503, "database_unavailable", "The database is not reachable right now.",
                     "Retry-After: 1\r\n", NULL);
        break;
    default:
        respond_problem(r, 500, "internal_error", "The server could not answer this request.",
                     NULL, NULL);
        break;
    }
}

/* Count body bytes written after the head (the access log's size). */
void
respond_sent(struct req *r, size_t n)
{
    r->bytes += n;
}

