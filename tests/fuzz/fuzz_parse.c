/*
 * fuzz_parse.c — libFuzzer target for everything lms-gateway parses itself.
 *
 * One input drives every parser of gateway/parse.c and the router of gateway/routes.c:
 * paths and methods, query strings, JSON bodies, Content-Type, Authorization and Cookie
 * headers, Accept-Encoding, X-Request-Id, If-None-Match, ISO 8601 timestamps and
 * X-Forwarded-For, and the request head: its header fields through the framing rules
 * (request_framing) and its query string through the access log's redaction. Besides memory
 * errors (ASan/UBSan), it checks the promises the gateway relies on: an accepted id is
 * canonical and in range, a query string becomes a JSON object that the strict body
 * validator accepts, an accepted body is accepted by cJSON, an extracted token is printable,
 * a matched route's argument is what routes.c says, a head without Content-Length and
 * Transfer-Encoding always frames, and no secret parameter keeps its value in the log.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "gw.h"

/* Stand-ins for the two symbols of the server that parse.c/routes.c never call here. */
struct gw_config gw_cfg;
void gw_log(int level, const char *fmt, ...) { (void)level; (void)fmt; }

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "check failed: %s\n", #c); abort(); } } while (0)

static const char *methods[] = {"GET", "POST", "PATCH", "DELETE", "PUT", "HEAD", "OPTIONS", ""};

/*
 * The input as a request head: "METHOD target HTTP/x\r\n" then "Name: value" lines (up to 64)
 * until an empty line. Checks request_framing's promises and the redaction of the target's
 * query string.
 */
static void
fuzz_head(const char *s)
{
    const char *names[64], *values[64];
    char *copy = strdup(s), *line, *save = NULL, *qs, red[512];
    int n = 0, framing_fields = 0, first = 1;

    qs = NULL;
    for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        size_t len = strlen(line);
        char *colon;

        if (len && line[len - 1] == '\r')
            line[--len] = '\0';
        if (first) {
            char *sp = strchr(line, ' ');

            first = 0;
            if (sp && (qs = strchr(sp + 1, '?')) != NULL) {
                char *end = strchr(++qs, ' ');

                if (end)
                    *end = '\0';
            }
            continue;
        }
        if (len == 0 || n == 64)
            break;
        colon = strchr(line, ':');
        if (!colon)
            continue;
        *colon = '\0';
        names[n] = line;
        values[n] = colon + 1;
        if (!strcasecmp(line, "Content-Length") || !strcasecmp(line, "Transfer-Encoding"))
            framing_fields++;
        n++;
    }
    {
        int f = request_framing(n, names, values);

        CHECK(f >= FRAMING_OK && f <= FRAMING_BAD_CODING);
        if (framing_fields == 0)
            CHECK(f == FRAMING_OK);
    }
    if (qs) {
        /* every secret-named parameter of the result reads [redacted] */
        char *p, *save2 = NULL;

        redact_query(qs, red, sizeof(red));
        CHECK(strlen(red) < sizeof(red));
        for (p = strtok_r(red, "&", &save2); p; p = strtok_r(NULL, "&", &save2)) {
            char *eq = strchr(p, '='), dec[64];
            size_t klen, dlen;

            if (!eq)
                continue;
            klen = (size_t)(eq - p);
            if (klen >= sizeof(dec))
                continue;
            dlen = url_decode(p, klen, dec, 1);
            dec[dlen] = '\0';
            for (int k = 0; k < 3; k++) {
                const char *secret = (const char *[]){"access_token", "token", "password"}[k];

                if (dlen == strlen(secret) && strncasecmp(dec, secret, dlen) == 0)
                    CHECK(strcmp(eq + 1, "[redacted]") == 0);
            }
        }
    }
    free(copy);
}

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
    {
        uint64_t lsn, again;
        char text[24];

        /* a WAL position (the lms_lsn cookie): what parses prints back the same */
        if (lsn_parse(s, size, &lsn)) {
            snprintf(text, sizeof(text), "%X/%X", (unsigned)(lsn >> 32), (unsigned)lsn);
            CHECK(lsn_parse(text, strlen(text), &again) && again == lsn);
        }
    }

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
    fuzz_head(s);
    free(a);
    free(b);
    free(s);
    return 0;
}
