/*
 * The blocking HTTP/1.1 client: resolve, connect with a timeout, send one request
 * with "Connection: close", then parse the status line, headers and body (fixed
 * length, chunked or until close). Used from worker threads for Plex's API.
 */
#include "http_client.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util.h"

#ifndef RETROVUE_VERSION
#define RETROVUE_VERSION "dev"
#endif

/* Guards against a server (or something that is not one) sending endless headers. */
#define MAX_LINE 16384
#define MAX_HEADERS 200


/* ---- URL ---- */

typedef struct url_parts {
    char *host;      /* without brackets */
    char *port;      /* "80" when absent */
    char *authority; /* host[:port] as given, for the Host header */
    char *target;    /* "/path?query" */
} url_parts_t;

static void url_dispose(url_parts_t *u)
{
    free(u->host);
    free(u->port);
    free(u->authority);
    free(u->target);
}

static int parse_url(const char *url, url_parts_t *u, char **error)
{
    memset(u, 0, sizeof(*u));
    if (strncasecmp(url, "https://", 8) == 0)
        return util_fail(error, -EPROTONOSUPPORT,
                    "%s: https is not supported (plain http only, for servers on the LAN)", url);
    if (strncasecmp(url, "http://", 7) != 0)
        return util_fail(error, -EINVAL, "%s: not an http:// URL", url);
    const char *a = url + 7;
    size_t alen = strcspn(a, "/?#");
    if (alen == 0)
        return util_fail(error, -EINVAL, "%s: no host in URL", url);
    u->authority = xasprintf("%.*s", (int)alen, a);
    const char *hp = u->authority, *colon;
    if (hp[0] == '[') {
        const char *close = strchr(hp, ']');
        if (close == NULL || (close[1] != '\0' && close[1] != ':')) {
            url_dispose(u);
            return util_fail(error, -EINVAL, "%s: bad IPv6 address in URL", url);
        }
        u->host = xasprintf("%.*s", (int)(close - hp - 1), hp + 1);
        colon = close[1] == ':' ? close + 1 : NULL;
    } else {
        colon = strrchr(hp, ':');
        u->host = xasprintf("%.*s", (int)(colon ? (size_t)(colon - hp) : strlen(hp)), hp);
    }
    u->port = xstrdup(colon && colon[1] ? colon + 1 : "80");
    for (const char *p = u->port; *p; p++) {
        if (!isdigit((unsigned char)*p)) {
            url_dispose(u);
            return util_fail(error, -EINVAL, "%s: bad port in URL", url);
        }
    }
    const char *rest = a + alen;
    size_t tlen = strcspn(rest, "#");
    u->target = tlen == 0 ? xstrdup("/")
                          : xasprintf("%s%.*s", rest[0] == '?' ? "/" : "", (int)tlen, rest);
    return 0;
}

/* ---- connecting ---- */

static int wait_fd(int fd, short events, int timeout_ms)
{
    struct pollfd p = {.fd = fd, .events = events};
    for (;;) {
        int n = poll(&p, 1, timeout_ms);
        if (n > 0)
            return 0;
        if (n == 0)
            return -ETIMEDOUT;
        if (errno != EINTR)
            return -errno;
    }
}

/* A non-blocking connect so that an address that never answers (a sleeping NAS, a
   firewall dropping packets) costs timeout_ms rather than the kernel's minutes. */
static int connect_one(const struct addrinfo *ai, int timeout_ms, int *fd_out)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                    ai->ai_protocol);
    if (fd < 0)
        return -errno;
    int rc = 0;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        rc = errno == EINPROGRESS ? wait_fd(fd, POLLOUT, timeout_ms) : -errno;
        if (rc == 0) {
            int soerr = 0;
            socklen_t len = sizeof(soerr);
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
            rc = -soerr;
        }
    }
    if (rc != 0) {
        close(fd);
        return rc;
    }
    *fd_out = fd;
    return 0;
}

static int connect_to(const url_parts_t *u, int timeout_ms, int *fd, char **error)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    int g = getaddrinfo(u->host, u->port, &hints, &res);
    if (g != 0)
        return util_fail(error, -EHOSTUNREACH, "unable to resolve %s: %s", u->host,
                    g == EAI_SYSTEM ? strerror(errno) : gai_strerror(g));
    int rc = -EHOSTUNREACH;
    for (const struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        rc = connect_one(ai, timeout_ms, fd);
        if (rc == 0)
            break;
    }
    freeaddrinfo(res);
    if (rc == -ETIMEDOUT)
        return util_fail(error, rc, "unable to connect to %s: no answer within %d ms", u->authority,
                    timeout_ms);
    if (rc != 0)
        return util_fail(error, rc, "unable to connect to %s: %s", u->authority, strerror(-rc));
    return 0;
}

static int send_all(int fd, const char *data, size_t len, int timeout_ms)
{
    while (len > 0) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                return -errno;
            int rc = wait_fd(fd, POLLOUT, timeout_ms);
            if (rc != 0)
                return rc;
            continue;
        }
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

/* ---- reading ---- */

/* Unread input is data[pos..len); consumed bytes are dropped as the buffer refills. */
typedef struct reader {
    int fd;
    int timeout_ms;
    strbuf_t in;
    size_t pos;
} reader_t;

/* Reads more input; 1 when some arrived, 0 at end of stream, or a negative errno. */
static int fill(reader_t *r)
{
    if (r->pos > 0) {
        size_t left = r->in.len - r->pos;
        memmove(r->in.data, r->in.data + r->pos, left);
        r->in.len = left;
        r->in.data[left] = '\0';
        r->pos = 0;
    }
    char buf[16384];
    for (;;) {
        ssize_t n = recv(r->fd, buf, sizeof(buf), 0);
        if (n > 0) {
            strbuf_append(&r->in, buf, (size_t)n);
            return 1;
        }
        if (n == 0)
            return 0;
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return -errno;
        int rc = wait_fd(r->fd, POLLIN, r->timeout_ms);
        if (rc != 0)
            return rc;
    }
}

/* The next line without its CR LF, NUL-terminated in place; valid until the next read. */
static int read_line(reader_t *r, char **line)
{
    size_t scanned = 0;
    for (;;) {
        char *start = r->in.data ? r->in.data + r->pos : NULL;
        size_t avail = r->in.len - r->pos;
        char *nl = start ? memchr(start + scanned, '\n', avail - scanned) : NULL;
        if (nl != NULL) {
            *nl = '\0';
            if (nl > start && nl[-1] == '\r')
                nl[-1] = '\0';
            *line = start;
            r->pos += (size_t)(nl - start) + 1;
            return 0;
        }
        if (avail > MAX_LINE)
            return -EPROTO;
        scanned = avail;
        int rc = fill(r);
        if (rc <= 0)
            return rc == 0 ? -EPIPE : rc;
    }
}

/* Moves n bytes of input to body. */
static int read_exact(reader_t *r, size_t n, strbuf_t *body)
{
    while (n > 0) {
        size_t avail = r->in.len - r->pos;
        if (avail == 0) {
            int rc = fill(r);
            if (rc <= 0)
                return rc == 0 ? -EPIPE : rc;
            continue;
        }
        size_t take = avail < n ? avail : n;
        strbuf_append(body, r->in.data + r->pos, take);
        r->pos += take;
        n -= take;
    }
    return 0;
}

static int read_to_close(reader_t *r, strbuf_t *body)
{
    for (;;) {
        size_t avail = r->in.len - r->pos;
        if (avail > 0) {
            strbuf_append(body, r->in.data + r->pos, avail);
            r->pos += avail;
        }
        if (body->len > HTTP_GET_MAX_BODY)
            return -EFBIG;
        int rc = fill(r);
        if (rc <= 0)
            return rc;
    }
}

/* chunk = size-in-hex [;extension] CRLF data CRLF ... 0 CRLF [trailers] CRLF */
static int read_chunked(reader_t *r, strbuf_t *body)
{
    for (;;) {
        char *line;
        int rc = read_line(r, &line);
        if (rc != 0)
            return rc;
        char *end;
        errno = 0;
        unsigned long long size = strtoull(line, &end, 16);
        if (end == line || errno != 0 || (*end != '\0' && *end != ';' && *end != ' ' &&
                                          *end != '\t'))
            return -EPROTO;
        if (size == 0)
            break;
        if (size > HTTP_GET_MAX_BODY || body->len + size > HTTP_GET_MAX_BODY)
            return -EFBIG;
        rc = read_exact(r, (size_t)size, body);
        if (rc == 0)
            rc = read_line(r, &line);
        if (rc != 0)
            return rc;
        if (line[0] != '\0')
            return -EPROTO;
    }
    for (;;) { /* trailers, which nothing here needs */
        char *line;
        int rc = read_line(r, &line);
        if (rc != 0)
            return rc;
        if (line[0] == '\0')
            return 0;
    }
}

static int parse_status(const char *line, http_response_t *res)
{
    int major, minor, status, n = 0;
    if (sscanf(line, "HTTP/%d.%d %3d%n", &major, &minor, &status, &n) != 3 || major != 1 ||
        status < 100 || status > 999)
        return -EPROTO;
    const char *reason = line + n;
    while (*reason == ' ')
        reason++;
    free(res->reason);
    res->reason = xstrdup(reason);
    res->status = status;
    return 0;
}

static int read_headers(reader_t *r, http_response_t *res)
{
    for (;;) {
        char *line;
        int rc = read_line(r, &line);
        if (rc != 0)
            return rc;
        if (line[0] == '\0')
            return 0;
        char *colon = strchr(line, ':');
        if (colon == NULL || colon == line || res->n_headers >= MAX_HEADERS)
            return -EPROTO;
        char *v = colon + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        size_t vl = strlen(v);
        while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
            vl--;
        res->headers = xrealloc(res->headers, (res->n_headers + 1) * sizeof(*res->headers));
        res->headers[res->n_headers++] = (http_header_t){
            xasprintf("%.*s", (int)(colon - line), line), xasprintf("%.*s", (int)vl, v)};
    }
}

static void clear_headers(http_response_t *res)
{
    for (size_t i = 0; i < res->n_headers; i++) {
        free(res->headers[i].name);
        free(res->headers[i].value);
    }
    free(res->headers);
    res->headers = NULL;
    res->n_headers = 0;
}

static int has_token(const char *list, const char *token)
{
    size_t tl = strlen(token);
    for (const char *p = list; p && *p;) {
        while (*p == ' ' || *p == ',' || *p == '\t')
            p++;
        size_t n = strcspn(p, ",");
        size_t m = n;
        while (m > 0 && (p[m - 1] == ' ' || p[m - 1] == '\t'))
            m--;
        if (m == tl && strncasecmp(p, token, tl) == 0)
            return 1;
        p += n;
    }
    return 0;
}

static int read_body(reader_t *r, http_response_t *res, strbuf_t *body)
{
    if (res->status == 204 || res->status == 304)
        return 0;
    if (has_token(http_response_header(res, "Transfer-Encoding"), "chunked"))
        return read_chunked(r, body);
    const char *cl = http_response_header(res, "Content-Length");
    if (cl == NULL)
        return read_to_close(r, body);
    char *end;
    errno = 0;
    unsigned long long n = strtoull(cl, &end, 10);
    if (end == cl || *end != '\0' || errno != 0 || cl[0] == '-')
        return -EPROTO;
    if (n > HTTP_GET_MAX_BODY)
        return -EFBIG;
    return read_exact(r, (size_t)n, body);
}

static int read_response(reader_t *r, http_response_t *res)
{
    for (;;) {
        char *line;
        int rc = read_line(r, &line);
        if (rc == 0)
            rc = parse_status(line, res);
        if (rc == 0)
            rc = read_headers(r, res);
        if (rc != 0)
            return rc;
        if (res->status >= 200 || res->status == 101)
            break;
        clear_headers(res); /* an interim 100 Continue: the real answer follows */
    }
    strbuf_t body;
    strbuf_init(&body);
    int rc = read_body(r, res, &body);
    res->body_len = body.len;
    res->body = strbuf_steal(&body);
    return rc;
}

static char *request_text(const char *method, const url_parts_t *u, const char *const *headers)
{
    strbuf_t sb;
    strbuf_init(&sb);
    strbuf_printf(&sb,
                  "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: Retrovue/%s\r\n"
                  "Connection: close\r\n",
                  method, u->target, u->authority, RETROVUE_VERSION);
    /* A bodiless POST still says so: some servers wait for a body otherwise. */
    if (strcmp(method, "GET") != 0)
        strbuf_puts(&sb, "Content-Length: 0\r\n");
    for (size_t i = 0; headers != NULL && headers[i] != NULL && headers[i + 1] != NULL; i += 2)
        strbuf_printf(&sb, "%s: %s\r\n", headers[i], headers[i + 1]);
    strbuf_puts(&sb, "\r\n");
    return strbuf_steal(&sb);
}

static int transfer_error(char **error, int rc, const url_parts_t *u, int timeout_ms)
{
    switch (rc) {
    case -ETIMEDOUT:
        return util_fail(error, rc, "%s stopped answering (nothing for %d ms)", u->authority,
                    timeout_ms);
    case -EPIPE:
        return util_fail(error, -EPROTO, "%s closed the connection in the middle of the response",
                    u->authority);
    case -EPROTO:
        return util_fail(error, rc, "%s sent a malformed HTTP response", u->authority);
    case -EFBIG:
        return util_fail(error, rc, "%s sent a response larger than %zu MiB", u->authority,
                    HTTP_GET_MAX_BODY >> 20);
    default:
        return util_fail(error, rc, "error talking to %s: %s", u->authority, strerror(-rc));
    }
}

int http_get(const char *url, const char *const *headers, int timeout_ms, http_response_t *out,
             char **error)
{
    return http_request("GET", url, headers, timeout_ms, out, error);
}

int http_request(const char *method, const char *url, const char *const *headers,
                 int timeout_ms, http_response_t *out, char **error)
{
    memset(out, 0, sizeof(*out));
    if (error != NULL)
        *error = NULL;
    url_parts_t u;
    int rc = parse_url(url, &u, error);
    if (rc != 0)
        return rc;
    /* A line break in a value (a token pasted with its newline) would split the request. */
    for (size_t i = 0; headers != NULL && headers[i] != NULL && headers[i + 1] != NULL; i += 2) {
        if (strpbrk(headers[i], "\r\n:") != NULL || strpbrk(headers[i + 1], "\r\n") != NULL) {
            url_dispose(&u);
            return util_fail(error, -EINVAL, "request header %s holds a line break", headers[i]);
        }
    }
    int fd = -1;
    rc = connect_to(&u, timeout_ms, &fd, error);
    if (rc == 0) {
        char *req = request_text(method, &u, headers);
        rc = send_all(fd, req, strlen(req), timeout_ms);
        free(req);
        reader_t r = {.fd = fd, .timeout_ms = timeout_ms};
        strbuf_init(&r.in);
        if (rc == 0)
            rc = read_response(&r, out);
        strbuf_dispose(&r.in);
        close(fd);
        if (rc != 0)
            rc = transfer_error(error, rc, &u, timeout_ms);
    }
    url_dispose(&u);
    if (rc != 0)
        http_response_dispose(out);
    return rc;
}

const char *http_response_header(const http_response_t *res, const char *name)
{
    for (size_t i = 0; i < res->n_headers; i++)
        if (strcasecmp(res->headers[i].name, name) == 0)
            return res->headers[i].value;
    return NULL;
}

void http_response_dispose(http_response_t *res)
{
    clear_headers(res);
    free(res->reason);
    free(res->body);
    memset(res, 0, sizeof(*res));
}
