/*
 * gzip.c — Content-Encoding: gzip for response bodies, without compressing the same bytes twice.
 *
 * Many answers of one route share most of their bytes with the answer before: a board page read
 * with a token differs between callers only by its "me" member; the catalog page is the same for
 * every learner until a course changes. Compressing a 5 KiB page costs about 200,000 instructions
 * (callgrind, zlib level 1), several times the rest of the gateway's work for a request. So each
 * worker thread keeps, per route, the compressed form of the longest run of bytes (a prefix or a
 * suffix of at least GZ_SHARED_MIN bytes) that its last two answers of that route had in common,
 * and builds the next answer's gzip member from that block plus the compressed rest:
 *
 *   gzip header | deflate(rest, full flush) | deflate(shared, final)     (shared suffix)
 *   gzip header | deflate(shared, full flush) | deflate(rest, final)     (shared prefix)
 *   trailer: CRC-32 of the whole (crc32_combine of the parts' CRCs) and its length
 *
 * Each route keeps the GZ_KEEP most recently used shared runs and its GZ_KEEP last bodies, so
 * answers of several kinds on one route (two page sizes, two windows) do not evict each other.
 *
 * A full flush ends a deflate run on a byte boundary with no back-references into it, so two
 * independently compressed runs concatenate into one valid stream (RFC 1951 3.2.3: a stream is
 * any sequence of blocks, the last one marked final). The shared bytes are compared in full
 * (memcmp) before their compressed form is reused, so this is content-addressed: it can only
 * ever send the compression of exactly the bytes being answered, whatever the database said.
 * Nothing here knows JSON or any route's meaning.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "gw.h"

#define GZ_SHARED_MIN 1024          /* a shared run shorter than this is not worth a block */
#define GZ_REMEMBER_MAX (256 * 1024) /* bodies larger than this are compressed whole */
#define GZ_LEVEL 1
#define GZ_MEMLEVEL 4               /* a 4 KiB hash: bodies here are kilobytes, not megabytes */
#define GZ_KEEP 4                   /* shared runs and last bodies kept per route and thread */

struct gz_shared {
    char *bytes;            /* the shared run */
    size_t len;
    int suffix;             /* 1: the run ends the body; 0: it starts it */
    unsigned char *z;       /* its raw deflate blocks (final when a suffix, full-flushed when a prefix) */
    size_t zlen;
    uLong crc;
    unsigned long used;     /* when it last served an answer (the thread's answer count) */
};

struct gz_route {
    struct gz_shared run[GZ_KEEP];
    char *last[GZ_KEEP];    /* the route's last bodies, to find what the next one shares */
    size_t last_len[GZ_KEEP];
    int next_last;          /* the oldest of them, replaced next */
};

struct gz_thread {
    z_stream raw;           /* raw deflate (no header), reset between uses */
    struct gz_route *slots; /* one per route, allocated on first use */
    unsigned long answers;
};

static pthread_key_t gz_key;

static void
gz_thread_free(void *p)
{
    struct gz_thread *t = p;

    if (!t)
        return;
    deflateEnd(&t->raw);
    if (t->slots)
        for (int i = 0; i < gw_nroutes; i++)
            for (int k = 0; k < GZ_KEEP; k++) {
                free(t->slots[i].last[k]);
                free(t->slots[i].run[k].bytes);
                free(t->slots[i].run[k].z);
            }
    free(t->slots);
    free(t);
}

/* One-time setup of the per-thread compressor state (called before the server starts). */
void
gz_init(void)
{
    pthread_key_create(&gz_key, gz_thread_free);
}

static struct gz_thread *
gz_thread(void)
{
    struct gz_thread *t = pthread_getspecific(gz_key);

    if (t)
        return t;
    t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    if (deflateInit2(&t->raw, GZ_LEVEL, Z_DEFLATED, -15, GZ_MEMLEVEL, Z_DEFAULT_STRATEGY) != Z_OK) {
        free(t);
        return NULL;
    }
    pthread_setspecific(gz_key, t);
    return t;
}

/*
 * Append the raw deflate of in[0..n) to out (room for deflateBound), ending with `flush`
 * (Z_FULL_FLUSH: byte-aligned, not final; Z_FINISH: the final block). Returns bytes written,
 * or 0 on a zlib error.
 */
static size_t
deflate_run(z_stream *zs, const char *in, size_t n, unsigned char *out, size_t room, int flush)
{
    int rc;

    deflateReset(zs);
    zs->next_in = (Bytef *)(uintptr_t)in;
    zs->avail_in = (uInt)n;
    zs->next_out = out;
    zs->avail_out = (uInt)room;
    rc = deflate(zs, flush);
    if (flush == Z_FINISH ? rc != Z_STREAM_END : (rc != Z_OK || zs->avail_in != 0))
        return 0;
    return room - zs->avail_out;
}

/* Room a raw deflate of n bytes may need, with a flush marker. */
static size_t
room_for(z_stream *zs, size_t n)
{
    return deflateBound(zs, (uLong)n) + 16;
}

/* Remember the shared run s->bytes[0..len) with its compressed form; 0 on failure. */
static int
shared_set(z_stream *zs, struct gz_shared *s, const char *bytes, size_t len, int suffix)
{
    size_t room = room_for(zs, len);
    char *copy = malloc(len);
    unsigned char *z = malloc(room);
    size_t zlen;

    if (!copy || !z) {
        free(copy);
        free(z);
        return 0;
    }
    memcpy(copy, bytes, len);
    zlen = deflate_run(zs, bytes, len, z, room, suffix ? Z_FINISH : Z_FULL_FLUSH);
    if (zlen == 0) {
        free(copy);
        free(z);
        return 0;
    }
    free(s->bytes);
    free(s->z);
    s->bytes = copy;
    s->len = len;
    s->suffix = suffix;
    s->z = z;
    s->zlen = zlen;
    s->crc = crc32(0L, (const Bytef *)bytes, (uInt)len);
    return 1;
}

/* Does body in[0..n) hold shared run s where s says (start or end)? */
static int
holds(const struct gz_shared *s, const char *in, size_t n)
{
    if (!s->bytes || n < s->len)
        return 0;
    return s->suffix ? memcmp(in + n - s->len, s->bytes, s->len) == 0 : memcmp(in, s->bytes, s->len) == 0;
}

/*
 * After a body that held none of the route's shared runs: find the longest prefix or suffix
 * it shares with one of the route's last bodies and keep it in place of the least recently
 * used run; remember the body. Returns the new run, or NULL.
 */
static struct gz_shared *
shared_learn(z_stream *zs, struct gz_route *rt, const char *in, size_t n, unsigned long now)
{
    size_t best = 0;
    const char *from = NULL;
    int suffix = 0;
    struct gz_shared *victim = &rt->run[0], *got = NULL;

    for (int k = 0; k < GZ_KEEP; k++) {
        const char *last = rt->last[k];
        size_t ll = rt->last_len[k], max = n < ll ? n : ll, pre = 0, suf = 0;

        if (!last || max < GZ_SHARED_MIN)
            continue;
        while (pre < max && in[pre] == last[pre])
            pre++;
        while (suf < max - pre && in[n - 1 - suf] == last[ll - 1 - suf])
            suf++;
        if (suf > best && suf >= pre) {
            best = suf;
            from = in + n - suf;
            suffix = 1;
        } else if (pre > best) {
            best = pre;
            from = in;
            suffix = 0;
        }
    }
    if (best >= GZ_SHARED_MIN) {
        for (int k = 1; k < GZ_KEEP; k++)
            if (!rt->run[k].bytes || rt->run[k].used < victim->used)
                victim = &rt->run[k];
        if (shared_set(zs, victim, from, best, suffix)) {
            victim->used = now;
            got = victim;
        }
    }
    if (n <= GZ_REMEMBER_MAX) {
        int k = rt->next_last;
        char *copy = realloc(rt->last[k], n ? n : 1);

        if (copy) {
            memcpy(copy, in, n);
            rt->last[k] = copy;
            rt->last_len[k] = n;
            rt->next_last = (k + 1) % GZ_KEEP;
        }
    }
    return got;
}

static unsigned char *
put_header(unsigned char *p)
{
    static const unsigned char hdr[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};

    memcpy(p, hdr, sizeof(hdr));
    return p + sizeof(hdr);
}

static unsigned char *
put_le32(unsigned char *p, uLong v)
{
    p[0] = (unsigned char)(v & 0xff);
    p[1] = (unsigned char)((v >> 8) & 0xff);
    p[2] = (unsigned char)((v >> 16) & 0xff);
    p[3] = (unsigned char)((v >> 24) & 0xff);
    return p + 4;
}

/*
 * gzip in[0..n) for route `slot` (a route index, or -1 for none: compressed whole). Returns a
 * malloc'd gzip member and its length, or NULL when zlib fails or the result would not be
 * smaller than the body.
 */
unsigned char *
gz_body(int slot, const char *in, size_t n, size_t *outlen)
{
    struct gz_thread *t = gz_thread();
    struct gz_route *rt = NULL;
    struct gz_shared *s = NULL;
    const char *rest;
    size_t rest_len, room, zl;
    unsigned char *out, *p;
    uLong crc;
    int use = 0;

    if (!t)
        return NULL;
    t->answers++;
    if (slot >= 0 && slot < gw_nroutes) {
        if (!t->slots)
            t->slots = calloc((size_t)gw_nroutes, sizeof(*t->slots));
        if (t->slots)
            rt = &t->slots[slot];
    }
    if (rt) {
        for (int k = 0; k < GZ_KEEP; k++)
            if (holds(&rt->run[k], in, n) && (!s || rt->run[k].len > s->len))
                s = &rt->run[k];
        if (!s)
            s = shared_learn(&t->raw, rt, in, n, t->answers);
        if (s && holds(s, in, n)) {
            use = 1;
            s->used = t->answers;
        }
    }
    rest = use && !s->suffix ? in + s->len : in;
    rest_len = use ? n - s->len : n;
    room = 10 + room_for(&t->raw, rest_len) + (use ? s->zlen : 0) + 8;
    out = malloc(room);
    if (!out)
        return NULL;
    p = put_header(out);
    if (use && !s->suffix) {
        memcpy(p, s->z, s->zlen);
        p += s->zlen;
    }
    zl = deflate_run(&t->raw, rest, rest_len, p, room - (size_t)(p - out) - 8,
                     use && s->suffix ? Z_FULL_FLUSH : Z_FINISH);
    if (zl == 0) {
        free(out);
        return NULL;
    }
    p += zl;
    crc = crc32(0L, (const Bytef *)rest, (uInt)rest_len);
    if (use && s->suffix) {
        memcpy(p, s->z, s->zlen);
        p += s->zlen;
        crc = crc32_combine(crc, s->crc, (z_off_t)s->len);
    } else if (use)
        crc = crc32_combine(s->crc, crc, (z_off_t)rest_len);
    p = put_le32(p, crc);
    p = put_le32(p, (uLong)(n & 0xffffffffu));
    *outlen = (size_t)(p - out);
    if (*outlen >= n) {
        free(out);
        return NULL;
    }
    return out;
}
