/*
 * buf.c — a growable byte buffer.
 *
 * Responses are assembled in one buffer (headers then body) so that each is sent with a
 * single mg_write; /metrics and the performance summary are built the same way. An
 * allocation failure sets `oom` instead of crashing, and the caller answers 500.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw.h"

/* Make room for `extra` more bytes plus a terminating NUL. */
void
sb_reserve(struct sbuf *b, size_t extra)
{
    size_t need = b->len + extra + 1;
    char *p;

    if (b->oom || need <= b->cap)
        return;
    if (need < 256)
        need = 256;
    if (need < b->cap * 2)
        need = b->cap * 2;
    p = realloc(b->data, need);
    if (!p) {
        b->oom = 1;
        return;
    }
    b->data = p;
    b->cap = need;
}

/* Append n bytes. */
void
sb_append(struct sbuf *b, const void *p, size_t n)
{
    sb_reserve(b, n);
    if (b->oom)
        return;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

/* Append a C string. */
void
sb_puts(struct sbuf *b, const char *s)
{
    sb_append(b, s, strlen(s));
}

/* Append formatted text. */
void
sb_printf(struct sbuf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    sb_reserve(b, (size_t)n);
    if (b->oom)
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* Release the buffer. */
void
sb_free(struct sbuf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}
