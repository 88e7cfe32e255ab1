/*
 * fuzz_parse.c — libFuzzer target for everything lms-gateway parses itself.
 *
 * One input drives every parser of gateway/parse.c and the router of gateway/routes.c:
 * paths and methods, query strings, JSON bodies, Content-Type, Authorization and Cookie
 * headers, Accept-Encoding, X-Request-Id, If-None-Match, ISO 8601 timestamps and
 * X-Forwarded-For. Besides memory errors (ASan/UBSan), it checks the promises the gateway
 * relies on: an accepted id is canonical and in range, a query string becomes a JSON object
 * that the strict body validator accepts, an accepted body is accepted by cJSON, an
 * extracted token is printable, and a matched route's argument is what routes.c says.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "gw.h"

/* Stand-ins for the two symbols of the server that parse.c/routes.c never call here. */
struct gw_config gw_cfg;
void gw_log(int level, const char *fmt, ...) { (void)level; (void)fmt; }

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "check failed: %s\n", #c); abort(); } } while (0)

static const char *methods[] = {"GET", "POST", "PATCH", "DELETE", "PUT", "HEAD", "OPTIONS", ""};

/* Split the input at the first '\n' into two strings (a header pair). */
static void
split2(const char *s, char **a, char **b)
{
    const char *nl = strchr(s, '\n');

    if (!nl) {
        *a = strdup(s);
        *b = strdup("");
        return;
    }
    *a = strndup(s, (size_t)(nl - s));
    *b = strdup(nl + 1);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1), *a, *b, out[600], idbuf[72];
    struct match m;
    cJSON *q;
    time_t t;
    const char *v;
    size_t vlen;
    int r;

    memcpy(s, data, size);
    s[size] = '\0';

    /* routing: first byte picks the method, the rest is the path (raw bytes, NULs included) */
    if (size > 0) {
        r = route_match(methods[data[0] % 8], s + 1, size - 1, &m);
        CHECK(r >= MATCH_OK && r <= MATCH_INVALID_ID);
        if (r == MATCH_OK) {
            CHECK(m.route >= 0 && m.route < gw_nroutes);
            if (gw_routes[m.route].arg == ARG_NONE)
                CHECK(m.arg[0] == '\0');
            else
                CHECK(m.arg[0] != '\0');
        }
        if (r == MATCH_BAD_METHOD)
            CHECK(m.allow[0] != '\0');
    }

    /* ids */
    if (parse_id(s, size, idbuf, sizeof(idbuf))) {
        size_t n = strlen(idbuf);

        CHECK(n >= 1 && n <= 19 && idbuf[0] != '0');
        CHECK(n < 19 || strcmp(idbuf, "9223372036854775807") <= 0);
    }
    parse_code(s, size, idbuf, sizeof(idbuf));

    /* url decoding never grows */
    {
        char *d = malloc(size + 1);

        CHECK(url_decode(s, size, d, 1) <= size);
        free(d);
    }

    /* query string -> JSON object of strings, always valid for jsonb */
    q = query_to_json(s, out, 64);
    if (q) {
        char *txt = cJSON_PrintUnformatted(q);

        CHECK(cJSON_IsObject(q));
        CHECK(txt && json_body_valid(txt, strlen(txt)));
        free(txt);
        cJSON_Delete(q);
    }

    /* JSON bodies: strict validator; whatever it accepts cJSON accepts too */
    if (json_body_valid((const char *)data, size)) {
        cJSON *doc = cJSON_ParseWithLength((const char *)data, size);

        CHECK(doc != NULL);
        cJSON_Delete(doc);
        CHECK(utf8_valid((const char *)data, size));
    }

    content_type_is_json(s);
    accepts_gzip(s);
    request_id_valid(s);
    parse_iso8601(s, &t);
    cookie_value(s, "access_token", &v, &vlen);

    split2(s, &a, &b);
    r = token_from_request(a, b, out, sizeof(out));
    if (r == 1) {
        CHECK(strlen(out) >= 1 && strlen(out) <= 512);
        for (const char *c = out; *c; c++)
            CHECK(*c > 0x20 && *c < 0x7f);
    }
    token_from_request(NULL, s, out, sizeof(out));
    etag_matches(a, b);
    client_address(a, b, 1, out, 64);
    CHECK(strlen(out) < 64);
    free(a);
    free(b);
    free(s);
    return 0;
}
