/*
 * gw.h — shared declarations of lms-gateway.
 *
 * A request flows one way: http.c reads it, routes.c names the SQL function, pool.c runs
 * that one prepared statement, and the JSON text from PostgreSQL goes straight back.
 * parse.c and routes.c hold everything the gateway parses itself; they do not depend on
 * civetweb or libpq so that the fuzz target (tests/fuzz/) can call them directly.
 */
#ifndef LMS_GW_H
#define LMS_GW_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define GW_VERSION "1.0.0"

/* ---------------------------------------------------------------- configuration (main.c) */

enum log_level { LOG_ERROR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG };

struct gw_config {
    const char *database_url;      /* LMS_DATABASE_URL, libpq conninfo or URI ("" = libpq env) */
    const char *replica_url;       /* LMS_REPLICA_URL, NULL = no replica pool */
    const char *listen;            /* LMS_LISTEN, host:port */
    int threads;                   /* LMS_THREADS, civetweb worker threads */
    int pool_size;                 /* LMS_POOL_SIZE */
    int pool_timeout_ms;           /* LMS_POOL_TIMEOUT_MS, connection acquisition timeout */
    int statement_timeout_ms;      /* LMS_STATEMENT_TIMEOUT_MS */
    long long max_body;            /* LMS_MAX_BODY, bytes */
    const char *cors_origin;       /* LMS_CORS_ORIGIN, NULL = no CORS headers */
    int login_rate;                /* LMS_LOGIN_RATE, login+register per minute per client */
    int global_rate;               /* LMS_GLOBAL_RATE, any request per minute per client, 0 = off */
    int trust_proxy;               /* LMS_TRUST_PROXY, client address from X-Forwarded-For */
    int access_log;                /* LMS_ACCESS_LOG: 0 off, 1 every request, N every Nth */
    int log_level;                 /* LMS_LOG_LEVEL */
    int request_timeout_ms;        /* LMS_REQUEST_TIMEOUT_MS */
    int keep_alive_timeout_ms;     /* LMS_KEEP_ALIVE_TIMEOUT_MS */
    const char *pages_dir;         /* LMS_PAGES_DIR, folder of the static pages, NULL = none */
    int max_client_connections;    /* LMS_MAX_CLIENT_CONNECTIONS, per peer address, 0 = off */
    int max_header_bytes;          /* LMS_MAX_HEADER_BYTES, request line + header fields */
    int prepare;                   /* LMS_PREPARE: 1 prepared statements, 0 unnamed (poolers) */
};

extern struct gw_config gw_cfg;

/* config.c: the settings above, the log line, the level names ("error", ...) */
void gw_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
extern const char *const gw_log_levels[4];

/* ---------------------------------------------------------------- routes (routes.c) */

enum path_arg { ARG_NONE = 0, ARG_ID, ARG_CODE };
enum cache_class {
    CACHE_PERSONAL = 0, /* GET answered per caller: private, no-cache + ETag */
    CACHE_PUBLIC,       /* GET that may be shared when anonymous: public, max-age=60 */
    CACHE_NONE          /* mutation: no-store */
};
enum route_flags {
    RF_READ_ONLY = 1,   /* may run on the replica pool */
    RF_LOGIN_RATE = 2,  /* counted by the login/register rate limit */
    RF_LOGIN = 4,       /* a 200 sets the access_token cookie */
    RF_LOGOUT = 8,      /* clears the access_token cookie */
    RF_GATEWAY_BODY = 16, /* the gateway passes its own figures as body */
    RF_XAPI = 32,       /* xAPI call shape: (method, query, headers, body) -> (status, headers, body) (xapi.c) */
    RF_STREAM = 64      /* streamed export: a set of text rows sent as chunks (stream.c) */
};

struct route {
    const char *method;
    const char *pattern;   /* "/api/v1/courses/{id}" */
    const char *function;  /* "api_course_get" */
    int arg;               /* enum path_arg */
    int cache;             /* enum cache_class */
    int flags;             /* enum route_flags */
};

extern const struct route gw_routes[];
#define GW_MAX_ROUTES 128      /* routes the pool and the metrics have room for */
extern const int gw_nroutes;

enum match_result { MATCH_OK = 0, MATCH_NOT_FOUND, MATCH_BAD_METHOD, MATCH_INVALID_ID };

/*
 * Outcome of routing one request: the route index, the path argument (normalised id digits
 * or the code), and on MATCH_BAD_METHOD the Allow header value.
 */
struct match {
    int route;
    char arg[72];
    char allow[64];
};

int route_match(const char *method, const char *path, size_t pathlen, struct match *m);

/* ---------------------------------------------------------------- path, query, body (parse.c) */

struct cJSON;

int parse_id(const char *s, size_t n, char *out, size_t outsz);
int parse_code(const char *s, size_t n, char *out, size_t outsz);
int hexval(int c);   /* one hex digit, -1 when c is not one */
size_t url_decode(const char *src, size_t n, char *dst, int plus_is_space);
int utf8_valid(const char *s, size_t n);
struct cJSON *query_to_json(const char *qs, char *badkey, size_t badkeysz);
int json_body_valid(const char *buf, size_t len);

/* ---------------------------------------------------------------- header values (headers.c) */

int content_type_is_json(const char *ct);
int token_from_request(const char *authorization, const char *cookie, char *out, size_t outsz);
int token_chars_valid(const char *s);
int cookie_value(const char *cookie, const char *name, const char **val, size_t *vlen);
int accepts_gzip(const char *accept_encoding);
int request_id_valid(const char *s);
int etag_matches(const char *if_none_match, const char *etag);
int parse_iso8601(const char *s, time_t *out);
int client_address(const char *remote, const char *xff, int trust_proxy, char *out, size_t outsz);
uint64_t hash64(const void *data, size_t n);
int lsn_parse(const char *s, size_t n, uint64_t *out);

enum framing {
    FRAMING_OK = 0,
    FRAMING_BAD_LENGTH,           /* a Content-Length that is not 1*DIGIT: 400 */
    FRAMING_CONFLICTING_LENGTH,   /* Content-Length values that differ: 400 */
    FRAMING_LENGTH_WITH_CHUNKED,  /* Content-Length and Transfer-Encoding: 400 */
    FRAMING_BAD_CODING            /* a Transfer-Encoding other than one "chunked": 501 */
};
int request_framing(int n, const char *const *names, const char *const *values);
void redact_query(const char *qs, char *out, size_t outsz);

/* ---------------------------------------------------------------- pool (pool.c) */

/*
 * The pool API, all of it:
 *   pool_init     set up the primary (and replica) pool; slots connect in the background
 *   pool_exec     run one route's statement (statement.c): waits up to LMS_POOL_TIMEOUT_MS for any
 *                 live connection of the pool (first come, first served), never for a dead one;
 *                 reads on the replica when replica.c allows, writes report their WAL position
 *   pool_ping     /ready: SELECT 1 on a live primary connection
 *   pool_stats    gauges of the primary pool for /metrics and /admin/performance
 *   pool_result_free, pool_shutdown
 * Dead slots (refused, lost) are reconnected by one background thread per pool with
 * exponential backoff; a request never spends its time on a connection attempt.
 */
enum exec_outcome {
    EXEC_OK = 0,         /* status and body set */
    EXEC_TIMEOUT,        /* connections live but none free within the acquisition timeout */
    EXEC_UNAVAILABLE,    /* no live connection: the database is unreachable */
    EXEC_ERROR           /* the function raised (a bug or missing function) */
};

struct exec_result {
    int status;
    const char *headers; /* RF_XAPI routes: the answer's headers as a JSON object, or NULL */
    const char *body;    /* points into the libpq result, NULL for no body */
    size_t body_len;
    void *owner;         /* the PGresult, released by pool_result_free */
};

struct pool_gauges {
    int size;            /* slots configured */
    int live;            /* slots connected */
    int in_use;          /* slots lent to requests */
    int waiting;         /* requests waiting for a slot */
};

int pool_init(const char *primary, const char *replica, int size, int timeout_ms,
              int statement_timeout_ms);
/* need_lsn: the position the caller must see (0 = none); *commit_lsn: a write's position */
int pool_exec(int route, int read_only, const char *token, const char *arg,
              const char *query, const char *body, uint64_t need_lsn, uint64_t *commit_lsn,
              struct exec_result *res);
int pool_exec_xapi(int route, const char *method, const char *query, const char *headers,
                   const char *body, size_t body_len, struct exec_result *res);
int pool_stream(int route, const char *token, const char *arg, const char *query,
                int (*emit)(void *ctx, const char *row, size_t len), void *ctx, long *rows);
int pool_ping(void);
void pool_result_free(struct exec_result *res);
void pool_stats(struct pool_gauges *g);
void pool_shutdown(void);

/* ---------------------------------------------------------------- statements (statement.c) */

struct pg_conn;
struct pg_result;
enum stmt_mode { STMT_PLAIN = 0, STMT_CHECK_REPLAY, STMT_CAPTURE_LSN };
void stmt_sql(int route, char *out, size_t outsz);
/* lengths: of binary parameters (xAPI bodies), NULL for text ones */
int stmt_send(struct pg_conn *conn, int route, const char *const params[4], const int lengths[4],
              int prepared);
struct pg_result *stmt_run(struct pg_conn *conn, int route, const char *const params[4],
                           const int lengths[4], int prepared, int mode, uint64_t *lsn,
                           int *in_recovery);

/* ---------------------------------------------------------------- read-your-writes (replica.c) */

struct sbuf;
enum read_target {
    READ_STANDBY = 0,          /* no position to wait for, or one already known replayed */
    READ_STANDBY_CHECKED,      /* the standby had replayed the caller's position */
    READ_PRIMARY_LAG,          /* it had not: asked of the primary */
    READ_PRIMARY_SESSION,      /* the standby did not know the token yet */
    READ_PRIMARY_UNAVAILABLE,  /* the standby was away or busy */
    READ_NTARGETS
};
void lsn_format(uint64_t lsn, char *out, size_t outsz);
uint64_t replica_required_lsn(const char *cookie);
int replica_needs_check(uint64_t need);
int replica_replayed(uint64_t need, uint64_t replay, int in_recovery);
void replica_count(int route, int target);
void replica_cookie(struct sbuf *hdr, uint64_t lsn, int secure);
void replica_prometheus(struct sbuf *b);

/* ---------------------------------------------------------------- rate limits (ratelimit.c) */

void ratelimit_init(void);
/* returns 0 when allowed, else the seconds to wait (Retry-After) */
int ratelimit_check(int bucket, const char *client, int per_minute, time_t now);
enum { RL_LOGIN = 0, RL_GLOBAL = 1 };

/* ---------------------------------------------------------------- connections per client (connlimit.c) */

int connlimit_open(const char *addr, int *nth);
void connlimit_close(int slot);

/* ---------------------------------------------------------------- byte buffers (buf.c) */

struct sbuf {
    char *data;
    size_t len, cap;
    int oom;
};

void sb_reserve(struct sbuf *b, size_t extra);
void sb_append(struct sbuf *b, const void *p, size_t n);
void sb_puts(struct sbuf *b, const char *s);
void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_free(struct sbuf *b);

/* ---------------------------------------------------------------- metrics (metrics.c) */

/* metric slots besides the routes of the table */
enum { MR_UNMATCHED = -1, MR_HEALTH = -2, MR_READY = -3, MR_METRICS = -4, MR_OPENAPI = -5,
       MR_PAGES = -6 };

void metrics_init(void);
void metrics_observe(int route, int status, double ms);
void metrics_db_error(const char *kind);
/* the pool gauges come from the caller (pool_stats): metrics.c does not call the pool */
char *metrics_prometheus(const struct pool_gauges *g, size_t *len);
char *metrics_summary_json(const struct pool_gauges *g);

/* ---------------------------------------------------------------- one request (http.c) */

struct mg_connection;
struct mg_request_info;
struct cJSON;

/* One request being answered: http.c fills it, respond.c writes its answer. */
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


/* ---------------------------------------------------------------- responses (respond.c) */

/* len HTTP_CHUNKED: a head only, the body follows as chunks (stream.c) */
#define HTTP_CHUNKED ((size_t)-1)
void respond_init(void);
double respond_elapsed_ms(const struct req *r);
void respond(struct req *r, int status, const char *ctype, const char *body, size_t len,
             const char *extra, int compressible);
void respond_problem(struct req *r, int status, const char *code, const char *detail,
                     const char *extra_headers, struct cJSON *errors);
/* the answer to a pool outcome that is not EXEC_OK: 503 database_busy / unavailable, 500 */
void respond_failure(struct req *r, int outcome);
/* body bytes written after the head (the access log's size) */
void respond_sent(struct req *r, size_t n);

/* ---------------------------------------------------------------- http (http.c) */

int http_handle(struct mg_connection *conn, void *cbdata);
void http_connection_close(const struct mg_connection *conn);

/* ---------------------------------------------------------------- xAPI and exports */

/* /xapi routes: headers and raw body in, status + headers + body out (xapi.c) */
void xapi_serve(struct req *r, int route, const char *body, size_t body_len);
/* exports: the function's rows streamed as chunks (stream.c) */
void stream_serve(struct req *r, int route, const char *token, const char *arg, const char *query);
int http_library_error(struct mg_connection *conn, int status, const char *msg);

/* ---------------------------------------------------------------- gzip (gzip.c) */

void gz_init(void);
unsigned char *gz_body(int route, const char *in, size_t n, size_t *outlen);

/* ---------------------------------------------------------------- static pages (pages.c) */

int pages_init(const char *dir, char *err, size_t errsz);
int pages_serve(struct mg_connection *conn, size_t *bytes);

/* the OpenAPI document, embedded at build time (openapi.c) */
extern const char gw_openapi[];
extern const size_t gw_openapi_len;

#endif
