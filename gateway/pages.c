/*
 * pages.c — the static web pages (LMS_PAGES_DIR), served beside the API.
 *
 * The learner, instructor and operator pages (pages/ in the repository) are plain files: HTML,
 * CSS and ES modules that only call the REST API. When a folder is configured, a GET or HEAD
 * whose path is "/", ends in "/" (its index.html) or names a file with a known extension, and
 * does not start with "/api/", is answered from that folder; everything else, and a file that
 * is not there, goes on to the API's router (so a missing page is the usual 404 problem).
 *
 * What a path may be is decided before the file system is touched: only [A-Za-z0-9._-]
 * segments, none starting with a dot (so no "..", no dotfiles) and no empty segment; the
 * resolved file must still lie inside the folder (a symlink cannot lead out). Answers carry
 * an ETag (304 on a match), `Cache-Control: no-cache` (a browser revalidates, so a deployed
 * change shows at once) and a Content-Security-Policy that lets a page load only its own
 * files and call only its own origin. Each answer is one mg_write with an exact length.
 * http.c calls this after the checks every request head gets, and counts the answer under
 * the "pages" slot of the metrics and in the access log.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <civetweb.h>

#include "gw.h"

#define PAGE_PATH_MAX 256
#define PAGE_FILE_MAX (16 * 1024 * 1024)

static char pages_root[PATH_MAX];    /* realpath of LMS_PAGES_DIR, "" when pages are off */

static const struct {
    const char *ext;
    const char *type;
} page_types[] = {
    {".html", "text/html; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".json", "application/json"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".txt", "text/plain; charset=utf-8"},
    {".webmanifest", "application/manifest+json"},
    {".woff2", "font/woff2"},
};

#define SECURITY_HEADERS                                                                    \
    "X-Content-Type-Options: nosniff\r\n"                                                   \
    "Referrer-Policy: same-origin\r\n"                                                      \
    "Content-Security-Policy: default-src 'self'; img-src 'self' data:; object-src 'none'; " \
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'\r\n"

/*
 * Check the configured folder once at startup. Returns 0 when pages are off or the folder is
 * usable, -1 (with a message for the caller) when it is not a readable folder.
 */
int
pages_init(const char *dir, char *err, size_t errsz)
{
    struct stat st;

    pages_root[0] = '\0';
    if (!dir || !*dir)
        return 0;
    errno = 0;
    if (!realpath(dir, pages_root) || stat(pages_root, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errsz, "pages-dir: \"%s\" is not a folder (%s)", dir,
                 errno ? strerror(errno) : "not a directory");
        pages_root[0] = '\0';
        return -1;
    }
    return 0;
}

/*
 * The file a request path names, relative to the folder, or NULL when the path is not a
 * page: not absolute, under /api/, a character outside [A-Za-z0-9._/-], an empty segment or
 * one starting with a dot, too long, or an extension that is not in page_types. "/" and
 * "dir/" name their index.html. *ctype is set to the file's Content-Type.
 */
static const char *
pages_file_for(const char *path, char *out, size_t outsz, const char **ctype)
{
    size_t n = strlen(path), ext_len;
    const char *dot, *slash;

    if (n == 0 || path[0] != '/' || n > PAGE_PATH_MAX || strncmp(path, "/api/", 5) == 0
        || strcmp(path, "/api") == 0)
        return NULL;
    for (size_t i = 1; i < n; i++) {
        char c = path[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
              || c == '.' || c == '_' || c == '-' || c == '/'))
            return NULL;
        if (path[i - 1] == '/' && (c == '/' || c == '.'))
            return NULL;
    }
    if (snprintf(out, outsz, "%s%s", path + 1, path[n - 1] == '/' ? "index.html" : "")
        >= (int)outsz)
        return NULL;
    slash = strrchr(out, '/');
    dot = strrchr(slash ? slash : out, '.');
    if (!dot)
        return NULL;
    ext_len = strlen(dot);
    for (size_t i = 0; i < sizeof(page_types) / sizeof(page_types[0]); i++)
        if (strlen(page_types[i].ext) == ext_len && strcmp(page_types[i].ext, dot) == 0) {
            *ctype = page_types[i].type;
            return out;
        }
    return NULL;
}

/*
 * Open `rel` inside the folder and read it whole. Returns the malloc'd content (NULL when it
 * is not a regular file inside the folder or cannot be read) and fills *st.
 */
static char *
read_page(const char *rel, struct stat *st)
{
    char full[PATH_MAX], real[PATH_MAX];
    size_t root_len = strlen(pages_root), got = 0;
    char *data;
    int fd;

    if (snprintf(full, sizeof(full), "%s/%s", pages_root, rel) >= (int)sizeof(full))
        return NULL;
    if (!realpath(full, real) || strncmp(real, pages_root, root_len) != 0 || real[root_len] != '/')
        return NULL;
    fd = open(real, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode) || st->st_size > PAGE_FILE_MAX
        || !(data = malloc((size_t)st->st_size + 1))) {
        close(fd);
        return NULL;
    }
    while (got < (size_t)st->st_size) {
        ssize_t r = read(fd, data + got, (size_t)st->st_size - got);

        if (r <= 0) {
            if (r < 0 && errno == EINTR)
                continue;
            break;
        }
        got += (size_t)r;
    }
    close(fd);
    if (got != (size_t)st->st_size) {
        free(data);
        return NULL;
    }
    return data;
}

/*
 * Called by http_handle once the request head passed its checks (framing, size, the
 * address's connection limit) and before routing. Returns the status written when the
 * request was a page (and the body bytes sent), 0 when it is the API's to answer.
 */
int
pages_serve(struct mg_connection *conn, size_t *bytes)
{
    const struct mg_request_info *ri = mg_get_request_info(conn);
    const char *method = ri->request_method ? ri->request_method : "";
    const char *path = ri->local_uri_raw ? ri->local_uri_raw : "";
    const char *ctype = NULL;
    char rel[PAGE_PATH_MAX + 16], etag[40], date[64];
    struct stat st;
    struct sbuf b = {0};
    struct tm tm;
    time_t now;
    char *data;
    int head = strcmp(method, "HEAD") == 0, status;

    if (!pages_root[0] || (!head && strcmp(method, "GET") != 0))
        return 0;
    if (!pages_file_for(path, rel, sizeof(rel), &ctype))
        return 0;
    data = read_page(rel, &st);
    if (!data)
        return 0;
    {
        struct { long long size, sec, nsec, ino; } id = {(long long)st.st_size,
                                                          (long long)st.st_mtim.tv_sec,
                                                          (long long)st.st_mtim.tv_nsec,
                                                          (long long)st.st_ino};

        snprintf(etag, sizeof(etag), "W/\"%016llx\"", (unsigned long long)hash64(&id, sizeof(id)));
    }
    status = etag_matches(mg_get_header(conn, "If-None-Match"), etag) ? 304 : 200;
    now = time(NULL);
    gmtime_r(&now, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    sb_reserve(&b, 768 + (size_t)st.st_size);
    sb_printf(&b, "HTTP/1.1 %d %s\r\nDate: %s\r\n", status, status == 200 ? "OK" : "Not Modified",
              date);
    if (status == 200)
        sb_printf(&b, "Content-Type: %s\r\nContent-Length: %lld\r\n", ctype,
                  (long long)st.st_size);
    sb_printf(&b, "ETag: %s\r\nCache-Control: no-cache\r\n" SECURITY_HEADERS "\r\n", etag);
    if (status == 200 && !head)
        sb_append(&b, data, (size_t)st.st_size);
    *bytes = status == 200 && !head ? (size_t)st.st_size : 0;
    free(data);
    if (b.oom) {
        sb_free(&b);
        return 0;    /* the API path answers, with its own out-of-memory handling */
    }
    mg_write(conn, b.data, b.len);
    sb_free(&b);
    return status;
}
