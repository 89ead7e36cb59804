/*
 * The retrovue command line: `serve`, `check`, and the internal `_exec` used to
 * start ffmpeg so that it dies with retrovue even if retrovue is killed outright.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "catalog.h"
#include "clock.h"
#include "commands.h"
#include "db.h"
#include "config.h"
#include "log.h"
#include "station.h"
#include "util.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: retrovue COMMAND [OPTIONS]\n"
            "\n"
            "A TV station in a box: 24/7 linear channels as HLS and MPEG-TS.\n"
            "\n"
            "commands:\n"
            "  serve --config DIR [--listen ADDR:PORT] [--state DIR]\n"
            "        [--clock-start ISO8601] [--clock-rate R]\n"
            "                     air the configured channels and serve them over HTTP\n"
            "  check --config DIR validate the configuration; every error names file,\n"
            "                     line, column and JSON path\n"
            "  schedule --config DIR --channel N [--date YYYY-MM-DD] [--fine] [--json]\n"
            "           [--state DIR]\n"
            "                     print a channel's coarse (or fine) log for a local date\n"
            "  ingest --config DIR [--state DIR] [--no-breaks] [--conform]\n"
            "                     scan the media roots (and Plex): probe, read .nfo\n"
            "                     metadata, find break points; --conform also makes\n"
            "                     the house-format copies now instead of in serve\n"
            "  assets list|show --config DIR [ID|PATH] [--kind K] [--query Q] [--json]\n"
            "                     the catalog\n"
            "\n"
            "options:\n"
            "  -h, --help         show this help\n"
            "  -V, --version      show the version\n");
}

/* Runs as the child of `serve`: ask the kernel to kill us when the parent dies, so
   no ffmpeg outlives the station, then become ffmpeg. */
static int cmd_exec(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "retrovue _exec: missing program\n");
        return 127;
    }
    pid_t parent = getppid();
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
        return 127; /* the parent is already gone */
    execvp(argv[2], argv + 2);
    fprintf(stderr, "retrovue: unable to run %s: %s\n", argv[2], strerror(errno));
    return 127;
}

/* Loads DIR, printing every error and, when count_errors, a summary line. */
static config_t *load_or_report(const char *dir, int count_errors)
{
    config_t *cfg;
    strbuf_t errors;
    strbuf_init(&errors);
    if (config_load(dir, &cfg, &errors) != 0) {
        fputs(errors.data ? errors.data : "", stderr);
        size_t n = 0;
        for (size_t i = 0; i < errors.len; i++)
            n += errors.data[i] == '\n';
        if (count_errors)
            fprintf(stderr, "%s: %zu error%s\n", dir, n, n == 1 ? "" : "s");
        cfg = NULL;
    }
    strbuf_dispose(&errors);
    return cfg;
}

static int cmd_check(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'}, {"help", no_argument, NULL, 'h'}, {0}};
    const char *dir = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        if (c == 'c')
            dir = optarg;
        else {
            fprintf(c == 'h' ? stdout : stderr, "usage: retrovue check --config DIR\n");
            return c == 'h' ? 0 : 2;
        }
    }
    if (dir == NULL) {
        fprintf(stderr, "retrovue check: --config DIR is required\n");
        return 2;
    }
    config_t *cfg = load_or_report(dir, 1);
    if (cfg == NULL)
        return 1;
    if (cfg->warnings != NULL)
        fputs(cfg->warnings, stderr);
    size_t missing = 0, items = 0;
    for (size_t i = 0; i < cfg->n_channels; i++)
        for (size_t j = 0; j < cfg->channels[i].n_items; j++) {
            items++;
            if (!util_file_readable(cfg->channels[i].items[j])) {
                fprintf(stderr, "%s: warning: channel %s: media file %s is missing\n",
                        cfg->channels[i].file, cfg->channels[i].number, cfg->channels[i].items[j]);
                missing++;
            }
        }
    printf("%s: OK, %zu channel%s, %zu playlist items", cfg->dir, cfg->n_channels,
           cfg->n_channels == 1 ? "" : "s", items);
    if (missing)
        printf(" (%zu missing media file%s)", missing, missing == 1 ? "" : "s");
    printf("\n");
    config_free(cfg);
    return 0;
}

/* Probes, in this process, the library files the cache does not know yet. */
static void probe_library(sqlite3 *db, config_t *cfg)
{
    sched_library_t *lib = cfg->library;
    size_t unknown = sched_library_fill_from_catalog(lib, db), done = 0;
    for (size_t i = 0; i < lib->n_assets; i++) {
        sched_asset_t *a = lib->assets[i];
        if (a->duration > 0 || !util_file_readable(a->path))
            continue;
        asset_t probed;
        catalog_probe(cfg->ffprobe, a->path, &probed);
        catalog_store(db, &probed);
        if (probed.error == NULL)
            sched_library_set_duration(lib, a->path, probed.duration, probed.start_time);
        else
            fprintf(stderr, "retrovue: %s: %s\n", a->path, probed.error);
        asset_dispose(&probed);
        done++;
        if (isatty(STDERR_FILENO))
            fprintf(stderr, "\rprobing the library: %zu of %zu files", done, unknown);
    }
    if (done > 0 && isatty(STDERR_FILENO))
        fprintf(stderr, "\n");
}

static int cmd_schedule(int argc, char **argv)
{
    static const struct option longopts[] = {{"config", required_argument, NULL, 'c'},
                                              {"channel", required_argument, NULL, 'n'},
                                              {"date", required_argument, NULL, 'd'},
                                              {"state", required_argument, NULL, 's'},
                                              {"fine", no_argument, NULL, 'f'},
                                              {"json", no_argument, NULL, 'j'},
                                              {"help", no_argument, NULL, 'h'},
                                              {0}};
    const char *dir = NULL, *number = NULL, *date = NULL, *state = NULL;
    int flags = 0, c;
    while ((c = getopt_long(argc, argv, "c:n:d:s:fjh", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': dir = optarg; break;
        case 'n': number = optarg; break;
        case 'd': date = optarg; break;
        case 's': state = optarg; break;
        case 'f': flags |= SCHED_PRINT_FINE; break;
        case 'j': flags |= SCHED_PRINT_JSON; break;
        case 'h':
            printf("usage: retrovue schedule --config DIR --channel N [--date YYYY-MM-DD] "
                   "[--fine] [--json] [--state DIR]\n");
            return 0;
        default: return 2;
        }
    }
    if (dir == NULL || number == NULL) {
        fprintf(stderr, "retrovue schedule: --config DIR and --channel N are required\n");
        return 2;
    }
    config_t *cfg = load_or_report(dir, 0);
    if (cfg == NULL)
        return 1;
    const channel_conf_t *ch = config_find_channel(cfg, number);
    int rc = 1;
    if (ch == NULL) {
        fprintf(stderr, "retrovue schedule: no channel %s in %s\n", number, cfg->dir);
    } else if (ch->schedule == NULL) {
        fprintf(stderr, "retrovue schedule: channel %s plays a looping playlist, not a schedule\n",
                number);
    } else {
        char today[16];
        double now = clock_now();
        sched_ms_t now_ms = (sched_ms_t)llround(now * 1000);
        schedule_format_local(ch->schedule->tz, now_ms, today, sizeof(today));
        today[10] = '\0';
        if (date == NULL)
            date = today;
        int64_t day, first;
        if (schedule_parse_date(date, &day) != 0 || schedule_parse_date(today, &first) != 0) {
            fprintf(stderr, "retrovue schedule: --date %s: expected YYYY-MM-DD\n", date);
        } else {
            char *state_dir = state ? xstrdup(state) : xstrdup(cfg->state_dir);
            char *dbpath = xasprintf("%s/retrovue.db", state_dir);
            sqlite3 *db = NULL;
            log_set_level(LOG_WARN);
            if (util_mkdirs(state_dir, 0755) == 0 && db_open(dbpath, &db) == 0) {
                probe_library(db, cfg);
                /* Build far enough to cover the whole requested day. */
                int days = (int)(day - first) + 2;
                if (days < ch->schedule->days_ahead)
                    days = ch->schedule->days_ahead;
                strbuf_t out;
                strbuf_init(&out);
                if (day < first - 30 || days > 366) {
                    fprintf(stderr, "retrovue schedule: --date %s is too far from today (%s)\n",
                            date, today);
                } else if (schedule_extend(db, ch->schedule, now_ms, days) == 0 &&
                           schedule_print(db, ch->schedule, date, flags, &out) == 0) {
                    fputs(out.data ? out.data : "", stdout);
                    rc = 0;
                } else {
                    fprintf(stderr, "retrovue schedule: unable to build the schedule\n");
                }
                strbuf_dispose(&out);
            }
            db_close(db);
            free(dbpath);
            free(state_dir);
        }
    }
    config_free(cfg);
    return rc;
}

static int cmd_serve(int argc, char **argv, const char *self)
{
    static const struct option longopts[] = {{"config", required_argument, NULL, 'c'},
                                              {"listen", required_argument, NULL, 'l'},
                                              {"state", required_argument, NULL, 's'},
                                              {"clock-start", required_argument, NULL, 'S'},
                                              {"clock-rate", required_argument, NULL, 'R'},
                                              {"help", no_argument, NULL, 'h'},
                                              {0}};
    station_opts_t o = {0};
    double start = 0, rate = 1;
    int warp = 0, c;
    while ((c = getopt_long(argc, argv, "c:l:s:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': o.config_dir = optarg; break;
        case 'l': o.listen = optarg; break;
        case 's': o.state_dir = optarg; break;
        case 'S':
            if (util_parse_iso8601(optarg, &start) != 0) {
                fprintf(stderr, "retrovue serve: --clock-start %s: expected ISO 8601 like "
                                "2026-03-08T06:00:00Z\n", optarg);
                return 2;
            }
            warp = 1;
            break;
        case 'R': {
            char *end;
            rate = strtod(optarg, &end);
            if (*end != '\0' || !(rate > 0) || rate > 1000) {
                fprintf(stderr, "retrovue serve: --clock-rate %s: expected a number from 0 to 1000\n",
                        optarg);
                return 2;
            }
            warp = 1;
            break;
        }
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (o.config_dir == NULL) {
        fprintf(stderr, "retrovue serve: --config DIR is required\n");
        return 2;
    }
    if (warp)
        clock_set(start, rate);
    o.self_exe = self;
    return station_serve(&o);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "_exec") == 0)
        return cmd_exec(argc, argv);
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "-V") == 0 || strcmp(cmd, "--version") == 0) {
        printf("retrovue %s\n", RETROVUE_VERSION);
        return 0;
    }
    /* The path of this binary, for spawning `retrovue _exec ffmpeg ...`. */
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n <= 0) {
        fprintf(stderr, "retrovue: unable to find its own executable: %s\n", strerror(errno));
        return 1;
    }
    self[n] = '\0';
    if (strcmp(cmd, "serve") == 0)
        return cmd_serve(argc - 1, argv + 1, self);
    if (strcmp(cmd, "check") == 0)
        return cmd_check(argc - 1, argv + 1);
    if (strcmp(cmd, "schedule") == 0)
        return cmd_schedule(argc - 1, argv + 1);
    if (strcmp(cmd, "ingest") == 0)
        return cmd_ingest(argc - 1, argv + 1);
    if (strcmp(cmd, "assets") == 0)
        return cmd_assets(argc - 1, argv + 1);
    fprintf(stderr, "retrovue: unknown command \"%s\" (try --help)\n", cmd);
    return 2;
}
