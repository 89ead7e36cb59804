/*
 * The ingest run. It first walks every root (cheap) to learn what changed, so the
 * progress bar knows its total before the slow part, then probes and describes only
 * new or changed files. A file is the same when its size and mtime are; that is what
 * every media server uses, and re-reading whole files to hash them would make a scan
 * of a large library take hours.
 *
 * A root that is missing entirely (an unmounted disk) is skipped with a warning
 * rather than having everything under it marked gone.
 */
#include "ingest.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "assets.h"
#include "breaks.h"
#include "log.h"
#include "nfo.h"
#include "plex.h"
#include "probe.h"
#include "progress.h"
#include "scan.h"
#include "util.h"

/* What one run shares between files. */
typedef struct run_ctx {
    sqlite3 *db;
    const config_t *cfg;
    const ingest_opts_t *opts;
    breaks_override_t *overrides; /* CONFIG/breaks.json, or NULL */
    ingest_report_t *report;
    strbuf_t *warnings;
} run_ctx_t;

/* What Plex said about one of its files, kept past plex_scan's callback. */
typedef struct plex_meta {
    char *show, *title, *aired, *summary, *genre, *rating, *rating_key;
    int season, episode, year;
    double duration;      /* seconds */
} plex_meta_t;

typedef struct work {
    scan_file_t *file;       /* not owned */
    enum media_kind kind;
    const char *root;
    int is_new;
    const plex_meta_t *plex; /* when the file came from Plex */
} work_t;

typedef struct work_queue {
    work_t *v;
    size_t n, cap;
} work_queue_t;

/* Plex's files found by one run: a scan list plus their metadata, index for index. */
typedef struct plex_found {
    scan_list_t list;
    plex_meta_t *meta;
    enum media_kind *kind;
    size_t cap;
    char *root;              /* "plex:URL", the root their rows carry */
    run_ctx_t *ctx;
    int ok;                  /* the scan finished: what it did not list is gone */
} plex_found_t;

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int exec_sql(sqlite3 *db, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
        log_error(NULL, "ingest: %s: %s", sql, err ? err : sqlite3_errmsg(db));
        sqlite3_free(err);
        return -EIO;
    }
    return 0;
}

/* 1: unchanged (seen_at refreshed, gone_at cleared), 0: new or changed, -EIO. */
static int check_known(sqlite3 *db, const scan_file_t *f, enum media_kind kind, const char *root,
                       double now, int *is_new)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT id, size, mtime, kind FROM assets WHERE path = ?", -1, &st,
                           NULL) != SQLITE_OK)
        return -EIO;
    sqlite3_bind_text(st, 1, f->path, -1, SQLITE_STATIC);
    long long id = 0;
    int same = 0;
    *is_new = 1;
    if (sqlite3_step(st) == SQLITE_ROW) {
        id = sqlite3_column_int64(st, 0);
        const char *k = (const char *)sqlite3_column_text(st, 3);
        /* A file the playout cache probed but ingest never saw is new to the catalog. */
        *is_new = k == NULL;
        same = k != NULL && sqlite3_column_int64(st, 1) == f->size &&
               sqlite3_column_int64(st, 2) == f->mtime && strcmp(k, media_kind_name(kind)) == 0;
    }
    sqlite3_finalize(st);
    if (!same)
        return 0;
    if (sqlite3_prepare_v2(db, "UPDATE assets SET seen_at = ?, gone_at = NULL, root = ? WHERE id = ?",
                           -1, &st, NULL) != SQLITE_OK)
        return -EIO;
    sqlite3_bind_double(st, 1, now);
    sqlite3_bind_text(st, 2, root, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, id);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 1 : -EIO;
    sqlite3_finalize(st);
    return rc;
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s != NULL)
        sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

static void bind_ratio(sqlite3_stmt *st, int i, int num, int den, char sep)
{
    if (num > 0 && den > 0) {
        char buf[32];
        snprintf(buf, sizeof(buf), "%d%c%d", num, sep, den);
        sqlite3_bind_text(st, i, buf, -1, SQLITE_TRANSIENT);
    } else {
        sqlite3_bind_null(st, i);
    }
}

/* Stores what the probe found (or why it failed); returns the asset id, or -EIO. */
static long long store_probe(sqlite3 *db, const probe_t *p, const work_t *w, double now)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(
            db,
            "INSERT INTO assets (path, size, mtime, duration, start_time, format, video_codec,"
            " width, height, fps, has_b_frames, pix_fmt, audio_codec, audio_rate, audio_channels,"
            " error, probed_at, kind, root, seen_at, gone_at, field_order, sar, dar, audio_layout,"
            " chapters, profile) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,"
            " ?14, ?15, ?16, ?17, ?18, ?19, ?17, NULL, ?20, ?21, ?22, ?23, ?24, ?25)"
            " ON CONFLICT(path) DO UPDATE SET size = excluded.size, mtime = excluded.mtime,"
            " duration = excluded.duration, start_time = excluded.start_time,"
            " format = excluded.format, video_codec = excluded.video_codec,"
            " width = excluded.width, height = excluded.height, fps = excluded.fps,"
            " has_b_frames = excluded.has_b_frames, pix_fmt = excluded.pix_fmt,"
            " audio_codec = excluded.audio_codec, audio_rate = excluded.audio_rate,"
            " audio_channels = excluded.audio_channels, error = excluded.error,"
            " probed_at = excluded.probed_at, kind = excluded.kind, root = excluded.root,"
            " seen_at = excluded.seen_at, gone_at = NULL, field_order = excluded.field_order,"
            " sar = excluded.sar, dar = excluded.dar, audio_layout = excluded.audio_layout,"
            " chapters = excluded.chapters, profile = excluded.profile, breaks_at = NULL"
            " RETURNING id",
            -1, &st, NULL) != SQLITE_OK) {
        log_error(NULL, "ingest: unable to store %s: %s", w->file->path, sqlite3_errmsg(db));
        return -EIO;
    }
    const probe_video_t *v = &p->video;
    sqlite3_bind_text(st, 1, w->file->path, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, w->file->size);
    sqlite3_bind_int64(st, 3, w->file->mtime);
    sqlite3_bind_double(st, 4, p->duration);
    sqlite3_bind_double(st, 5, p->start_time);
    bind_text(st, 6, p->format);
    bind_text(st, 7, p->has_video ? v->codec : NULL);
    sqlite3_bind_int(st, 8, v->width);
    sqlite3_bind_int(st, 9, v->height);
    bind_ratio(st, 10, v->fps_num, v->fps_den, '/');
    sqlite3_bind_int(st, 11, v->has_b_frames);
    bind_text(st, 12, v->pix_fmt);
    bind_text(st, 13, p->has_audio ? p->audio.codec : NULL);
    sqlite3_bind_int(st, 14, p->audio.sample_rate);
    sqlite3_bind_int(st, 15, p->audio.channels);
    bind_text(st, 16, p->error);
    sqlite3_bind_double(st, 17, now);
    sqlite3_bind_text(st, 18, media_kind_name(w->kind), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 19, w->root, -1, SQLITE_STATIC);
    bind_text(st, 20, p->has_video ? probe_field_order_name(v->field_order) : NULL);
    bind_ratio(st, 21, v->sar_num, v->sar_den, ':');
    bind_ratio(st, 22, v->dar_num, v->dar_den, ':');
    bind_text(st, 23, p->audio.channel_layout);
    sqlite3_bind_int(st, 24, (int)p->n_chapters);
    bind_text(st, 25, p->has_video ? v->profile : NULL);
    long long id = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -EIO;
    if (id < 0)
        log_error(NULL, "ingest: unable to store %s: %s", w->file->path, sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return id;
}

/* Everything under root not seen by this run is gone (kept, with the time noticed). */
static int mark_gone(sqlite3 *db, const char *root, double run_start, size_t *gone)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "UPDATE assets SET gone_at = ?1 WHERE root = ?2 AND gone_at IS NULL"
                           " AND (seen_at IS NULL OR seen_at < ?1)",
                           -1, &st, NULL) != SQLITE_OK)
        return -EIO;
    sqlite3_bind_double(st, 1, run_start);
    sqlite3_bind_text(st, 2, root, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
    *gone += (size_t)sqlite3_changes(db);
    sqlite3_finalize(st);
    return rc;
}

/* ---- metadata ---- */

static char *join_genres(const nfo_meta_t *m)
{
    if (m == NULL || m->n_genres == 0)
        return NULL;
    strbuf_t sb;
    strbuf_init(&sb);
    for (size_t i = 0; i < m->n_genres; i++)
        strbuf_printf(&sb, "%s%s", i ? " / " : "", m->genres[i]);
    return strbuf_steal(&sb);
}

static void bind_int_or_null(sqlite3_stmt *st, int i, int v)
{
    if (v >= 0)
        sqlite3_bind_int(st, i, v);
    else
        sqlite3_bind_null(st, i);
}

/* The item's own .nfo says what it is; the series' tvshow.nfo fills what an episode
   file leaves out (the show's name, genre, rating). */
static int store_nfo(run_ctx_t *c, long long id, const work_t *w, double now)
{
    char *item_path = NULL, *show_path = NULL;
    if (nfo_find_for_media(w->file->path, &item_path, &show_path) != 0)
        return 0;
    nfo_meta_t item = {0}, show = {0};
    int have_item = item_path != NULL && nfo_read(item_path, &item, c->warnings) == 0;
    int have_show = show_path != NULL && w->kind == MEDIA_EPISODES &&
                    nfo_read(show_path, &show, c->warnings) == 0 && show.kind == NFO_SHOW;
    int rc = 0;
    if (have_item || have_show) {
        const nfo_meta_t *last = &item;
        while (last->next != NULL)
            last = last->next;
        char *genre = join_genres(have_item && item.n_genres ? &item : have_show ? &show : NULL);
        const char *series = have_item && item.showtitle ? item.showtitle
                             : have_show              ? show.title
                                                      : NULL;
        sqlite3_stmt *st;
        rc = -EIO;
        if (sqlite3_prepare_v2(c->db,
                               "INSERT OR REPLACE INTO asset_meta (asset_id, source, source_ref,"
                               " show, season, episode, episode_last, title, aired, plot, runtime,"
                               " genre, year, rating, updated_at)"
                               " VALUES (?, 'nfo', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                               -1, &st, NULL) == SQLITE_OK) {
            sqlite3_bind_int64(st, 1, id);
            bind_text(st, 2, have_item ? item_path : show_path);
            bind_text(st, 3, w->kind == MEDIA_EPISODES ? series : NULL);
            bind_int_or_null(st, 4, have_item ? item.season : -1);
            bind_int_or_null(st, 5, have_item ? item.episode : -1);
            bind_int_or_null(st, 6, have_item && last != &item ? last->episode : -1);
            bind_text(st, 7, have_item ? item.title : NULL);
            bind_text(st, 8, have_item ? (item.aired ? item.aired : item.premiered) : NULL);
            bind_text(st, 9, have_item ? item.plot : show.plot);
            if (have_item && item.runtime > 0)
                sqlite3_bind_double(st, 10, item.runtime * 60.0);
            else
                sqlite3_bind_null(st, 10);
            bind_text(st, 11, genre);
            bind_int_or_null(st, 12, have_item && item.year > 0 ? item.year
                                     : have_show && show.year > 0 ? show.year
                                                                  : -1);
            bind_text(st, 13, have_item && item.mpaa ? item.mpaa : have_show ? show.mpaa : NULL);
            sqlite3_bind_double(st, 14, now);
            rc = sqlite3_step(st) == SQLITE_DONE ? 1 : -EIO;
            sqlite3_finalize(st);
        }
        free(genre);
    }
    nfo_meta_dispose(&item);
    nfo_meta_dispose(&show);
    free(item_path);
    free(show_path);
    return rc;
}

/* ---- break points ---- */

static int store_breaks(sqlite3 *db, long long id, const break_list_t *list, double now)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "DELETE FROM asset_breaks WHERE asset_id = ?"
                           " AND source IN ('chapters', 'detected')",
                           -1, &st, NULL) != SQLITE_OK)
        return -EIO;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
    sqlite3_finalize(st);
    for (size_t i = 0; rc == 0 && i < list->n; i++) {
        /* Manual breaks live in the database only through the API or breaks.json. */
        if (strcmp(list->v[i].source, "manual") == 0)
            continue;
        if (sqlite3_prepare_v2(db,
                               "INSERT OR REPLACE INTO asset_breaks (asset_id, at, source,"
                               " confidence) VALUES (?, ?, ?, ?)",
                               -1, &st, NULL) != SQLITE_OK)
            return -EIO;
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_double(st, 2, list->v[i].at);
        sqlite3_bind_text(st, 3, list->v[i].source, -1, SQLITE_STATIC);
        sqlite3_bind_double(st, 4, list->v[i].confidence);
        rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
        sqlite3_finalize(st);
    }
    if (rc == 0 && sqlite3_prepare_v2(db, "UPDATE assets SET breaks_at = ? WHERE id = ?", -1,
                                      &st, NULL) == SQLITE_OK) {
        sqlite3_bind_double(st, 1, now);
        sqlite3_bind_int64(st, 2, id);
        rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
        sqlite3_finalize(st);
    }
    return rc;
}

/* Long analyses stop when the station is stopping. */
static int c_cancelled(const run_ctx_t *c)
{
    return c->opts->cancel != NULL && atomic_load(c->opts->cancel);
}

static int breaks_progress(void *arg, double done, double total)
{
    (void)done;
    (void)total;
    return c_cancelled((const run_ctx_t *)arg);
}

/* What the slow part learns about one file; made on a worker thread, stored on the
   ingest thread. */
typedef struct analysis {
    probe_t probe;
    break_list_t breaks;
    char *break_error;   /* why break points could not be found, or NULL */
    int done;
} analysis_t;

/* Probe, then chapters or a black-and-silence pass (the slow part for long programs).
   Only programs have acts: commercials and bumpers are never cut. Touches neither the
   database nor shared buffers, so several run at once. */
static void analyse(const run_ctx_t *c, const work_t *w, analysis_t *a)
{
    probe_file(c->cfg->ffprobe, w->file->path, &a->probe);
    const probe_t *p = &a->probe;
    if (c->opts->skip_breaks || p->error != NULL || !p->has_video ||
        (w->kind != MEDIA_EPISODES && w->kind != MEDIA_MOVIES))
        return;
    breaks_opts_t bo = {.ffmpeg = c->cfg->ffmpeg, .nice = c->cfg->conform_nice,
                        .progress = breaks_progress, .arg = (void *)c};
    char *error = NULL;
    if (breaks_find(w->file->path, p, &bo, &a->breaks, &error) != 0) {
        a->break_error = xstrdup(error ? error : "unknown error");
        break_list_dispose(&a->breaks);
    }
    free(error);
}

static void analysis_dispose(analysis_t *a)
{
    probe_dispose(&a->probe);
    break_list_dispose(&a->breaks);
    free(a->break_error);
}

/* A changed source makes its conformed copy stale: forget it (the file is removed
   too, so the cache does not grow with dead copies). */
static void forget_conforms(sqlite3 *db, long long id)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "DELETE FROM conforms WHERE asset_id = ? RETURNING path", -1, &st,
                           NULL) != SQLITE_OK)
        return;
    sqlite3_bind_int64(st, 1, id);
    while (sqlite3_step(st) == SQLITE_ROW)
        if (sqlite3_column_text(st, 0) != NULL)
            unlink((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
}

/* ---- Plex ---- */

static char *dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

static int on_plex_item(void *arg, const plex_item_t *it)
{
    plex_found_t *pf = arg;
    struct stat sb;
    if (stat(it->path, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        strbuf_printf(pf->ctx->warnings, "plex: %s is not reachable here as %s%s\n",
                      it->plex_path, it->path,
                      it->mapped ? "" : " (no plex.path_map entry matches its folder)");
        return 0;
    }
    if (pf->list.n == pf->cap) {
        pf->cap = pf->cap ? pf->cap * 2 : 64;
        pf->list.files = xrealloc(pf->list.files, pf->cap * sizeof(*pf->list.files));
        pf->meta = xrealloc(pf->meta, pf->cap * sizeof(*pf->meta));
        pf->kind = xrealloc(pf->kind, pf->cap * sizeof(*pf->kind));
    }
    size_t i = pf->list.n++;
    pf->list.files[i] = (scan_file_t){xstrdup(it->path), (long long)sb.st_size,
                                      (long long)sb.st_mtime};
    strbuf_t g;
    strbuf_init(&g);
    for (size_t k = 0; k < it->n_genres; k++)
        strbuf_printf(&g, "%s%s", k ? " / " : "", it->genres[k]);
    pf->meta[i] = (plex_meta_t){dup_or_null(it->show), dup_or_null(it->title),
                                dup_or_null(it->aired), dup_or_null(it->summary),
                                g.len ? strbuf_steal(&g) : NULL, dup_or_null(it->rating),
                                dup_or_null(it->rating_key), it->season, it->episode, it->year,
                                it->duration_ms > 0 ? it->duration_ms / 1000.0 : -1};
    strbuf_dispose(&g);
    pf->kind[i] = it->kind == PLEX_EPISODE ? MEDIA_EPISODES : MEDIA_MOVIES;
    return c_cancelled(pf->ctx);
}

static void plex_found_dispose(plex_found_t *pf)
{
    for (size_t i = 0; i < pf->list.n; i++) {
        plex_meta_t *m = &pf->meta[i];
        free(m->show);
        free(m->title);
        free(m->aired);
        free(m->summary);
        free(m->genre);
        free(m->rating);
        free(m->rating_key);
    }
    free(pf->meta);
    free(pf->kind);
    free(pf->root);
    scan_list_dispose(&pf->list);
}

/* Walks the Plex server; a refused token or an unreachable server is a warning, and
   then nothing from Plex is marked gone. */
static void scan_plex(run_ctx_t *c, plex_found_t *pf)
{
    const plex_conf_t *px = &c->cfg->plex;
    pf->ctx = c;
    pf->root = xasprintf("plex:%s", px->url);
    plex_path_map_t *map = xcalloc(px->n_path_map ? px->n_path_map : 1, sizeof(*map));
    for (size_t i = 0; i < px->n_path_map; i++)
        map[i] = (plex_path_map_t){px->path_map[i].from, px->path_map[i].to};
    plex_source_t src = {.url = px->url,
                         .token = px->token,
                         .sections = (const char *const *)px->sections,
                         .n_sections = px->n_sections,
                         .path_map = map,
                         .n_path_map = px->n_path_map};
    char *error = NULL;
    int rc = plex_scan(&src, on_plex_item, pf, &error);
    if (rc == 0)
        pf->ok = 1;
    else if (rc != -ECANCELED)
        strbuf_printf(c->warnings, "plex: %s (nothing from Plex is marked gone)\n",
                      error ? error : strerror(-rc));
    free(error);
    free(map);
}

static int store_plex(run_ctx_t *c, long long id, const plex_meta_t *m, double now)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(c->db,
                           "INSERT OR REPLACE INTO asset_meta (asset_id, source, source_ref, show,"
                           " season, episode, title, aired, plot, runtime, genre, year, rating,"
                           " updated_at) VALUES (?, 'plex', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           -1, &st, NULL) != SQLITE_OK)
        return -EIO;
    sqlite3_bind_int64(st, 1, id);
    bind_text(st, 2, m->rating_key ? m->rating_key : "");
    bind_text(st, 3, m->show);
    bind_int_or_null(st, 4, m->season);
    bind_int_or_null(st, 5, m->episode);
    bind_text(st, 6, m->title);
    bind_text(st, 7, m->aired);
    bind_text(st, 8, m->summary);
    if (m->duration > 0)
        sqlite3_bind_double(st, 9, m->duration);
    else
        sqlite3_bind_null(st, 9);
    bind_text(st, 10, m->genre);
    bind_int_or_null(st, 11, m->year > 0 ? m->year : -1);
    bind_text(st, 12, m->rating);
    sqlite3_bind_double(st, 13, now);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 1 : -EIO;
    sqlite3_finalize(st);
    return rc;
}

/* Probes and describes one new or changed file; the database writes for it are one
   transaction, so a crash leaves the file either fully ingested or not at all. */
static int store_file(run_ctx_t *c, const work_t *w, analysis_t *a, double now)
{
    ingest_report_t *r = c->report;
    const probe_t p = a->probe;
    const break_list_t breaks = a->breaks;
    if (p.error != NULL) {
        strbuf_printf(c->warnings, "%s\n", p.error);
        r->failed++;
    } else {
        r->media_seconds += p.duration;
    }
    if (a->break_error != NULL)
        strbuf_printf(c->warnings, "%s: break points not found: %s\n", w->file->path,
                      a->break_error);
    int rc = exec_sql(c->db, "BEGIN IMMEDIATE");
    long long id = rc == 0 ? store_probe(c->db, &p, w, now) : -EIO;
    if (id < 0)
        rc = -EIO;
    if (rc == 0 && !w->is_new)
        forget_conforms(c->db, id);
    /* A sidecar is what a person curated; Plex's own data is the fallback. */
    int described = rc == 0 ? store_nfo(c, id, w, now) : 0;
    if (described == 0 && w->plex != NULL)
        described = store_plex(c, id, w->plex, now);
    if (described < 0)
        rc = described;
    if (rc == 0 && p.error == NULL && !c->opts->skip_breaks &&
        (w->kind == MEDIA_EPISODES || w->kind == MEDIA_MOVIES))
        rc = store_breaks(c->db, id, &breaks, now);
    exec_sql(c->db, rc == 0 ? "COMMIT" : "ROLLBACK");
    if (rc == 0) {
        if (w->is_new)
            r->added++;
        else
            r->changed++;
        r->with_metadata += described > 0;
        r->with_breaks += breaks.n > 0;
    }
    return rc;
}

/* ---- the worker pool of pass 2 ---- */

typedef struct pool {
    const run_ctx_t *c;
    const work_queue_t *q;
    analysis_t *res;          /* one per queued file */
    size_t next;              /* the next file to claim */
    pthread_mutex_t mu;
    pthread_cond_t cv;
} pool_t;

static void *pool_worker(void *arg)
{
    pool_t *pl = arg;
    for (;;) {
        pthread_mutex_lock(&pl->mu);
        if (pl->next >= pl->q->n || c_cancelled(pl->c)) {
            pthread_cond_broadcast(&pl->cv); /* the ingest thread may wait on no one */
            pthread_mutex_unlock(&pl->mu);
            return NULL;
        }
        size_t k = pl->next++;
        pthread_mutex_unlock(&pl->mu);
        analysis_t a = {0};
        analyse(pl->c, &pl->q->v[k], &a);
        pthread_mutex_lock(&pl->mu);
        pl->res[k] = a;
        pl->res[k].done = 1;
        pthread_cond_broadcast(&pl->cv);
        pthread_mutex_unlock(&pl->mu);
    }
}

/* Waits for file k's analysis; 0 when it will never come (the run was cancelled). */
static int pool_wait(pool_t *pl, size_t k)
{
    pthread_mutex_lock(&pl->mu);
    while (!pl->res[k].done && !(k >= pl->next && c_cancelled(pl->c)))
        pthread_cond_wait(&pl->cv, &pl->mu);
    int done = pl->res[k].done;
    pthread_mutex_unlock(&pl->mu);
    return done;
}

static int pool_threads(const ingest_opts_t *opts, size_t files)
{
    long n = opts->threads > 0 ? opts->threads : sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1)
        n = 1;
    if (n > 8)
        n = 8;
    return (size_t)n > files ? (int)files : (int)n;
}

/* breaks.json in the config dir: a person's break points win over anything found.
   Applied on every run (it is small), so an edit takes effect without a rescan. */
static void apply_overrides(run_ctx_t *c)
{
    char *file = util_path_join(c->cfg->dir, "breaks.json");
    if (!util_file_readable(file)) {
        free(file);
        return;
    }
    strbuf_t errors;
    strbuf_init(&errors);
    if (breaks_override_load(file, &c->overrides, &errors) != 0) {
        strbuf_printf(c->warnings, "%s", errors.data ? errors.data : "");
        strbuf_printf(c->warnings, "%s: not applied because of the errors above\n", file);
    }
    strbuf_dispose(&errors);
    free(file);
    if (c->overrides == NULL)
        return;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(c->db, "SELECT id, path FROM assets WHERE kind IS NOT NULL", -1, &st,
                           NULL) != SQLITE_OK)
        return;
    exec_sql(c->db, "BEGIN IMMEDIATE");
    while (sqlite3_step(st) == SQLITE_ROW) {
        break_list_t list = {0};
        if (!breaks_override_lookup(c->overrides, (const char *)sqlite3_column_text(st, 1), &list))
            continue;
        double *at = xcalloc(list.n ? list.n : 1, sizeof(double));
        for (size_t i = 0; i < list.n; i++)
            at[i] = list.v[i].at;
        char why[160];
        if (assets_set_manual_breaks_locked(c->db, sqlite3_column_int64(st, 0), at, list.n, why,
                                            sizeof(why)) == -EINVAL)
            strbuf_printf(c->warnings, "breaks.json: %s: %s\n",
                          (const char *)sqlite3_column_text(st, 1), why);
        free(at);
        break_list_dispose(&list);
    }
    sqlite3_finalize(st);
    exec_sql(c->db, "COMMIT");
}

/* An unchanged file is settled at once (counted, seen_at refreshed); a new or changed
   one joins the queue for pass 2. 0 or -EIO. */
static int settle_or_queue(run_ctx_t *c, work_queue_t *q, work_t w, double run_start)
{
    int known = check_known(c->db, w.file, w.kind, w.root, run_start, &w.is_new);
    if (known < 0)
        return known;
    if (known == 1) {
        c->report->unchanged++;
        return 0;
    }
    if (q->n == q->cap) {
        q->cap = q->cap ? q->cap * 2 : 64;
        q->v = xrealloc(q->v, q->cap * sizeof(*q->v));
    }
    q->v[q->n++] = w;
    return 0;
}

static int cmp_path(const void *key, const void *elem)
{
    return strcmp(key, ((const scan_file_t *)elem)->path);
}

static int under_a_root(const scan_list_t *lists, size_t n, const char *path)
{
    for (size_t i = 0; i < n; i++)
        if (lists[i].n > 0 &&
            bsearch(path, lists[i].files, lists[i].n, sizeof(scan_file_t), cmp_path) != NULL)
            return 1;
    return 0;
}

int ingest_run(sqlite3 *db, const config_t *cfg, const ingest_opts_t *opts,
               ingest_report_t *report, strbuf_t *warnings)
{
    memset(report, 0, sizeof(*report));
    double run_start = wall_now();
    scan_list_t *lists = xcalloc(cfg->n_media ? cfg->n_media : 1, sizeof(*lists));
    int *scanned = xcalloc(cfg->n_media ? cfg->n_media : 1, sizeof(*scanned));
    run_ctx_t ctx = {db, cfg, opts, NULL, report, warnings};
    work_queue_t q = {0};
    int rc = 0;

    /* Pass 1: walk the roots; unchanged files are settled here. */
    for (size_t i = 0; i < cfg->n_media && rc == 0; i++) {
        const media_root_t *root = &cfg->media[i];
        int src = scan_root(root->path, &lists[i], warnings);
        if (src != 0) {
            strbuf_printf(warnings, "%s: media root skipped: %s (nothing under it is marked gone)\n",
                          root->path, strerror(-src));
            continue;
        }
        scanned[i] = 1;
        report->found += lists[i].n;
        for (size_t j = 0; j < lists[i].n && rc == 0; j++)
            rc = settle_or_queue(&ctx, &q,
                                 (work_t){&lists[i].files[j], root->kind, root->path, 0, NULL},
                                 run_start);
    }

    /* Plex's files join pass 1; one also under a media root is that root's. */
    plex_found_t pf = {0};
    if (config_ingests_plex(cfg) && rc == 0) {
        scan_plex(&ctx, &pf);
        report->found += pf.list.n;
        for (size_t j = 0; j < pf.list.n && rc == 0; j++)
            if (!under_a_root(lists, cfg->n_media, pf.list.files[j].path))
                rc = settle_or_queue(
                    &ctx, &q,
                    (work_t){&pf.list.files[j], pf.kind[j], pf.root, 0, &pf.meta[j]}, run_start);
    }

    /* Pass 2: the slow part, with progress. */
    progress_t prog;
    if (opts->progress != NULL && q.n > 0)
        progress_start(&prog, opts->progress, "ingest", (long)q.n, 0);
    /* Probing costs most of its time starting ffprobe, so files are analysed on
       several threads; results are stored here, in order, one transaction each. */
    pool_t pl = {.c = &ctx, .q = &q, .res = xcalloc(q.n ? q.n : 1, sizeof(analysis_t))};
    pthread_mutex_init(&pl.mu, NULL);
    pthread_cond_init(&pl.cv, NULL);
    int n_threads = pool_threads(opts, q.n);
    pthread_t *threads = xcalloc(n_threads ? (size_t)n_threads : 1, sizeof(pthread_t));
    for (int i = 0; i < n_threads; i++)
        pthread_create(&threads[i], NULL, pool_worker, &pl);
    for (size_t k = 0; k < q.n && rc == 0; k++) {
        const char *slash = strrchr(q.v[k].file->path, '/');
        if (opts->progress != NULL)
            progress_update(&prog, (long)k, report->media_seconds, slash ? slash + 1 : NULL);
        if (!pool_wait(&pl, k)) {
            rc = -ECANCELED;
            break;
        }
        rc = store_file(&ctx, &q.v[k], &pl.res[k], wall_now());
    }
    if (rc != 0 && rc != -ECANCELED) {
        /* A database failure: let the workers finish early too. */
        pthread_mutex_lock(&pl.mu);
        pl.next = q.n;
        pthread_mutex_unlock(&pl.mu);
    }
    for (int i = 0; i < n_threads; i++)
        pthread_join(threads[i], NULL);
    for (size_t k = 0; k < q.n; k++)
        analysis_dispose(&pl.res[k]);
    free(pl.res);
    free(threads);
    pthread_mutex_destroy(&pl.mu);
    pthread_cond_destroy(&pl.cv);
    if (opts->progress != NULL && q.n > 0) {
        if (rc == 0)
            prog.done = (long)q.n;
        prog.done_media = report->media_seconds;
        progress_finish(&prog);
    }

    /* Pass 3: what was not seen under a readable root is gone. Settled last, so a
       cancelled run marks nothing gone that it simply did not reach. */
    for (size_t i = 0; i < cfg->n_media && rc == 0; i++)
        if (scanned[i])
            rc = mark_gone(db, cfg->media[i].path, run_start, &report->gone);
    if (rc == 0 && pf.ok)
        rc = mark_gone(db, pf.root, run_start, &report->gone);

    if (rc == 0)
        apply_overrides(&ctx);
    breaks_override_free(ctx.overrides);
    for (size_t i = 0; i < cfg->n_media; i++)
        scan_list_dispose(&lists[i]);
    plex_found_dispose(&pf);
    free(lists);
    free(scanned);
    free(q.v);
    report->seconds = wall_now() - run_start;
    return rc;
}
