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

/* One-time setup of the per-thread compressor state (gzip.c). */
void
respond_init(void)
{
    gz_init();
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
 * The Date header's value for now: formatted once per second per thread (strftime and gmtime
 * cost more than the rest of the headers together).
 */
static const char *
date_now(void)
{
    static __thread time_t at = -1;
    static __thread char text[40];
    time_t now = time(NULL);

    if (now != at) {
        struct tm tm;

        gmtime_r(&now, &tm);
        strftime(text, sizeof(text), "%a, %d %b %Y %H:%M:%S GMT", &tm);
        at = now;
    }
    return text;
}

/* Append a non-negative integer in decimal (headers are written without printf). */
static void
sb_uint(struct sbuf *b, unsigned long long v)
{
    char d[24];
    int i = sizeof(d);

    do {
        d[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    sb_append(b, d + i, sizeof(d) - (size_t)i);
}

/* "Name: value\r\n" */
static void
sb_header(struct sbuf *b, const char *name, const char *value)
{
    sb_puts(b, name);
    sb_puts(b, value);
    sb_puts(b, "\r\n");
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
    int no_body = status == 204 || status == 304;
    int chunked = len == HTTP_CHUNKED;   /* the body follows as chunks (stream.c) */
    long long us;

    if (no_body || chunked)
        len = 0;
    if (compressible && len >= GZIP_MIN && accepts_gzip(mg_get_header(r->conn, "Accept-Encoding")))
        gz = gz_body(r->metric_route, body, len, &gzlen);
    sb_reserve(&b, 512 + (gz ? gzlen : len));
    sb_puts(&b, "HTTP/1.1 ");
    sb_uint(&b, (unsigned)status);
    sb_puts(&b, " ");
    sb_puts(&b, lms_status_title(status));
    sb_puts(&b, "\r\n");
    sb_header(&b, "Date: ", date_now());
    if (!no_body) {
        if (ctype)
            sb_header(&b, "Content-Type: ", ctype);
        if (chunked)
            sb_puts(&b, "Transfer-Encoding: chunked\r\n");
        else {
            sb_puts(&b, "Content-Length: ");
            sb_uint(&b, gz ? gzlen : len);
            sb_puts(&b, "\r\n");
        }
    }
    if (gz)
        sb_puts(&b, "Content-Encoding: gzip\r\n");
    if (compressible)
        sb_puts(&b, r->cors_origin && strcmp(gw_cfg.cors_origin, "*") != 0
                        ? "Vary: Accept-Encoding, Authorization, Cookie, Origin\r\n"
                        : "Vary: Accept-Encoding, Authorization, Cookie\r\n");
    sb_header(&b, "X-Request-Id: ", r->request_id);
    sb_puts(&b, "X-Response-Time: ");
    us = (long long)(respond_elapsed_ms(r) * 1000.0 + 0.5);
    if (us < 0)
        us = 0;
    sb_uint(&b, (unsigned long long)us / 1000);
    sb_puts(&b, us % 1000 < 10 ? ".00" : us % 1000 < 100 ? ".0" : ".");
    sb_uint(&b, (unsigned long long)us % 1000);
    sb_puts(&b, "ms\r\n");
    if (r->cors_origin) {
        sb_header(&b, "Access-Control-Allow-Origin: ", r->cors_origin);
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

