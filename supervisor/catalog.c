/*
 * The playout side of the catalog: probing (through content/probe.c) and caching the
 * answer by (path, size, mtime), the house-format rule applied to cached rows, and the
 * lookup of conformed copies. Probing blocks, so the server calls it from
 * uv_queue_work and stores the result on the loop thread.
 */
#include "catalog.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "conform.h"
#include "log.h"
#include "probe.h"
#include "util.h"

void asset_dispose(asset_t *a)
{
    free(a->path);
    free(a->format);
    free(a->video_codec);
    free(a->fps);
    free(a->pix_fmt);
    free(a->profile);
    free(a->field_order);
    free(a->audio_codec);
    free(a->error);
    memset(a, 0, sizeof(*a));
}

static char *col_text(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? xstrdup((const char *)t) : NULL;
}

int catalog_get(sqlite3 *db, const char *path, asset_t *out)
{
    struct stat sb;
    if (stat(path, &sb) != 0)
        return -ENOENT;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "SELECT size, mtime, duration, start_time, format, video_codec, width,"
                           " height, fps, has_b_frames, pix_fmt, audio_codec, audio_rate,"
                           " audio_channels, error, profile, field_order, sar FROM assets"
                           " WHERE path = ?",
                           -1, &st, NULL) != SQLITE_OK)
        return -EIO;
    sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
    int rc = -ENOENT;
    if (sqlite3_step(st) == SQLITE_ROW) {
        if (sqlite3_column_int64(st, 0) != (long long)sb.st_size ||
            sqlite3_column_int64(st, 1) != (long long)sb.st_mtime) {
            rc = -ESTALE;
        } else {
            memset(out, 0, sizeof(*out));
            out->path = xstrdup(path);
            out->size = sqlite3_column_int64(st, 0);
            out->mtime = sqlite3_column_int64(st, 1);
            out->duration = sqlite3_column_double(st, 2);
            out->start_time = sqlite3_column_double(st, 3);
            out->format = col_text(st, 4);
            out->video_codec = col_text(st, 5);
            out->width = sqlite3_column_int(st, 6);
            out->height = sqlite3_column_int(st, 7);
            out->fps = col_text(st, 8);
            out->has_b_frames = sqlite3_column_int(st, 9);
            out->pix_fmt = col_text(st, 10);
            out->audio_codec = col_text(st, 11);
            out->audio_rate = sqlite3_column_int(st, 12);
            out->audio_channels = sqlite3_column_int(st, 13);
            out->error = col_text(st, 14);
            out->profile = col_text(st, 15);
            out->field_order = col_text(st, 16);
            const char *sar = (const char *)sqlite3_column_text(st, 17);
            if (sar == NULL || sscanf(sar, "%d:%d", &out->sar_num, &out->sar_den) != 2)
                out->sar_num = out->sar_den = 1;
            rc = 0;
        }
    }
    sqlite3_finalize(st);
    return rc;
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *s)
{
    if (s != NULL)
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

int catalog_store(sqlite3 *db, const asset_t *a)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(
            db,
            "INSERT INTO assets (path, size, mtime, duration, start_time, format, video_codec,"
            " width, height, fps, has_b_frames, pix_fmt, audio_codec, audio_rate, audio_channels,"
            " error, probed_at, profile, field_order, sar)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?, unixepoch('now'), ?,?,?)"
            " ON CONFLICT(path) DO UPDATE SET size=excluded.size, mtime=excluded.mtime,"
            " duration=excluded.duration, start_time=excluded.start_time, format=excluded.format,"
            " video_codec=excluded.video_codec, width=excluded.width, height=excluded.height,"
            " fps=excluded.fps, has_b_frames=excluded.has_b_frames, pix_fmt=excluded.pix_fmt,"
            " audio_codec=excluded.audio_codec, audio_rate=excluded.audio_rate,"
            " audio_channels=excluded.audio_channels, error=excluded.error,"
            " probed_at=excluded.probed_at, profile=excluded.profile,"
            " field_order=excluded.field_order, sar=excluded.sar",
            -1, &st, NULL) != SQLITE_OK) {
        log_error(NULL, "unable to store asset %s: %s", a->path, sqlite3_errmsg(db));
        return -EIO;
    }
    sqlite3_bind_text(st, 1, a->path, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, a->size);
    sqlite3_bind_int64(st, 3, a->mtime);
    sqlite3_bind_double(st, 4, a->duration);
    sqlite3_bind_double(st, 5, a->start_time);
    bind_text_or_null(st, 6, a->format);
    bind_text_or_null(st, 7, a->video_codec);
    sqlite3_bind_int(st, 8, a->width);
    sqlite3_bind_int(st, 9, a->height);
    bind_text_or_null(st, 10, a->fps);
    sqlite3_bind_int(st, 11, a->has_b_frames);
    bind_text_or_null(st, 12, a->pix_fmt);
    bind_text_or_null(st, 13, a->audio_codec);
    sqlite3_bind_int(st, 14, a->audio_rate);
    sqlite3_bind_int(st, 15, a->audio_channels);
    bind_text_or_null(st, 16, a->error);
    bind_text_or_null(st, 17, a->profile);
    bind_text_or_null(st, 18, a->field_order);
    char sar[32];
    snprintf(sar, sizeof(sar), "%d:%d", a->sar_num, a->sar_den);
    sqlite3_bind_text(st, 19, sar, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
    if (rc != 0)
        log_error(NULL, "unable to store asset %s: %s", a->path, sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return rc;
}

static char *dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

/* The catalog keeps what playout needs of content/probe.c's answer. */
int catalog_probe(const char *ffprobe, const char *path, asset_t *a)
{
    memset(a, 0, sizeof(*a));
    a->path = xstrdup(path);
    struct stat sb;
    if (stat(path, &sb) == 0) {
        a->size = (long long)sb.st_size;
        a->mtime = (long long)sb.st_mtime;
    }
    probe_t p;
    int rc = probe_file(ffprobe, path, &p);
    if (rc == 0 && !p.has_video) {
        p.error = xstrdup("no video stream");
        rc = -EINVAL;
    }
    if (rc != 0) {
        a->error = xstrdup(p.error ? p.error : "unreadable");
        probe_dispose(&p);
        return rc;
    }
    a->duration = p.duration;
    a->start_time = p.start_time;
    a->format = dup_or_null(p.format);
    a->video_codec = dup_or_null(p.video.codec);
    a->width = p.video.width;
    a->height = p.video.height;
    a->fps = xasprintf("%d/%d", p.video.fps_num, p.video.fps_den);
    a->has_b_frames = p.video.has_b_frames;
    a->pix_fmt = dup_or_null(p.video.pix_fmt);
    a->profile = dup_or_null(p.video.profile);
    a->field_order = xstrdup(probe_field_order_name(p.video.field_order));
    a->sar_num = p.video.sar_num;
    a->sar_den = p.video.sar_den;
    if (p.has_audio) {
        a->audio_codec = dup_or_null(p.audio.codec);
        a->audio_rate = p.audio.sample_rate;
        a->audio_channels = p.audio.channels;
    }
    probe_dispose(&p);
    return 0;
}

static enum probe_field_order field_order_of(const char *name)
{
    static const char *const names[] = {"unknown", "progressive", "tt", "bb", "tb", "bt"};
    for (int i = 0; name != NULL && i < 6; i++)
        if (strcmp(name, names[i]) == 0)
            return (enum probe_field_order)i;
    /* Rows probed before field order was recorded: the house rule needs an answer, and
       those files were accepted as progressive then. */
    return PROBE_FIELD_PROGRESSIVE;
}

int catalog_is_house(const asset_t *a, const house_format_t *h, const char **why)
{
    probe_t p;
    memset(&p, 0, sizeof(p));
    p.format = a->format;
    p.has_video = a->video_codec != NULL;
    p.video.codec = a->video_codec;
    p.video.profile = a->profile ? a->profile : (char *)"Main";
    p.video.width = a->width;
    p.video.height = a->height;
    if (a->fps == NULL || sscanf(a->fps, "%d/%d", &p.video.fps_num, &p.video.fps_den) != 2)
        p.video.fps_num = p.video.fps_den = 0;
    p.video.has_b_frames = a->has_b_frames;
    p.video.pix_fmt = a->pix_fmt;
    p.video.sar_num = a->sar_num ? a->sar_num : 1;
    p.video.sar_den = a->sar_den ? a->sar_den : 1;
    p.video.field_order = field_order_of(a->field_order);
    p.has_audio = a->audio_codec != NULL;
    p.audio.codec = a->audio_codec;
    p.audio.sample_rate = a->audio_rate;
    p.audio.channels = a->audio_channels;
    return probe_is_house(&p, h, why);
}

int catalog_conformed(sqlite3 *db, const char *path, const char *house_key, char **file,
                      double *start_time)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "SELECT c.path, c.start_time FROM conforms c JOIN assets a"
                           " ON a.id = c.asset_id WHERE a.path = ? AND c.house = ?"
                           " AND c.state = 'done' AND a.gone_at IS NULL",
                           -1, &st, NULL) != SQLITE_OK)
        return -EIO;
    sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, house_key, -1, SQLITE_STATIC);
    int rc = -ENOENT;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) != NULL) {
        const char *p = (const char *)sqlite3_column_text(st, 0);
        /* A conformed file someone deleted is as good as none: read the source. */
        if (util_file_readable(p)) {
            *file = xstrdup(p);
            *start_time = sqlite3_column_double(st, 1);
            rc = 0;
        }
    }
    sqlite3_finalize(st);
    return rc;
}

int catalog_airs_as_house(sqlite3 *db, const asset_t *a, const house_format_t *house,
                          const char **why)
{
    if (catalog_is_house(a, house, why))
        return 1;
    char *key = conform_house_key(house), *file = NULL;
    double start;
    int ok = catalog_conformed(db, a->path, key, &file, &start) == 0;
    free(key);
    free(file);
    return ok;
}
