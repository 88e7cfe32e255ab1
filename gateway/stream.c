/*
 * stream.c — exports streamed from a cursor with chunked encoding.
 *
 * An export route's function (lms.api_export_*) returns a set of text rows: the first is the
 * head, a JSON object {"status", "content_type", "filename"} (or {"status", "problem"} when
 * the request is refused); every later row is a slice of the body (CSV or NDJSON lines),
 * made by the server from a cursor as the gateway reads them (pool_stream, single-row
 * mode). Rows are gathered into chunks of at most STREAM_CHUNK bytes, so the gateway holds
 * one chunk at a time whatever the size of the export; the head leaves as soon as the
 * function has made its first row.
 */
#include <stdlib.h>
#include <string.h>

#include <civetweb.h>
#include <cjson/cJSON.h>

#include "gw.h"

#define STREAM_CHUNK 65536

struct stream_ctx {
    struct req *r;
    int head_sent;      /* the status line went out: errors can only cut the stream now */
    int refused;        /* the head was a problem: it was answered, ignore the rest */
    size_t used;        /* bytes waiting in buf */
    char buf[STREAM_CHUNK];
};

/* Send what is gathered as one chunk; -1 when the client is gone. */
static int
flush_chunk(struct stream_ctx *s)
{
    if (s->used == 0)
        return 0;
    if (mg_send_chunk(s->r->conn, s->buf, (unsigned int)s->used) < 0)
        return -1;
    respond_sent(s->r, s->used);
    s->used = 0;
    return 0;
}

/* The head row: the status line and headers of a 200, or the problem document. */
static int
send_head(struct stream_ctx *s, const char *row, size_t len)
{
    cJSON *head = cJSON_ParseWithLength(row, len);
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(head, "status");
    const cJSON *ct = cJSON_GetObjectItemCaseSensitive(head, "content_type");
    const cJSON *fn = cJSON_GetObjectItemCaseSensitive(head, "filename");
    const cJSON *pb = cJSON_GetObjectItemCaseSensitive(head, "problem");
    int status = cJSON_IsNumber(st) ? st->valueint : 500;
    struct sbuf h = {0};

    if (status >= 400 || !cJSON_IsString(ct)) {
        char *text = cJSON_IsObject(pb) ? cJSON_PrintUnformatted(pb) : NULL;

        if (text)
            respond(s->r, status, "application/problem+json", text, strlen(text),
                      "Cache-Control: no-store\r\n", 0);
        else
            respond_failure(s->r, EXEC_ERROR);
        cJSON_free(text);
        s->refused = 1;
    } else {
        sb_puts(&h, "Cache-Control: no-store\r\n");
        if (cJSON_IsString(fn) && strpbrk(fn->valuestring, "\"\r\n\\") == NULL)
            sb_printf(&h, "Content-Disposition: attachment; filename=\"%s\"\r\n", fn->valuestring);
        respond(s->r, status, ct->valuestring, NULL, HTTP_CHUNKED, h.data, 0);
        sb_free(&h);
    }
    s->head_sent = 1;
    cJSON_Delete(head);
    return 0;
}

/* pool_stream's callback: the head, then one chunk per row; non-zero stops the query. */
static int
emit_row(void *ctx, const char *row, size_t len)
{
    struct stream_ctx *s = ctx;

    if (!s->head_sent)
        return send_head(s, row, len);
    if (s->refused || len == 0)
        return 0;
    if (s->used + len > sizeof(s->buf) && flush_chunk(s) < 0)
        return -1;
    if (len > sizeof(s->buf)) {
        /* a row larger than a chunk goes out alone */
        if (mg_send_chunk(s->r->conn, row, (unsigned int)len) < 0)
            return -1;
        respond_sent(s->r, len);
        return 0;
    }
    memcpy(s->buf + s->used, row, len);
    s->used += len;
    return 0;
}

/* One export request: stream the rows, end the chunked body (or cut it on a failure). */
void
stream_serve(struct req *r, int route, const char *token, const char *arg, const char *query)
{
    struct stream_ctx *s = calloc(1, sizeof(*s));
    long rows = 0;
    int outcome;

    if (!s) {
        respond_failure(r, EXEC_ERROR);
        return;
    }
    s->r = r;
    outcome = pool_stream(route, token, arg, query, emit_row, s, &rows);
    if (!s->head_sent)
        respond_failure(r, outcome == EXEC_OK ? EXEC_ERROR : outcome);
    else if (s->refused)
        ;
    else if (outcome == EXEC_OK && flush_chunk(s) == 0)
        mg_send_chunk(r->conn, "", 0);   /* the last chunk */
    else
        /* a failure after the head: the body stays unterminated and the connection closes,
         * so the client sees a broken transfer rather than a short file that looks whole */
        mg_disable_connection_keep_alive(r->conn);
    free(s);
}
