/*
 * Building replies. Bodies are copied into the request's pool because h2o may send
 * them after the handler returns; Content-Length is set so nothing goes chunked.
 */
#include "reply.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static const char *reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Status";
    }
}

void reply_header(h2o_req_t *req, const char *name, const char *value)
{
    h2o_add_header_by_str(&req->pool, &req->res.headers, name, strlen(name), 1, NULL,
                          h2o_strdup(&req->pool, value, SIZE_MAX).base, strlen(value));
}

void reply_text(h2o_req_t *req, int status, const char *type, const char *cache, const char *body,
                size_t len)
{
    req->res.status = status;
    req->res.reason = reason(status);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, type, strlen(type));
    if (cache != NULL)
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, cache,
                       strlen(cache));
    req->res.content_length = len;
    h2o_iovec_t copy = h2o_strdup(&req->pool, body, len);
    h2o_send_inline(req, copy.base, len);
}

void reply_json(h2o_req_t *req, int status, cJSON *doc)
{
    char *text = cJSON_PrintUnformatted(doc);
    cJSON_Delete(doc);
    if (text == NULL) {
        fprintf(stderr, "retrovue: out of memory formatting JSON\n");
        abort();
    }
    strbuf_t sb;
    strbuf_init(&sb);
    strbuf_puts(&sb, text);
    strbuf_puts(&sb, "\n");
    free(text);
    reply_text(req, status, "application/json; charset=utf-8", "no-cache", sb.data, sb.len);
    strbuf_dispose(&sb);
}

void reply_error(h2o_req_t *req, int status, const char *fmt, ...)
{
    strbuf_t sb;
    strbuf_init(&sb);
    va_list ap;
    va_start(ap, fmt);
    strbuf_vprintf(&sb, fmt, ap);
    va_end(ap);
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "error", sb.data ? sb.data : "");
    cJSON_AddNumberToObject(doc, "status", status);
    strbuf_dispose(&sb);
    reply_json(req, status, doc);
}

/* A Host header is echoed into documents other programs parse, so only the characters
 * a host[:port] can hold are accepted; anything else falls back to the socket address. */
static int host_is_plain(h2o_iovec_t h)
{
    if (h.len == 0 || h.len > 255)
        return 0;
    for (size_t i = 0; i < h.len; i++) {
        char c = h.base[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == ':' || c == '[' || c == ']' || c == '_'))
            return 0;
    }
    return 1;
}

const char *reply_base_url(h2o_req_t *req, const char *configured)
{
    if (configured != NULL)
        return configured;
    if (host_is_plain(req->authority)) {
        char *s = h2o_mem_alloc_pool(&req->pool, req->authority.len + 8);
        memcpy(s, "http://", 7);
        memcpy(s + 7, req->authority.base, req->authority.len);
        s[7 + req->authority.len] = '\0';
        return s;
    }
    struct sockaddr_storage ss;
    char host[INET6_ADDRSTRLEN] = "127.0.0.1";
    int port = 8080;
    socklen_t len = req->conn->callbacks->get_sockname(req->conn, (struct sockaddr *)&ss);
    if (len > 0 && ss.ss_family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
        port = ntohs(in->sin_port);
    }
    char *s = h2o_mem_alloc_pool(&req->pool, 64);
    snprintf(s, 64, "http://%s:%d", host, port);
    return s;
}

/* %XX and '+' (a space in a form-encoded query); a NUL byte or a broken escape is
   kept as written, so a value can never be cut short by its own contents. */
static void percent_decode(const char *s, size_t n, char *buf, size_t size)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 1 < size; i++) {
        int hi, lo;
        if (s[i] == '%' && i + 2 < n && (hi = util_hex_value(s[i + 1])) >= 0 &&
            (lo = util_hex_value(s[i + 2])) >= 0 && (hi || lo)) {
            buf[o++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            buf[o++] = s[i] == '+' ? ' ' : s[i];
        }
    }
    buf[o] = '\0';
}

void reply_query_param(h2o_req_t *req, const char *name, char *buf, size_t size)
{
    buf[0] = '\0';
    if (req->query_at == SIZE_MAX)
        return;
    const char *q = req->path.base + req->query_at + 1;
    size_t qlen = req->path.len - req->query_at - 1, nlen = strlen(name);
    for (size_t i = 0; i < qlen;) {
        size_t end = i;
        while (end < qlen && q[end] != '&')
            end++;
        if (end - i > nlen && memcmp(q + i, name, nlen) == 0 && q[i + nlen] == '=') {
            percent_decode(q + i + nlen + 1, end - i - nlen - 1, buf, size);
            return;
        }
        i = end + 1;
    }
}

int reply_may_write(h2o_req_t *req, const char *token)
{
    if (token != NULL) {
        ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, -1);
        size_t n = strlen(token);
        if (i >= 0) {
            h2o_iovec_t v = req->headers.entries[i].value;
            if (v.len == 7 + n && memcmp(v.base, "Bearer ", 7) == 0 &&
                memcmp(v.base + 7, token, n) == 0)
                return 1;
        }
        reply_header(req, "www-authenticate", "Bearer realm=\"retrovue\"");
        reply_error(req, 401, "this request changes the station; send Authorization: Bearer "
                              "<server.api_token>");
        return 0;
    }
    struct sockaddr_storage ss;
    socklen_t len = req->conn->callbacks->get_peername(req->conn, (struct sockaddr *)&ss);
    if (len > 0 && ss.ss_family == AF_INET &&
        (ntohl(((struct sockaddr_in *)&ss)->sin_addr.s_addr) >> 24) == 127)
        return 1;
    reply_error(req, 403, "changes are accepted only from this machine unless server.api_token "
                          "is set");
    return 0;
}
