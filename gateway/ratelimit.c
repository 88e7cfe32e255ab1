/*
 * ratelimit.c — per-client request limits, in memory and lock-light.
 *
 * A fixed one-minute window per (bucket, client address): login+register (RL_LOGIN) and the
 * optional limit on every request (RL_GLOBAL). Entries live in 64 independently locked
 * stripes of small open-addressing tables, so two clients rarely contend for a lock and
 * memory stays bounded: when a stripe is full the entry whose window ended longest ago is
 * reused (a flood of spoofed addresses can only make us forget, never grow).
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "gw.h"

#define STRIPES 64
#define SLOTS 256          /* per stripe: 16384 clients tracked per bucket */
#define WINDOW 60

struct rl_entry {
    uint64_t key;          /* hash of bucket + address; 0 = empty */
    char addr[48];
    time_t window_start;
    int count;
};

struct rl_stripe {
    pthread_mutex_t mu;
    struct rl_entry e[SLOTS];
} __attribute__((aligned(64)));

static struct rl_stripe stripes[STRIPES];

/* Initialise the stripe locks once at startup. */
void
ratelimit_init(void)
{
    for (int i = 0; i < STRIPES; i++) {
        pthread_mutex_init(&stripes[i].mu, NULL);
        memset(stripes[i].e, 0, sizeof(stripes[i].e));
    }
}

/*
 * Count one request of `client` in `bucket` against `per_minute`. Returns 0 when it is
 * allowed, else the whole seconds until the window ends (the Retry-After value, >= 1).
 */
int
ratelimit_check(int bucket, const char *client, int per_minute, time_t now)
{
    char keybuf[64];
    int n = snprintf(keybuf, sizeof(keybuf), "%d|%s", bucket, client);
    uint64_t key = hash64(keybuf, (size_t)(n < 0 ? 0 : n)) | 1;
    struct rl_stripe *s = &stripes[(key >> 32) % STRIPES];
    struct rl_entry *slot = NULL, *oldest = NULL;
    int retry = 0;

    if (per_minute <= 0)
        return 0;
    pthread_mutex_lock(&s->mu);
    for (int probe = 0; probe < SLOTS; probe++) {
        struct rl_entry *e = &s->e[(key + (uint64_t)probe) % SLOTS];

        if (e->key == key && strncmp(e->addr, client, sizeof(e->addr) - 1) == 0) {
            slot = e;
            break;
        }
        if (e->key == 0) {
            slot = e;
            break;
        }
        if (!oldest || e->window_start < oldest->window_start)
            oldest = e;
        if (probe >= 16 && oldest->window_start + WINDOW <= now)
            break; /* an expired entry nearby is as good as an empty one */
    }
    if (!slot)
        slot = oldest;
    if (slot->key != key || strncmp(slot->addr, client, sizeof(slot->addr) - 1) != 0) {
        slot->key = key;
        snprintf(slot->addr, sizeof(slot->addr), "%s", client);
        slot->window_start = now;
        slot->count = 0;
    }
    if (now - slot->window_start >= WINDOW) {
        slot->window_start = now;
        slot->count = 0;
    }
    if (slot->count >= per_minute) {
        retry = (int)(slot->window_start + WINDOW - now);
        if (retry < 1)
            retry = 1;
    } else
        slot->count++;
    pthread_mutex_unlock(&s->mu);
    return retry;
}
