/*
 * config.c — the gateway's settings (gw_cfg, filled by main.c from LMS_* and --flags) and its
 * log line. Every file reads these; this file calls no other part of the gateway, so reading
 * them makes no circle back to main.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "gw.h"

struct gw_config gw_cfg;

const char *const gw_log_levels[4] = {"error", "warn", "info", "debug"};

/* Log one line to stderr when `level` is enabled. */
void
gw_log(int level, const char *fmt, ...)
{
    char ts[32], line[1024];
    time_t now;
    struct tm tm;
    va_list ap;
    size_t n;

    if (level > gw_cfg.log_level)
        return;
    now = time(NULL);
    gmtime_r(&now, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    for (char *c = line; *c; c++)
        if (*c == '\n' || *c == '\t')
            *c = ' ';
    n = strlen(line);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    fprintf(stderr, "%s %s %s\n", ts, gw_log_levels[level], line);
}

