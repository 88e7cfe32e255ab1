/*
 * parse.c — what the gateway parses of the request target and body, as pure functions: ids
 * (contract.h's syntax, shared with the extension) and certificate codes in the path,
 * percent-decoding and UTF-8, the query string as JSON, and the strict JSON grammar of a body.
 * Header values are headers.c's. Neither touches civetweb or libpq, so tests/fuzz/fuzz_parse.c
 * calls them directly. Whatever reaches PostgreSQL from here is valid UTF-8 without NUL, so an
 * input error never turns into a raised SQL error (a 500).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "contract.h"
#include "gw.h"

/*
 * A path id: contract.h's syntax (decimal digits only, 1 .. 2^63-1, leading zeros dropped),
 * the same as the extension's lms.path_id; written normalised into out. Anything else is
 * 400 invalid_id.
 */
int
parse_id(const char *s, size_t n, char *out, size_t outsz)
{
    uint64_t id = lms_parse_id(s, n);
    int len;

    if (id == 0)
        return 0;
    len = snprintf(out, outsz, "%llu", (unsigned long long)id);
    return len > 0 && (size_t)len < outsz;
}

/*
 * A certificate code in the path: 1..64 URL-safe characters. Anything else cannot be a
 * code the extension issued, so the caller answers 404 without asking the database.
 */
int
parse_code(const char *s, size_t n, char *out, size_t outsz)
{
    if (n == 0 || n > 64 || n + 1 > outsz)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (!(isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~'))
            return 0;
    }
    memcpy(out, s, n);
    out[n] = '\0';
    return 1;
}

/* The value of one hex digit, -1 when c is not one. */
int
hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/*
 * Percent-decode n bytes into dst (which has room for n bytes); '+' becomes a space in
 * query strings. A malformed escape is kept literally, as browsers do. Returns the length.
 */
size_t
url_decode(const char *src, size_t n, char *dst, int plus_is_space)
{
    size_t o = 0;

    for (size_t i = 0; i < n; i++) {
        if (src[i] == '%' && i + 2 < n && hexval((unsigned char)src[i + 1]) >= 0
            && hexval((unsigned char)src[i + 2]) >= 0) {
            dst[o++] = (char)(hexval((unsigned char)src[i + 1]) * 16
                              + hexval((unsigned char)src[i + 2]));
            i += 2;
        } else if (src[i] == '+' && plus_is_space)
            dst[o++] = ' ';
        else
            dst[o++] = src[i];
    }
    return o;
}

/*
 * Strict UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF) and no NUL:
 * exactly what PostgreSQL text and jsonb accept in a UTF-8 database.
 */
int
utf8_valid(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;

    while (i < n) {
        unsigned char c = s[i];

        if (c == 0)
            return 0;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            if (i + 1 >= n || (s[i + 1] & 0xC0) != 0x80)
                return 0;
            i += 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            if (i + 2 >= n || (s[i + 1] & 0xC0) != 0x80 || (s[i + 2] & 0xC0) != 0x80)
                return 0;
            if (c == 0xE0 && s[i + 1] < 0xA0)
                return 0;
            if (c == 0xED && s[i + 1] > 0x9F)
                return 0;
            i += 3;
        } else if (c >= 0xF0 && c <= 0xF4) {
            if (i + 3 >= n || (s[i + 1] & 0xC0) != 0x80 || (s[i + 2] & 0xC0) != 0x80
                || (s[i + 3] & 0xC0) != 0x80)
                return 0;
            if (c == 0xF0 && s[i + 1] < 0x90)
                return 0;
            if (c == 0xF4 && s[i + 1] > 0x8F)
                return 0;
            i += 4;
        } else
            return 0;
    }
    return 1;
}

/*
 * The query string as a JSON object of strings (docs/calling-convention.md): pairs split on
 * '&', keys and values percent-decoded with '+' as space, a key without '=' maps to "", a
 * repeated key keeps the last value. Returns NULL when a key or value is not valid UTF-8
 * (the offending key, sanitised, in badkey), so the caller answers 400 validation_failed.
 */
struct cJSON *
query_to_json(const char *qs, char *badkey, size_t badkeysz)
{
    cJSON *obj = cJSON_CreateObject();
    size_t qlen = qs ? strlen(qs) : 0;
    char *buf;
    int pairs = 0;

    if (badkeysz)
        badkey[0] = '\0';
    if (!obj)
        return NULL;
    if (qlen == 0)
        return obj;
    buf = malloc(qlen + 2);
    if (!buf) {
        cJSON_Delete(obj);
        return NULL;
    }
    for (const char *p = qs; p < qs + qlen;) {
        const char *amp = memchr(p, '&', (size_t)(qs + qlen - p));
        const char *end = amp ? amp : qs + qlen;
        const char *eq = memchr(p, '=', (size_t)(end - p));
        const char *kend = eq ? eq : end;
        size_t klen, vlen;
        char *key = buf, *val;

        if (kend > p && ++pairs <= 256) {
            klen = url_decode(p, (size_t)(kend - p), key, 1);
            key[klen] = '\0';
            val = key + klen + 1;
            vlen = eq ? url_decode(eq + 1, (size_t)(end - eq - 1), val, 1) : 0;
            val[vlen] = '\0';
            if (!utf8_valid(key, klen) || !utf8_valid(val, vlen)) {
                if (badkeysz) {
                    size_t k = 0;

                    for (size_t i = 0; i < klen && k + 1 < badkeysz; i++)
                        badkey[k++] = isalnum((unsigned char)key[i]) || key[i] == '_'
                                          ? key[i] : '?';
                    badkey[k] = '\0';
                }
                free(buf);
                cJSON_Delete(obj);
                return NULL;
            }
            if (cJSON_GetObjectItemCaseSensitive(obj, key))
                cJSON_ReplaceItemInObjectCaseSensitive(obj, key, cJSON_CreateString(val));
            else
                cJSON_AddStringToObject(obj, key, val);
        }
        p = end + 1;
    }
    free(buf);
    return obj;
}

/* ---- strict JSON grammar (RFC 8259) with PostgreSQL's extra rules ---- */

struct jp {
    const unsigned char *p, *end;
    int depth;
};

/* Skip JSON whitespace (the four characters RFC 8259 allows). */
static void
jp_ws(struct jp *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
        j->p++;
}

/* Read the four hex digits of a \\u escape. */
static int
jp_hex4(struct jp *j, unsigned *out)
{
    unsigned v = 0;

    if (j->end - j->p < 4)
        return 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(j->p[i]);

        if (h < 0)
            return 0;
        v = v * 16 + (unsigned)h;
    }
    j->p += 4;
    *out = v;
    return 1;
}

/*
 * A string: no raw control characters, valid escapes, \u0000 refused and surrogates only
 * as proper pairs (jsonb rejects both), raw bytes valid UTF-8.
 */
static int
jp_string(struct jp *j)
{
    j->p++; /* opening quote */
    while (j->p < j->end) {
        unsigned char c = *j->p;

        if (c == '"') {
            j->p++;
            return 1;
        }
        if (c < 0x20)
            return 0;
        if (c == '\\') {
            unsigned u, lo;

            j->p++;
            if (j->p >= j->end)
                return 0;
            c = *j->p++;
            if (c == 'u') {
                if (!jp_hex4(j, &u) || u == 0)
                    return 0;
                if (u >= 0xDC00 && u <= 0xDFFF)
                    return 0;
                if (u >= 0xD800 && u <= 0xDBFF) {
                    if (j->end - j->p < 2 || j->p[0] != '\\' || j->p[1] != 'u')
                        return 0;
                    j->p += 2;
                    if (!jp_hex4(j, &lo) || lo < 0xDC00 || lo > 0xDFFF)
                        return 0;
                }
            } else if (!strchr("\"\\/bfnrt", c) || c == 0)
                return 0;
            continue;
        }
        if (c < 0x80) {
            j->p++;
            continue;
        }
        {
            size_t len = (c >= 0xF0) ? 4 : (c >= 0xE0) ? 3 : 2;

            if ((size_t)(j->end - j->p) < len || !utf8_valid((const char *)j->p, len))
                return 0;
            j->p += len;
        }
    }
    return 0;
}

/* One or more decimal digits; false when there is none. */
static int
jp_digits(struct jp *j)
{
    const unsigned char *s = j->p;

    while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
        j->p++;
    return j->p > s;
}

/* A number in the strict grammar: no leading zeros, no "+", no bare "." (jsonb refuses them). */
static int
jp_number(struct jp *j)
{
    if (*j->p == '-')
        j->p++;
    if (j->p >= j->end)
        return 0;
    if (*j->p == '0')
        j->p++;
    else if (!jp_digits(j))
        return 0;
    if (j->p < j->end && *j->p == '.') {
        j->p++;
        if (!jp_digits(j))
            return 0;
    }
    if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
        j->p++;
        if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
            j->p++;
        if (!jp_digits(j))
            return 0;
    }
    return 1;
}

/* true, false or null, spelled exactly. */
static int
jp_literal(struct jp *j, const char *lit)
{
    size_t n = strlen(lit);

    if ((size_t)(j->end - j->p) < n || memcmp(j->p, lit, n) != 0)
        return 0;
    j->p += n;
    return 1;
}

static int jp_value(struct jp *j);

/* An object or array, members separated by commas, nesting bounded (no stack exhaustion). */
static int
jp_container(struct jp *j, char close, int object)
{
    if (++j->depth > 512)
        return 0;
    j->p++;
    jp_ws(j);
    if (j->p < j->end && *j->p == close) {
        j->p++;
        j->depth--;
        return 1;
    }
    for (;;) {
        jp_ws(j);
        if (object) {
            if (j->p >= j->end || *j->p != '"' || !jp_string(j))
                return 0;
            jp_ws(j);
            if (j->p >= j->end || *j->p != ':')
                return 0;
            j->p++;
        }
        if (!jp_value(j))
            return 0;
        jp_ws(j);
        if (j->p >= j->end)
            return 0;
        if (*j->p == ',') {
            j->p++;
            continue;
        }
        if (*j->p == close) {
            j->p++;
            j->depth--;
            return 1;
        }
        return 0;
    }
}

/* Any JSON value, dispatched on its first character. */
static int
jp_value(struct jp *j)
{
    jp_ws(j);
    if (j->p >= j->end)
        return 0;
    switch (*j->p) {
    case '{':
        return jp_container(j, '}', 1);
    case '[':
        return jp_container(j, ']', 0);
    case '"':
        return jp_string(j);
    case 't':
        return jp_literal(j, "true");
    case 'f':
        return jp_literal(j, "false");
    case 'n':
        return jp_literal(j, "null");
    default:
        if (*j->p == '-' || (*j->p >= '0' && *j->p <= '9'))
            return jp_number(j);
        return 0;
    }
}

/*
 * Validate a request body before any database work: it must be one JSON value that cJSON
 * parses and that PostgreSQL's jsonb input accepts (strict numbers, no \u0000, paired
 * surrogates, valid UTF-8, nesting at most 512). The text itself is passed on untouched,
 * so 64-bit ids keep every digit.
 */
int
json_body_valid(const char *buf, size_t len)
{
    struct jp j = {(const unsigned char *)buf, (const unsigned char *)buf + len, 0};
    cJSON *doc;

    if (len == 0 || !jp_value(&j))
        return 0;
    jp_ws(&j);
    if (j.p != j.end)
        return 0;
    doc = cJSON_ParseWithLength(buf, len);
    if (!doc)
        return 0;
    cJSON_Delete(doc);
    return 1;
}
