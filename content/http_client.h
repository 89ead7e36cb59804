/*
 * A small blocking HTTP/1.1 client for servers on the LAN (Plex's API): GET, and
 * bodiless POST for Plex's commands. Plain http only: no TLS, no proxies, no
 * redirects, one connection per request. Bodies with Content-Length, chunked, or
 * delimited by the server closing the connection.
 */
#ifndef RV_HTTP_CLIENT_H
#define RV_HTTP_CLIENT_H

#include <stddef.h>

/** One response header. */
typedef struct http_header {
    char *name;
    char *value;
} http_header_t;

/** A response: status, headers in arrival order, and the decoded body. */
typedef struct http_response {
    int status;             /* 200, 401, ... */
    char *reason;           /* "OK", "Unauthorized", ... */
    http_header_t *headers;
    size_t n_headers;
    char *body;             /* de-chunked, NUL-terminated, never NULL after success */
    size_t body_len;
} http_response_t;

/** Largest body accepted; a bigger one fails with -EFBIG. */
#define HTTP_GET_MAX_BODY ((size_t)256 << 20)

/**
 * GETs url ("http://host[:port]/path?query"; IPv6 hosts in brackets) with extra request
 * headers given as a NULL-terminated list of name, value pairs (or NULL). timeout_ms
 * bounds the connect and every wait for the server (not the whole transfer, so a large
 * body on a slow link still arrives). Any HTTP
 * status is a success here: the caller looks at out->status. Returns 0, or a negative
 * errno with *error (if error is not NULL) set to a one-line reason the caller frees:
 * -EINVAL bad URL, -EPROTONOSUPPORT https, -EHOSTUNREACH name not resolved,
 * -ECONNREFUSED, -ETIMEDOUT, -EPROTO malformed response, -EFBIG, other socket errors.
 * Blocking: call it off the event loop.
 */
int http_get(const char *url, const char *const *headers, int timeout_ms, http_response_t *out,
             char **error);

/** As http_get, with another method ("POST", "DELETE"; not HEAD); the request has no body. */
int http_request(const char *method, const char *url, const char *const *headers,
                 int timeout_ms, http_response_t *out, char **error);

/** The value of the first response header with that name (any case), or NULL. */
const char *http_response_header(const http_response_t *res, const char *name);

/** Frees the response and leaves it empty. */
void http_response_dispose(http_response_t *res);

#endif
