/*
 * `retrovue ingest` and `retrovue assets`. Both open the station's database directly
 * (WAL lets them run beside a serving station). Output for people goes to stdout as
 * text, or as the API's JSON with --json; problems go to stderr.
 */
#include "commands.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "assets.h"
#include "config.h"
#include "db.h"
#include "ingest.h"
#include "librarian.h"
#include "log.h"
#include "util.h"

/* Loads the config (printing its errors) and opens the database under its state dir. */
static int open_station(const char *dir, const char *state, config_t **cfg, sqlite3 **db)
{
    strbuf_t errors;
    strbuf_init(&errors);
    if (config_load(dir, cfg, &errors) != 0) {
        fputs(errors.data ? errors.data : "", stderr);
        strbuf_dispose(&errors);
        return 1;
    }
    strbuf_dispose(&errors);
    const char *state_dir = state ? state : (*cfg)->state_dir;
    char *path = xasprintf("%s/retrovue.db", state_dir);
    int rc = util_mkdirs(state_dir, 0755);
    if (rc != 0)
        fprintf(stderr, "retrovue: unable to create %s: %s\n", state_dir, strerror(-rc));
    else if (db_open(path, db) != 0)
        rc = -EIO;
    free(path);
    if (rc != 0) {
        config_free(*cfg);
        *cfg = NULL;
        return 1;
    }
    return 0;
}

int cmd_ingest(int argc, char **argv)
{
    static const struct option longopts[] = {{"config", required_argument, NULL, 'c'},
                                              {"state", required_argument, NULL, 's'},
                                              {"no-breaks", no_argument, NULL, 'B'},
                                              {"conform", no_argument, NULL, 'C'},
                                              {"help", no_argument, NULL, 'h'},
                                              {0}};
    const char *dir = NULL, *state = NULL;
    ingest_opts_t opts = {.progress = stderr};
    int c, conform = 0;
    while ((c = getopt_long(argc, argv, "c:s:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': dir = optarg; break;
        case 's': state = optarg; break;
        case 'B': opts.skip_breaks = 1; break;
        case 'C': conform = 1; break;
        case 'h':
            printf("usage: retrovue ingest --config DIR [--state DIR] [--no-breaks] [--conform]\n");
            return 0;
        default: return 2;
        }
    }
    if (dir == NULL) {
        fprintf(stderr, "retrovue ingest: --config DIR is required\n");
        return 2;
    }
    config_t *cfg;
    sqlite3 *db;
    log_set_level(LOG_WARN);
    if (open_station(dir, state, &cfg, &db) != 0)
        return 1;
    if (cfg->n_media == 0 && !config_ingests_plex(cfg))
        fprintf(stderr, "retrovue ingest: %s lists no media roots (\"media\" in retrovue.json) "
                        "and no Plex server; nothing to do\n", cfg->dir);
    strbuf_t warnings;
    strbuf_init(&warnings);
    ingest_report_t r;
    int rc = ingest_run(db, cfg, &opts, &r, &warnings);
    fputs(warnings.data ? warnings.data : "", stderr);
    strbuf_dispose(&warnings);
    printf("%zu files: %zu new, %zu changed, %zu unchanged, %zu gone, %zu unreadable; "
           "%zu described by metadata, %zu with break points; %.0f s of media in %.1f s\n",
           r.found, r.added, r.changed, r.unchanged, r.gone, r.failed, r.with_metadata,
           r.with_breaks, r.media_seconds, r.seconds);
    if (rc == 0 && conform) {
        /* What serve would do in the background, here and now, with a progress bar. */
        log_set_level(LOG_INFO);
        int n = librarian_conform_all(db, cfg, stderr);
        printf("%d file%s conformed or found already in the house format\n", n,
               n == 1 ? "" : "s");
    }
    db_close(db);
    config_free(cfg);
    return rc == 0 ? 0 : 1;
}

static void assets_usage(FILE *out)
{
    fprintf(out, "usage: retrovue assets list --config DIR [--kind KIND] [--query TEXT] [--all]\n"
                 "                            [--limit N] [--json] [--state DIR]\n"
                 "       retrovue assets show --config DIR ID|PATH [--json] [--state DIR]\n");
}

int cmd_assets(int argc, char **argv)
{
    if (argc < 2 || (strcmp(argv[1], "list") != 0 && strcmp(argv[1], "show") != 0)) {
        assets_usage(argc >= 2 && strcmp(argv[1], "--help") == 0 ? stdout : stderr);
        return argc >= 2 && strcmp(argv[1], "--help") == 0 ? 0 : 2;
    }
    int show = strcmp(argv[1], "show") == 0;
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'}, {"state", required_argument, NULL, 's'},
        {"kind", required_argument, NULL, 'k'},   {"query", required_argument, NULL, 'q'},
        {"limit", required_argument, NULL, 'n'},  {"all", no_argument, NULL, 'a'},
        {"json", no_argument, NULL, 'j'},         {"help", no_argument, NULL, 'h'},
        {0}};
    const char *dir = NULL, *state = NULL;
    asset_filter_t f = {0};
    int json = 0, c;
    optind = 1;
    while ((c = getopt_long(argc - 1, argv + 1, "c:s:k:q:n:ajh", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': dir = optarg; break;
        case 's': state = optarg; break;
        case 'k': f.kind = optarg; break;
        case 'q': f.query = optarg; break;
        case 'n': f.limit = atoi(optarg); break;
        case 'a': f.include_gone = 1; break;
        case 'j': json = 1; break;
        case 'h': assets_usage(stdout); return 0;
        default: assets_usage(stderr); return 2;
        }
    }
    const char *which = optind < argc - 1 ? argv[1 + optind] : NULL;
    if (dir == NULL || (show && which == NULL)) {
        assets_usage(stderr);
        return 2;
    }
    config_t *cfg;
    sqlite3 *db;
    log_set_level(LOG_WARN);
    if (open_station(dir, state, &cfg, &db) != 0)
        return 1;
    cJSON *doc;
    if (show) {
        char *end;
        long long id = strtoll(which, &end, 10);
        doc = *end == '\0' ? assets_show_json(db, id, NULL) : assets_show_json(db, 0, which);
        if (doc == NULL)
            fprintf(stderr, "retrovue assets: no asset %s\n", which);
    } else {
        doc = assets_list_json(db, &f);
    }
    int rc = doc ? 0 : 1;
    if (doc != NULL) {
        strbuf_t out;
        strbuf_init(&out);
        if (json) {
            char *text = cJSON_Print(doc);
            strbuf_puts(&out, text);
            strbuf_puts(&out, "\n");
            free(text);
        } else if (show) {
            assets_show_text(doc, &out);
        } else {
            assets_list_text(doc, &out);
        }
        fputs(out.data ? out.data : "", stdout);
        strbuf_dispose(&out);
        cJSON_Delete(doc);
    }
    db_close(db);
    config_free(cfg);
    return rc;
}
