/*
 * Reading the schedule back: the item airing at an instant (with filler standing in
 * for a missing file), the coarse and fine logs over a range, and one local day of
 * either printed as a table or as JSON for `retrovue schedule` and the API.
 */
#include "schedule.h"

#include <cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static char *col_text(sqlite3_stmt *st, int i)
{
    const unsigned char *s = sqlite3_column_text(st, i);
    return s != NULL ? xstrdup((const char *)s) : NULL;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

void schedule_item_dispose(sched_item_t *it)
{
    if (it == NULL)
        return;
    free(it->kind);
    free(it->path);
    free(it->title);
    memset(it, 0, sizeof(*it));
}

void schedule_items_free(sched_item_t *items, size_t n)
{
    for (size_t i = 0; i < n; i++)
        schedule_item_dispose(&items[i]);
    free(items);
}

void schedule_slots_free(sched_slot_t *slots, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(slots[i].kind);
        free(slots[i].block);
        free(slots[i].series);
        free(slots[i].title);
        free(slots[i].path);
    }
    free(slots);
}

#define FINE_COLS                                                                            \
    "SELECT f.start, f.end, f.slot_start, f.kind, a.path, f.inpoint, f.outpoint, f.title"    \
    " FROM fine_log f JOIN sched_assets a ON a.id = f.asset"

static void read_item(sqlite3_stmt *st, sched_item_t *it)
{
    memset(it, 0, sizeof(*it));
    it->start = sqlite3_column_int64(st, 0);
    it->end = sqlite3_column_int64(st, 1);
    it->slot_start = sqlite3_column_int64(st, 2);
    it->kind = col_text(st, 3);
    it->path = col_text(st, 4);
    it->inpoint = sqlite3_column_int64(st, 5);
    it->outpoint = sqlite3_column_int64(st, 6);
    it->title = col_text(st, 7);
}

static int prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st)
{
    if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK) {
        log_error(NULL, "schedule: %s", sqlite3_errmsg(db));
        return -EIO;
    }
    return 0;
}

int schedule_item_at(sqlite3 *db, const sched_channel_t *ch, sched_ms_t t,
                     int (*exists)(const char *path), sched_item_t *out)
{
    sqlite3_stmt *st;
    if (prepare(db, FINE_COLS " WHERE f.channel = ? AND f.start <= ? ORDER BY f.start DESC LIMIT 1",
                &st) != 0)
        return -EIO;
    sqlite3_bind_text(st, 1, ch->channel, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, t);
    int rc = -ENOENT;
    if (sqlite3_step(st) == SQLITE_ROW) {
        read_item(st, out);
        rc = out->end > t ? 0 : -ENOENT;
        if (rc != 0)
            schedule_item_dispose(out);
    }
    sqlite3_finalize(st);
    if (rc != 0 || exists == NULL || (out->path[0] != '\0' && exists(out->path)))
        return rc;
    /* The file is gone: filler of the same length keeps the slot on the clock. Each
     * answer is at most one filler clip; the caller asks again at its end. */
    const sched_set_t *pool = ch->breaks.filler;
    for (size_t i = 0; pool != NULL && i < pool->n_assets; i++) {
        const sched_asset_t *f = pool->assets[i];
        if (f->duration <= 0 || !exists(f->path))
            continue;
        sched_ms_t in = (t - out->start) % f->duration;
        sched_ms_t len = f->duration - in;
        if (len > out->end - t)
            len = out->end - t;
        log_debug(ch->channel, "schedule: %s is missing; filler airs instead",
                 out->path[0] ? out->path : "(no file)");
        free(out->path);
        free(out->kind);
        out->path = xstrdup(f->path);
        out->kind = xstrdup("filler");
        out->start = t;
        out->end = t + len;
        out->inpoint = in;
        out->outpoint = in + len;
        out->substituted = 1;
        return 0;
    }
    schedule_item_dispose(out);
    return -ENOENT;
}

/* Start of the first row overlapping a (rows tile time, so it is the last start <= a). */
static sched_ms_t first_start(sqlite3 *db, const char *sql, const char *channel, sched_ms_t a)
{
    sqlite3_stmt *st;
    sched_ms_t s = a;
    if (prepare(db, sql, &st) != 0)
        return s;
    sqlite3_bind_text(st, 1, channel, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, a);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
        s = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return s;
}

int schedule_fine_range(sqlite3 *db, const char *channel, sched_ms_t a, sched_ms_t b,
                        sched_item_t **items, size_t *n)
{
    *items = NULL;
    *n = 0;
    sched_ms_t s = first_start(db, "SELECT MAX(start) FROM fine_log WHERE channel = ? AND start <= ?",
                               channel, a);
    sqlite3_stmt *st;
    if (prepare(db,
                FINE_COLS " WHERE f.channel = ? AND f.start >= ? AND f.start < ? AND f.end > ?"
                          " ORDER BY f.start",
                &st) != 0)
        return -EIO;
    sqlite3_bind_text(st, 1, channel, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, s);
    sqlite3_bind_int64(st, 3, b);
    sqlite3_bind_int64(st, 4, a);
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 64;
            *items = xrealloc(*items, cap * sizeof(**items));
        }
        read_item(st, &(*items)[(*n)++]);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -EIO;
}

int schedule_coarse_range(sqlite3 *db, const char *channel, sched_ms_t a, sched_ms_t b,
                          sched_slot_t **slots, size_t *n)
{
    *slots = NULL;
    *n = 0;
    sched_ms_t s = first_start(
        db, "SELECT MAX(slot_start) FROM coarse_log WHERE channel = ? AND slot_start <= ?", channel,
        a);
    sqlite3_stmt *st;
    if (prepare(db,
                "SELECT slot_start, slot_end, kind, block, series, title, path, season, episode"
                " FROM coarse_log WHERE channel = ? AND slot_start >= ? AND slot_start < ?"
                " AND slot_end > ? ORDER BY slot_start",
                &st) != 0)
        return -EIO;
    sqlite3_bind_text(st, 1, channel, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, s);
    sqlite3_bind_int64(st, 3, b);
    sqlite3_bind_int64(st, 4, a);
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 64;
            *slots = xrealloc(*slots, cap * sizeof(**slots));
        }
        sched_slot_t *e = &(*slots)[(*n)++];
        e->start = sqlite3_column_int64(st, 0);
        e->end = sqlite3_column_int64(st, 1);
        e->kind = col_text(st, 2);
        e->block = col_text(st, 3);
        e->series = col_text(st, 4);
        e->title = col_text(st, 5);
        e->path = col_text(st, 6);
        e->season = sqlite3_column_int(st, 7);
        e->episode = sqlite3_column_int(st, 8);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -EIO;
}

sched_ms_t schedule_built_until(sqlite3 *db, const char *channel)
{
    return first_start(db, "SELECT built_until FROM schedule_state WHERE channel = ? AND ?2 = ?2",
                       channel, 0);
}

int schedule_parse_date(const char *s, int64_t *day)
{
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (s == NULL || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return -EINVAL;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return -EINVAL;
    int y = atoi(s), m = atoi(s + 5), d = atoi(s + 8);
    if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
        return -EINVAL;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (m == 2 && d == 29 && !leap)
        return -EINVAL;
    *day = tz_days_from_civil(y, m, d);
    return 0;
}

/* Local date and time with the UTC offset, so DST days read unambiguously. */
static void format_local_full(const tz_t *tz, sched_ms_t t, bool date, char *buf, size_t size)
{
    int64_t s = floor_div(t, 1000);
    int ms = (int)(t - s * 1000);
    int32_t off = tz ? tz_utc_offset(tz, s) : 0;
    int64_t l = s + off;
    int64_t day = floor_div(l, 86400);
    int sod = (int)(l - day * 86400);
    int y, m, d;
    tz_civil_from_days(day, &y, &m, &d);
    char zone[16];
    int aoff = off < 0 ? -off : off;
    snprintf(zone, sizeof(zone), "%c%02d:%02d", off < 0 ? '-' : '+', aoff / 3600, aoff / 60 % 60);
    if (date)
        snprintf(buf, size, "%04d-%02d-%02d %02d:%02d:%02d.%03d%s", y, m, d, sod / 3600,
                 sod / 60 % 60, sod % 60, ms, zone);
    else
        snprintf(buf, size, "%02d:%02d:%02d.%03d%s", sod / 3600, sod / 60 % 60, sod % 60, ms, zone);
}

void schedule_format_local(const tz_t *tz, sched_ms_t t, char *buf, size_t size)
{
    format_local_full(tz, t, true, buf, size);
}

static void format_len(sched_ms_t d, char *buf, size_t size)
{
    snprintf(buf, size, "%" PRId64 ":%02d:%02d.%03d", d / 3600000, (int)(d / 60000 % 60),
             (int)(d / 1000 % 60), (int)(d % 1000));
}

static void iso_utc(sched_ms_t t, char *buf, size_t size)
{
    util_format_iso8601((double)t / 1000.0, buf, size);
}

static const char *base_name(const char *path)
{
    const char *b = path ? strrchr(path, '/') : NULL;
    return b ? b + 1 : path ? path : "";
}

int schedule_print(sqlite3 *db, const sched_channel_t *ch, const char *date, int flags,
                   strbuf_t *out)
{
    int64_t day;
    if (schedule_parse_date(date, &day) != 0)
        return -EINVAL;
    sched_ms_t a = tz_local_to_utc(ch->tz, day * 86400) * 1000;
    sched_ms_t b = tz_local_to_utc(ch->tz, (day + 1) * 86400) * 1000;
    bool fine = flags & SCHED_PRINT_FINE, json = flags & SCHED_PRINT_JSON;
    sched_item_t *items = NULL;
    sched_slot_t *slots = NULL;
    size_t n = 0;
    int rc = fine ? schedule_fine_range(db, ch->channel, a, b, &items, &n)
                  : schedule_coarse_range(db, ch->channel, a, b, &slots, &n);
    if (rc != 0)
        return rc;
    char s1[48], s2[48], len[32];
    if (json) {
        cJSON *root = cJSON_CreateObject();
        cJSON_AddStringToObject(root, "channel", ch->channel);
        cJSON_AddStringToObject(root, "date", date);
        cJSON_AddStringToObject(root, "timezone", tz_name(ch->tz));
        cJSON_AddStringToObject(root, "log", fine ? "fine" : "coarse");
        cJSON *arr = cJSON_AddArrayToObject(root, fine ? "items" : "slots");
        for (size_t i = 0; i < n; i++) {
            cJSON *o = cJSON_CreateObject();
            sched_ms_t st = fine ? items[i].start : slots[i].start;
            sched_ms_t en = fine ? items[i].end : slots[i].end;
            iso_utc(st, s1, sizeof(s1));
            iso_utc(en, s2, sizeof(s2));
            cJSON_AddStringToObject(o, "start", s1);
            cJSON_AddStringToObject(o, "end", s2);
            schedule_format_local(ch->tz, st, s1, sizeof(s1));
            cJSON_AddStringToObject(o, "local_start", s1);
            cJSON_AddNumberToObject(o, "duration", (double)(en - st) / 1000.0);
            if (fine) {
                cJSON_AddStringToObject(o, "kind", items[i].kind);
                cJSON_AddStringToObject(o, "path", items[i].path);
                cJSON_AddNumberToObject(o, "inpoint", (double)items[i].inpoint / 1000.0);
                cJSON_AddNumberToObject(o, "outpoint", (double)items[i].outpoint / 1000.0);
                if (items[i].title)
                    cJSON_AddStringToObject(o, "title", items[i].title);
            } else {
                cJSON_AddStringToObject(o, "kind", slots[i].kind);
                if (slots[i].title)
                    cJSON_AddStringToObject(o, "title", slots[i].title);
                if (slots[i].series)
                    cJSON_AddStringToObject(o, "series", slots[i].series);
                if (slots[i].block)
                    cJSON_AddStringToObject(o, "block", slots[i].block);
                if (slots[i].path)
                    cJSON_AddStringToObject(o, "path", slots[i].path);
                if (slots[i].episode > 0) {
                    cJSON_AddNumberToObject(o, "season", slots[i].season);
                    cJSON_AddNumberToObject(o, "episode", slots[i].episode);
                }
            }
            cJSON_AddItemToArray(arr, o);
        }
        char *text = cJSON_Print(root);
        strbuf_puts(out, text);
        strbuf_puts(out, "\n");
        free(text);
        cJSON_Delete(root);
    } else {
        strbuf_printf(out, "# channel %s, %s (%s), %s log, %zu %s\n", ch->channel, date,
                      tz_name(ch->tz), fine ? "fine" : "coarse", n, fine ? "items" : "entries");
        if (fine)
            strbuf_printf(out, "%-19s  %-19s  %-12s  %-10s  %10s  %10s  %s\n", "START", "END",
                          "LENGTH", "KIND", "IN", "OUT", "TITLE / FILE");
        else
            strbuf_printf(out, "%-19s  %-19s  %-12s  %-8s  %s\n", "START", "END", "LENGTH",
                          "KIND", "TITLE");
        for (size_t i = 0; i < n; i++) {
            sched_ms_t st = fine ? items[i].start : slots[i].start;
            sched_ms_t en = fine ? items[i].end : slots[i].end;
            format_local_full(ch->tz, st, false, s1, sizeof(s1));
            format_local_full(ch->tz, en, false, s2, sizeof(s2));
            format_len(en - st, len, sizeof(len));
            if (fine)
                strbuf_printf(out, "%-19s  %-19s  %-12s  %-10s  %10.3f  %10.3f  %s\n", s1, s2,
                              len, items[i].kind, (double)items[i].inpoint / 1000.0,
                              (double)items[i].outpoint / 1000.0,
                              items[i].title ? items[i].title : base_name(items[i].path));
            else
                strbuf_printf(out, "%-19s  %-19s  %-12s  %-8s  %s%s%s%s\n", s1, s2, len,
                              slots[i].kind, slots[i].title ? slots[i].title : "",
                              slots[i].series ? "  [" : "", slots[i].series ? slots[i].series : "",
                              slots[i].series ? "]" : "");
        }
    }
    schedule_items_free(items, fine ? n : 0);
    schedule_slots_free(slots, fine ? 0 : n);
    return 0;
}
