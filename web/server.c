/*
 * h2o on the station's loop: listeners, routing, and the small handlers. Routes are
 * matched on the normalised path by hand; there are few of them and each is a
 * clear prefix or suffix. Nothing from a request path reaches the filesystem
 * except a segment name that parses as one and is in the channel's window.
 */
#include "server.h"

#include <errno.h>
#include <h2o.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "api_assets.h"
#include "channel.h"
#include "hdhr.h"
#include "log.h"
#include "reply.h"
#include "station.h"
#include "stream.h"
#include "util.h"
#include "xmltv.h"

typedef struct listener {
    uv_tcp_t tcp;
    h2o_accept_ctx_t accept;
    web_server_t *ws;
} listener_t;

struct web_server {
    station_t *st;
    h2o_globalconf_t public_conf, feed_conf;
    h2o_context_t public_ctx, feed_ctx;
    listener_t *public_listener, *feed_listener;
    int public_port, feed_port;
    char *ui_dir; /* the management page's static files, or NULL */
};

typedef struct handler {
    h2o_handler_t super;
    web_server_t *ws;
} handler_t;

static int is_get(h2o_req_t *req)
{
    return h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET")) ||
           h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD"));
}

/* Copies the path (without query) into buf; -1 when too long. */
static int path_of(h2o_req_t *req, char *buf, size_t size)
{
    h2o_iovec_t p = req->path_normalized;
    if (p.len >= size)
        return -1;
    memcpy(buf, p.base, p.len);
    buf[p.len] = '\0';
    return 0;
}

static void serve_playlist(h2o_req_t *req, channel_t *ch)
{
    hls_window_t *w = channel_hls(ch);
    if (hls_window_newest(w) == NULL) {
        reply_header(req, "retry-after", "2");
        reply_error(req, 503, "channel %s is not on the air yet", channel_number(ch));
        return;
    }
    strbuf_t sb;
    strbuf_init(&sb);
    hls_window_render(w, &sb);
    reply_text(req, 200, "application/vnd.apple.mpegurl", "no-cache", sb.data, sb.len);
    strbuf_dispose(&sb);
}

static void serve_segment(h2o_req_t *req, channel_t *ch, const char *name)
{
    long long seq;
    hls_window_t *w = channel_hls(ch);
    if (hls_segment_parse(name, &seq) != 0 || hls_window_find(w, seq) == NULL) {
        reply_error(req, 404, "no segment %s on channel %s", name, channel_number(ch));
        return;
    }
    char *path = xasprintf("%s/%s", w->dir, name);
    /* A segment never changes once published (new content gets a new number). */
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL,
                   H2O_STRLIT("public, max-age=31536000, immutable"));
    int rc = h2o_file_send(req, 200, "OK", path, h2o_iovec_init(H2O_STRLIT("video/mp2t")), 0);
    free(path);
    if (rc != 0) {
        req->res.headers = (h2o_headers_t){NULL};
        reply_error(req, 404, "segment %s of channel %s has expired", name, channel_number(ch));
    }
}

/* The page's files live beside the binary in a source tree (build/../web/ui), or
   where an install put them; RETROVUE_UI_DIR overrides both. */
static char *find_ui_dir(void)
{
    const char *env = getenv("RETROVUE_UI_DIR");
    if (env != NULL && *env)
        return xstrdup(env);
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash != NULL) {
            *slash = '\0';
            char *dir = xasprintf("%s/../web/ui", exe);
            char *index = xasprintf("%s/index.html", dir);
            int ok = util_file_readable(index);
            free(index);
            if (ok)
                return dir;
            free(dir);
        }
    }
    const char *installed[] = {RETROVUE_SOURCE_UI_DIR, "/usr/local/share/retrovue/ui",
                               "/usr/share/retrovue/ui"};
    for (size_t i = 0; i < 3; i++) {
        char *index = xasprintf("%s/index.html", installed[i]);
        int ok = util_file_readable(index);
        free(index);
        if (ok)
            return xstrdup(installed[i]);
    }
    return NULL;
}

/* "/" and "/ui/NAME.EXT": only plain names with a known type, so no request path
   can walk out of the page's directory. */
static void serve_ui(h2o_req_t *req, web_server_t *ws, const char *name)
{
    static const struct {
        const char *ext, *type;
    } types[] = {{".html", "text/html; charset=utf-8"},
                 {".css", "text/css; charset=utf-8"},
                 {".js", "text/javascript; charset=utf-8"},
                 {".svg", "image/svg+xml"},
                 {".png", "image/png"}};
    const char *type = NULL;
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot != NULL && i < sizeof(types) / sizeof(types[0]); i++)
        if (strcmp(dot, types[i].ext) == 0)
            type = types[i].type;
    int plain = strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-_.") == strlen(name) &&
                name[0] != '.';
    if (ws->ui_dir == NULL || type == NULL || !plain) {
        reply_error(req, 404, "not found: /ui/%s", name);
        return;
    }
    char *path = xasprintf("%s/%s", ws->ui_dir, name);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL,
                   H2O_STRLIT("no-cache"));
    int rc = h2o_file_send(req, 200, "OK", path, h2o_iovec_init(type, strlen(type)), 0);
    free(path);
    if (rc != 0) {
        req->res.headers = (h2o_headers_t){NULL};
        reply_error(req, 404, "not found: /ui/%s", name);
    }
}

/* "/channel/1.m3u8", "/channel/1.ts", "/channel/1/seg000000042.ts" */
static void route_channel(h2o_req_t *req, web_server_t *ws, const char *rest)
{
    char number[32];
    size_t n = strcspn(rest, "/");
    const char *tail = rest + n;
    if (*tail == '\0') {
        const char *dot = strrchr(rest, '.');
        if (dot == NULL || (size_t)(dot - rest) >= sizeof(number)) {
            reply_error(req, 404, "no such stream; use /channel/N.m3u8 or /channel/N.ts");
            return;
        }
        /* Channel numbers contain dots ("5.1"), so the suffix is found from the end. */
        memcpy(number, rest, (size_t)(dot - rest));
        number[dot - rest] = '\0';
        channel_t *ch = station_find_channel(ws->st, number);
        if (ch == NULL) {
            reply_error(req, 404, "no channel %s", number);
        } else if (strcmp(dot, ".m3u8") == 0) {
            serve_playlist(req, ch);
        } else if (strcmp(dot, ".ts") == 0) {
            stream_start(req, ws->st, number);
        } else {
            reply_error(req, 404, "no such stream; use /channel/%s.m3u8 or /channel/%s.ts", number,
                        number);
        }
        return;
    }
    if (n >= sizeof(number)) {
        reply_error(req, 404, "no such channel");
        return;
    }
    memcpy(number, rest, n);
    number[n] = '\0';
    channel_t *ch = station_find_channel(ws->st, number);
    if (ch == NULL)
        reply_error(req, 404, "no channel %s", number);
    else if (strchr(tail + 1, '/') != NULL)
        reply_error(req, 404, "not found");
    else
        serve_segment(req, ch, tail + 1);
}

static int on_public_req(h2o_handler_t *self, h2o_req_t *req)
{
    web_server_t *ws = ((handler_t *)self)->ws;
    char path[512];
    if (path_of(req, path, sizeof(path)) != 0) {
        reply_error(req, 404, "not found");
        return 0;
    }
    if (api_assets_handle(req, ws->st, path) || api_handle(req, ws->st, path) ||
        hdhr_handle(req, ws->st, path))
        return 0;
    if (!is_get(req)) {
        reply_header(req, "allow", "GET, HEAD");
        reply_error(req, 405, "method not allowed");
        return 0;
    }
    if (strcmp(path, "/") == 0) {
        serve_ui(req, ws, "index.html");
    } else if (strncmp(path, "/ui/", 4) == 0) {
        serve_ui(req, ws, path + 4);
    } else if (strcmp(path, "/xmltv.xml") == 0) {
        xmltv_serve(req, ws->st);
    } else if (strncmp(path, "/channel/", 9) == 0) {
        route_channel(req, ws, path + 9);
    } else if (strncmp(path, "/auto/v", 7) == 0) {
        if (station_find_channel(ws->st, path + 7) == NULL)
            reply_error(req, 404, "no channel %s", path + 7);
        else
            stream_start(req, ws->st, path + 7);
    } else {
        reply_error(req, 404, "not found: %s", path);
    }
    return 0;
}

static int on_feed_req(h2o_handler_t *self, h2o_req_t *req)
{
    web_server_t *ws = ((handler_t *)self)->ws;
    char path[512];
    if (path_of(req, path, sizeof(path)) != 0 || strncmp(path, "/internal/next/", 15) != 0) {
        reply_error(req, 404, "not found");
        return 0;
    }
    channel_t *ch = station_find_channel(ws->st, path + 15);
    if (ch == NULL) {
        reply_error(req, 404, "no channel %s", path + 15);
        return 0;
    }
    strbuf_t sb;
    strbuf_init(&sb);
    int rc = channel_feed_answer(ch, &sb);
    if (rc != 0) {
        strbuf_dispose(&sb);
        /* Either way ffmpeg's concat input ends there and ffmpeg exits; the channel
           knows which it was. */
        if (rc == -EAGAIN)
            reply_error(req, 404, "channel %s: this run ends here", path + 15);
        else
            reply_error(req, 503, "channel %s has nothing to air", path + 15);
        return 0;
    }
    reply_text(req, 200, "text/plain; charset=utf-8", "no-store", sb.data, sb.len);
    strbuf_dispose(&sb);
    return 0;
}

static void on_accept(uv_stream_t *server, int status)
{
    listener_t *l = server->data;
    if (status != 0)
        return;
    uv_tcp_t *conn = xmalloc(sizeof(*conn));
    uv_tcp_init(server->loop, conn);
    if (uv_accept(server, (uv_stream_t *)conn) != 0) {
        uv_close((uv_handle_t *)conn, (uv_close_cb)free);
        return;
    }
    uv_tcp_nodelay(conn, 1);
    h2o_socket_t *sock = h2o_uv_socket_create((uv_stream_t *)conn, (uv_close_cb)free);
    h2o_accept(&l->accept, sock);
}

static void setup_conf(web_server_t *ws, h2o_globalconf_t *conf,
                       int (*on_req)(h2o_handler_t *, h2o_req_t *))
{
    h2o_config_init(conf);
    /* Idle keep-alive connections are closed after a while, but a stream being read
       slowly is not: what limits memory there is the one-send-in-flight rule. */
    conf->server_name = h2o_iovec_init(H2O_STRLIT("retrovue/" RETROVUE_VERSION));
    h2o_hostconf_t *host = h2o_config_register_host(conf, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *path = h2o_config_register_path(host, "/", 0);
    handler_t *h = (handler_t *)h2o_create_handler(path, sizeof(*h));
    h->super.on_req = on_req;
    h->ws = ws;
}

static int listen_on(web_server_t *ws, h2o_context_t *ctx, h2o_globalconf_t *conf, const char *host,
                     int port, listener_t **out, int *bound_port)
{
    struct sockaddr_in addr;
    int rc = uv_ip4_addr(host, port, &addr);
    if (rc != 0)
        return rc;
    listener_t *l = xcalloc(1, sizeof(*l));
    l->ws = ws;
    l->accept.ctx = ctx;
    l->accept.hosts = conf->hosts;
    uv_tcp_init(ctx->loop, &l->tcp);
    l->tcp.data = l;
    if ((rc = uv_tcp_bind(&l->tcp, (struct sockaddr *)&addr, 0)) != 0 ||
        (rc = uv_listen((uv_stream_t *)&l->tcp, 128, on_accept)) != 0) {
        uv_close((uv_handle_t *)&l->tcp, (uv_close_cb)free);
        return rc;
    }
    struct sockaddr_storage ss;
    int len = sizeof(ss);
    uv_tcp_getsockname(&l->tcp, (struct sockaddr *)&ss, &len);
    *bound_port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    *out = l;
    return 0;
}

int web_start(uv_loop_t *loop, station_t *st, const char *host, int port, web_server_t **out)
{
    web_server_t *ws = xcalloc(1, sizeof(*ws));
    ws->st = st;
    ws->ui_dir = find_ui_dir();
    if (ws->ui_dir == NULL)
        log_warn(NULL, "the management page's files were not found; set RETROVUE_UI_DIR");
    setup_conf(ws, &ws->public_conf, on_public_req);
    setup_conf(ws, &ws->feed_conf, on_feed_req);
    h2o_context_init(&ws->public_ctx, loop, &ws->public_conf);
    h2o_context_init(&ws->feed_ctx, loop, &ws->feed_conf);
    int rc = listen_on(ws, &ws->feed_ctx, &ws->feed_conf, "127.0.0.1", 0, &ws->feed_listener,
                       &ws->feed_port);
    if (rc != 0) {
        log_error(NULL, "unable to listen on 127.0.0.1 for the internal feed: %s", uv_strerror(rc));
        *out = ws;
        return rc;
    }
    const char *h = host && *host ? host : "0.0.0.0";
    rc = listen_on(ws, &ws->public_ctx, &ws->public_conf, h, port, &ws->public_listener,
                   &ws->public_port);
    if (rc != 0) {
        log_error(NULL, "unable to listen on %s:%d: %s", h, port, uv_strerror(rc));
        *out = ws;
        return rc;
    }
    log_info(NULL, "listening on http://%s:%d/ (internal feed on 127.0.0.1:%d)", h, ws->public_port,
             ws->feed_port);
    *out = ws;
    return 0;
}

int web_feed_port(const web_server_t *ws)
{
    return ws->feed_port;
}

int web_public_port(const web_server_t *ws)
{
    return ws->public_port;
}

static void close_listener(listener_t *l)
{
    if (l != NULL && !uv_is_closing((uv_handle_t *)&l->tcp))
        uv_close((uv_handle_t *)&l->tcp, (uv_close_cb)free);
}

void web_stop(web_server_t *ws)
{
    if (ws == NULL)
        return;
    close_listener(ws->public_listener);
    ws->public_listener = NULL;
    h2o_context_request_shutdown(&ws->public_ctx);
}

void web_stop_feed(web_server_t *ws)
{
    close_listener(ws->feed_listener);
    ws->feed_listener = NULL;
}
