/*
 * Reading the catalog. An asset's title for people is its metadata (show, season and
 * episode, title) when a sidecar or Plex gave some, else its file name; its state says
 * whether it can air as it is, after conforming, or not at all.
 */
#include "assets.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

/* Columns shared by list and show; keep in step with add_summary. */
#define SUMMARY_COLS                                                                          \
    "a.id, a.path, a.kind, a.root, a.duration, a.error, a.gone_at, a.video_codec, a.width,"   \
    " a.height, a.fps, a.audio_codec, m.show, m.season, m.episode, m.episode_last, m.title,"  \
    " m.year, (SELECT count(*) FROM asset_breaks b WHERE b.asset_id = a.id),"                 \
    " (SELECT state FROM conforms c WHERE c.asset_id = a.id ORDER BY updated_at DESC LIMIT 1)"

static void add_text(cJSON *o, const char *key, sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    if (t != NULL)
        cJSON_AddStringToObject(o, key, (const char *)t);
    else
        cJSON_AddNullToObject(o, key);
}

static void add_int(cJSON *o, const char *key, sqlite3_stmt *st, int col)
{
    if (sqlite3_column_type(st, col) == SQLITE_NULL)
        cJSON_AddNullToObject(o, key);
    else
        cJSON_AddNumberToObject(o, key, (double)sqlite3_column_int64(st, col));
}

static void add_real(cJSON *o, const char *key, sqlite3_stmt *st, int col)
{
    if (sqlite3_column_type(st, col) == SQLITE_NULL)
        cJSON_AddNullToObject(o, key);
    else
        cJSON_AddNumberToObject(o, key, sqlite3_column_double(st, col));
}

/* "Show S01E02-E03 Title", "Movie (1987)", or the file name without its extension. */
static char *display_title(sqlite3_stmt *st)
{
    const char *path = (const char *)sqlite3_column_text(st, 1);
    const char *show = (const char *)sqlite3_column_text(st, 12);
    const char *title = (const char *)sqlite3_column_text(st, 16);
    strbuf_t sb;
    strbuf_init(&sb);
    if (show != NULL) {
        strbuf_puts(&sb, show);
        if (sqlite3_column_type(st, 13) != SQLITE_NULL && sqlite3_column_type(st, 14) != SQLITE_NULL) {
            strbuf_printf(&sb, " S%02dE%02d", sqlite3_column_int(st, 13), sqlite3_column_int(st, 14));
            if (sqlite3_column_type(st, 15) != SQLITE_NULL &&
                sqlite3_column_int(st, 15) != sqlite3_column_int(st, 14))
                strbuf_printf(&sb, "-E%02d", sqlite3_column_int(st, 15));
        }
        if (title != NULL)
            strbuf_printf(&sb, " %s", title);
    } else if (title != NULL) {
        strbuf_puts(&sb, title);
        if (sqlite3_column_type(st, 17) != SQLITE_NULL)
            strbuf_printf(&sb, " (%d)", sqlite3_column_int(st, 17));
    } else {
        const char *slash = strrchr(path, '/');
        const char *name = slash ? slash + 1 : path;
        const char *dot = strrchr(name, '.');
        strbuf_append(&sb, name, dot && dot != name ? (size_t)(dot - name) : strlen(name));
    }
    return strbuf_steal(&sb);
}

/* ok: airs as it is or conformed; conforming; error: cannot air; gone: missing. */
static const char *state_of(sqlite3_stmt *st)
{
    if (sqlite3_column_type(st, 6) != SQLITE_NULL)
        return "gone";
    if (sqlite3_column_type(st, 5) != SQLITE_NULL)
        return "error";
    const char *c = (const char *)sqlite3_column_text(st, 19);
    /* "house": already in the house format, nothing to make. */
    if (c == NULL || strcmp(c, "done") == 0 || strcmp(c, "house") == 0)
        return "ok";
    return strcmp(c, "failed") == 0 ? "conform-failed" : "conforming";
}

static cJSON *summary(sqlite3_stmt *st)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)sqlite3_column_int64(st, 0));
    char *title = display_title(st);
    cJSON_AddStringToObject(o, "title", title);
    free(title);
    add_text(o, "kind", st, 2);
    cJSON_AddStringToObject(o, "state", state_of(st));
    add_real(o, "duration", st, 4);
    add_text(o, "path", st, 1);
    add_text(o, "root", st, 3);
    add_text(o, "error", st, 5);
    add_real(o, "gone_at", st, 6);
    add_int(o, "breaks", st, 18);
    add_text(o, "conform", st, 19);
    return o;
}

/* The WHERE clause and its bindings, shared by the count and the page. */
static void bind_filter(sqlite3_stmt *st, const asset_filter_t *f, char *like)
{
    int i = 1;
    if (f->kind != NULL)
        sqlite3_bind_text(st, i++, f->kind, -1, SQLITE_STATIC);
    if (f->query != NULL) {
        for (int k = 0; k < 3; k++)
            sqlite3_bind_text(st, i++, like, -1, SQLITE_STATIC);
    }
}

static void where_clause(const asset_filter_t *f, strbuf_t *sql)
{
    strbuf_puts(sql, " WHERE a.kind IS NOT NULL");
    if (!f->include_gone)
        strbuf_puts(sql, " AND a.gone_at IS NULL");
    if (f->kind != NULL)
        strbuf_puts(sql, " AND a.kind = ?");
    if (f->query != NULL)
        strbuf_puts(sql, " AND (a.path LIKE ? OR m.show LIKE ? OR m.title LIKE ?)");
}

cJSON *assets_list_json(sqlite3 *db, const asset_filter_t *f)
{
    char *like = f->query ? xasprintf("%%%s%%", f->query) : NULL;
    strbuf_t sql;
    strbuf_init(&sql);
    strbuf_puts(&sql, "SELECT count(*) FROM assets a LEFT JOIN asset_meta m ON m.asset_id = a.id");
    where_clause(f, &sql);
    sqlite3_stmt *st;
    cJSON *doc = NULL;
    if (sqlite3_prepare_v2(db, sql.data, -1, &st, NULL) != SQLITE_OK)
        goto out;
    bind_filter(st, f, like);
    long long total = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);

    strbuf_dispose(&sql);
    strbuf_init(&sql);
    strbuf_puts(&sql, "SELECT " SUMMARY_COLS
                      " FROM assets a LEFT JOIN asset_meta m ON m.asset_id = a.id");
    where_clause(f, &sql);
    strbuf_printf(&sql, " ORDER BY a.kind, coalesce(m.show, m.title, a.path), m.season, m.episode,"
                        " a.path LIMIT %d OFFSET %d",
                  f->limit > 0 ? f->limit : -1, f->offset > 0 ? f->offset : 0);
    if (sqlite3_prepare_v2(db, sql.data, -1, &st, NULL) != SQLITE_OK)
        goto out;
    bind_filter(st, f, like);
    doc = cJSON_CreateObject();
    cJSON_AddNumberToObject(doc, "total", (double)total);
    cJSON *arr = cJSON_AddArrayToObject(doc, "assets");
    while (sqlite3_step(st) == SQLITE_ROW)
        cJSON_AddItemToArray(arr, summary(st));
    sqlite3_finalize(st);
out:
    if (doc == NULL)
        log_error(NULL, "catalog query failed: %s", sqlite3_errmsg(db));
    strbuf_dispose(&sql);
    free(like);
    return doc;
}

static void add_probe(cJSON *o, sqlite3 *db, long long id)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "SELECT size, mtime, format, video_codec, width, height, fps, pix_fmt,"
                           " field_order, sar, dar, audio_codec, audio_rate, audio_channels,"
                           " audio_layout, chapters, start_time, seen_at, breaks_at"
                           " FROM assets WHERE id = ?",
                           -1, &st, NULL) != SQLITE_OK)
        return;
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) == SQLITE_ROW) {
        cJSON *p = cJSON_AddObjectToObject(o, "media");
        static const char *const names[] = {"size", "mtime", "format", "video_codec", "width",
                                            "height", "fps", "pix_fmt", "field_order", "sar",
                                            "dar", "audio_codec", "audio_rate", "audio_channels",
                                            "audio_layout", "chapters", "start_time", "seen_at",
                                            "breaks_at"};
        for (int i = 0; i < (int)(sizeof(names) / sizeof(names[0])); i++) {
            int type = sqlite3_column_type(st, i);
            if (type == SQLITE_TEXT)
                add_text(p, names[i], st, i);
            else if (type == SQLITE_INTEGER)
                add_int(p, names[i], st, i);
            else
                add_real(p, names[i], st, i);
        }
    }
    sqlite3_finalize(st);
}

static void add_meta(cJSON *o, sqlite3 *db, long long id)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "SELECT source, source_ref, show, season, episode, episode_last, title,"
                           " aired, plot, runtime, genre, year, rating FROM asset_meta"
                           " WHERE asset_id = ?",
                           -1, &st, NULL) != SQLITE_OK)
        return;
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) == SQLITE_ROW) {
        cJSON *m = cJSON_AddObjectToObject(o, "metadata");
        add_text(m, "source", st, 0);
        add_text(m, "source_ref", st, 1);
        add_text(m, "show", st, 2);
        add_int(m, "season", st, 3);
        add_int(m, "episode", st, 4);
        add_int(m, "episode_last", st, 5);
        add_text(m, "title", st, 6);
        add_text(m, "aired", st, 7);
        add_text(m, "plot", st, 8);
        add_real(m, "runtime", st, 9);
        add_text(m, "genre", st, 10);
        add_int(m, "year", st, 11);
        add_text(m, "rating", st, 12);
    } else {
        cJSON_AddNullToObject(o, "metadata");
    }
    sqlite3_finalize(st);
}

static void add_breaks(cJSON *o, sqlite3 *db, long long id)
{
    cJSON *arr = cJSON_AddArrayToObject(o, "break_points");
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "SELECT at, source, confidence FROM asset_breaks WHERE asset_id = ?"
                           " ORDER BY at, source",
                           -1, &st, NULL) != SQLITE_OK)
        return;
    sqlite3_bind_int64(st, 1, id);
    while (sqlite3_step(st) == SQLITE_ROW) {
        cJSON *b = cJSON_CreateObject();
        add_real(b, "at", st, 0);
        add_text(b, "source", st, 1);
        add_real(b, "confidence", st, 2);
        cJSON_AddItemToArray(arr, b);
    }
    sqlite3_finalize(st);
}

static void add_conform(cJSON *o, sqlite3 *db, long long id)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "SELECT state, path, house, error, updated_at, keyframes FROM conforms"
                           " WHERE asset_id = ? ORDER BY updated_at DESC LIMIT 1",
                           -1, &st, NULL) != SQLITE_OK)
        return;
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) == SQLITE_ROW) {
        cJSON *c = cJSON_AddObjectToObject(o, "conform");
        add_text(c, "state", st, 0);
        add_text(c, "path", st, 1);
        add_text(c, "house", st, 2);
        add_text(c, "error", st, 3);
        add_real(c, "updated_at", st, 4);
        const char *kf = (const char *)sqlite3_column_text(st, 5);
        cJSON *arr = kf ? cJSON_Parse(kf) : NULL;
        cJSON_AddNumberToObject(c, "keyframes", arr ? cJSON_GetArraySize(arr) : 0);
        cJSON_Delete(arr);
    } else {
        cJSON_AddNullToObject(o, "conform");
    }
    sqlite3_finalize(st);
}

cJSON *assets_show_json(sqlite3 *db, long long id, const char *path)
{
    sqlite3_stmt *st;
    const char *sql = path ? "SELECT " SUMMARY_COLS " FROM assets a LEFT JOIN asset_meta m"
                             " ON m.asset_id = a.id WHERE a.path = ?"
                           : "SELECT " SUMMARY_COLS " FROM assets a LEFT JOIN asset_meta m"
                             " ON m.asset_id = a.id WHERE a.id = ?";
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return NULL;
    if (path)
        sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
    else
        sqlite3_bind_int64(st, 1, id);
    cJSON *o = NULL;
    if (sqlite3_step(st) == SQLITE_ROW) {
        o = summary(st);
        id = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    if (o == NULL)
        return NULL;
    add_probe(o, db, id);
    add_meta(o, db, id);
    add_breaks(o, db, id);
    add_conform(o, db, id);
    return o;
}

static const char *str_or(const cJSON *o, const char *key, const char *fallback)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : fallback;
}

static double num_or(const cJSON *o, const char *key, double fallback)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : fallback;
}

static void format_hms(double s, char *buf, size_t size)
{
    if (s < 0) {
        snprintf(buf, size, "-");
        return;
    }
    unsigned long t = (unsigned long)(s + 0.5);
    snprintf(buf, size, "%lu:%02lu:%02lu", t / 3600, t / 60 % 60, t % 60);
}

void assets_list_text(const cJSON *list, strbuf_t *out)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(list, "assets");
    strbuf_printf(out, "%6s  %-11s  %-14s  %8s  %6s  %s\n", "ID", "KIND", "STATE", "LENGTH",
                  "BREAKS", "TITLE");
    const cJSON *a;
    cJSON_ArrayForEach(a, arr)
    {
        char len[48];
        format_hms(num_or(a, "duration", -1), len, sizeof(len));
        strbuf_printf(out, "%6.0f  %-11s  %-14s  %8s  %6.0f  %s\n", num_or(a, "id", 0),
                      str_or(a, "kind", "-"), str_or(a, "state", "-"), len,
                      num_or(a, "breaks", 0), str_or(a, "title", ""));
    }
    strbuf_printf(out, "%d of %.0f assets\n", cJSON_GetArraySize(arr), num_or(list, "total", 0));
}

void assets_show_text(const cJSON *asset, strbuf_t *out)
{
    char len[48];
    format_hms(num_or(asset, "duration", -1), len, sizeof(len));
    strbuf_printf(out, "%s\n  id %.0f, %s, %s, %s\n  %s\n", str_or(asset, "title", ""),
                  num_or(asset, "id", 0), str_or(asset, "kind", "-"), str_or(asset, "state", "-"),
                  len, str_or(asset, "path", ""));
    if (str_or(asset, "error", NULL))
        strbuf_printf(out, "  error: %s\n", str_or(asset, "error", ""));
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(asset, "media");
    if (cJSON_IsObject(m))
        strbuf_printf(out, "  video: %s %.0fx%.0f %s fps, %s, SAR %s, DAR %s\n"
                           "  audio: %s %.0f Hz, %.0f ch (%s)\n",
                      str_or(m, "video_codec", "none"), num_or(m, "width", 0),
                      num_or(m, "height", 0), str_or(m, "fps", "?"),
                      str_or(m, "field_order", "?"), str_or(m, "sar", "?"), str_or(m, "dar", "?"),
                      str_or(m, "audio_codec", "none"), num_or(m, "audio_rate", 0),
                      num_or(m, "audio_channels", 0), str_or(m, "audio_layout", "?"));
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(asset, "metadata");
    if (cJSON_IsObject(meta)) {
        strbuf_printf(out, "  metadata from %s (%s)\n", str_or(meta, "source", "?"),
                      str_or(meta, "source_ref", "?"));
        static const char *const keys[] = {"show", "title", "aired", "genre", "rating", "plot"};
        for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
            if (str_or(meta, keys[i], NULL))
                strbuf_printf(out, "    %-7s %s\n", keys[i], str_or(meta, keys[i], ""));
        if (num_or(meta, "season", -1) >= 0)
            strbuf_printf(out, "    season  %.0f, episode %.0f\n", num_or(meta, "season", 0),
                          num_or(meta, "episode", 0));
    }
    const cJSON *br = cJSON_GetObjectItemCaseSensitive(asset, "break_points");
    strbuf_printf(out, "  break points: %d\n", cJSON_GetArraySize(br));
    const cJSON *b;
    cJSON_ArrayForEach(b, br)
    {
        char at[48];
        format_hms(num_or(b, "at", 0), at, sizeof(at));
        strbuf_printf(out, "    %s (%.3f s)  %s, confidence %.2f\n", at, num_or(b, "at", 0),
                      str_or(b, "source", "?"), num_or(b, "confidence", 0));
    }
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(asset, "conform");
    if (cJSON_IsObject(c))
        strbuf_printf(out, "  conform: %s%s%s\n", str_or(c, "state", "?"),
                      str_or(c, "path", NULL) ? " -> " : "", str_or(c, "path", ""));
}

/* Checks and replaces, inside the caller's transaction. */
int assets_set_manual_breaks_locked(sqlite3 *db, long long id, const double *at, size_t n,
                                    char *why, size_t why_size)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT duration FROM assets WHERE id = ?", -1, &st, NULL) !=
        SQLITE_OK)
        return -EIO;
    sqlite3_bind_int64(st, 1, id);
    int found = sqlite3_step(st) == SQLITE_ROW;
    double duration = found ? sqlite3_column_double(st, 0) : 0;
    sqlite3_finalize(st);
    if (!found)
        return -ENOENT;
    for (size_t i = 0; i < n; i++) {
        if (!(at[i] > 0) || (duration > 0 && at[i] >= duration)) {
            snprintf(why, why_size, "break point %zu (%.3f s) is not inside the file (0 to %.3f s)",
                     i, at[i], duration);
            return -EINVAL;
        }
        if (i > 0 && at[i] <= at[i - 1]) {
            snprintf(why, why_size, "break points must ascend; %.3f s follows %.3f s", at[i],
                     at[i - 1]);
            return -EINVAL;
        }
    }
    int rc = -EIO;
    if (sqlite3_prepare_v2(db, "DELETE FROM asset_breaks WHERE asset_id = ? AND source = 'manual'",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, id);
        rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
        sqlite3_finalize(st);
    }
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (sqlite3_prepare_v2(db,
                               "INSERT INTO asset_breaks (asset_id, at, source, confidence)"
                               " VALUES (?, ?, 'manual', 1.0)",
                               -1, &st, NULL) != SQLITE_OK)
            return -EIO;
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_double(st, 2, at[i]);
        rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
        sqlite3_finalize(st);
    }
    return rc;
}

int assets_set_manual_breaks(sqlite3 *db, long long id, const double *at, size_t n, char *why,
                             size_t why_size)
{
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return -EIO;
    int rc = assets_set_manual_breaks_locked(db, id, at, n, why, why_size);
    sqlite3_exec(db, rc == 0 ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL);
    return rc;
}
