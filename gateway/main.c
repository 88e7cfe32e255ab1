/*
 * main.c — configuration, start and graceful stop of lms-gateway.
 *
 * Every setting comes from an environment variable (LMS_*) and may be overridden by the
 * matching --flag. Bad values are reported in plain words and exit 2 before anything
 * starts; an unreachable database is not a startup error (the pool retries). SIGTERM and
 * SIGINT stop accepting, let in-flight requests finish (mg_stop), then close the pool.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <civetweb.h>

#include "gw.h"

struct option_def {
    const char *flag;      /* --flag */
    const char *env;       /* LMS_... */
    const char *help;
};

static const struct option_def options[] = {
    {"database-url", "LMS_DATABASE_URL", "libpq URI or conninfo of the primary (default: libpq env)"},
    {"replica-url", "LMS_REPLICA_URL", "libpq URI of a read replica for read-only routes"},
    {"listen", "LMS_LISTEN", "address:port to listen on (default 127.0.0.1:8080)"},
    {"threads", "LMS_THREADS", "HTTP worker threads = max concurrent connections (default 1100)"},
    {"pool-size", "LMS_POOL_SIZE", "database connections (default 4 x cores)"},
    {"pool-timeout-ms", "LMS_POOL_TIMEOUT_MS", "wait for a free connection, then 503 (default 2000)"},
    {"statement-timeout-ms", "LMS_STATEMENT_TIMEOUT_MS", "statement_timeout per connection (default 10000)"},
    {"max-body", "LMS_MAX_BODY", "largest request body, bytes, k/M suffix allowed (default 1M)"},
    {"cors-origin", "LMS_CORS_ORIGIN", "allowed CORS origin, or * (default: no CORS headers)"},
    {"login-rate", "LMS_LOGIN_RATE", "login+register per minute per client (default 5)"},
    {"global-rate", "LMS_GLOBAL_RATE", "any request per minute per client, 0 = off (default 0)"},
    {"trust-proxy", "LMS_TRUST_PROXY", "take the client address from X-Forwarded-For (0/1)"},
    {"access-log", "LMS_ACCESS_LOG", "off | on | sample N (one line per N requests)"},
    {"log-level", "LMS_LOG_LEVEL", "error | warn | info | debug (default info)"},
    {"request-timeout-ms", "LMS_REQUEST_TIMEOUT_MS", "deadline to receive a request head; also each body read/answer write (default 5000)"},
    {"keep-alive-timeout-ms", "LMS_KEEP_ALIVE_TIMEOUT_MS", "idle time between requests on a kept-alive connection (default 30000)"},
    {"max-client-connections", "LMS_MAX_CLIENT_CONNECTIONS", "open connections per client address, then 503; 0 = off; off with trust-proxy (default 64)"},
    {"max-header-bytes", "LMS_MAX_HEADER_BYTES", "request line + header fields, then 431 (default 16k)"},
    {"pages-dir", "LMS_PAGES_DIR", "folder of the web pages served at / (default: none)"},
    {"prepare", "LMS_PREPARE", "on: prepared statements; off: unnamed (PgBouncer < 1.21 in transaction mode)"},
};
#define NOPTIONS (int)(sizeof(options) / sizeof(options[0]))

/* --help: every flag with its environment variable. */
static void
usage(FILE *out)
{
    fprintf(out, "usage: lms-gateway [--flag=value ...]\n\n"
                 "The HTTP gateway of the lms PostgreSQL extension: every route of the REST\n"
                 "contract is one call of one lms.api_* function over a pooled connection.\n\n");
    for (int i = 0; i < NOPTIONS; i++)
        fprintf(out, "  --%-22s %-26s %s\n", options[i].flag, options[i].env, options[i].help);
    fprintf(out, "  --%-22s %-26s %s\n", "routes", "", "print the routing table and exit");
    fprintf(out, "  --%-22s %-26s %s\n", "help", "", "this text");
    fprintf(out, "  --%-22s %-26s %s\n", "version", "", "print the version and exit");
}

/* A configuration error: say what is wrong in words and exit 2 before anything starts. */
static void
die(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "lms-gateway: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    exit(2);
}

/* A non-negative integer setting, with an optional unit check done by the caller. */
static long long
parse_int(const char *name, const char *v, long long lo, long long hi, char **rest)
{
    char *end;
    long long n;

    errno = 0;
    n = strtoll(v, &end, 10);
    if (end == v || errno || n < lo || n > hi)
        die("%s: \"%s\" is not a number between %lld and %lld", name, v, lo, hi);
    if (rest)
        *rest = end;
    else if (*end)
        die("%s: unexpected \"%s\" after the number", name, end);
    return n;
}

/* "5", "5/min", "5/minute", "1/s" (= 60/min): a rate per minute. */
static int
parse_rate(const char *name, const char *v)
{
    char *rest;
    long long n = parse_int(name, v, 0, 100000000, &rest);

    if (*rest == '\0' || strcmp(rest, "/min") == 0 || strcmp(rest, "/m") == 0
        || strcmp(rest, "/minute") == 0)
        return (int)n;
    if (strcmp(rest, "/s") == 0 || strcmp(rest, "/sec") == 0 || strcmp(rest, "/second") == 0)
        return (int)(n * 60);
    die("%s: \"%s\" is not a rate like 5/min", name, v);
    return 0;
}

/* on/off settings: 1/0, on/off, yes/no, true/false. */
static int
parse_bool(const char *name, const char *v)
{
    if (!strcasecmp(v, "1") || !strcasecmp(v, "on") || !strcasecmp(v, "yes") || !strcasecmp(v, "true"))
        return 1;
    if (!strcasecmp(v, "0") || !strcasecmp(v, "off") || !strcasecmp(v, "no") || !strcasecmp(v, "false"))
        return 0;
    die("%s: \"%s\" is not on/off", name, v);
    return 0;
}

/* Apply one setting by its flag name. */
static void
apply(const char *flag, const char *v)
{
    char *rest;

    if (!strcmp(flag, "database-url"))
        gw_cfg.database_url = v;
    else if (!strcmp(flag, "replica-url"))
        gw_cfg.replica_url = *v ? v : NULL;
    else if (!strcmp(flag, "listen"))
        gw_cfg.listen = v;
    else if (!strcmp(flag, "threads"))
        gw_cfg.threads = (int)parse_int(flag, v, 1, 20000, NULL);
    else if (!strcmp(flag, "pool-size"))
        gw_cfg.pool_size = (int)parse_int(flag, v, 1, 1000, NULL);
    else if (!strcmp(flag, "pool-timeout-ms"))
        gw_cfg.pool_timeout_ms = (int)parse_int(flag, v, 1, 3600000, NULL);
    else if (!strcmp(flag, "statement-timeout-ms"))
        gw_cfg.statement_timeout_ms = (int)parse_int(flag, v, 0, 86400000, NULL);
    else if (!strcmp(flag, "max-body")) {
        long long n = parse_int(flag, v, 0, 1LL << 34, &rest);

        if (!strcasecmp(rest, "k") || !strcasecmp(rest, "kb") || !strcasecmp(rest, "kib"))
            n *= 1024;
        else if (!strcasecmp(rest, "m") || !strcasecmp(rest, "mb") || !strcasecmp(rest, "mib"))
            n *= 1024 * 1024;
        else if (*rest)
            die("max-body: \"%s\" is not a size like 1048576, 64k or 1M", v);
        gw_cfg.max_body = n;
    } else if (!strcmp(flag, "cors-origin"))
        gw_cfg.cors_origin = *v ? v : NULL;
    else if (!strcmp(flag, "login-rate"))
        gw_cfg.login_rate = parse_rate(flag, v);
    else if (!strcmp(flag, "global-rate"))
        gw_cfg.global_rate = parse_rate(flag, v);
    else if (!strcmp(flag, "trust-proxy"))
        gw_cfg.trust_proxy = parse_bool(flag, v);
    else if (!strcmp(flag, "access-log")) {
        if (!strcasecmp(v, "off") || !strcmp(v, "0"))
            gw_cfg.access_log = 0;
        else if (!strcasecmp(v, "on") || !strcmp(v, "1"))
            gw_cfg.access_log = 1;
        else if (!strncasecmp(v, "sample", 6) && (v[6] == ' ' || v[6] == ':' || v[6] == '='))
            gw_cfg.access_log = (int)parse_int(flag, v + 7, 1, 1000000000, NULL);
        else
            die("access-log: \"%s\" is not off, on or \"sample N\"", v);
    } else if (!strcmp(flag, "log-level")) {
        int i;

        for (i = 0; i < 4; i++)
            if (!strcasecmp(v, gw_log_levels[i]))
                break;
        if (i == 4 && !strcasecmp(v, "warning"))
            i = LOG_WARN;
        if (i == 4)
            die("log-level: \"%s\" is not error, warn, info or debug", v);
        gw_cfg.log_level = i;
    } else if (!strcmp(flag, "request-timeout-ms"))
        gw_cfg.request_timeout_ms = (int)parse_int(flag, v, 100, 3600000, NULL);
    else if (!strcmp(flag, "keep-alive-timeout-ms"))
        gw_cfg.keep_alive_timeout_ms = (int)parse_int(flag, v, 0, 3600000, NULL);
    else if (!strcmp(flag, "pages-dir"))
        gw_cfg.pages_dir = *v ? v : NULL;
    else if (!strcmp(flag, "max-client-connections"))
        gw_cfg.max_client_connections = (int)parse_int(flag, v, 0, 1000000, NULL);
    else if (!strcmp(flag, "max-header-bytes")) {
        long long n = parse_int(flag, v, 1024, 1024 * 1024, &rest);

        if (!strcasecmp(rest, "k") || !strcasecmp(rest, "kb") || !strcasecmp(rest, "kib"))
            n *= 1024;
        else if (*rest)
            die("max-header-bytes: \"%s\" is not a size like 16384 or 16k", v);
        if (n < 1024 || n > 1024 * 1024)
            die("max-header-bytes: \"%s\" is not between 1k and 1024k", v);
        gw_cfg.max_header_bytes = (int)n;
    }
    else if (!strcmp(flag, "prepare"))
        gw_cfg.prepare = parse_bool(flag, v);
}

/* Defaults, then the environment, then the command line. */
static void
configure(int argc, char **argv)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);

    gw_cfg.database_url = "";
    gw_cfg.listen = "127.0.0.1:8080";
    gw_cfg.threads = 1100;
    gw_cfg.pool_size = (int)(cores > 0 ? cores * 4 : 8);
    gw_cfg.pool_timeout_ms = 2000;
    gw_cfg.statement_timeout_ms = 10000;
    gw_cfg.max_body = 1024 * 1024;
    gw_cfg.login_rate = 5;
    gw_cfg.global_rate = 0;
    gw_cfg.log_level = LOG_INFO;
    gw_cfg.request_timeout_ms = 5000;
    gw_cfg.keep_alive_timeout_ms = 30000;
    gw_cfg.max_client_connections = 64;
    gw_cfg.max_header_bytes = 16 * 1024;
    gw_cfg.prepare = 1;

    for (int i = 0; i < NOPTIONS; i++) {
        const char *v = getenv(options[i].env);

        if (v)
            apply(options[i].flag, v);
    }
    for (int a = 1; a < argc; a++) {
        const char *arg = argv[a], *eq, *val;
        char name[64];
        int i;

        if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
            usage(stdout);
            exit(0);
        }
        if (!strcmp(arg, "--version")) {
            printf("lms-gateway %s (civetweb %s)\n", GW_VERSION, mg_version());
            exit(0);
        }
        if (!strcmp(arg, "--routes")) {
            for (i = 0; i < gw_nroutes; i++)
                printf("%s %s %s\n", gw_routes[i].method, gw_routes[i].pattern,
                       gw_routes[i].function);
            exit(0);
        }
        if (strncmp(arg, "--", 2) != 0)
            die("unexpected argument \"%s\" (see --help)", arg);
        eq = strchr(arg, '=');
        snprintf(name, sizeof(name), "%.*s", (int)(eq ? eq - arg - 2 : (long)strlen(arg) - 2),
                 arg + 2);
        for (i = 0; i < NOPTIONS; i++)
            if (!strcmp(name, options[i].flag))
                break;
        if (i == NOPTIONS)
            die("unknown option --%s (see --help)", name);
        if (eq)
            val = eq + 1;
        else if (!strcmp(name, "trust-proxy") && (a + 1 >= argc || strncmp(argv[a + 1], "--", 2) == 0))
            val = "1";
        else if (a + 1 < argc)
            val = argv[++a];
        else
            die("--%s needs a value", name);
        apply(name, val);
    }
    if (gw_cfg.threads < 4)
        die("threads: at least 4 are needed");
    {
        char err[PATH_MAX + 128];

        if (pages_init(gw_cfg.pages_dir, err, sizeof(err)) != 0)
            die("%s", err);
    }
}

/* civetweb's own error messages go through our log. */
static int
log_message(const struct mg_connection *conn, const char *message)
{
    (void)conn;
    gw_log(LOG_WARN, "civetweb: %s", message);
    return 1;
}

/* civetweb logs nothing else on its own; the access log is ours (http.c). */
static int
begin_request(struct mg_connection *conn)
{
    return http_handle(conn, NULL);
}

int
main(int argc, char **argv)
{
    struct mg_callbacks cb;
    struct mg_context *ctx;
    char threads[16], req_to[16], ka_to[16], max_req[16];
    sigset_t set;
    int sig;

    configure(argc, argv);
    signal(SIGPIPE, SIG_IGN);
    /* block the stop signals in every thread; main() waits for them with sigwait */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);

    metrics_init();
    ratelimit_init();
    respond_init();
    if (pool_init(gw_cfg.database_url, gw_cfg.replica_url, gw_cfg.pool_size,
                  gw_cfg.pool_timeout_ms, gw_cfg.statement_timeout_ms) != 0)
        die("out of memory setting up the connection pool");

    snprintf(threads, sizeof(threads), "%d", gw_cfg.threads);
    snprintf(req_to, sizeof(req_to), "%d", gw_cfg.request_timeout_ms);
    snprintf(ka_to, sizeof(ka_to), "%d", gw_cfg.keep_alive_timeout_ms);
    /* civetweb's head buffer: twice our limit, so a head between the two gets our 431
     * (civetweb answers a head beyond its buffer as malformed, 400) */
    snprintf(max_req, sizeof(max_req), "%d", gw_cfg.max_header_bytes * 2);
    {
        const char *opts[] = {"listening_ports", gw_cfg.listen,
                              "num_threads", threads,
                              "enable_keep_alive", "yes",
                              "tcp_nodelay", "1",
                              "request_timeout_ms", req_to,
                              "keep_alive_timeout_ms", ka_to,
                              "listen_backlog", "1024",
                              "connection_queue", "1024",
                              "decode_url", "no",
                              "max_request_size", max_req,
                              NULL};

        memset(&cb, 0, sizeof(cb));
        cb.begin_request = begin_request;
        cb.log_message = log_message;
        cb.http_error = http_library_error;
        cb.connection_close = http_connection_close;
        mg_init_library(0);
        ctx = mg_start(&cb, NULL, opts);
    }
    if (!ctx)
        die("cannot listen on %s (address in use, or a bad option; see the log above)",
            gw_cfg.listen);
    gw_log(LOG_INFO, "lms-gateway %s listening on %s (%d threads, pool %d%s%s)", GW_VERSION,
           gw_cfg.listen, gw_cfg.threads, gw_cfg.pool_size,
           gw_cfg.replica_url ? ", replica" : "", gw_cfg.prepare ? "" : ", unnamed statements");

    while (sigwait(&set, &sig) != 0)
        ;
    gw_log(LOG_INFO, "signal %d: finishing in-flight requests", sig);
    mg_stop(ctx);
    pool_shutdown();
    mg_exit_library();
    gw_log(LOG_INFO, "stopped");
    return 0;
}
