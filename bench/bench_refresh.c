/*
 * Benchmark for what a finished conform costs the event loop: the station re-reads
 * every library asset's duration, break points and house flag from the catalog. It
 * compares the loop time of doing that inline on the loop's own connection (as before)
 * with library_refresh (a worker thread reads, the loop applies), for a library of
 * N assets (default 5000) with catalog rows, two break points each, and half of them
 * not in the house format. Median of 5 runs each.
 *
 *   bench_refresh [N] [DIR]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "benchutil.h"
#include "catalog.h"
#include "db.h"
#include "library.h"
#include "log.h"
#include "schedule.h"
#include "util.h"

#define RUNS 5

static double median(double *v, int n)
{
    bench_sort(v, (size_t)n);
    return v[n / 2];
}

/* Empty files stand for the media: the catalog only checks their size and mtime. */
static void make_catalog(sqlite3 *db, config_t *cfg, const char *media, int n)
{
    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    for (int i = 0; i < n; i++) {
        char *path = xasprintf("%s/show-%05d.ts", media, i);
        FILE *f = fopen(path, "w");
        if (f != NULL)
            fclose(f);
        struct stat sb;
        stat(path, &sb);
        int house = i % 2 == 0;
        asset_t a = {.path = path, .size = (long long)sb.st_size, .mtime = (long long)sb.st_mtime,
                     .duration = 1320.0, .format = "mpegts",
                     .video_codec = house ? "h264" : "mpeg2video", .width = 640, .height = 480,
                     .fps = "30000/1001", .pix_fmt = "yuv420p", .profile = "Main",
                     .field_order = "progressive", .sar_num = 1, .sar_den = 1,
                     .audio_codec = "aac", .audio_rate = 48000, .audio_channels = 2};
        catalog_store(db, &a);
        char *sql = xasprintf("INSERT INTO asset_breaks (asset_id, at, source, confidence)"
                              " SELECT id, 440.0, 'detected', 0.9 FROM assets WHERE path = '%s'"
                              " UNION ALL SELECT id, 880.0, 'detected', 0.9 FROM assets"
                              " WHERE path = '%s'", path, path);
        sqlite3_exec(db, sql, NULL, NULL, NULL);
        free(sql);
        sched_library_asset(cfg->library, path, SCHED_ASSET_EPISODE);
        free(path);
    }
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
}

typedef struct run {
    config_t *cfg;
    double loop_s;   /* time spent on the loop thread */
    double done_at;
    unsigned char *flags;
} run_t;

static void refreshed(void *arg, library_refresh_t *r)
{
    run_t *run = arg;
    double t = bench_now();
    run->flags = library_refresh_apply(r, run->cfg);
    library_refresh_free(r);
    run->loop_s += bench_now() - t;
    run->done_at = bench_now();
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 5000;
    const char *base = argc > 2 ? argv[2] : "/tmp";
    if (n <= 0) {
        fprintf(stderr, "usage: bench_refresh [N] [DIR]\n");
        return 2;
    }
    log_set_level(LOG_WARN);
    char *dir = xasprintf("%s/rv-bench-refresh-XXXXXX", base);
    if (mkdtemp(dir) == NULL) {
        perror(dir);
        return 1;
    }
    char *media = xasprintf("%s/media", dir), *db_path = xasprintf("%s/retrovue.db", dir);
    mkdir(media, 0755);
    sqlite3 *db;
    if (db_open(db_path, &db) != 0)
        return 1;
    config_t *cfg = xcalloc(1, sizeof(*cfg));
    cfg->library = sched_library_new();
    cfg->house = (house_format_t){640, 480, 30000, 1001, 60, 48000, 2, 1500, 128};
    make_catalog(db, cfg, media, n);

    double inline_s[RUNS], loop_s[RUNS], total_s[RUNS];
    size_t live = 0;
    for (int i = 0; i < RUNS; i++) {
        double t = bench_now();
        sched_library_fill_from_catalog(cfg->library, db);
        unsigned char *flags = library_house_flags(db, cfg);
        inline_s[i] = bench_now() - t;
        live = 0;
        for (int j = 0; j < n; j++)
            live += !flags[j];
        free(flags);

        uv_loop_t loop;
        uv_loop_init(&loop);
        run_t run = {.cfg = cfg};
        t = bench_now();
        library_refresh(&loop, db_path, cfg, refreshed, &run);
        run.loop_s = bench_now() - t;
        uv_run(&loop, UV_RUN_DEFAULT);
        uv_loop_close(&loop);
        loop_s[i] = run.loop_s;
        total_s[i] = run.done_at - t;
        free(run.flags);
    }
    printf("library of %d assets (%zu not in the house format), median of %d:\n", n, live, RUNS);
    printf("  inline on the loop:     %.1f ms of loop time\n", median(inline_s, RUNS) * 1000);
    printf("  library_refresh:        %.2f ms of loop time (%.1f ms on a worker, end to end)\n",
           median(loop_s, RUNS) * 1000, median(total_s, RUNS) * 1000);

    db_close(db);
    sched_library_free(cfg->library);
    free(cfg);
    char *rm = xasprintf("rm -rf '%s'", dir);
    if (system(rm) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    free(rm);
    free(dir);
    free(media);
    free(db_path);
    return 0;
}
