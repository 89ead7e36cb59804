/*
 * The continuous-TS streamer. Every viewer shares the channel's one ffmpeg: a viewer
 * is only a position (the next segment number and an offset in it) plus one buffer.
 * One h2o_send is in flight at a time and the next chunk is read in the proceed
 * callback, so a slow client slows only its own reads; one that falls more than a
 * few segments behind the live edge skips to the newest segment instead of
 * queueing data without bound.
 *
 * A viewer that hangs up frees its tuner at once: h2o does not read an HTTP/1
 * connection while a response is in progress, so a stream watches its socket itself
 * between sends, and ends when the client's side closes.
 *
 * Reads are plain read(2) on the loop: the segments were written seconds ago and
 * sit in the page cache, and a 64 KiB copy from it takes microseconds.
 */
#include "stream.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "channel.h"
#include "hls.h"
#include "log.h"
#include "reply.h"
#include "station.h"
#include "util.h"

#define CHUNK (188 * 348) /* whole TS packets, about 64 KiB */
#define MAX_LAG 4         /* segments a viewer may trail the live edge */

typedef struct ts_stream {
    h2o_generator_t gen; /* first: h2o hands this pointer back */
    h2o_req_t *req;
    station_t *st;
    char *number;
    long long next_seq;
    int fd;
    int started;
    hls_waiter_t waiter;
    h2o_socket_t *sock;  /* the client's HTTP/1 socket, watched for hang-up; or NULL */
    int in_flight;       /* an h2o_send is outstanding (proceed will follow) */
    int gone;            /* the client hung up */
    struct ts_stream *next_active;
    char buf[CHUNK];
} ts_stream_t;

static int active;
static ts_stream_t *streams; /* every live stream, to map a socket back to its stream */

int stream_active_count(void)
{
    return active;
}

static void stream_free(ts_stream_t *s)
{
    for (ts_stream_t **p = &streams; *p != NULL; p = &(*p)->next_active)
        if (*p == s) {
            *p = s->next_active;
            break;
        }
    hls_window_unwait(&s->waiter);
    if (s->fd >= 0)
        close(s->fd);
    free(s->number);
    free(s);
    active--;
}

static void send_next(ts_stream_t *s);

static void on_segment(hls_waiter_t *w)
{
    ts_stream_t *s = (ts_stream_t *)((char *)w - offsetof(ts_stream_t, waiter));
    send_next(s);
}

static void finish(ts_stream_t *s)
{
    h2o_req_t *req = s->req;
    stream_free(s);
    h2o_send(req, NULL, 0, H2O_SEND_STATE_FINAL);
}

/* Opens the segment to send next, or registers to wait for it. 1 when open. */
static int open_next(ts_stream_t *s, channel_t *ch)
{
    hls_window_t *w = channel_hls(ch);
    for (;;) {
        const hls_segment_t *newest = hls_window_newest(w);
        if (newest == NULL || s->next_seq > newest->seq) {
            hls_window_wait(w, &s->waiter);
            return 0;
        }
        const hls_segment_t *seg = hls_window_find(w, s->next_seq);
        if (seg == NULL || seg->retired_at > 0 || newest->seq - s->next_seq > MAX_LAG) {
            if (s->started)
                log_debug(s->number, "a viewer fell behind; skipping to segment %lld", newest->seq);
            s->next_seq = newest->seq;
            seg = newest;
        }
        char name[64];
        hls_segment_name(seg->seq, name, sizeof(name));
        char *path = xasprintf("%s/%s", w->dir, name);
        s->fd = open(path, O_RDONLY | O_CLOEXEC);
        free(path);
        if (s->fd >= 0)
            return 1;
        s->next_seq++;
    }
}

static void send_next(ts_stream_t *s)
{
    if (s->gone) {
        finish(s);
        return;
    }
    channel_t *ch = station_find_channel(s->st, s->number);
    if (ch == NULL) {
        finish(s); /* the channel was removed from the configuration */
        return;
    }
    for (;;) {
        if (s->fd < 0 && !open_next(s, ch))
            return; /* woken by on_segment when the next segment is published */
        ssize_t n = read(s->fd, s->buf, sizeof(s->buf));
        if (n > 0) {
            s->started = 1;
            h2o_iovec_t vec = h2o_iovec_init(s->buf, (size_t)n);
            s->in_flight = 1;
            h2o_send(s->req, &vec, 1, H2O_SEND_STATE_IN_PROGRESS);
            return;
        }
        if (n < 0 && errno == EINTR)
            continue;
        close(s->fd);
        s->fd = -1;
        s->next_seq++;
    }
}

static void on_proceed(h2o_generator_t *gen, h2o_req_t *req)
{
    ((ts_stream_t *)gen)->in_flight = 0;
    send_next((ts_stream_t *)gen);
}

/* Reading the socket only notices a hang-up; any bytes (a pipelined request) stay in
   h2o's buffer for the connection to parse once this response is over. When the
   response ends, h2o takes the socket's read callback back. */
static void on_client_read(h2o_socket_t *sock, const char *err)
{
    if (err == NULL)
        return;
    h2o_socket_read_stop(sock);
    for (ts_stream_t *s = streams; s != NULL; s = s->next_active)
        if (s->sock == sock) {
            s->gone = 1;
            s->sock = NULL;
            if (!s->in_flight)
                finish(s); /* waiting for a segment: end now, not at the next send */
            return;
        }
}

static void on_stop(h2o_generator_t *gen, h2o_req_t *req)
{
    stream_free((ts_stream_t *)gen);
}

void stream_start(h2o_req_t *req, station_t *st, const char *number)
{
    channel_t *ch = station_find_channel(st, number);
    const hls_segment_t *newest = hls_window_newest(channel_hls(ch));
    req->res.status = 200;
    req->res.reason = "OK";
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
                   H2O_STRLIT("video/mp2t"));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL,
                   H2O_STRLIT("no-cache"));
    if (h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD"))) {
        req->res.content_length = 0;
        h2o_send_inline(req, "", 0);
        return;
    }
    /* Each continuous stream holds a tuner, as on a real HDHomeRun; Plex reads 503
       with this error as "all tuners in use" and tells the viewer so. */
    int tuners = station_config(st)->tuner.count;
    if (active >= tuners) {
        req->res.headers = (h2o_headers_t){NULL};
        reply_header(req, "x-hdhomerun-error", "805 All Tuners In Use");
        reply_error(req, 503, "all %d tuners are in use", tuners);
        return;
    }
    ts_stream_t *s = xcalloc(1, sizeof(*s));
    active++;
    s->gen.proceed = on_proceed;
    s->gen.stop = on_stop;
    s->req = req;
    s->st = st;
    s->number = xstrdup(number);
    s->fd = -1;
    s->waiter.cb = on_segment;
    s->next_active = streams;
    streams = s;
    if (req->version < 0x200 && req->conn->callbacks->get_socket != NULL) {
        s->sock = req->conn->callbacks->get_socket(req->conn);
        if (s->sock != NULL)
            h2o_socket_read_start(s->sock, on_client_read);
    }
    /* Tune in at the newest complete segment: it begins with a keyframe and is
       already on disk, so the first bytes go out at once. */
    s->next_seq = newest ? newest->seq : channel_hls(ch)->next_seq;
    h2o_start_response(req, &s->gen);
    send_next(s);
}
