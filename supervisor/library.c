/*
 * Library preparation. Durations come from the probe cache first; files not probed
 * yet (or changed since) are probed with ffprobe in uv_queue_work, and the results
 * are stored and handed to the schedule library back on the loop thread. A refresh
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
    sqlite3 *db;
    config_t *config;
    char *ffprobe;
    char **paths;      /* to probe */
    asset_t *assets;
    size_t n;
    library_ready_cb done;
    void *arg;
} job_t;

static void probe_all(uv_work_t *w)
{
    job_t *job = w->data;
    for (size_t i = 0; i < job->n; i++) {
        catalog_probe(job->ffprobe, job->paths[i], &job->assets[i]);
        /* Plain progress lines: this runs inside the server, whose stderr is a log. */
        if (job->n >= 20 && (i + 1) % 20 == 0)
            log_info(NULL, "library: probed %zu of %zu files", i + 1, job->n);
    }
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

static void probed(uv_work_t *w, int status)
{
    job_t *job = w->data;
    size_t bad = 0;
    for (size_t i = 0; i < job->n; i++) {
        asset_t *a = &job->assets[i];
        if (a->size > 0)
            catalog_store(job->db, a);
        if (a->error != NULL) {
            log_warn(NULL, "library: %s: %s", job->paths[i], a->error);
            bad++;
        } else {
            sched_library_set_duration(job->config->library, a->path, a->duration, a->start_time);
        }
        asset_dispose(a);
        free(job->paths[i]);
    }
    if (job->n > 0)
        log_info(NULL, "library: probed %zu files (%zu unusable)", job->n, bad);
    job->done(job->arg, library_house_flags(job->db, job->config));
    free(job->paths);
    free(job->assets);
    free(job->ffprobe);
    free(job);
}

void library_prepare(uv_loop_t *loop, sqlite3 *db, config_t *config, library_ready_cb done,
                     void *arg)
{
    sched_library_t *lib = config->library;
    job_t *job = xcalloc(1, sizeof(*job));
    job->work.data = job;
    job->db = db;
    job->config = config;
    job->ffprobe = xstrdup(config->ffprobe);
    job->done = done;
    job->arg = arg;
    size_t unknown = sched_library_fill_from_catalog(lib, db);
    job->paths = xcalloc(unknown ? unknown : 1, sizeof(char *));
    for (size_t i = 0; i < lib->n_assets && job->n < unknown; i++)
        if (lib->assets[i]->duration <= 0 && util_file_readable(lib->assets[i]->path))
            job->paths[job->n++] = xstrdup(lib->assets[i]->path);
    job->assets = xcalloc(job->n ? job->n : 1, sizeof(asset_t));
    if (lib->n_assets > 0)
        log_info(NULL, "library: %zu files, %zu to probe", lib->n_assets, job->n);
    uv_queue_work(loop, &job->work, probe_all, probed);
}
