/*
 * headers.c — what the gateway reads of request headers, as pure functions: the body's
 * content type and framing (Content-Length, Transfer-Encoding), tokens from Authorization and
 * cookies, Accept-Encoding, request ids, If-None-Match, HTTP dates, forwarded addresses, WAL
 * positions of the read-your-writes cookie, the hash behind ETags and rate-limit buckets, and
 * the redaction of secrets in the access log. No civetweb or libpq: the fuzz target calls
 * them directly (tests/fuzz/fuzz_parse.c).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gw.h"

/*
 * Content-Type of a body: application/json or any application/...+json (merge-patch and
 * friends), parameters such as charset allowed, case-insensitive.
 */
int
content_type_is_json(const char *ct)
{
    const char *semi, *end;
    size_t n;

    if (!ct)
        return 0;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    semi = strchr(ct, ';');
    end = semi ? semi : ct + strlen(ct);
    while (end > ct && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    n = (size_t)(end - ct);
    if (n == 16 && strncasecmp(ct, "application/json", 16) == 0)
        return 1;
    if (n > 17 && strncasecmp(ct, "application/", 12) == 0
        && strncasecmp(end - 5, "+json", 5) == 0 && !memchr(ct + 12, '/', n - 12))
        return 1;
    return 0;
}

/*
 * Find cookie `name` in a Cookie header ("a=b; c=d"). Returns 1 and points val/vlen at the
 * value (surrounding double quotes removed), else 0.
 */
int
cookie_value(const char *cookie, const char *name, const char **val, size_t *vlen)
{
    size_t nlen = strlen(name);
    const char *p = cookie;

    if (!cookie)
        return 0;
    while (*p) {
        const char *end, *eq;

        while (*p == ' ' || *p == '\t' || *p == ';')
            p++;
        if (!*p)
            break;
        end = strchr(p, ';');
        if (!end)
            end = p + strlen(p);
        eq = memchr(p, '=', (size_t)(end - p));
        if (eq) {
            const char *ke = eq;

            while (ke > p && (ke[-1] == ' ' || ke[-1] == '\t'))
                ke--;
            if ((size_t)(ke - p) == nlen && memcmp(p, name, nlen) == 0) {
                const char *v = eq + 1, *ve = end;

                while (*v == ' ' && v < ve)
                    v++;
                while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
                    ve--;
                if (ve - v >= 2 && *v == '"' && ve[-1] == '"') {
                    v++;
                    ve--;
                }
                *val = v;
                *vlen = (size_t)(ve - v);
                return 1;
            }
        }
        p = end;
    }
    return 0;
}

/* A token is printable ASCII without separators, at most 512 bytes: anything else is not ours. */
static int
token_chars_ok(const char *t, size_t n)
{
    if (n == 0 || n > 512)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)t[i] <= 0x20 || (unsigned char)t[i] >= 0x7F || t[i] == '"'
            || t[i] == '\\' || t[i] == ';' || t[i] == ',')
            return 0;
    return 1;
}

/* Whether s could be a token (what token_from_request accepts); used for the login cookie. */
int
token_chars_valid(const char *s)
{
    return s && token_chars_ok(s, strlen(s));
}

/*
 * The caller's token: `Authorization: Bearer <t>` (scheme case-insensitive) first, else the
 * access_token cookie. Returns 1 with the token in out, 0 when there is none, -1 when one
 * was sent but cannot be a token (the caller answers 401 unauthenticated).
 */
int
token_from_request(const char *authorization, const char *cookie, char *out, size_t outsz)
{
    const char *t = NULL;
    size_t n = 0;

    if (authorization && strncasecmp(authorization, "Bearer", 6) == 0
        && (authorization[6] == ' ' || authorization[6] == '\t' || authorization[6] == '\0')) {
        t = authorization + 6;
        while (*t == ' ' || *t == '\t')
            t++;
        n = strlen(t);
        while (n > 0 && (t[n - 1] == ' ' || t[n - 1] == '\t'))
            n--;
    } else if (!cookie_value(cookie, "access_token", &t, &n))
        return 0;
    else if (n == 0)
        return 0; /* a cleared cookie */
    if (!token_chars_ok(t, n) || n + 1 > outsz)
        return -1;
    memcpy(out, t, n);
    out[n] = '\0';
    return 1;
}

/* A WAL position as PostgreSQL writes it, "X/Y" with 1..8 hex digits each -> *out; 1 when valid. */
int
lsn_parse(const char *s, size_t n, uint64_t *out)
{
    uint64_t hi = 0, lo = 0;
    size_t i = 0, d;

    for (d = 0; i < n && s[i] != '/'; i++, d++) {
        int v = hexval((unsigned char)s[i]);

        if (v < 0 || d >= 8)
            return 0;
        hi = hi << 4 | (uint64_t)v;
    }
    if (d == 0 || i >= n || s[i] != '/')
        return 0;
    for (i++, d = 0; i < n; i++, d++) {
        int v = hexval((unsigned char)s[i]);

        if (v < 0 || d >= 8)
            return 0;
        lo = lo << 4 | (uint64_t)v;
    }
    if (d == 0)
        return 0;
    *out = hi << 32 | lo;
    return 1;
}

/*
 * Whether Accept-Encoding allows gzip: "gzip" or "x-gzip" with q > 0, or "*" with q > 0
 * when gzip is not named. "gzip;q=0" refuses it.
 */
int
accepts_gzip(const char *ae)
{
    int star = 0;
    const char *p = ae;

    if (!ae)
        return 0;
    while (*p) {
        const char *end = strchr(p, ','), *semi, *tend;
        size_t n;
        int q_zero = 0;

        if (!end)
            end = p + strlen(p);
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        for (semi = p; semi < end && *semi != ';'; semi++)
            ;
        if (semi == end)
            semi = NULL;
        tend = semi ? semi : end;
        while (tend > p && (tend[-1] == ' ' || tend[-1] == '\t'))
            tend--;
        n = (size_t)(tend - p);
        if (semi) {
            const char *q = semi + 1;

            while (q < end && (*q == ' ' || *q == '\t'))
                q++;
            if (end - q >= 2 && (q[0] == 'q' || q[0] == 'Q') && q[1] == '=') {
                const char *v = q + 2;

                q_zero = 1;
                for (; v < end && *v != ' ' && *v != ';'; v++)
                    if (*v >= '1' && *v <= '9')
                        q_zero = 0;
            }
        }
        if ((n == 4 && strncasecmp(p, "gzip", 4) == 0)
            || (n == 6 && strncasecmp(p, "x-gzip", 6) == 0))
            return !q_zero;
        if (n == 1 && *p == '*')
            star = !q_zero;
        p = *end ? end + 1 : end;
    }
    return star;
}

/* An X-Request-Id worth echoing: 1..128 characters of [A-Za-z0-9._:-]. */
int
request_id_valid(const char *s)
{
    size_t n = 0;

    if (!s)
        return 0;
    for (; s[n]; n++) {
        unsigned char c = (unsigned char)s[n];

        if (n >= 128 || !(isalnum(c) || c == '-' || c == '_' || c == '.' || c == ':'))
            return 0;
    }
    return n > 0;
}

/*
 * If-None-Match against our (weak) ETag with the weak comparison of RFC 9110: "*" matches,
 * else any listed tag equal to ours once W/ is ignored.
 */
int
etag_matches(const char *inm, const char *etag)
{
    const char *ours = etag, *p = inm;
    size_t olen;

    if (!inm || !etag)
        return 0;
    if (strncmp(ours, "W/", 2) == 0)
        ours += 2;
    olen = strlen(ours);
    while (*p) {
        const char *start, *close;

        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (*p == '*')
            return 1;
        if (strncmp(p, "W/", 2) == 0)
            p += 2;
        if (*p != '"')
            break;
        start = p;
        close = strchr(p + 1, '"');
        if (!close)
            break;
        if ((size_t)(close + 1 - start) == olen && memcmp(start, ours, olen) == 0)
            return 1;
        p = close + 1;
    }
    return 0;
}

/* Exactly n decimal digits as an int (timestamp fields). */
static int
digits(const char *s, int n, int *out)
{
    int v = 0;

    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 1;
}

/* Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm), no time zone games. */
static long long
days_from_civil(int y, int m, int d)
{
    long long era;
    unsigned yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned)(y - era * 400);
    doy = (unsigned)((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1);
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long long)doe - 719468;
}

/*
 * An ISO 8601 timestamp as the extension writes it ("2026-01-02T03:04:05.678Z", or with a
 * "+00:00"/"+0000"/"+00" offset, 'T' or ' ' between date and time) to Unix seconds. Used for
 * the cookie lifetime on login. Returns 1 on success.
 */
int
parse_iso8601(const char *s, time_t *out)
{
    int Y, M, D, h, mi, sec, oh = 0, om = 0, sign = 1;
    const char *p;
    size_t n;

    if (!s)
        return 0;
    n = strlen(s);
    if (n < 19 || !digits(s, 4, &Y) || s[4] != '-' || !digits(s + 5, 2, &M) || s[7] != '-'
        || !digits(s + 8, 2, &D) || (s[10] != 'T' && s[10] != ' ') || !digits(s + 11, 2, &h)
        || s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' || !digits(s + 17, 2, &sec))
        return 0;
    if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || mi > 59 || sec > 60)
        return 0;
    p = s + 19;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9')
            return 0;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (*p == 'Z' || *p == 'z')
        p++;
    else if (*p == '+' || *p == '-') {
        sign = *p == '-' ? -1 : 1;
        p++;
        if (!digits(p, 2, &oh))
            return 0;
        p += 2;
        if (*p == ':')
            p++;
        if (*p && !digits(p, 2, &om))
            return 0;
        if (*p)
            p += 2;
        if (oh > 23 || om > 59)
            return 0;
    }
    if (*p)
        return 0;
    *out = (time_t)(days_from_civil(Y, M, D) * 86400LL + h * 3600 + mi * 60 + sec
                    - sign * (oh * 3600 + om * 60));
    return 1;
}

/*
 * The client address used for rate limits and logs: the peer address, or behind a trusted
 * proxy the rightmost X-Forwarded-For entry (the one our proxy appended). An entry that is
 * not a plausible IP address falls back to the peer.
 */
int
client_address(const char *remote, const char *xff, int trust_proxy, char *out, size_t outsz)
{
    if (trust_proxy && xff && *xff) {
        const char *end = xff + strlen(xff), *start;

        while (end > xff && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == ','))
            end--;
        start = end;
        while (start > xff && start[-1] != ',')
            start--;
        while (start < end && (*start == ' ' || *start == '\t'))
            start++;
        if (end > start && (size_t)(end - start) < outsz && end - start <= 45) {
            int ok = 1;

            for (const char *c = start; c < end; c++)
                if (!(isxdigit((unsigned char)*c) || *c == '.' || *c == ':'))
                    ok = 0;
            if (ok) {
                memcpy(out, start, (size_t)(end - start));
                out[end - start] = '\0';
                return 1;
            }
        }
    }
    snprintf(out, outsz, "%s", remote ? remote : "");
    return 0;
}

/* A fast 64-bit hash (FNV-1a over 8-byte words with a final mix) for ETags and buckets. */
uint64_t
hash64(const void *data, size_t n)
{
    const unsigned char *p = data;
    uint64_t h = 1469598103934665603ULL ^ n;

    while (n >= 8) {
        uint64_t w;

        memcpy(&w, p, 8);
        h = (h ^ w) * 1099511628211ULL;
        h ^= h >> 29;
        p += 8;
        n -= 8;
    }
    while (n--)
        h = (h ^ *p++) * 1099511628211ULL;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

/*
 * One Content-Length value: 1*DIGIT, at most 18 digits. A list of identical values
 * ("5, 5") is that value (RFC 9110 section 8.6); -1 for anything else, -2 for a list whose
 * values differ.
 */
static long long
content_length_value(const char *v)
{
    long long first = -1;

    for (;;) {
        long long n = 0;
        int digits = 0;

        while (*v == ' ' || *v == '\t')
            v++;
        while (*v >= '0' && *v <= '9') {
            if (++digits > 18)
                return -1;
            n = n * 10 + (*v++ - '0');
        }
        if (digits == 0)
            return -1;
        while (*v == ' ' || *v == '\t')
            v++;
        if (first >= 0 && n != first)
            return -2;
        first = n;
        if (*v == '\0')
            return first;
        if (*v++ != ',')
            return -1;
    }
}

/*
 * Request framing by RFC 9112 section 6: the body length must be unambiguous, or the
 * rest of the connection could be read as a different request by us and by a proxy in
 * front of us. Every Content-Length field must carry one valid, identical value; a
 * Transfer-Encoding may only be "chunked" and never comes with a Content-Length.
 * `names`/`values` are the request's header fields, `n` of them.
 */
int
request_framing(int n, const char *const *names, const char *const *values)
{
    long long length = -1;
    int has_te = 0;

    for (int i = 0; i < n; i++) {
        if (strcasecmp(names[i], "Content-Length") == 0) {
            long long v = content_length_value(values[i]);

            if (v == -2)
                return FRAMING_CONFLICTING_LENGTH;
            if (v < 0)
                return FRAMING_BAD_LENGTH;
            if (length >= 0 && v != length)
                return FRAMING_CONFLICTING_LENGTH;
            length = v;
        } else if (strcasecmp(names[i], "Transfer-Encoding") == 0) {
            const char *v = values[i];
            size_t len;

            while (*v == ' ' || *v == '\t')
                v++;
            len = strlen(v);
            while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t'))
                len--;
            if (has_te || len != 7 || strncasecmp(v, "chunked", 7) != 0)
                return FRAMING_BAD_CODING;
            has_te = 1;
        }
    }
    if (has_te && length >= 0)
        return FRAMING_LENGTH_WITH_CHUNKED;
    return FRAMING_OK;
}

/* Query-string names whose values never reach a log. */
static const char *const secret_names[] = {"access_token", "token", "password", NULL};

/* Is this (still URL-encoded) query-string name one of secret_names, decoded, any case? */
static int
is_secret_name(const char *name, size_t n)
{
    char dec[64];
    size_t len;

    if (n >= sizeof(dec))
        return 0;
    len = url_decode(name, n, dec, 1);
    dec[len] = '\0';
    for (int i = 0; secret_names[i]; i++)
        if (strlen(secret_names[i]) == len && strncasecmp(dec, secret_names[i], len) == 0)
            return 1;
    return 0;
}

/*
 * The query string as the access log may show it: the value of every parameter named
 * access_token, token or password (in any case or percent-encoding) is replaced by
 * "[redacted]". Always NUL-terminates `out`; a string too long for it is cut at a
 * parameter boundary, so a cut never reveals part of a secret.
 */
void
redact_query(const char *qs, char *out, size_t outsz)
{
    size_t o = 0;

    if (outsz == 0)
        return;
    out[0] = '\0';
    while (qs && *qs) {
        const char *amp = strchr(qs, '&'), *end = amp ? amp : qs + strlen(qs);
        const char *eq = memchr(qs, '=', (size_t)(end - qs));
        size_t keylen = eq ? (size_t)(eq - qs) : (size_t)(end - qs);
        int secret = eq && is_secret_name(qs, keylen);
        size_t need = secret ? keylen + 11 : (size_t)(end - qs);

        if (o + need + (o ? 1 : 0) + 1 > outsz)
            break;
        if (o)
            out[o++] = '&';
        if (secret) {
            memcpy(out + o, qs, keylen);
            memcpy(out + o + keylen, "=[redacted]", 11);
        } else
            memcpy(out + o, qs, need);
        o += need;
        out[o] = '\0';
        qs = amp ? amp + 1 : end;
    }
}
