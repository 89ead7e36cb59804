/*
 * Benchmark for the XMLTV guide: 50 scheduled channels with 7 days built, the whole
 * guide produced five times through xmltv_write (the producer the HTTP handler
 * streams from, piece by piece). Reports the median time, the largest piece and the
 * longest time spent on one piece (the loop is blocked that long), and the peak
 * memory the guide added. Targets: under 200 ms and under 20 MB.
 *
 * The schedules are built in a child process, so the memory figure is the guide's
 * alone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "benchutil.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "schedule.h"
#include "util.h"
#include "xmltv.h"

#define MINUTE 60000LL
#define CHANNELS 50
#define DAYS 7
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

/* 18 h of half-hour episodes from two series, then 6 h of movies. */
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
        .station_id = sched_set_find(lib->pools, lib->n_pools, "ids"),
        .filler = sched_set_find(lib->pools, lib->n_pools, "filler"),
        .per_half_hour = 2};
    ch->blocks = xcalloc(2, sizeof(*ch->blocks));
    ch->blocks[0] = (sched_block_t){.days = 0x7F, .start_min = 0, .end_min = 18 * 60,
                                    .slot = 30 * MINUTE, .fill = SCHED_FILL_SERIES};
    ch->blocks[0].series = xcalloc(2, sizeof(*ch->blocks[0].series));
    ch->blocks[0].series[0] = lib->series[(size_t)n % lib->n_series];
    ch->blocks[0].series[1] = lib->series[(size_t)(n + 3) % lib->n_series];
    ch->blocks[0].n_series = 2;
    const sched_set_t *mv = lib->collections[0];
    ch->blocks[1] = (sched_block_t){.name = xstrdup("Movie Night"), .days = 0x7F,
                                    .start_min = 18 * 60, .end_min = 24 * 60, .slot = 30 * MINUTE,
                                    .fill = SCHED_FILL_MOVIES, .order = SCHED_ORDER_SHUFFLE,
                                    .round_up = 30 * MINUTE};
    ch->blocks[1].movies = xcalloc(mv->n_assets, sizeof(*ch->blocks[1].movies));
    memcpy(ch->blocks[1].movies, mv->assets, mv->n_assets * sizeof(*mv->assets));
    ch->blocks[1].n_movies = mv->n_assets;
    ch->blocks[1].movies_key = xstrdup("collection:movies");
    ch->n_blocks = 2;
    return ch;
}

/* A line of /proc/self/status, in kB ("VmRSS", "VmHWM"). */
static long status_kb(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    size_t n = strlen(key);
    while (f != NULL && fgets(line, sizeof(line), f) != NULL)
        if (strncmp(line, key, n) == 0 && line[n] == ':')
            kb = strtol(line + n + 1, NULL, 10);
    if (f != NULL)
        fclose(f);
    return kb;
}

/* What a client would receive: bytes counted, nothing kept. */
typedef struct sink {
    size_t bytes, pieces, largest, programmes;
    double last, longest_gap;
    int count_programmes;
} sink_t;

static int sink(void *arg, const char *data, size_t len)
{
    sink_t *s = arg;
    double t = bench_now();
    if (t - s->last > s->longest_gap)
        s->longest_gap = t - s->last;
    s->bytes += len;
    s->pieces++;
    if (len > s->largest)
        s->largest = len;
    if (s->count_programmes)
        for (const char *p = data; (p = memmem(p, len - (size_t)(p - data), "<programme ", 11));
             p++)
            s->programmes++;
    s->last = bench_now();
    return 0;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "/tmp";
    log_set_level(LOG_WARN);
    lib = sched_library_new();
    for (int i = 0; i < 20; i++) {
        char name[32];
        snprintf(name, sizeof(name), "series%02d", i);
        sched_set_t *s = files(&lib->series, &lib->n_series, name, "/media/shows/%s-s01e%02d.ts",
                               13, 22 * MINUTE, SCHED_ASSET_EPISODE);
        s->title = xasprintf("Series %02d", i);
        s->rating = xstrdup(i % 2 ? "TV-PG" : "TV-G");
        s->genre = xstrdup(i % 3 ? "comedy" : "drama");
    }
    files(&lib->collections, &lib->n_collections, "movies", "/media/%s/movie-%03d (1987).ts", 40,
          95 * MINUTE, SCHED_ASSET_MOVIE);
    files(&lib->pools, &lib->n_pools, "ads", "/media/%s/ad-%02d.ts", 40, 30030, SCHED_ASSET_CLIP);
    files(&lib->pools, &lib->n_pools, "ids", "/media/%s/id-%d.ts", 3, 10010, SCHED_ASSET_CLIP);
    files(&lib->pools, &lib->n_pools, "filler", "/media/%s/bars-%d.ts", 1, 10010,
          SCHED_ASSET_CLIP);
    channel_conf_t confs[CHANNELS];
    memset(confs, 0, sizeof(confs));
    for (int i = 0; i < CHANNELS; i++) {
        confs[i].number = xasprintf("%d", i + 1);
        confs[i].name = xasprintf("Channel %d", i + 1);
        confs[i].call_sign = xasprintf("WB%02d", i + 1);
        confs[i].logo = xstrdup("/logos/x.png");
        confs[i].schedule = make_channel(i + 1);
    }
    config_t cfg = {.channels = confs, .n_channels = CHANNELS, .library = lib};

    char *path = xasprintf("%s/bench-xmltv-%d.db", dir, (int)getpid());
    unlink(path);
    sched_ms_t start = 1772323200000LL; /* 2026-03-01T00:00:00Z: DST inside the week */
    double build = bench_now();
    pid_t pid = fork();
    if (pid == 0) {
        sqlite3 *db = NULL;
        if (db_open(path, &db) != 0)
            _exit(1);
        for (int i = 0; i < CHANNELS; i++)
            if (schedule_extend(db, confs[i].schedule, start, DAYS) != 0)
                _exit(1);
        db_close(db);
        _exit(0);
    }
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0) {
        fprintf(stderr, "bench_xmltv: building the schedules failed\n");
        return 1;
    }
    fprintf(stderr, "schedules built in %.2f s\n", bench_now() - build);

    sqlite3 *db = NULL;
    if (db_open(path, &db) != 0)
        return 1;
    double now = (double)start / 1000.0 + 2 * 3600;
    long rss0 = status_kb("VmRSS");
    double times[RUNS];
    sink_t s = {0};
    for (int r = 0; r < RUNS; r++) {
        s = (sink_t){.last = bench_now()};
        double t0 = bench_now();
        if (xmltv_write(db, &cfg, "http://192.168.1.20:8080", now, sink, &s) != 0)
            return 1;
        times[r] = bench_now() - t0;
        fprintf(stderr, "run %d: %.1f ms, %zu bytes in %zu pieces\n", r + 1, times[r] * 1000,
                s.bytes, s.pieces);
    }
    long hwm = status_kb("VmHWM");
    sink_t counted = {.count_programmes = 1, .last = bench_now()};
    xmltv_write(db, &cfg, "http://192.168.1.20:8080", now, sink, &counted);
    bench_sort(times, (size_t)RUNS);
    double added = (double)(hwm - rss0) / 1024.0;
    printf("bench_xmltv: %d channels x %d days, %zu programmes, %.1f MB of XML in %zu pieces "
           "(largest %.0f KB, longest %.2f ms): median %.1f ms (min %.1f, max %.1f), "
           "peak memory added %.1f MB\n",
           CHANNELS, DAYS, counted.programmes, (double)s.bytes / 1e6, s.pieces,
           (double)s.largest / 1024.0, s.longest_gap * 1000, times[RUNS / 2] * 1000,
           times[0] * 1000, times[RUNS - 1] * 1000, added);
    db_close(db);
    unlink(path);
    char *wal = xasprintf("%s-wal", path), *shm = xasprintf("%s-shm", path);
    unlink(wal);
    unlink(shm);
    free(wal);
    free(shm);
    free(path);
    for (int i = 0; i < CHANNELS; i++) {
        sched_channel_free(confs[i].schedule);
        free(confs[i].number);
        free(confs[i].name);
        free(confs[i].call_sign);
        free(confs[i].logo);
    }
    sched_library_free(lib);
    return times[RUNS / 2] < 0.2 && added < 20 ? 0 : 2;
}
