/*
 * JSON API handlers. Documents are built with cJSON and sent whole; they are small
 * (one entry per channel). Times are ISO 8601 UTC strings plus epoch seconds, so
 * both people and scripts can read them.
 */
#include "api.h"

#include <string.h>

#include "channel.h"
#include "clock.h"
#include "reply.h"
#include "station.h"
#include "stream.h"
#include "util.h"

static void add_time(cJSON *obj, const char *key, double t)
{
    char buf[40];
    util_format_iso8601(t, buf, sizeof(buf));
    cJSON_AddStringToObject(obj, key, buf);
}

static cJSON *item_json(const playout_item_t *it, double start, double end)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "title", it->title);
    cJSON_AddStringToObject(o, "path", it->path);
    add_time(o, "start", start);
    add_time(o, "end", end);
    cJSON_AddNumberToObject(o, "duration", it->duration);
    return o;
}

static cJSON *channel_json(channel_t *ch)
{
    channel_status_t s;
    channel_get_status(ch, &s);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "number", s.number);
    cJSON_AddStringToObject(o, "name", s.name);
    cJSON_AddStringToObject(o, "state", channel_state_name(s.state));
    cJSON_AddStringToObject(o, "mode", s.copy ? "copy" : "live");
    cJSON_AddNumberToObject(o, "restarts", s.restarts);
    char *url = xasprintf("/channel/%s.m3u8", s.number);
    cJSON_AddStringToObject(o, "hls", url);
    free(url);
    url = xasprintf("/channel/%s.ts", s.number);
    cJSON_AddStringToObject(o, "ts", url);
    free(url);
    if (s.now != NULL) {
        cJSON_AddItemToObject(o, "now", item_json(s.now, s.now_start, s.now_end));
        cJSON_AddItemToObject(o, "next", item_json(s.next, s.now_end, s.now_end + s.next->duration));
    } else {
        cJSON_AddNullToObject(o, "now");
        cJSON_AddNullToObject(o, "next");
    }
    const hls_segment_t *seg = hls_window_newest(channel_hls(ch));
    cJSON_AddNumberToObject(o, "newest_segment", seg ? (double)seg->seq : -1);
    return o;
}

static int is_get(h2o_req_t *req)
{
    return h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET")) ||
           h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD"));
}

int api_handle(h2o_req_t *req, station_t *st, const char *path)
{
    if (strcmp(path, "/healthz") != 0 && strncmp(path, "/api/", 5) != 0)
        return 0;
    if (!is_get(req)) {
        reply_header(req, "allow", "GET, HEAD");
        reply_error(req, 405, "method not allowed");
        return 1;
    }
    if (strcmp(path, "/healthz") == 0) {
        /* Healthy when every channel is airing or on its way; a channel stuck in
           backoff or with no playable media makes the station unhealthy. */
        size_t n = station_channel_count(st), on_air = 0, bad = 0;
        cJSON *doc = cJSON_CreateObject();
        cJSON *problems = cJSON_CreateArray();
        for (size_t i = 0; i < n; i++) {
            channel_status_t s;
            channel_get_status(station_channel_at(st, i), &s);
            if (s.state == CHANNEL_ON_AIR)
                on_air++;
            else if (s.state != CHANNEL_STARTING && s.state != CHANNEL_PREPARING) {
                bad++;
                char *msg = xasprintf("channel %s is %s", s.number, channel_state_name(s.state));
                cJSON_AddItemToArray(problems, cJSON_CreateString(msg));
                free(msg);
            }
        }
        int ok = n > 0 && bad == 0;
        cJSON_AddStringToObject(doc, "status", ok ? "ok" : "unhealthy");
        cJSON_AddNumberToObject(doc, "channels", (double)n);
        cJSON_AddNumberToObject(doc, "on_air", (double)on_air);
        cJSON_AddNumberToObject(doc, "streams", stream_active_count());
        add_time(doc, "time", clock_now());
        cJSON_AddItemToObject(doc, "problems", problems);
        reply_json(req, ok ? 200 : 503, doc);
        return 1;
    }
    if (strcmp(path, "/api/channels") == 0 || strcmp(path, "/api/channels/") == 0) {
        cJSON *arr = cJSON_CreateArray();
        for (size_t i = 0; i < station_channel_count(st); i++)
            cJSON_AddItemToArray(arr, channel_json(station_channel_at(st, i)));
        reply_json(req, 200, arr);
        return 1;
    }
    if (strncmp(path, "/api/channels/", 14) == 0) {
        channel_t *ch = station_find_channel(st, path + 14);
        if (ch == NULL)
            reply_error(req, 404, "no channel %s", path + 14);
        else
            reply_json(req, 200, channel_json(ch));
        return 1;
    }
    reply_error(req, 404, "no API route %s", path);
    return 1;
}
