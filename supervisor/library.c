/*
 * Library preparation. Durations come from the probe cache first; files not probed
 * yet (or changed since) are probed with ffprobe in uv_queue_work, and the results
 * are stored and handed to the schedule library back on the loop thread.
 */
#include "library.h"

#include <stdlib.h>
#include <string.h>

#include "catalog.h"
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

int library_all_house(sqlite3 *db, const config_t *cfg)
{
    const sched_library_t *lib = cfg->library;
    for (size_t i = 0; i < lib->n_assets; i++) {
        asset_t a;
        if (lib->assets[i]->duration <= 0 || catalog_get(db, lib->assets[i]->path, &a) != 0)
            continue;
        const char *why = NULL;
        int ok = a.error == NULL && catalog_airs_as_house(db, &a, &cfg->house, &why);
        if (!ok)
            log_info(NULL, "library: %s is not in the house format (%s); scheduled channels in "
                           "auto mode encode live", a.path, why ? why : a.error);
        asset_dispose(&a);
        if (!ok)
            return 0;
    }
    return 1;
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
    job->done(job->arg, library_all_house(job->db, job->config));
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
