/*
 * Benchmark for the schedule engine: builds 30 days of coarse and fine logs for 50
 * channels into a fresh SQLite file, five times, and reports the median wall time and
 * the peak RSS. Target: under 2 s and under 100 MB.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "benchutil.h"
#include "db.h"
#include "log.h"
#include "schedule.h"
#include "util.h"

#define MIN 60000LL
#define CHANNELS 50
#define DAYS 30
#define RUNS 5

static sched_library_t *lib;

static sched_set_t *files(sched_set_t ***sets, size_t *n, const char *name, const char *fmt,
                          int count, sched_ms_t dur, enum sched_asset_kind kind)
{
    sched_set_t *s = sched_set_add(sets, n, name);
    for (int i = 1; i <= count; i++) {
        char *p = xasprintf(fmt, name, i);
        sched_asset_t *a = sched_library_asset(lib, p, kind);
        a->duration = dur + (sched_ms_t)(i % 7) * 1001;
        sched_set_push(s, a, 0);
        free(p);
    }
    return s;
}

static sched_channel_t *make_channel(int n)
{
    sched_channel_t *ch = xcalloc(1, sizeof(*ch));
    ch->channel = xasprintf("%d", n);
    ch->library = lib;
    static const char *const zones[] = {"America/New_York", "America/Chicago", "Europe/London",
                                        "UTC", "America/Los_Angeles"};
    if (tz_load(zones[n % 5], &ch->tz) != 0)
        exit(1);
    ch->seed = (uint64_t)n;
    ch->days_ahead = DAYS;
    ch->gop = 2002;
    ch->fingerprint = 1;
    ch->breaks = (sched_breaks_t){
        .commercials = sched_set_find(lib->pools, lib->n_pools, "ads"),
        .bumper_out = sched_set_find(lib->pools, lib->n_pools, "out"),
        .bumper_in = sched_set_find(lib->pools, lib->n_pools, "in"),
        .station_id = sched_set_find(lib->pools, lib->n_pools, "ids"),
        .promo = sched_set_find(lib->pools, lib->n_pools, "promo"),
        .filler = sched_set_find(lib->pools, lib->n_pools, "filler"),
        .per_half_hour = 2};
    ch->blocks = xcalloc(3, sizeof(*ch->blocks));
    const sched_set_t *s1 = lib->series[(size_t)n % lib->n_series];
    const sched_set_t *s2 = lib->series[(size_t)(n + 3) % lib->n_series];
    ch->blocks[0] = (sched_block_t){.days = 0x7F, .start_min = 0, .end_min = 18 * 60,
                                    .slot = 30 * MIN, .fill = SCHED_FILL_SERIES};
    ch->blocks[0].series = xcalloc(2, sizeof(*ch->blocks[0].series));
    ch->blocks[0].series[0] = s1;
    ch->blocks[0].series[1] = s2;
    ch->blocks[0].n_series = 2;
    const sched_set_t *mv = lib->collections[0];
    ch->blocks[1] = (sched_block_t){.days = 0x7F, .start_min = 18 * 60, .end_min = 24 * 60,
                                    .slot = 30 * MIN, .fill = SCHED_FILL_MOVIES,
                                    .order = SCHED_ORDER_SHUFFLE, .round_up = 30 * MIN};
    ch->blocks[1].movies = xcalloc(mv->n_assets, sizeof(*ch->blocks[1].movies));
    memcpy(ch->blocks[1].movies, mv->assets, mv->n_assets * sizeof(*mv->assets));
    ch->blocks[1].n_movies = mv->n_assets;
    ch->blocks[1].movies_key = xstrdup("collection:movies");
    ch->n_blocks = 2;
    return ch;
}

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "/tmp";
    log_set_level(LOG_WARN);
    lib = sched_library_new();
    for (int i = 0; i < 20; i++) {
        char name[32];
        snprintf(name, sizeof(name), "series%02d", i);
        files(&lib->series, &lib->n_series, name, "/media/shows/%s-s01e%02d.ts", 13,
              22 * MIN, SCHED_ASSET_EPISODE);
    }
    files(&lib->collections, &lib->n_collections, "movies", "/media/%s/movie-%03d.ts", 40,
          95 * MIN, SCHED_ASSET_MOVIE);
    files(&lib->pools, &lib->n_pools, "ads", "/media/%s/ad-%02d.ts", 40, 30030,
          SCHED_ASSET_CLIP);
    files(&lib->pools, &lib->n_pools, "out", "/media/%s/right-back-%d.ts", 2, 6006,
          SCHED_ASSET_CLIP);
    files(&lib->pools, &lib->n_pools, "in", "/media/%s/back-to-%d.ts", 2, 6006, SCHED_ASSET_CLIP);
    files(&lib->pools, &lib->n_pools, "ids", "/media/%s/id-%d.ts", 3, 10010, SCHED_ASSET_CLIP);
    files(&lib->pools, &lib->n_pools, "promo", "/media/%s/next-%d.ts", 2, 6006, SCHED_ASSET_CLIP);
    files(&lib->pools, &lib->n_pools, "filler", "/media/%s/bars-%d.ts", 1, 10010,
          SCHED_ASSET_CLIP);
    sched_channel_t *chs[CHANNELS];
    for (int i = 0; i < CHANNELS; i++)
        chs[i] = make_channel(i + 1);

    double times[RUNS], cpus[RUNS];
    long long rows = 0;
    for (int r = 0; r < RUNS; r++) {
        char *path = xasprintf("%s/bench-schedule-%d.db", dir, (int)getpid());
        unlink(path);
        sqlite3 *db = NULL;
        if (db_open(path, &db) != 0)
            return 1;
        double t0 = bench_now(), c0 = cpu_s();
        sched_ms_t start = 1772323200000LL; /* 2026-03-01T00:00:00Z: DST inside the month */
        for (int i = 0; i < CHANNELS; i++) /* one transaction per channel */
            if (schedule_extend(db, chs[i], start, DAYS) != 0)
                return 1;
        times[r] = bench_now() - t0;
        cpus[r] = cpu_s() - c0;
        sqlite3_stmt *st;
        sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM fine_log", -1, &st, NULL);
        if (sqlite3_step(st) == SQLITE_ROW)
            rows = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        db_close(db);
        unlink(path);
        char *wal = xasprintf("%s-wal", path), *shm = xasprintf("%s-shm", path);
        unlink(wal);
        unlink(shm);
        free(wal);
        free(shm);
        free(path);
        fprintf(stderr, "run %d: %.3f s wall, %.3f s CPU\n", r + 1, times[r], cpus[r]);
    }
    bench_sort(times, (size_t)RUNS);
    bench_sort(cpus, (size_t)RUNS);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("bench_schedule: %d channels x %d days, %lld fine-log items: median %.3f s "
           "(min %.3f, max %.3f), median CPU %.3f s, peak RSS %.1f MB\n",
           CHANNELS, DAYS, rows, times[RUNS / 2], times[0], times[RUNS - 1], cpus[RUNS / 2],
           (double)ru.ru_maxrss / 1024.0);
    for (int i = 0; i < CHANNELS; i++)
        sched_channel_free(chs[i]);
    sched_library_free(lib);
    return times[RUNS / 2] < 2.0 && ru.ru_maxrss < 100 * 1024 ? 0 : 2;
}
