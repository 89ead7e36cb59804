/*
 * `retrovue serve`: one loop for everything. Start-up loads the configuration, opens
 * the database, starts the web listeners (the internal feed port must be known
 * before any ffmpeg is spawned) and then the channels. SIGHUP swaps in a new
 * configuration only when it validates; SIGINT/SIGTERM stop the channels, wait for
 * every ffmpeg to be reaped, and return 0.
 */
#include "station.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "clock.h"
#include "db.h"
#include "discovery.h"
#include "librarian.h"
#include "library.h"
#include "log.h"
#include "plex_guide.h"
#include "server.h"
#include "util.h"

struct station {
    uv_loop_t loop;
    station_opts_t opts;
    config_t *config;
    sqlite3 *db;
    device_identity_t device; /* the emulated tuner's DeviceID, made once */
    web_server_t *web;
    discovery_t *discovery; /* HDHomeRun and SSDP responders, or NULL */
    channel_env_t env;
    channel_t **channels;
    size_t n_channels;
    size_t stopping;        /* channels still shutting down */
    int shutting_down;
    int exit_status;
    uv_signal_t sigint, sigterm, sighup;
    uv_timer_t horizon;     /* keeps every schedule built days ahead */
    config_t *pending;      /* a reloaded configuration whose library is being probed */
    unsigned char *house;   /* library_house_flags for config's library (env points here) */
    int refreshing;         /* a library_refresh is reading the catalog */
    int refresh_again;      /* the catalog changed again meanwhile */
    librarian_t *librarian; /* background ingest and conforms */
    plex_guide_t *plex_guide; /* tells Plex when the guide changed */
    char *db_path;
};

size_t station_channel_count(const station_t *st)
{
    return st->n_channels;
}

channel_t *station_channel_at(const station_t *st, size_t i)
{
    return i < st->n_channels ? st->channels[i] : NULL;
}

channel_t *station_find_channel(const station_t *st, const char *number)
{
    for (size_t i = 0; i < st->n_channels; i++)
        if (strcmp(channel_number(st->channels[i]), number) == 0)
            return st->channels[i];
    return NULL;
}

const char *station_library_state(const station_t *st)
{
    return librarian_state(st->librarian);
}

const device_identity_t *station_device(const station_t *st)
{
    return &st->device;
}

int station_http_port(const station_t *st)
{
    return web_public_port(st->web);
}

sqlite3 *station_db(const station_t *st)
{
    return st->db;
}

const config_t *station_config(const station_t *st)
{
    return st->config;
}

static int load_config(const station_opts_t *o, config_t **out)
{
    strbuf_t errors;
    strbuf_init(&errors);
    int rc = config_load(o->config_dir, out, &errors);
    if (rc != 0) {
        char *save, *line = strtok_r(errors.data ? errors.data : (char *)"", "\n", &save);
        for (; line != NULL; line = strtok_r(NULL, "\n", &save))
            log_error(NULL, "config: %s", line);
        strbuf_dispose(&errors);
        return rc;
    }
    strbuf_dispose(&errors);
    config_t *c = *out;
    if (o->listen != NULL && config_set_listen(c, o->listen) != 0) {
        log_error(NULL, "--listen %s: expected HOST:PORT, e.g. 0.0.0.0:8080", o->listen);
        config_free(c);
        return -EINVAL;
    }
    if (o->state_dir != NULL) {
        free(c->state_dir);
        char cwd[4096];
        c->state_dir = o->state_dir[0] == '/' || getcwd(cwd, sizeof(cwd)) == NULL
                           ? xstrdup(o->state_dir)
                           : util_path_join(cwd, o->state_dir);
    }
    int level = log_level_parse(c->log_level);
    if (level >= 0)
        log_set_level((enum log_level)level);
    return 0;
}

static void close_signals_and_stop(station_t *st)
{
    web_stop_feed(st->web);
    uv_close((uv_handle_t *)&st->sigint, NULL);
    uv_close((uv_handle_t *)&st->sigterm, NULL);
    uv_close((uv_handle_t *)&st->sighup, NULL);
    uv_close((uv_handle_t *)&st->horizon, NULL);
    uv_stop(&st->loop);
}

static void on_channel_stopped(void *arg)
{
    station_t *st = arg;
    if (--st->stopping == 0 && st->shutting_down) {
        log_info(NULL, "all channels stopped");
        close_signals_and_stop(st);
    }
}

/* Takes a channel out of the list first, so viewers and the feed stop finding it. */
static void remove_channel(station_t *st, size_t i)
{
    channel_t *ch = st->channels[i];
    memmove(&st->channels[i], &st->channels[i + 1], (st->n_channels - i - 1) * sizeof(channel_t *));
    st->n_channels--;
    st->stopping++;
    channel_stop(ch, on_channel_stopped, st);
}

/* The librarian or the Plex notifier finished stopping: counted like a channel. */
static void on_helper_stopped(void *arg)
{
    on_channel_stopped(arg);
}

static void shutdown_station(station_t *st, const char *why)
{
    if (st->shutting_down)
        return;
    st->shutting_down = 1;
    log_info(NULL, "%s: stopping %zu channels", why, st->n_channels);
    uv_timer_stop(&st->horizon);
    discovery_stop(st->discovery);
    st->discovery = NULL;
    web_stop(st->web);
    if (st->librarian != NULL) {
        /* Counted like a channel: the loop ends when the last of them is done. */
        st->stopping++;
        librarian_stop(st->librarian, on_helper_stopped, st);
        st->librarian = NULL;
    }
    if (st->refreshing)
        st->stopping++; /* the worker still reads the catalog: wait for it */
    if (st->plex_guide != NULL) {
        st->stopping++; /* a request to Plex may be under way on a worker thread */
        plex_guide_stop(st->plex_guide, on_helper_stopped, st);
        st->plex_guide = NULL;
    }
    while (st->n_channels > 0)
        remove_channel(st, st->n_channels - 1);
    if (st->stopping == 0)
        close_signals_and_stop(st);
}

static void add_channel(station_t *st, const channel_conf_t *conf, size_t at)
{
    channel_t *ch = channel_create(&st->env, conf);
    st->channels = xrealloc(st->channels, (st->n_channels + 1) * sizeof(channel_t *));
    memmove(&st->channels[at + 1], &st->channels[at], (st->n_channels - at) * sizeof(channel_t *));
    st->channels[at] = ch;
    st->n_channels++;
    channel_start(ch);
}

/* Builds (or extends) every schedule to its horizon. Schedules whose template
   changed are rebuilt from the next slot boundary by schedule_extend itself. */
static void extend_schedules(station_t *st)
{
    sched_ms_t now = (sched_ms_t)llround(clock_now() * 1000);
    for (size_t i = 0; i < st->config->n_channels; i++) {
        const channel_conf_t *c = &st->config->channels[i];
        if (c->schedule != NULL && schedule_extend(st->db, c->schedule, now, 0) != 0)
            log_error(c->number, "unable to build the schedule");
    }
}

static void on_horizon(uv_timer_t *t)
{
    extend_schedules(t->data);
}

/* Discovery's sockets depend on these, and its announcements carry the base URL; the
   rest of the tuner settings are read afresh for every answer. */
static int discovery_changed(const config_t *a, const config_t *b)
{
    const tuner_conf_t *x = &a->tuner, *y = &b->tuner;
    return x->discover != y->discover || x->ssdp != y->ssdp ||
           x->discover_port != y->discover_port || x->ssdp_port != y->ssdp_port ||
           strcmp(x->bind_host ? x->bind_host : "", y->bind_host ? y->bind_host : "") != 0 ||
           strcmp(a->base_url ? a->base_url : "", b->base_url ? b->base_url : "") != 0;
}

/* The flags belong to one configuration's library: they change together. */
static void set_house(station_t *st, unsigned char *house)
{
    free(st->house);
    st->house = house;
    st->env.library_house = house;
}

static void apply_reload(void *arg, unsigned char *house)
{
    station_t *st = arg;
    config_t *next = st->pending;
    st->pending = NULL;
    if (st->shutting_down) {
        free(house);
        config_free(next);
        return;
    }
    /* Channels gone from the configuration stop; the rest pick up their new settings
       at their next item; new ones start. */
    for (size_t i = st->n_channels; i-- > 0;)
        if (config_find_channel(next, channel_number(st->channels[i])) == NULL) {
            log_info(channel_number(st->channels[i]), "removed from the configuration");
            remove_channel(st, i);
        }
    config_t *old = st->config;
    st->config = next;
    st->env.config = next;
    set_house(st, house);
    extend_schedules(st);
    for (size_t i = 0; i < next->n_channels; i++) {
        const channel_conf_t *conf = &next->channels[i];
        channel_t *ch = station_find_channel(st, conf->number);
        if (ch != NULL)
            channel_reconfigure(ch, conf);
        else
            add_channel(st, conf, i <= st->n_channels ? i : st->n_channels);
    }
    if (st->librarian != NULL)
        librarian_reconfigure(st->librarian, next);
    plex_guide_reconfigure(st->plex_guide, next);
    plex_guide_changed(st->plex_guide, "configuration reloaded");
    if (discovery_changed(old, next) || !discovery_complete(st->discovery, &next->tuner)) {
        discovery_stop(st->discovery);
        discovery_start(&st->loop, st, &st->discovery);
    }
    config_free(old);
    log_info(NULL, "configuration reloaded: %zu channels", st->n_channels);
    db_event(st->db, clock_now(), NULL, "reload", "configuration reloaded");
}

static void reload(station_t *st)
{
    config_t *next;
    if (st->pending != NULL) {
        log_warn(NULL, "SIGHUP: a reload is already in progress; send it again when it is done");
        return;
    }
    log_info(NULL, "SIGHUP: reloading %s", st->opts.config_dir);
    if (load_config(&st->opts, &next) != 0) {
        log_error(NULL, "reload failed; the running configuration stays in force");
        db_event(st->db, clock_now(), NULL, "reload", "failed: configuration has errors");
        return;
    }
    if (strcmp(next->listen_host, st->config->listen_host) != 0 ||
        next->listen_port != st->config->listen_port)
        log_warn(NULL, "a new listen address takes effect at the next start");
    if (strcmp(next->state_dir, st->config->state_dir) != 0) {
        log_warn(NULL, "a new state_dir takes effect at the next start");
        free(next->state_dir);
        next->state_dir = xstrdup(st->config->state_dir);
    }
    st->pending = next;
    library_prepare(&st->loop, st->db, st->db_path, next, apply_reload, st);
}

static void refresh_library(station_t *st);

static void on_refreshed(void *arg, library_refresh_t *r)
{
    station_t *st = arg;
    st->refreshing = 0;
    if (st->shutting_down) {
        library_refresh_free(r);
        on_helper_stopped(st);
        return;
    }
    /* A reload under way brings its own fresh answer; otherwise apply this one, which
       holds only if the library is still the one it read. */
    unsigned char *house = st->pending == NULL ? library_refresh_apply(r, st->config) : NULL;
    library_refresh_free(r);
    if (house != NULL) {
        set_house(st, house);
        for (size_t i = 0; i < st->n_channels; i++) {
            const channel_conf_t *conf =
                config_find_channel(st->config, channel_number(st->channels[i]));
            if (conf != NULL)
                channel_reconfigure(st->channels[i], conf);
        }
    }
    if (st->refresh_again) {
        st->refresh_again = 0;
        refresh_library(st);
    }
}

/* The catalog changed (an ingest ended, a conform finished): schedules learn new
   durations and break points, and channels decide again between stream copy and live
   encoding, since a conformed copy may now exist for what they air. The catalog is read
   off the loop; changes that come meanwhile are gathered into one more refresh. */
static void refresh_library(station_t *st)
{
    if (st->shutting_down || st->pending != NULL)
        return;
    if (st->refreshing) {
        st->refresh_again = 1;
        return;
    }
    st->refreshing = 1;
    library_refresh(&st->loop, st->db_path, st->config, on_refreshed, st);
}

static void on_catalog_changed(void *arg, int ingested)
{
    station_t *st = arg;
    refresh_library(st);
    /* An ingest brings titles and descriptions the guide shows; a conform does not. */
    if (ingested && !st->shutting_down)
        plex_guide_changed(st->plex_guide, "library ingested");
}

static void start_channels(void *arg, unsigned char *house)
{
    station_t *st = arg;
    if (st->shutting_down) {
        free(house);
        return;
    }
    set_house(st, house);
    extend_schedules(st);
    /* Every ten minutes of real time; the feed also extends on demand. */
    uv_timer_start(&st->horizon, on_horizon, 600000, 600000);
    for (size_t i = 0; i < st->config->n_channels; i++)
        add_channel(st, &st->config->channels[i], st->n_channels);
    st->librarian = librarian_start(&st->loop, st->config, st->db_path, on_catalog_changed, st);
    /* Plex may hold a guide from before this start (an edit made while stopped). */
    st->plex_guide = plex_guide_start(&st->loop, st->config, st->device.id_hex);
    plex_guide_changed(st->plex_guide, "station started");
}

static void on_signal(uv_signal_t *h, int signum)
{
    station_t *st = h->data;
    if (signum == SIGHUP) {
        if (!st->shutting_down)
            reload(st);
        return;
    }
    shutdown_station(st, signum == SIGINT ? "SIGINT" : "SIGTERM");
}

static station_t *current;

int station_serve(const station_opts_t *opts)
{
    station_t *st = xcalloc(1, sizeof(*st));
    current = st;
    st->opts = *opts;
    if (load_config(opts, &st->config) != 0) {
        free(st);
        return 1;
    }
    int rc = util_mkdirs(st->config->state_dir, 0755);
    if (rc != 0) {
        log_error(NULL, "unable to create the state directory %s: %s", st->config->state_dir,
                  strerror(-rc));
        config_free(st->config);
        free(st);
        return 1;
    }
    st->db_path = xasprintf("%s/retrovue.db", st->config->state_dir);
    rc = db_open(st->db_path, &st->db);
    if (rc != 0) {
        free(st->db_path);
        config_free(st->config);
        free(st);
        return 1;
    }
    if (device_identity_load(st->db, &st->device) != 0) {
        db_close(st->db);
        free(st->db_path);
        config_free(st->config);
        free(st);
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    uv_loop_init(&st->loop);
    rc = web_start(&st->loop, st, st->config->listen_host, st->config->listen_port, &st->web);
    if (rc == 0) {
        st->env.loop = &st->loop;
        st->env.db = st->db;
        st->env.self_exe = opts->self_exe;
        st->env.config = st->config;
        st->env.feed_port = web_feed_port(st->web);
        uv_signal_init(&st->loop, &st->sigint);
        uv_signal_init(&st->loop, &st->sigterm);
        uv_signal_init(&st->loop, &st->sighup);
        st->sigint.data = st->sigterm.data = st->sighup.data = st;
        uv_signal_start(&st->sigint, on_signal, SIGINT);
        uv_signal_start(&st->sigterm, on_signal, SIGTERM);
        uv_signal_start(&st->sighup, on_signal, SIGHUP);
        log_info(NULL, "retrovue %s serving %zu channels from %s (state in %s)", RETROVUE_VERSION,
                 st->config->n_channels, st->config->dir, st->config->state_dir);
        uv_timer_init(&st->loop, &st->horizon);
        st->horizon.data = st;
        discovery_start(&st->loop, st, &st->discovery);
        library_prepare(&st->loop, st->db, st->db_path, st->config, start_channels, st);
        uv_run(&st->loop, UV_RUN_DEFAULT);
    } else {
        st->exit_status = 1;
    }
    /* h2o 2.2.5 cannot dispose a context with connections still open (idle
       keep-alives, streams that just ended), and the process is about to exit, so
       the loop and what hangs off it are left in place, reachable from `current`. */
    db_close(st->db);
    st->db = NULL;
    int status = st->exit_status;
    log_info(NULL, "stopped (exit %d)", status);
    return status;
}
