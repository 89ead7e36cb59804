/*
 * Library preparation, on a worker thread with its own database connection:
 * durations come from the probe cache first; files not probed yet (or changed since)
 * are probed with ffprobe and stored. The configuration being prepared is not in use
 * yet (start-up, or a reload waiting for it), so the worker fills it directly. A refresh
 * (the catalog changed) reads everything again on a worker thread and applies it on
 * the loop in one pass, so a large library does not stall the loop.
 */
#include "library.h"

#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "db.h"
#include "log.h"
#include "util.h"

typedef struct job {
    uv_work_t work;
    char *db_path;
    sqlite3 *loop_db;  /* the loop's connection: only if the worker cannot open its own */
    config_t *config;  /* not yet in use by anyone else: the worker may fill it */
    char *ffprobe;
    unsigned char *house;
    library_ready_cb done;
    void *arg;
} job_t;

/* Durations from the catalog, then ffprobe for what it does not know (stored for next
   time), then the house flags: all with the worker's own connection, so a large
   library does not hold up the loop. */
static void prepare_library(sqlite3 *db, job_t *job)
{
    sched_library_t *lib = job->config->library;
    size_t unknown = sched_library_fill_from_catalog(lib, db), n = 0, bad = 0;
    char **paths = xcalloc(unknown ? unknown : 1, sizeof(char *));
    for (size_t i = 0; i < lib->n_assets && n < unknown; i++)
        if (lib->assets[i]->duration <= 0 && util_file_readable(lib->assets[i]->path))
            paths[n++] = lib->assets[i]->path;
    if (lib->n_assets > 0)
        log_info(NULL, "library: %zu files, %zu to probe", lib->n_assets, n);
    for (size_t i = 0; i < n; i++) {
        asset_t a;
        catalog_probe(job->ffprobe, paths[i], &a);
        if (a.size > 0)
            catalog_store(db, &a);
        if (a.error != NULL) {
            log_warn(NULL, "library: %s: %s", paths[i], a.error);
            bad++;
        } else {
            sched_library_set_duration(lib, a.path, a.duration, a.start_time);
        }
        asset_dispose(&a);
        /* Plain progress lines: this runs inside the server, whose stderr is a log. */
        if (n >= 20 && (i + 1) % 20 == 0)
            log_info(NULL, "library: probed %zu of %zu files", i + 1, n);
    }
    if (n > 0)
        log_info(NULL, "library: probed %zu files (%zu unusable)", n, bad);
    free(paths);
    job->house = library_house_flags(db, job->config);
}

static void prepare_work(uv_work_t *w)
{
    job_t *job = w->data;
    sqlite3 *db;
    if (db_open(job->db_path, &db) != 0)
        return; /* prepared on the loop instead */
    prepare_library(db, job);
    db_close(db);
}

/* One asset's flag (see library_house_flags); *live counts the ones that are not ready,
   and the first is logged with the reason. */
static unsigned char house_flag(sqlite3 *db, const house_format_t *house,
                                const sched_asset_t *s, size_t *live)
{
    asset_t a;
    if (s->duration <= 0 || catalog_get(db, s->path, &a) != 0)
        return 1;
    const char *why = NULL;
    unsigned char ok = a.error == NULL && catalog_airs_as_house(db, &a, house, &why);
    if (!ok && (*live)++ == 0)
        log_info(NULL, "library: %s is not in the house format yet (%s)", a.path,
                 why ? why : a.error);
    asset_dispose(&a);
    return ok;
}

static void log_not_ready(size_t live, size_t n)
{
    if (live > 0)
        log_info(NULL, "library: %zu of %zu files not in the house format yet; scheduled "
                       "channels in auto mode that air them encode live until they are conformed",
                 live, n);
}

unsigned char *library_house_flags(sqlite3 *db, const config_t *cfg)
{
    const sched_library_t *lib = cfg->library;
    unsigned char *house = xcalloc(lib->n_assets ? lib->n_assets : 1, 1);
    size_t live = 0;
    for (size_t i = 0; i < lib->n_assets; i++)
        house[i] = house_flag(db, &cfg->house, lib->assets[i], &live);
    log_not_ready(live, lib->n_assets);
    return house;
}

/* ---- refreshing from the catalog off the loop ---- */

struct library_refresh {
    uv_work_t work;
    char *db_path;
    house_format_t house;
    sched_asset_t *assets; /* copies of the library's: own path and breaks */
    size_t n;
    unsigned char *flags;
    library_refreshed_cb done;
    void *arg;
};

/* Its own connection: the loop's stays free for the web server and the channels. */
static void refresh_work(uv_work_t *w)
{
    library_refresh_t *r = w->data;
    sqlite3 *db;
    if (db_open(r->db_path, &db) != 0)
        return; /* flags stay NULL: nothing is applied */
    r->flags = xcalloc(r->n ? r->n : 1, 1);
    size_t live = 0;
    for (size_t i = 0; i < r->n; i++) {
        sched_asset_fill_from_catalog(&r->assets[i], db);
        r->flags[i] = house_flag(db, &r->house, &r->assets[i], &live);
    }
    db_close(db);
    log_not_ready(live, r->n);
}

static void refresh_done(uv_work_t *w, int status)
{
    library_refresh_t *r = w->data;
    if (status != 0) {
        free(r->flags);
        r->flags = NULL;
    }
    r->done(r->arg, r);
}

library_refresh_t *library_refresh(uv_loop_t *loop, const char *db_path, const config_t *cfg,
                                   library_refreshed_cb done, void *arg)
{
    const sched_library_t *lib = cfg->library;
    library_refresh_t *r = xcalloc(1, sizeof(*r));
    r->work.data = r;
    r->db_path = xstrdup(db_path);
    r->house = cfg->house;
    r->n = lib->n_assets;
    r->assets = xcalloc(r->n ? r->n : 1, sizeof(*r->assets));
    for (size_t i = 0; i < r->n; i++) {
        const sched_asset_t *a = lib->assets[i];
        r->assets[i] = (sched_asset_t){.path = xstrdup(a->path), .duration = a->duration,
                                       .start_time = a->start_time, .index = i};
    }
    r->done = done;
    r->arg = arg;
    uv_queue_work(loop, &r->work, refresh_work, refresh_done);
    return r;
}

unsigned char *library_refresh_apply(library_refresh_t *r, config_t *cfg)
{
    sched_library_t *lib = cfg->library;
    if (r->flags == NULL || lib->n_assets != r->n)
        return NULL;
    for (size_t i = 0; i < r->n; i++) {
        sched_asset_t *dst = lib->assets[i], *src = &r->assets[i];
        if (strcmp(dst->path, src->path) != 0)
            return NULL; /* not this library's answer */
    }
    for (size_t i = 0; i < r->n; i++) {
        sched_asset_t *dst = lib->assets[i], *src = &r->assets[i];
        dst->duration = src->duration;
        dst->start_time = src->start_time;
        free(dst->breaks);
        dst->breaks = src->breaks;
        dst->n_breaks = src->n_breaks;
        src->breaks = NULL;
        src->n_breaks = 0;
    }
    unsigned char *flags = r->flags;
    r->flags = NULL;
    return flags;
}

void library_refresh_free(library_refresh_t *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->assets[i].path);
        free(r->assets[i].breaks);
    }
    free(r->assets);
    free(r->flags);
    free(r->db_path);
    free(r);
}

static void prepared(uv_work_t *w, int status)
{
    job_t *job = w->data;
    if (job->house == NULL)
        prepare_library(job->loop_db, job);
    job->done(job->arg, job->house);
    free(job->db_path);
    free(job->ffprobe);
    free(job);
}

void library_prepare(uv_loop_t *loop, sqlite3 *db, const char *db_path, config_t *config,
                     library_ready_cb done, void *arg)
{
    job_t *job = xcalloc(1, sizeof(*job));
    job->work.data = job;
    job->db_path = xstrdup(db_path);
    job->loop_db = db;
    job->config = config;
    job->ffprobe = xstrdup(config->ffprobe);
    job->done = done;
    job->arg = arg;
    uv_queue_work(loop, &job->work, prepare_work, prepared);
}
