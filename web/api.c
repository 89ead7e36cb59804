/*
 * JSON API handlers. Documents are built with cJSON and sent whole; they are small
 * (one entry per channel). Times are ISO 8601 UTC strings plus epoch seconds, so
 * both people and scripts can read them.
 */
#include "api.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "channel.h"
#include "clock.h"
#include "config.h"
#include "schedule.h"
#include "reply.h"
#include "station.h"
#include "stream.h"
#include "util.h"
#include "xmltv.h"

static void add_time(cJSON *obj, const char *key, double t)
{
    char buf[40];
    util_format_iso8601(t, buf, sizeof(buf));
    cJSON_AddStringToObject(obj, key, buf);
}

static cJSON *airing_json(const char *title, const char *path, double start, double end)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "title", title ? title : "");
    if (path != NULL)
        cJSON_AddStringToObject(o, "path", path);
    add_time(o, "start", start);
    add_time(o, "end", end);
    cJSON_AddNumberToObject(o, "duration", end - start);
    return o;
}

/* The program on air as the guide shows it (xmltv.c decides, so the two agree). */
static cJSON *program_json(station_t *st, const char *number)
{
    const channel_conf_t *conf = config_find_channel(station_config(st), number);
    xmltv_programme_t p;
    if (conf == NULL ||
        xmltv_programme_at(station_db(st), station_config(st), conf, clock_now(), &p) != 0)
        return cJSON_CreateNull();
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "title", p.title);
    if (p.sub_title != NULL)
        cJSON_AddStringToObject(o, "sub_title", p.sub_title);
    cJSON_AddStringToObject(o, "kind", p.kind);
    add_time(o, "start", p.start);
    add_time(o, "end", p.stop);
    xmltv_programme_dispose(&p);
    return o;
}

static cJSON *channel_json(station_t *st, channel_t *ch)
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
    cJSON_AddStringToObject(o, "programming", s.scheduled ? "schedule" : "playlist");
    if (s.now_title != NULL)
        cJSON_AddItemToObject(o, "now", airing_json(s.now_title, s.now_path, s.now_start, s.now_end));
    else
        cJSON_AddNullToObject(o, "now");
    if (s.next_title != NULL)
        cJSON_AddItemToObject(o, "next", airing_json(s.next_title, s.next_path, s.next_start, s.next_end));
    else
        cJSON_AddNullToObject(o, "next");
    cJSON_AddItemToObject(o, "program", program_json(st, s.number));
    const hls_segment_t *seg = hls_window_newest(channel_hls(ch));
    cJSON_AddNumberToObject(o, "newest_segment", seg ? (double)seg->seq : -1);
    return o;
}


/* A time window from ?date=YYYY-MM-DD (the channel's local day, via the printer) or
   ?hours=H from now (default 24, at most 24 * 31). */
static void window(h2o_req_t *req, sched_ms_t *a, sched_ms_t *b)
{
    char hours[16];
    reply_query_param(req, "hours", hours, sizeof(hours));
    double h = hours[0] ? strtod(hours, NULL) : 24;
    if (!(h > 0) || h > 24 * 31)
        h = 24;
    *a = (sched_ms_t)(clock_now() * 1000);
    *b = *a + (sched_ms_t)(h * 3600 * 1000);
}

/* /api/channels/N/schedule (coarse log) and /api/channels/N/log (fine log). */
static void channel_logs(h2o_req_t *req, station_t *st, const char *rest)
{
    char number[32];
    size_t n = strcspn(rest, "/");
    if (n >= sizeof(number)) {
        reply_error(req, 404, "no such channel");
        return;
    }
    memcpy(number, rest, n);
    number[n] = '\0';
    const char *what = rest + n + 1;
    const config_t *cfg = station_config(st);
    const channel_conf_t *conf = config_find_channel(cfg, number);
    if (conf == NULL || station_find_channel(st, number) == NULL) {
        reply_error(req, 404, "no channel %s", number);
        return;
    }
    int fine = strcmp(what, "log") == 0;
    if (!fine && strcmp(what, "schedule") != 0) {
        reply_error(req, 404, "no API route /api/channels/%s/%s; try schedule or log", number, what);
        return;
    }
    if (conf->schedule == NULL) {
        reply_error(req, 404, "channel %s plays a looping playlist and has no schedule", number);
        return;
    }
    char date[16];
    reply_query_param(req, "date", date, sizeof(date));
    if (date[0]) {
        strbuf_t sb;
        strbuf_init(&sb);
        int rc = schedule_print(station_db(st), conf->schedule, date,
                                (fine ? SCHED_PRINT_FINE : 0) | SCHED_PRINT_JSON, &sb);
        if (rc == -EINVAL)
            reply_error(req, 400, "date=%s: expected YYYY-MM-DD", date);
        else if (rc != 0)
            reply_error(req, 500, "unable to read the schedule");
        else
            reply_text(req, 200, "application/json; charset=utf-8", "no-cache", sb.data, sb.len);
        strbuf_dispose(&sb);
        return;
    }
    sched_ms_t a, b;
    window(req, &a, &b);
    cJSON *arr = cJSON_CreateArray();
    if (fine) {
        sched_item_t *items = NULL;
        size_t count = 0;
        schedule_fine_range(station_db(st), number, a, b, &items, &count);
        for (size_t i = 0; i < count; i++) {
            cJSON *o = cJSON_CreateObject();
            add_time(o, "start", (double)items[i].start / 1000.0);
            add_time(o, "end", (double)items[i].end / 1000.0);
            cJSON_AddStringToObject(o, "kind", items[i].kind ? items[i].kind : "");
            cJSON_AddStringToObject(o, "title", items[i].title ? items[i].title : "");
            cJSON_AddStringToObject(o, "path", items[i].path ? items[i].path : "");
            cJSON_AddNumberToObject(o, "inpoint", (double)items[i].inpoint / 1000.0);
            cJSON_AddNumberToObject(o, "outpoint", (double)items[i].outpoint / 1000.0);
            cJSON_AddItemToArray(arr, o);
        }
        schedule_items_free(items, count);
    } else {
        sched_slot_t *slots = NULL;
        size_t count = 0;
        schedule_coarse_range(station_db(st), number, a, b, &slots, &count);
        for (size_t i = 0; i < count; i++) {
            cJSON *o = cJSON_CreateObject();
            add_time(o, "start", (double)slots[i].start / 1000.0);
            add_time(o, "end", (double)slots[i].end / 1000.0);
            cJSON_AddStringToObject(o, "kind", slots[i].kind ? slots[i].kind : "");
            cJSON_AddStringToObject(o, "title", slots[i].title ? slots[i].title : "");
            if (slots[i].series)
                cJSON_AddStringToObject(o, "series", slots[i].series);
            if (slots[i].season > 0) {
                cJSON_AddNumberToObject(o, "season", slots[i].season);
                cJSON_AddNumberToObject(o, "episode", slots[i].episode);
            }
            if (slots[i].path)
                cJSON_AddStringToObject(o, "path", slots[i].path);
            cJSON_AddItemToArray(arr, o);
        }
        schedule_slots_free(slots, count);
    }
    reply_json(req, 200, arr);
}

/* /api/asrun[?channel=N][&limit=K]: what actually aired, newest first. */
static void as_run(h2o_req_t *req, station_t *st)
{
    char channel[32], limit_s[16];
    reply_query_param(req, "channel", channel, sizeof(channel));
    reply_query_param(req, "limit", limit_s, sizeof(limit_s));
    int limit = limit_s[0] ? atoi(limit_s) : 100;
    if (limit <= 0 || limit > 10000)
        limit = 100;
    sqlite3_stmt *stmt;
    if (sqlite3_prepare_v2(station_db(st),
                           "SELECT channel, path, scheduled_start, actual_start, inpoint, duration,"
                           " note FROM as_run WHERE (?1 = '' OR channel = ?1)"
                           " ORDER BY id DESC LIMIT ?2",
                           -1, &stmt, NULL) != SQLITE_OK) {
        reply_error(req, 500, "unable to read the as-run log");
        return;
    }
    sqlite3_bind_text(stmt, 1, channel, -1, SQLITE_STATIC);
    sqlite3_bind_int(stmt, 2, limit);
    cJSON *arr = cJSON_CreateArray();
    while (sqlite3_step(stmt) == SQLITE_ROW) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "channel", (const char *)sqlite3_column_text(stmt, 0));
        cJSON_AddStringToObject(o, "path", (const char *)sqlite3_column_text(stmt, 1));
        add_time(o, "scheduled_start", sqlite3_column_double(stmt, 2));
        add_time(o, "actual_start", sqlite3_column_double(stmt, 3));
        add_time(o, "actual_end", sqlite3_column_double(stmt, 3) + sqlite3_column_double(stmt, 5));
        cJSON_AddNumberToObject(o, "inpoint", sqlite3_column_double(stmt, 4));
        cJSON_AddNumberToObject(o, "duration", sqlite3_column_double(stmt, 5));
        const unsigned char *note = sqlite3_column_text(stmt, 6);
        if (note != NULL)
            cJSON_AddStringToObject(o, "note", (const char *)note);
        cJSON_AddItemToArray(arr, o);
    }
    sqlite3_finalize(stmt);
    reply_json(req, 200, arr);
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
        cJSON_AddStringToObject(doc, "library", station_library_state(st));
        add_time(doc, "time", clock_now());
        cJSON_AddItemToObject(doc, "problems", problems);
        reply_json(req, ok ? 200 : 503, doc);
        return 1;
    }
    if (strcmp(path, "/api/channels") == 0 || strcmp(path, "/api/channels/") == 0) {
        cJSON *arr = cJSON_CreateArray();
        for (size_t i = 0; i < station_channel_count(st); i++)
            cJSON_AddItemToArray(arr, channel_json(st, station_channel_at(st, i)));
        reply_json(req, 200, arr);
        return 1;
    }
    if (strncmp(path, "/api/channels/", 14) == 0 && strchr(path + 14, '/') != NULL) {
        channel_logs(req, st, path + 14);
        return 1;
    }
    if (strcmp(path, "/api/asrun") == 0) {
        as_run(req, st);
        return 1;
    }
    if (strncmp(path, "/api/channels/", 14) == 0) {
        channel_t *ch = station_find_channel(st, path + 14);
        if (ch == NULL)
            reply_error(req, 404, "no channel %s", path + 14);
        else
            reply_json(req, 200, channel_json(st, ch));
        return 1;
    }
    reply_error(req, 404, "no API route %s", path);
    return 1;
}
