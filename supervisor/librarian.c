/*
 * The librarian's jobs. One ingest at a time; after it, conform workers (config
 * conform.jobs of them) each claim the next asset that needs a house copy by inserting
 * its "running" row, so two workers never take the same one, and keep going until
 * none is left. A crash leaves "running" rows behind: the next start deletes them and
 * their partial files and the work is simply done again. The start also sweeps the
 * cache: a conform of a removed file, for another house format or by an older encoder
 * (its file name no longer what conform_cache_path gives) is forgotten (made again if
 * still needed), and files no row speaks for are removed.
 */
#include "librarian.h"

#include <dirent.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conform.h"
#include "db.h"
#include "ingest.h"
#include "log.h"
#include "probe.h"
#include "progress.h"
#include "util.h"

typedef struct job {
    uv_work_t work;
    librarian_t *lib;
    config_t *cfg;       /* the worker's own copy */
    int is_ingest;
} job_t;

struct librarian {
    uv_loop_t *loop;
    char *db_path;
    config_t *cfg;           /* a content-only copy of the newest configuration */
    librarian_changed_cb changed;
    void *arg;
    uv_async_t notify;       /* a conform finished: tell the loop */
    atomic_int cancel;
    int running;             /* jobs on the thread pool */
    int ingesting;
    int ingest_again;        /* roots changed while an ingest ran */
    int stopping;
    void (*stopped)(void *arg);
    void *stopped_arg;
};

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- ingest ---- */

static void ingest_work(uv_work_t *w)
{
    job_t *job = w->data;
    sqlite3 *db;
    if (db_open(job->lib->db_path, &db) != 0)
        return;
    /* One file at a time: the station's channels come first. */
    ingest_opts_t opts = {.progress = NULL, .cancel = &job->lib->cancel, .threads = 1};
    ingest_report_t r;
    strbuf_t warnings;
    strbuf_init(&warnings);
    log_info(NULL, "ingest: scanning %zu media root%s%s", job->cfg->n_media,
             job->cfg->n_media == 1 ? "" : "s", config_ingests_plex(job->cfg) ? " and Plex" : "");
    int rc = ingest_run(db, job->cfg, &opts, &r, &warnings);
    char *save, *line = strtok_r(warnings.data ? warnings.data : (char *)"", "\n", &save);
    for (; line != NULL; line = strtok_r(NULL, "\n", &save))
        log_warn(NULL, "ingest: %s", line);
    strbuf_dispose(&warnings);
    if (rc == 0)
        log_info(NULL,
                 "ingest: %zu files: %zu new, %zu changed, %zu unchanged, %zu gone, %zu "
                 "unreadable (%.1f s)",
                 r.found, r.added, r.changed, r.unchanged, r.gone, r.failed, r.seconds);
    else if (rc == -ECANCELED)
        log_info(NULL, "ingest: stopped before the end; the next start carries on");
    db_close(db);
}

/* ---- conform ---- */

/* How many assets still want a house copy (for the progress bar's total). */
static long conform_backlog(sqlite3 *db, const char *house)
{
    sqlite3_stmt *st;
    long n = 0;
    if (sqlite3_prepare_v2(db,
                           "SELECT count(*) FROM assets a WHERE kind IS NOT NULL AND gone_at IS NULL"
                           " AND error IS NULL AND video_codec IS NOT NULL AND NOT EXISTS"
                           " (SELECT 1 FROM conforms c WHERE c.asset_id = a.id AND c.house = ?)",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, house, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW)
            n = (long)sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    return n;
}

static double conform_media_seconds(sqlite3 *db, long long id)
{
    sqlite3_stmt *st;
    double d = 0;
    if (sqlite3_prepare_v2(db, "SELECT duration FROM assets WHERE id = ?", -1, &st, NULL) ==
        SQLITE_OK) {
        sqlite3_bind_int64(st, 1, id);
        if (sqlite3_step(st) == SQLITE_ROW)
            d = sqlite3_column_double(st, 0);
        sqlite3_finalize(st);
    }
    return d;
}

/* The next asset without a house copy, claimed by inserting its "running" row.
   1 with id/path set, 0 when none is left, -EIO. */
static int claim_next(sqlite3 *db, const char *house, long long *id, char **path,
                      long long *size, long long *mtime)
{
    sqlite3_stmt *st;
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return -EIO;
    int rc = -EIO;
    /* Programs first: they are what viewers notice live encoding on. */
    if (sqlite3_prepare_v2(db,
                           "SELECT id, path, size, mtime FROM assets a WHERE kind IS NOT NULL"
                           " AND gone_at IS NULL AND error IS NULL AND video_codec IS NOT NULL"
                           " AND NOT EXISTS (SELECT 1 FROM conforms c WHERE c.asset_id = a.id"
                           " AND c.house = ?1) ORDER BY kind NOT IN ('episodes', 'movies'), id"
                           " LIMIT 1",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, house, -1, SQLITE_STATIC);
        rc = 0;
        if (sqlite3_step(st) == SQLITE_ROW) {
            *id = sqlite3_column_int64(st, 0);
            *path = xstrdup((const char *)sqlite3_column_text(st, 1));
            *size = sqlite3_column_int64(st, 2);
            *mtime = sqlite3_column_int64(st, 3);
            rc = 1;
        }
        sqlite3_finalize(st);
    }
    if (rc == 1) {
        char fp[32];
        snprintf(fp, sizeof(fp), "%lld:%lld:%lld", *id, *size, *mtime);
        if (sqlite3_prepare_v2(db,
                               "INSERT INTO conforms (fingerprint, house, asset_id, state,"
                               " updated_at) VALUES (?, ?, ?, 'running', ?)",
                               -1, &st, NULL) == SQLITE_OK) {
            sqlite3_bind_text(st, 1, fp, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(st, 2, house, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 3, *id);
            sqlite3_bind_double(st, 4, wall_now());
            if (sqlite3_step(st) != SQLITE_DONE)
                rc = -EIO;
            sqlite3_finalize(st);
        } else {
            rc = -EIO;
        }
    }
    sqlite3_exec(db, rc >= 0 ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL);
    if (rc < 0) {
        free(*path);
        *path = NULL;
    }
    return rc;
}

static void finish_conform(sqlite3 *db, long long id, const char *house, const char *state,
                           const char *path, const conform_result_t *r, const char *error)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "UPDATE conforms SET state = ?, path = ?, start_time = ?, duration = ?,"
                           " keyframes = ?, error = ?, updated_at = ? WHERE asset_id = ?"
                           " AND house = ?",
                           -1, &st, NULL) != SQLITE_OK)
        return;
    char *kf = r && r->n_keyframes ? conform_keyframes_json(r->keyframes, r->n_keyframes) : NULL;
    sqlite3_bind_text(st, 1, state, -1, SQLITE_STATIC);
    if (path)
        sqlite3_bind_text(st, 2, path, -1, SQLITE_STATIC);
    if (r) {
        sqlite3_bind_double(st, 3, r->start_time);
        sqlite3_bind_double(st, 4, r->duration);
    }
    if (kf)
        sqlite3_bind_text(st, 5, kf, -1, SQLITE_STATIC);
    if (error)
        sqlite3_bind_text(st, 6, error, -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 7, wall_now());
    sqlite3_bind_int64(st, 8, id);
    sqlite3_bind_text(st, 9, house, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        log_error(NULL, "conform: unable to record the result: %s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    free(kf);
}

/* Probes afresh (the file may have changed since ingest), then either records that it
   is already house format or makes the house copy. */
/* A conform's progress on the bar of `retrovue ingest --conform`: media seconds of
   the files before this one plus this one's. */
typedef struct bar {
    progress_t prog;
    double base;
} bar_t;

static int conform_progress(void *arg, double done, double total)
{
    bar_t *b = arg;
    (void)total;
    progress_update(&b->prog, b->prog.done, b->base + done, NULL);
    return 0;
}

static void conform_one(atomic_int *cancel, bar_t *prog, sqlite3 *db, const config_t *cfg,
                        const char *house, long long id, const char *path, long long size,
                        long long mtime)
{
    probe_t p;
    const char *why = NULL;
    if (probe_file(cfg->ffprobe, path, &p) != 0) {
        finish_conform(db, id, house, "failed", NULL, NULL, p.error);
        probe_dispose(&p);
        return;
    }
    if (probe_is_house(&p, &cfg->house, &why)) {
        finish_conform(db, id, house, "house", NULL, NULL, NULL);
        probe_dispose(&p);
        return;
    }
    char *dst = conform_cache_path(cfg->state_dir, path, size, mtime, &cfg->house);
    log_info(NULL, "conform: %s (%s) -> %s", path, why ? why : "not house format", dst);
    conform_opts_t o;
    conform_opts_init(&o);
    o.nice = cfg->conform_nice;
    /* With several conforms at once, one encoder thread each keeps them from fighting
       the channels (and each other) for every core; the CPU per conform is the same. */
    if (cfg->conform_jobs > 1)
        o.threads = 1;
    o.cancel = cancel;
    if (prog != NULL) {
        o.progress = conform_progress;
        o.arg = prog;
    }
    conform_result_t r;
    double t0 = wall_now();
    int rc = conform_file(cfg->ffmpeg, cfg->ffprobe, path, &p, &cfg->house, dst, &o, &r);
    if (rc == 0) {
        double took = wall_now() - t0;
        log_info(NULL, "conform: done %s: %.0f s of media in %.0f s (%.1fx real time), %zu keyframes",
                 path, r.duration, took, took > 0 ? r.duration / took : 0, r.n_keyframes);
        finish_conform(db, id, house, "done", dst, &r, NULL);
    } else if (rc == -ECANCELED) {
        /* Not a failure: the next start does it again. */
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(db, "DELETE FROM conforms WHERE asset_id = ? AND house = ?", -1, &st,
                               NULL) == SQLITE_OK) {
            sqlite3_bind_int64(st, 1, id);
            sqlite3_bind_text(st, 2, house, -1, SQLITE_STATIC);
            sqlite3_step(st);
            sqlite3_finalize(st);
        }
    } else {
        log_warn(NULL, "conform: %s failed: %s; it keeps airing with live encoding", path,
                 r.error ? r.error : strerror(-rc));
        finish_conform(db, id, house, "failed", NULL, NULL, r.error ? r.error : strerror(-rc));
    }
    conform_result_dispose(&r);
    probe_dispose(&p);
    free(dst);
}

static void conform_work(uv_work_t *w)
{
    job_t *job = w->data;
    librarian_t *lib = job->lib;
    sqlite3 *db;
    if (db_open(lib->db_path, &db) != 0)
        return;
    char *house = conform_house_key(&job->cfg->house);
    while (!atomic_load(&lib->cancel)) {
        long long id, size, mtime;
        char *path = NULL;
        if (claim_next(db, house, &id, &path, &size, &mtime) != 1)
            break;
        conform_one(&lib->cancel, NULL, db, job->cfg, house, id, path, size, mtime);
        free(path);
        uv_async_send(&lib->notify);
    }
    free(house);
    db_close(db);
}

int librarian_conform_all(sqlite3 *db, const config_t *cfg, FILE *progress)
{
    atomic_int never;
    atomic_init(&never, 0);
    char *house = conform_house_key(&cfg->house);
    bar_t bar = {0};
    if (progress != NULL)
        progress_start(&bar.prog, progress, "conform", conform_backlog(db, house), 0);
    int done = 0;
    for (;;) {
        long long id, size, mtime;
        char *path = NULL;
        int rc = claim_next(db, house, &id, &path, &size, &mtime);
        if (rc != 1)
            break;
        conform_one(&never, progress != NULL ? &bar : NULL, db, cfg, house, id, path, size, mtime);
        free(path);
        done++;
        bar.base += conform_media_seconds(db, id);
        bar.prog.done = done;
        bar.prog.done_media = bar.base;
    }
    if (progress != NULL && done > 0)
        progress_finish(&bar.prog);
    free(house);
    return done;
}

/* ---- on the loop ---- */

static void start_job(librarian_t *lib, int is_ingest);

static void on_closed(uv_handle_t *h)
{
    librarian_t *lib = h->data;
    void (*done)(void *) = lib->stopped;
    void *arg = lib->stopped_arg;
    config_free(lib->cfg);
    free(lib->db_path);
    free(lib);
    done(arg);
}

static void maybe_finish_stop(librarian_t *lib)
{
    if (!lib->stopping || lib->running > 0 || uv_is_closing((uv_handle_t *)&lib->notify))
        return;
    uv_close((uv_handle_t *)&lib->notify, on_closed);
}

static void job_done(uv_work_t *w, int status)
{
    job_t *job = w->data;
    librarian_t *lib = job->lib;
    lib->running--;
    config_free(job->cfg);
    int was_ingest = job->is_ingest;
    free(job);
    if (was_ingest)
        lib->ingesting = 0;
    if (lib->stopping) {
        maybe_finish_stop(lib);
        return;
    }
    if (was_ingest) {
        lib->changed(lib->arg, 1);
        if (lib->ingest_again) {
            lib->ingest_again = 0;
            start_job(lib, 1);
            return;
        }
        for (int i = 0; i < lib->cfg->conform_jobs; i++)
            start_job(lib, 0);
    }
}

static void on_notify(uv_async_t *a)
{
    librarian_t *lib = a->data;
    if (!lib->stopping)
        lib->changed(lib->arg, 0);
}

static void start_job(librarian_t *lib, int is_ingest)
{
    job_t *job = xcalloc(1, sizeof(*job));
    job->work.data = job;
    job->lib = lib;
    job->cfg = config_copy_content(lib->cfg);
    job->is_ingest = is_ingest;
    lib->running++;
    if (is_ingest)
        lib->ingesting = 1;
    uv_queue_work(lib->loop, &job->work, is_ingest ? ingest_work : conform_work, job_done);
}

/* Rows left "running" by a crash: their partial files go, and the work is redone. */
/* The done rows worth keeping: the current house format, by the current encoder. */
static void forget_stale(sqlite3 *db, const config_t *cfg, const char *house, strbuf_t *keep)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "SELECT c.rowid, c.house, c.path, a.path, a.size, a.mtime, c.state,"
                           " a.gone_at IS NOT NULL FROM conforms c JOIN assets a"
                           " ON a.id = c.asset_id",
                           -1, &st, NULL) != SQLITE_OK)
        return;
    strbuf_t stale;
    strbuf_init(&stale);
    size_t n_stale = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *row_house = (const char *)sqlite3_column_text(st, 1);
        const char *file = (const char *)sqlite3_column_text(st, 2);
        const char *state = (const char *)sqlite3_column_text(st, 6);
        /* A file removed from the library keeps its history, not its house copy. */
        int ok = row_house != NULL && strcmp(row_house, house) == 0 &&
                 sqlite3_column_int(st, 7) == 0;
        if (ok && state != NULL && strcmp(state, "done") == 0) {
            char *want = conform_cache_path(cfg->state_dir,
                                            (const char *)sqlite3_column_text(st, 3),
                                            sqlite3_column_int64(st, 4),
                                            sqlite3_column_int64(st, 5), &cfg->house);
            ok = file != NULL && strcmp(file, want) == 0;
            free(want);
            if (ok)
                strbuf_append(keep, file, strlen(file) + 1); /* NUL-separated */
        }
        if (!ok) {
            strbuf_printf(&stale, "%s%lld", n_stale ? "," : "", sqlite3_column_int64(st, 0));
            n_stale++;
        }
    }
    sqlite3_finalize(st);
    if (n_stale > 0) {
        char *sql = xasprintf("DELETE FROM conforms WHERE rowid IN (%s)", stale.data);
        if (sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK)
            log_info(NULL, "conform: forgot %zu conform%s (of removed files, for another house "
                           "format, or by an older encoder; those still needed are made again)",
                     n_stale, n_stale == 1 ? "" : "s");
        free(sql);
    }
    strbuf_dispose(&stale);
}

static int kept(const strbuf_t *keep, const char *path)
{
    for (size_t i = 0; i < keep->len; i += strlen(keep->data + i) + 1)
        if (strcmp(keep->data + i, path) == 0)
            return 1;
    return 0;
}

/* Removes what conforms left in STATE/conform that no kept row speaks for: partial
   files of a crash, and copies of forgotten conforms. Only names this cache makes. */
static void sweep_files(const config_t *cfg, const strbuf_t *keep)
{
    char *dir = xasprintf("%s/conform", cfg->state_dir);
    DIR *d = opendir(dir);
    if (d == NULL) {
        free(dir);
        return;
    }
    size_t n = 0;
    long long bytes = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        int ours = (len > 3 && strcmp(e->d_name + len - 3, ".ts") == 0) ||
                   (len > 8 && strcmp(e->d_name + len - 8, ".ts.part") == 0);
        if (!ours)
            continue;
        char *path = xasprintf("%s/%s", dir, e->d_name);
        struct stat sb;
        if (!kept(keep, path) && lstat(path, &sb) == 0 && S_ISREG(sb.st_mode) &&
            unlink(path) == 0) {
            n++;
            bytes += (long long)sb.st_size;
        }
        free(path);
    }
    closedir(d);
    if (n > 0)
        log_info(NULL, "conform: removed %zu stale file%s (%.1f MB) from %s", n,
                 n == 1 ? "" : "s", bytes / 1e6, dir);
    free(dir);
}

static void recover(const char *db_path, const config_t *cfg)
{
    sqlite3 *db;
    if (db_open(db_path, &db) != 0)
        return;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "DELETE FROM conforms WHERE state = 'running' RETURNING path", -1,
                           &st, NULL) == SQLITE_OK) {
        int n = 0;
        while (sqlite3_step(st) == SQLITE_ROW)
            n++;
        sqlite3_finalize(st);
        if (n > 0)
            log_info(NULL, "conform: %d conform%s interrupted by the last stop will run again", n,
                     n == 1 ? "" : "s");
    }
    char *house = conform_house_key(&cfg->house);
    strbuf_t keep;
    strbuf_init(&keep);
    forget_stale(db, cfg, house, &keep);
    sweep_files(cfg, &keep);
    strbuf_dispose(&keep);
    free(house);
    db_close(db);
}

librarian_t *librarian_start(uv_loop_t *loop, const config_t *cfg, const char *db_path,
                             librarian_changed_cb changed, void *arg)
{
    librarian_t *lib = xcalloc(1, sizeof(*lib));
    lib->loop = loop;
    lib->db_path = xstrdup(db_path);
    lib->cfg = config_copy_content(cfg);
    lib->changed = changed;
    lib->arg = arg;
    atomic_init(&lib->cancel, 0);
    uv_async_init(loop, &lib->notify, on_notify);
    lib->notify.data = lib;
    uv_unref((uv_handle_t *)&lib->notify); /* it must not keep a stopping loop alive */
    recover(db_path, cfg);
    if (cfg->n_media > 0 || config_ingests_plex(cfg))
        start_job(lib, 1);
    else if (cfg->conform_jobs > 0)
        start_job(lib, 0); /* assets ingested earlier may still need conforming */
    return lib;
}

static int roots_differ(const config_t *a, const config_t *b)
{
    if (a->n_media != b->n_media || a->conform_jobs != b->conform_jobs)
        return 1;
    for (size_t i = 0; i < a->n_media; i++)
        if (strcmp(a->media[i].path, b->media[i].path) != 0 || a->media[i].kind != b->media[i].kind)
            return 1;
    const char *x = a->plex.url ? a->plex.url : "", *y = b->plex.url ? b->plex.url : "";
    return strcmp(x, y) != 0 || config_ingests_plex(a) != config_ingests_plex(b);
}

void librarian_reconfigure(librarian_t *lib, const config_t *cfg)
{
    int again = roots_differ(lib->cfg, cfg);
    config_free(lib->cfg);
    lib->cfg = config_copy_content(cfg);
    if (!again || lib->stopping)
        return;
    log_info(NULL, "ingest: the media roots changed; scanning again");
    if (lib->ingesting)
        lib->ingest_again = 1;
    else
        start_job(lib, 1);
}

void librarian_stop(librarian_t *lib, void (*done)(void *arg), void *arg)
{
    lib->stopping = 1;
    lib->stopped = done;
    lib->stopped_arg = arg;
    atomic_store(&lib->cancel, 1);
    if (lib->running > 0)
        log_info(NULL, "librarian: waiting for background work to stop");
    maybe_finish_stop(lib);
}

const char *librarian_state(const librarian_t *lib)
{
    if (lib == NULL || lib->running == 0)
        return "idle";
    return lib->ingesting ? "ingesting" : "conforming";
}
