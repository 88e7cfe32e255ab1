/*
 * replica.c — read-your-writes: which reads may be answered by the standby.
 *
 * With LMS_REPLICA_URL set, the read-only routes go to a hot standby. Replication is
 * asynchronous (or synchronous only up to the standby's flush), so a client that has just
 * written could read its old state there. The rule kept here:
 *
 *   - every write answered by the primary carries the primary's WAL insert position, read
 *     after the write committed (statement.c pipelines that read behind the write, so the
 *     write costs no extra round trip), back to the client in the `lms_lsn` cookie;
 *   - a read whose request carries no such cookie, or one at or below a replay position this
 *     gateway has already seen the standby reach, goes to the standby as it is: no check, no
 *     extra round trip;
 *   - any other read goes to the standby with `SELECT pg_last_wal_replay_lsn()` pipelined in
 *     front of it (same round trip, and the read's snapshot is taken after the check): when
 *     the standby had replayed the client's position the answer is used, else it is dropped
 *     and the read is asked of the primary.
 * The cookie is what a browser keeps and sends back, so the rule holds across gateways: the
 * position is the primary's, not a gateway's. A read answered 401 by the standby is asked of
 * the primary too (a session made a moment ago elsewhere, by a client that keeps no cookie).
 *
 * Positions are 64-bit WAL byte positions, written as PostgreSQL writes an LSN ("16/B374D848").
 * This file also counts where every read went (lms_read_routing_total in /metrics).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw.h"

#define MAX_SLOTS 64

static uint64_t known_replay;                        /* highest replay position seen */
static uint64_t served[MAX_SLOTS][READ_NTARGETS];    /* reads by route and where they went */

static const char *const target_names[READ_NTARGETS] = {
    [READ_STANDBY] = "standby",
    [READ_STANDBY_CHECKED] = "standby_checked",
    [READ_PRIMARY_LAG] = "primary_lag",
    [READ_PRIMARY_SESSION] = "primary_session",
    [READ_PRIMARY_UNAVAILABLE] = "primary_standby_unavailable",
};

/* PostgreSQL's text form of a position; out needs 18 bytes. */
void
lsn_format(uint64_t lsn, char *out, size_t outsz)
{
    snprintf(out, outsz, "%X/%X", (unsigned)(lsn >> 32), (unsigned)(lsn & 0xffffffffu));
}

/* The position a request must see, from its lms_lsn cookie; 0 when it has none (or a bad one). */
uint64_t
replica_required_lsn(const char *cookie)
{
    const char *v;
    size_t n;
    uint64_t lsn = 0;

    if (!cookie_value(cookie, "lms_lsn", &v, &n) || !lsn_parse(v, n, &lsn))
        return 0;
    return lsn;
}

/* Whether a read that must see `need` has to be checked on the standby first. */
int
replica_needs_check(uint64_t need)
{
    return need > __atomic_load_n(&known_replay, __ATOMIC_RELAXED);
}

/*
 * Record the standby's replay position as just read (0 = NULL: the server is not in recovery,
 * so it has all it will ever have); returns whether it covers `need`.
 */
int
replica_replayed(uint64_t need, uint64_t replay, int in_recovery)
{
    uint64_t cur;

    if (!in_recovery)
        return 1;
    cur = __atomic_load_n(&known_replay, __ATOMIC_RELAXED);
    while (replay > cur
           && !__atomic_compare_exchange_n(&known_replay, &cur, replay, 0, __ATOMIC_RELAXED,
                                           __ATOMIC_RELAXED))
        ;
    return replay >= need;
}

/* Count one read of `route` answered by `target`. */
void
replica_count(int route, int target)
{
    if (route >= 0 && route < MAX_SLOTS && target >= 0 && target < READ_NTARGETS)
        __atomic_fetch_add(&served[route][target], 1, __ATOMIC_RELAXED);
}

/* The Set-Cookie line that hands a write's position to the client (CRLF-terminated). */
void
replica_cookie(struct sbuf *hdr, uint64_t lsn, int secure)
{
    char text[24];

    lsn_format(lsn, text, sizeof(text));
    sb_printf(hdr, "Set-Cookie: lms_lsn=%s; HttpOnly; SameSite=Lax; Path=/; Max-Age=3600%s\r\n",
              text, secure ? "; Secure" : "");
}

/* lms_read_routing_total{route,target} for /metrics (only when a replica is configured). */
void
replica_prometheus(struct sbuf *b)
{
    if (!gw_cfg.replica_url)
        return;
    sb_puts(b, "# HELP lms_read_routing_total Read requests by route and the server that "
               "answered them (standby, or the primary and why).\n"
               "# TYPE lms_read_routing_total counter\n");
    for (int r = 0; r < gw_nroutes && r < MAX_SLOTS; r++) {
        if (!(gw_routes[r].flags & RF_READ_ONLY))
            continue;
        for (int t = 0; t < READ_NTARGETS; t++) {
            uint64_t v = __atomic_load_n(&served[r][t], __ATOMIC_RELAXED);

            if (v)
                sb_printf(b, "lms_read_routing_total{route=\"%s\",target=\"%s\"} %llu\n",
                          gw_routes[r].pattern, target_names[t], (unsigned long long)v);
        }
    }
}
