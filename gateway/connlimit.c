/*
 * connlimit.c — how many connections each client address holds right now.
 *
 * civetweb gives every connection a worker thread, so one address holding many connections
 * holds many of the threads every other client needs. The gateway counts open connections
 * per peer address, from its first request to civetweb's connection_close callback, and
 * refuses a request on an address's connection beyond LMS_MAX_CLIENT_CONNECTIONS with 503
 * too_many_connections and Connection: close (http.c). A connection that never sends a
 * request is bounded by the request-head deadline (LMS_REQUEST_TIMEOUT_MS) only: civetweb
 * offers no hook that knows the peer before a worker thread is spent on the connection,
 * which is why the production edge (deploy/nginx/) exists.
 */
#include <pthread.h>
#include <string.h>

#include "gw.h"

#define NSLOTS 8192              /* > threads + civetweb's queue: distinct live addresses */

struct slot {
    char addr[48];               /* "" = never used */
    int count;
};

static struct slot slots[NSLOTS];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

/*
 * Count a new connection of `addr`. Returns the slot (>= 0, to give back to connlimit_close)
 * and sets *nth to how many connections the address holds with this one; -1 when the table
 * is full (then the connection is not limited).
 */
int
connlimit_open(const char *addr, int *nth)
{
    size_t len = strlen(addr);
    unsigned idx = (unsigned)(hash64(addr, len) % NSLOTS);
    int reuse = -1, found = -1;

    *nth = 1;
    if (len >= sizeof(slots[0].addr))
        return -1;
    pthread_mutex_lock(&mu);
    /* probe until a never-used slot: the address may sit past slots whose count fell to 0 */
    for (int k = 0; k < NSLOTS; k++) {
        struct slot *s = &slots[(idx + (unsigned)k) % NSLOTS];

        if (s->addr[0] == '\0') {
            if (reuse < 0)
                reuse = (int)((idx + (unsigned)k) % NSLOTS);
            break;
        }
        if (strcmp(s->addr, addr) == 0) {
            found = (int)((idx + (unsigned)k) % NSLOTS);
            break;
        }
        if (s->count == 0 && reuse < 0)
            reuse = (int)((idx + (unsigned)k) % NSLOTS);
    }
    if (found < 0 && reuse >= 0) {
        found = reuse;
        memcpy(slots[found].addr, addr, len + 1);
        slots[found].count = 0;
    }
    if (found >= 0)
        *nth = ++slots[found].count;
    pthread_mutex_unlock(&mu);
    return found;
}

/* The connection counted in `slot` closed. */
void
connlimit_close(int slot)
{
    if (slot < 0 || slot >= NSLOTS)
        return;
    pthread_mutex_lock(&mu);
    if (slots[slot].count > 0)
        slots[slot].count--;
    pthread_mutex_unlock(&mu);
}
