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

struct gz_shared {
    char *last;             /* the route's previous body, to find what the next one shares */
    size_t last_len;
    char *bytes;            /* the shared run */
    size_t len;
    int suffix;             /* 1: the run ends the body; 0: it starts it */
    unsigned char *z;       /* its raw deflate blocks (final when a suffix, full-flushed when a prefix) */
    size_t zlen;
    uLong crc;
};

struct gz_thread {
    z_stream raw;           /* raw deflate (no header), reset between uses */
    struct gz_shared *slots; /* one per route, allocated on first use */
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
        for (int i = 0; i < gw_nroutes; i++) {
            free(t->slots[i].last);
            free(t->slots[i].bytes);
            free(t->slots[i].z);
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

/* After a body that did not use the shared run: look for a new one against the last body. */
static void
shared_learn(z_stream *zs, struct gz_shared *s, const char *in, size_t n)
{
    size_t max = n < s->last_len ? n : s->last_len, pre = 0, suf = 0;

    if (s->last && max >= GZ_SHARED_MIN) {
        while (pre < max && in[pre] == s->last[pre])
            pre++;
        while (suf < max - pre && in[n - 1 - suf] == s->last[s->last_len - 1 - suf])
            suf++;
        if (suf >= pre && suf >= GZ_SHARED_MIN)
            shared_set(zs, s, in + n - suf, suf, 1);
        else if (pre >= GZ_SHARED_MIN)
            shared_set(zs, s, in, pre, 0);
    }
    if (n <= GZ_REMEMBER_MAX) {
        char *copy = realloc(s->last, n ? n : 1);

        if (copy) {
            memcpy(copy, in, n);
            s->last = copy;
            s->last_len = n;
        }
    }
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
    struct gz_shared *s = NULL;
    const char *rest;
    size_t rest_len, room, zl;
    unsigned char *out, *p;
    uLong crc;
    int use = 0;

    if (!t)
        return NULL;
    if (slot >= 0 && slot < gw_nroutes) {
        if (!t->slots)
            t->slots = calloc((size_t)gw_nroutes, sizeof(*t->slots));
        if (t->slots)
            s = &t->slots[slot];
    }
    if (s && s->bytes && n >= s->len)
        use = s->suffix ? memcmp(in + n - s->len, s->bytes, s->len) == 0
                        : memcmp(in, s->bytes, s->len) == 0;
    if (s && !use) {
        shared_learn(&t->raw, s, in, n);
        if (s->bytes && n >= s->len)
            use = s->suffix ? memcmp(in + n - s->len, s->bytes, s->len) == 0
                            : memcmp(in, s->bytes, s->len) == 0;
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
