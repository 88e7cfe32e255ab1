/*
 * xapi.c — the /xapi routes: the xAPI Learning Record Store's calling shape.
 *
 * xAPI clients speak HTTP differently from the REST contract: Basic credentials of an
 * activity provider, request headers that carry meaning (X-Experience-API-Version,
 * If-Match, If-None-Match, Accept-Language, Content-Type), bodies that are not JSON
 * (documents of any type, multipart/mixed statements with attachments) and answers with
 * headers of their own (ETag, Last-Modified, X-Experience-API-Consistent-Through). This file
 * only carries them: the method, the decoded query, those headers and the raw body go to the
 * route's one SQL function (lms.api_xapi_*), which returns status, headers (a JSON object)
 * and body; every rule (versions, credentials, validation, conflicts, voiding) lives there.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <civetweb.h>
#include <cjson/cJSON.h>

#include "gw.h"

/* The request headers the LRS reads, passed by their lower-case names. */
static const char *const xapi_request_headers[] = {
    "Authorization", "X-Experience-API-Version", "Content-Type", "If-Match", "If-None-Match",
    "Accept-Language",
};

/* A header value that may be written back as is: no CR, LF or NUL (no header injection). */
static int
header_value_ok(const char *v)
{
    return v && strpbrk(v, "\r\n") == NULL;
}

/*
 * The answer's headers (a JSON object of name -> string) as CRLF lines; the Content-Type is
 * returned apart (http_send writes it).
 */
static void
answer_headers(const char *json, struct sbuf *out, char *ctype, size_t ctypesz)
{
    cJSON *doc = json ? cJSON_Parse(json) : NULL;
    const cJSON *h;

    ctype[0] = '\0';
    sb_puts(out, "Cache-Control: no-store\r\n");
    cJSON_ArrayForEach(h, doc) {
        if (!cJSON_IsString(h) || !header_value_ok(h->string) || !header_value_ok(h->valuestring))
            continue;
        if (strcasecmp(h->string, "Content-Type") == 0)
            snprintf(ctype, ctypesz, "%s", h->valuestring);
        else
            sb_printf(out, "%s: %s\r\n", h->string, h->valuestring);
    }
    cJSON_Delete(doc);
}

/* One /xapi request: its headers and raw body to the function, its answer back untouched. */
void
xapi_serve(struct req *r, int route, const char *body, size_t body_len)
{
    struct mg_connection *conn = r->conn;
    const struct mg_request_info *ri = mg_get_request_info(conn);
    char badkey[64], ctype[256];
    cJSON *q, *h;
    char *qs, *hs;
    struct exec_result res;
    struct sbuf extra = {0};
    int outcome;

    q = query_to_json(ri->query_string, badkey, sizeof(badkey));
    if (!q) {
        respond_problem(r, 400, "validation_failed",
                        "The query string has invalid parameters (bad UTF-8 or NUL).", NULL, NULL);
        return;
    }
    h = cJSON_CreateObject();
    for (size_t i = 0; i < sizeof(xapi_request_headers) / sizeof(xapi_request_headers[0]); i++) {
        const char *v = mg_get_header(conn, xapi_request_headers[i]);
        char name[64];

        if (!v)
            continue;
        if (!utf8_valid(v, strlen(v))) {
            cJSON_Delete(q);
            cJSON_Delete(h);
            respond_problem(r, 400, "invalid_header", "A request header is not valid UTF-8.", NULL,
                            NULL);
            return;
        }
        snprintf(name, sizeof(name), "%s", xapi_request_headers[i]);
        for (char *c = name; *c; c++)
            if (*c >= 'A' && *c <= 'Z')
                *c = (char)(*c - 'A' + 'a');
        cJSON_AddStringToObject(h, name, v);
    }
    qs = cJSON_PrintUnformatted(q);
    hs = cJSON_PrintUnformatted(h);
    cJSON_Delete(q);
    cJSON_Delete(h);
    outcome = pool_exec_xapi(route, ri->request_method, qs ? qs : "{}", hs ? hs : "{}", body,
                             body ? body_len : 0, &res);
    cJSON_free(qs);
    cJSON_free(hs);
    if (outcome != EXEC_OK) {
        respond_failure(r, outcome);
        return;
    }
    if (res.status < 100 || res.status > 599) {
        pool_result_free(&res);
        respond_failure(r, EXEC_ERROR);
        return;
    }
    answer_headers(res.headers, &extra, ctype, sizeof(ctype));
    respond(r, res.status, ctype[0] ? ctype : (res.body ? "application/octet-stream" : NULL),
              res.body, res.body ? res.body_len : 0, extra.data,
              strncasecmp(ctype, "application/json", 16) == 0);
    sb_free(&extra);
    pool_result_free(&res);
}
