/*
 * Channel supervision. Each channel runs one ffmpeg that reads a long outer ffconcat
 * script whose every entry fetches the next item from retrovue's loopback feed, and
 * writes HLS segments into the channel's directory. retrovue watches that directory,
 * publishes new segments, and restarts ffmpeg (with backoff) when it dies or stalls;
 * the restarted run rejoins the clock and continues the sequence numbers and
 * timestamps where the last one stopped.
 */
#include "channel.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog.h"
#include "clock.h"
#include "conform.h"
#include "db.h"
#include "ffconcat.h"
#include "log.h"
#include "util.h"

#define OUTER_ENTRIES 5000     /* items per ffmpeg run; a few days of typical programming */
#define FIRST_SEGMENT_GRACE 15 /* seconds a new run may take to write its first segment */
#define STOP_GRACE 3000        /* ms between SIGTERM and SIGKILL */
#define BACKOFF_MAX 30.0       /* seconds */

struct channel {
    const channel_env_t *env;
    char *number, *name;
    channel_conf_t conf;      /* own copy of what was configured */
    char *dir;                /* STATE/channels/N */
    char *private_playlist;   /* ffmpeg's own playlist */
    char *outer_script;       /* the long ffconcat script */
    enum channel_state state;
    playout_t playout;
    feed_t feed;
    hls_window_t hls;
    int copy;
    int prepared;             /* the playout has been built at least once */

    uv_process_t *proc;       /* NULL when no ffmpeg runs */
    uv_pipe_t *stderr_pipe;
    strbuf_t stderr_line;
    uv_timer_t *tick;         /* 1 s: stall check, expiry, fallback playlist poll */
    uv_timer_t *restart;      /* backoff and the SIGTERM → SIGKILL grace */
    uv_fs_event_t *watch;
    int open_handles;         /* handles still to be closed before the channel is freed */

    double run_started;       /* monotonic time of the current spawn */
    double last_segment;      /* monotonic time of the newest segment */
    int first_answer_pending; /* the next feed answer is the run's first */
    int disc_next_run;        /* the next run breaks timestamps (encode mode changed) */
    int switching;            /* ffmpeg was stopped on purpose to change encode mode */
    int restarts;
    double backoff;
    double last_tick;         /* monotonic time of the previous tick */
    long long last_asrun;     /* as-run row of the item ffmpeg is airing, or 0 */
    int quick_failures;       /* runs in a row that died before their first segment */
    int reprobe_pending;      /* a reconfigure arrived while preparing */
    int kill_sent;
    int feed_failed;          /* the feed had nothing to answer during this run */
    char *run_decoder;        /* live runs: what the run's items need to be decoded */
    int run_break;            /* the feed ended this run before an item needing another */

    void (*stopped_cb)(void *arg);
    void *stopped_arg;
    sched_slot_t *status_slots;  /* what channel_get_status last returned */
    size_t n_status_slots;
};

static void spawn_ffmpeg(channel_t *ch);

/* Seconds of timestamps left between one ffmpeg run's output and the next's. */
#define RUN_GAP 0.1

/* How far ffmpeg's position may differ from the clock before the feed rejoins the
   clock: generous, because ffmpeg's own pacing recovers from hiccups, and a rejoin
   within a run would fight that recovery (content skipped, then read in a burst). */
static double feed_tolerance(const config_t *cfg)
{
    return fmax(30.0, 15.0 * cfg->segment_seconds) * fmax(1.0, clock_rate() / 4.0);
}
static void prepare(channel_t *ch);

const char *channel_state_name(enum channel_state s)
{
    switch (s) {
    case CHANNEL_STOPPED: return "stopped";
    case CHANNEL_PREPARING: return "preparing";
    case CHANNEL_STARTING: return "starting";
    case CHANNEL_ON_AIR: return "on-air";
    case CHANNEL_BACKOFF: return "backoff";
    case CHANNEL_STOPPING: return "stopping";
    }
    return "unknown";
}

static void conf_copy(channel_conf_t *dst, const channel_conf_t *src)
{
    dst->number = xstrdup(src->number);
    dst->name = xstrdup(src->name);
    dst->file = xstrdup(src->file);
    dst->mode = src->mode;
    dst->epoch = src->epoch;
    dst->call_sign = xstrdup(src->call_sign);
    dst->timezone = xstrdup(src->timezone);
    dst->logo = xstrdup(src->logo);
    /* The schedule belongs to the configuration; channel_reconfigure swaps it when the
       station swaps configurations. */
    dst->schedule = src->schedule;
    dst->n_items = src->n_items;
    dst->items = xcalloc(src->n_items, sizeof(char *));
    for (size_t i = 0; i < src->n_items; i++)
        dst->items[i] = xstrdup(src->items[i]);
}

static void conf_dispose(channel_conf_t *c)
{
    free(c->number);
    free(c->name);
    free(c->file);
    free(c->call_sign);
    free(c->timezone);
    free(c->logo);
    for (size_t i = 0; i < c->n_items; i++)
        free(c->items[i]);
    free(c->items);
    memset(c, 0, sizeof(*c));
}

static void save_state(channel_t *ch)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(ch->env->db,
                           "INSERT INTO channel_state (channel, next_seq, ts_offset, disc_seq,"
                           " updated_at) VALUES (?,?,?,?,?) ON CONFLICT(channel) DO UPDATE SET"
                           " next_seq=excluded.next_seq, ts_offset=excluded.ts_offset,"
                           " disc_seq=excluded.disc_seq, updated_at=excluded.updated_at",
                           -1, &st, NULL) != SQLITE_OK)
        return;
    sqlite3_bind_text(st, 1, ch->number, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, ch->hls.next_seq);
    sqlite3_bind_double(st, 3, ch->hls.ts_offset);
    sqlite3_bind_int64(st, 4, ch->hls.disc_seq);
    sqlite3_bind_double(st, 5, clock_now());
    if (sqlite3_step(st) != SQLITE_DONE)
        log_warn(ch->number, "unable to save output state: %s", sqlite3_errmsg(ch->env->db));
    sqlite3_finalize(st);
}

static void load_state(channel_t *ch)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(ch->env->db,
                           "SELECT next_seq, ts_offset, disc_seq FROM channel_state WHERE channel=?",
                           -1, &st, NULL) != SQLITE_OK)
        return;
    sqlite3_bind_text(st, 1, ch->number, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        /* A restart of retrovue itself: continue numbering and timestamps, and
           skip a few numbers so no client can confuse a lost segment with a new one. */
        hls_window_restore(&ch->hls, sqlite3_column_int64(st, 0) + 1, sqlite3_column_double(st, 1),
                           sqlite3_column_int64(st, 2));
    }
    sqlite3_finalize(st);
}

/* Segment files from an earlier run of retrovue are not in any window we publish. */
static void clean_dir(channel_t *ch)
{
    uv_fs_t req;
    uv_dirent_t ent;
    if (uv_fs_scandir(NULL, &req, ch->dir, 0, NULL) < 0) {
        uv_fs_req_cleanup(&req);
        return;
    }
    while (uv_fs_scandir_next(&req, &ent) != UV_EOF) {
        size_t n = strlen(ent.name);
        if ((n > 3 && strcmp(ent.name + n - 3, ".ts") == 0) ||
            (n > 4 && strcmp(ent.name + n - 4, ".tmp") == 0) || strcmp(ent.name, "ffmpeg.m3u8") == 0) {
            char *p = xasprintf("%s/%s", ch->dir, ent.name);
            unlink(p);
            free(p);
        }
    }
    uv_fs_req_cleanup(&req);
}

static void on_handle_closed(uv_handle_t *h)
{
    channel_t *ch = h->data;
    free(h);
    if (--ch->open_handles > 0)
        return;
    void (*cb)(void *) = ch->stopped_cb;
    void *arg = ch->stopped_arg;
    log_info(ch->number, "stopped");
    playout_dispose(&ch->playout);
    hls_window_dispose(&ch->hls);
    conf_dispose(&ch->conf);
    strbuf_dispose(&ch->stderr_line);
    schedule_slots_free(ch->status_slots, ch->n_status_slots);
    free(ch->number);
    free(ch->name);
    free(ch->dir);
    free(ch->private_playlist);
    free(ch->outer_script);
    free(ch->run_decoder);
    free(ch);
    if (cb != NULL)
        cb(arg);
}

static void close_handle(channel_t *ch, uv_handle_t *h)
{
    if (h == NULL || uv_is_closing(h))
        return;
    h->data = ch;
    uv_close(h, on_handle_closed);
}

/* Picks up segments ffmpeg has finished. */
static void poll_playlist(channel_t *ch)
{
    char *text;
    if (util_read_file(ch->private_playlist, &text, NULL) != 0)
        return;
    int added = hls_window_ingest(&ch->hls, text, clock_monotonic());
    free(text);
    if (added > 0) {
        ch->last_segment = clock_monotonic();
        if (ch->state == CHANNEL_STARTING) {
            ch->state = CHANNEL_ON_AIR;
            log_info(ch->number, "on air (%s, %d s after spawn)", ch->copy ? "stream copy" : "live encode",
                     (int)(ch->last_segment - ch->run_started + 0.5));
        }
        save_state(ch);
    }
}

static void on_watch(uv_fs_event_t *h, const char *filename, int events, int status)
{
    channel_t *ch = h->data;
    if (status == 0 && filename != NULL && strcmp(filename, "ffmpeg.m3u8") == 0)
        poll_playlist(ch);
}

static void on_tick(uv_timer_t *t)
{
    channel_t *ch = t->data;
    double now = clock_monotonic();
    /* The tick is due every second; a much later one means the loop was blocked, which
       delays every channel's feed: worth a line in the log. */
    if (ch->last_tick > 0 && now - ch->last_tick > 2.5)
        log_warn(ch->number, "the event loop was blocked for %.1f s", now - ch->last_tick - 1.0);
    ch->last_tick = now;
    poll_playlist(ch);
    /* Keep retired segments at least a playlist's duration (RFC 8216 6.2.2), twice to be kind
       to slow clients. */
    hls_window_expire(&ch->hls, now, 2.0 * (double)ch->hls.size * ch->hls.target);
    if (ch->proc == NULL || ch->kill_sent)
        return;
    /* Three segments' worth of silence is a stall (ffmpeg writes one per GOP). */
    double segment = ch->env->config->segment_seconds;
    double limit = ch->state == CHANNEL_STARTING ? FIRST_SEGMENT_GRACE : fmax(3.0 * segment, 4.0);
    double since = now - (ch->state == CHANNEL_STARTING ? ch->run_started : ch->last_segment);
    if (since > limit) {
        log_warn(ch->number, "ffmpeg stalled: no new segment for %.1f s; killing pid %d", since,
                 ch->proc->pid);
        db_event(ch->env->db, clock_now(), ch->number, "stall", "no new segment; ffmpeg killed");
        ch->kill_sent = 1;
        uv_process_kill(ch->proc, SIGKILL);
    }
}

static void on_restart_timer(uv_timer_t *t)
{
    channel_t *ch = t->data;
    if (ch->state == CHANNEL_BACKOFF)
        spawn_ffmpeg(ch);
    else if (ch->state == CHANNEL_STOPPING && ch->proc != NULL) {
        log_warn(ch->number, "ffmpeg did not stop in time; sending SIGKILL");
        uv_process_kill(ch->proc, SIGKILL);
    }
}

static void finish_stop(channel_t *ch)
{
    ch->state = CHANNEL_STOPPED;
    close_handle(ch, (uv_handle_t *)ch->tick);
    close_handle(ch, (uv_handle_t *)ch->restart);
    close_handle(ch, (uv_handle_t *)ch->watch);
}

static void on_stderr_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    channel_t *ch = s->data;
    if (n > 0) {
        for (ssize_t i = 0; i < n; i++) {
            char c = buf->base[i];
            if (c == '\n' || c == '\r') {
                /* After a planned end of run, ffmpeg's complaints about its input
                   ending (the 404 it was given) are expected. */
                if (ch->stderr_line.len > 0 && ch->run_break)
                    log_debug(ch->number, "ffmpeg: %s", ch->stderr_line.data);
                else if (ch->stderr_line.len > 0)
                    log_warn(ch->number, "ffmpeg: %s", ch->stderr_line.data);
                ch->stderr_line.len = 0;
            } else if (ch->stderr_line.len < 1000) {
                strbuf_append(&ch->stderr_line, &c, 1);
            }
        }
    }
    free(buf->base);
    if (n < 0) {
        uv_read_stop(s);
        ch->stderr_pipe = NULL;
        close_handle(ch, (uv_handle_t *)s);
    }
}

static void alloc_buf(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    buf->base = xmalloc(4096);
    buf->len = 4096;
}

/* The item on air when a run ends did not air to its end: say so in the as-run log,
   with the length that aired (at most what was handed out). */
static void mark_cut(channel_t *ch, const char *why)
{
    sqlite3_stmt *st;
    if (ch->last_asrun == 0 ||
        sqlite3_prepare_v2(ch->env->db,
                           "UPDATE as_run SET note = ?, duration = min(duration, max(0, ? - actual_start))"
                           " WHERE id = ? AND ? < actual_start + duration",
                           -1, &st, NULL) != SQLITE_OK)
        return;
    double now = clock_now();
    sqlite3_bind_text(st, 1, why, -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 2, now);
    sqlite3_bind_int64(st, 3, ch->last_asrun);
    sqlite3_bind_double(st, 4, now);
    sqlite3_step(st);
    sqlite3_finalize(st);
    ch->last_asrun = 0;
}

/* A run ended on purpose: the next starts at once, at the clock, and nothing counts
   as a failure. */
static void restart_planned(channel_t *ch)
{
    feed_rejoin(&ch->feed);
    ch->quick_failures = 0;
    ch->backoff = 0;
    ch->state = CHANNEL_BACKOFF;
    uv_timer_start(ch->restart, on_restart_timer, 0, 0);
}

static void on_ffmpeg_exit(uv_process_t *p, int64_t status, int signal)
{
    channel_t *ch = p->data;
    double ran = clock_monotonic() - ch->run_started;
    ch->proc = NULL;
    close_handle(ch, (uv_handle_t *)p);
    poll_playlist(ch); /* segments finished just before it died still count */
    if (ch->state == CHANNEL_STOPPING) {
        mark_cut(ch, "cut: station stopped");
        log_info(ch->number, "ffmpeg exited");
        uv_timer_stop(ch->restart);
        finish_stop(ch);
        return;
    }
    if (ch->switching) {
        /* Stopped on purpose: the encode mode changed (a conformed copy appeared, or
           the configuration changed). Not a failure, and no restart to count. */
        ch->switching = 0;
        mark_cut(ch, "cut: switched between stream copy and live encoding");
        log_info(ch->number, "ffmpeg stopped to switch to %s", ch->copy ? "stream copy" : "live encoding");
        db_event(ch->env->db, clock_now(), ch->number, "switch",
                 ch->copy ? "switched to stream copy" : "switched to live encoding");
        restart_planned(ch);
        return;
    }
    if (ch->run_break && signal == 0) {
        /* Ended on purpose at an item boundary: the next run opens that item with
           fresh decoders. It joins the clock, so the channel keeps time (the first
           moments of the item, while ffmpeg starts, are not aired). */
        ch->run_break = 0;
        log_info(ch->number, "ffmpeg ended its run after %.1f s for a change of decoder; "
                             "the next run starts now", ran);
        restart_planned(ch);
        return;
    }
    ch->run_break = 0;
    if (signal != 0)
        log_warn(ch->number, "ffmpeg killed by signal %d after %.1f s", signal, ran);
    else if (status == 0 && !ch->feed_failed)
        log_info(ch->number, "ffmpeg finished its feed script after %.1f s; starting the next run", ran);
    else if (status == 0)
        log_warn(ch->number, "ffmpeg ended after %.1f s because the feed had nothing to air", ran);
    else
        log_warn(ch->number, "ffmpeg exited with status %d after %.1f s", (int)status, ran);
    char msg[128];
    snprintf(msg, sizeof(msg), "ffmpeg exit status %d signal %d after %.1f s", (int)status, signal,
             ran);
    db_event(ch->env->db, clock_now(), ch->number, "exit", msg);

    /* A clean end of the outer script is routine: continue from the cursor at once.
       Anything else rejoins the clock, after a pause that doubles while runs keep
       failing quickly, so a broken setup does not spin. */
    int clean = status == 0 && signal == 0 && !ch->feed_failed && ran > 10.0;
    if (!clean)
        mark_cut(ch, "cut: ffmpeg stopped during the item");
    ch->feed_failed = 0;
    /* A run that put segments on the air was healthy: its end is restarted at once,
       so viewers lose as little as possible. Runs that die before their first
       segment wait 0.5 s, then twice as long each time, so a broken setup does not
       spin. */
    int aired = ch->state == CHANNEL_ON_AIR;
    if (clean || aired)
        ch->quick_failures = 0;
    else
        ch->quick_failures++;
    ch->backoff = ch->quick_failures == 0
                      ? 0
                      : fmin(0.5 * pow(2.0, ch->quick_failures - 1), BACKOFF_MAX);
    if (!clean)
        feed_rejoin(&ch->feed);
    ch->restarts++;
    ch->state = CHANNEL_BACKOFF;
    if (ch->backoff > 0)
        log_info(ch->number, "restarting ffmpeg in %.1f s (restart %d)", ch->backoff, ch->restarts);
    uv_timer_start(ch->restart, on_restart_timer, (uint64_t)(ch->backoff * 1000), 0);
}

/* The argument list. Copy mode only remuxes; live mode encodes to the house format
   with settings chosen for many channels on a small box:
   - libx264 veryfast: the cheapest preset whose SD quality at 1.5 Mbit/s still looks
     like broadcast; faster presets lose visibly on motion.
   - keyframes exactly every GOP (-g/-keyint_min, no scene-cut keyframes) and no
     B-frames, so every segment starts with an IDR frame and output matches what
     conformed copy-mode channels produce.
   - capped bitrate (maxrate/bufsize) because viewers stream it over a LAN or Wi-Fi.
   - scale/pad/fps/setsar and aresample normalise any source to the house format,
     so a concat of mixed files produces one steady stream. */
static char **build_args(channel_t *ch, int *argc_out)
{
    const config_t *cfg = ch->env->config;
    const house_format_t *h = &cfg->house;
    char **a = xcalloc(96, sizeof(char *));
    int n = 0;
#define ARG(s) (a[n++] = xstrdup(s))
#define ARGF(...) (a[n++] = xasprintf(__VA_ARGS__))
    ARG(ch->env->self_exe);
    ARG("_exec");
    ARG(cfg->ffmpeg);
    ARG("-nostdin");
    ARG("-hide_banner");
    ARG("-loglevel");
    ARG("warning");
    ARG("-readrate");
    ARGF("%g", clock_rate());
    ARG("-f");
    ARG("concat");
    ARG("-safe");
    ARG("0");
    ARG("-protocol_whitelist");
    ARG("file,http,tcp");
    ARG("-i");
    ARG(ch->outer_script);
    ARG("-map");
    ARG("0:v:0");
    ARG("-map");
    ARG("0:a:0?");
    if (ch->copy) {
        ARG("-c");
        ARG("copy");
    } else {
        int gop = h->gop_frames;
        ARG("-vf");
        ARGF("scale=%d:%d:force_original_aspect_ratio=decrease,pad=%d:%d:(ow-iw)/2:(oh-ih)/2,"
             "setsar=1,fps=%d/%d",
             h->width, h->height, h->width, h->height, h->fps_num, h->fps_den);
        ARG("-c:v");
        ARG("libx264");
        ARG("-preset");
        ARG("veryfast");
        ARG("-profile:v");
        ARG("main");
        ARG("-pix_fmt");
        ARG("yuv420p");
        ARG("-g");
        ARGF("%d", gop);
        ARG("-keyint_min");
        ARGF("%d", gop);
        ARG("-sc_threshold");
        ARG("0");
        ARG("-bf");
        ARG("0");
        ARG("-b:v");
        ARGF("%dk", h->video_kbps);
        ARG("-maxrate");
        ARGF("%dk", h->video_kbps);
        ARG("-bufsize");
        ARGF("%dk", 2 * h->video_kbps);
        ARG("-af");
        ARG("aresample=async=1000");
        ARG("-c:a");
        ARG("aac");
        ARG("-b:a");
        ARGF("%dk", h->audio_kbps);
        ARG("-ar");
        ARGF("%d", h->audio_rate);
        ARG("-ac");
        ARGF("%d", h->audio_channels);
    }
    ARG("-output_ts_offset");
    ARGF("%.6f", ch->hls.ts_offset);
    ARG("-f");
    ARG("hls");
    /* Each run's packets start new MPEG-TS continuity counters: marking the first ones
       discontinuous keeps demuxers reading /channel/N.ts from calling them corrupt. */
    ARG("-hls_segment_options");
    ARG("mpegts_flags=+initial_discontinuity");
    ARG("-hls_time");
    ARGF("%.3f", cfg->segment_seconds);
    ARG("-hls_list_size");
    ARG("8");
    /* temp_file: segments and the playlist appear atomically (written, then renamed).
       No delete_segments: retrovue deletes them once they are out of its own window. */
    ARG("-hls_flags");
    ARG("temp_file+omit_endlist");
    ARG("-start_number");
    ARGF("%lld", ch->hls.next_seq);
    ARG("-hls_segment_filename");
    ARGF("%s/seg%%09d.ts", ch->dir);
    ARG("-y");
    ARG(ch->private_playlist);
#undef ARG
#undef ARGF
    *argc_out = n;
    return a;
}

static void spawn_ffmpeg(channel_t *ch)
{
    ch->kill_sent = 0;
    unlink(ch->private_playlist);
    /* The published durations are video durations, rounded, and a run's audio can
       end a frame after its video: starting the next run exactly there would make its
       first timestamps overlap the last ones. A small gap is harmless to players. */
    if (ch->hls.ts_offset > 0)
        ch->hls.ts_offset += RUN_GAP;
    char *url = xasprintf("http://127.0.0.1:%d/internal/next/%s", ch->env->feed_port, ch->number);
    int rc = ffconcat_write_outer(ch->outer_script, url, OUTER_ENTRIES);
    free(url);
    if (rc != 0) {
        log_error(ch->number, "unable to write %s: %s", ch->outer_script, strerror(-rc));
    }
    int argc;
    char **argv = build_args(ch, &argc);
    ch->proc = xcalloc(1, sizeof(uv_process_t));
    ch->proc->data = ch;
    ch->stderr_pipe = xcalloc(1, sizeof(uv_pipe_t));
    uv_pipe_init(ch->env->loop, ch->stderr_pipe, 0);
    ch->stderr_pipe->data = ch;
    ch->open_handles += 2;
    uv_stdio_container_t stdio[3];
    stdio[0].flags = UV_IGNORE;
    stdio[1].flags = UV_IGNORE;
    stdio[2].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
    stdio[2].data.stream = (uv_stream_t *)ch->stderr_pipe;
    uv_process_options_t opt = {0};
    opt.file = argv[0];
    opt.args = argv;
    opt.exit_cb = on_ffmpeg_exit;
    opt.stdio = stdio;
    opt.stdio_count = 3;
    ch->run_started = clock_monotonic();
    ch->first_answer_pending = 1;
    free(ch->run_decoder);
    ch->run_decoder = NULL;
    ch->run_break = 0;
    ch->state = CHANNEL_STARTING;
    rc = uv_spawn(ch->env->loop, ch->proc, &opt);
    for (int i = 0; i < argc; i++)
        free(argv[i]);
    free(argv);
    if (rc != 0) {
        log_error(ch->number, "unable to start %s: %s", ch->env->config->ffmpeg, uv_strerror(rc));
        /* uv_spawn failed: the process handle must still be closed. */
        uv_process_t *p = ch->proc;
        ch->proc = NULL;
        close_handle(ch, (uv_handle_t *)p);
        close_handle(ch, (uv_handle_t *)ch->stderr_pipe);
        ch->stderr_pipe = NULL;
        ch->backoff = fmax(1.0, fmin(ch->backoff * 2, BACKOFF_MAX));
        ch->state = CHANNEL_BACKOFF;
        uv_timer_start(ch->restart, on_restart_timer, (uint64_t)(ch->backoff * 1000), 0);
        return;
    }
    ch->stderr_line.len = 0;
    uv_read_start((uv_stream_t *)ch->stderr_pipe, alloc_buf, on_stderr_read);
    log_info(ch->number, "ffmpeg started (pid %d, %s, segments from #%lld, ts offset %.3f s)",
             ch->proc->pid, ch->copy ? "stream copy" : "live encode", ch->hls.next_seq,
             ch->hls.ts_offset);
}

/* Probing runs in the thread pool; the result comes back to the loop. */
typedef struct probe_job {
    uv_work_t work;
    channel_t *ch;
    char *ffprobe;
    channel_conf_t conf;
    asset_t *assets;   /* one per conf item */
    int *have;         /* 1 when taken from the cache, 2 when probed now */
} probe_job_t;

static void probe_work(uv_work_t *w)
{
    probe_job_t *job = w->data;
    for (size_t i = 0; i < job->conf.n_items; i++)
        if (!job->have[i]) {
            catalog_probe(job->ffprobe, job->conf.items[i], &job->assets[i]);
            job->have[i] = 2;
        }
}

static void probe_done(uv_work_t *w, int status)
{
    probe_job_t *job = w->data;
    channel_t *ch = job->ch;
    const config_t *cfg = ch->env->config;
    playout_t p;
    playout_init(&p, job->conf.epoch);
    int all_house = 1;
    const char *why_not = NULL, *why_path = NULL;
    for (size_t i = 0; i < job->conf.n_items; i++) {
        asset_t *a = &job->assets[i];
        if (job->have[i] == 2 && a->size > 0)
            catalog_store(ch->env->db, a);
        if (a->error != NULL) {
            log_warn(ch->number, "skipping %s: %s", job->conf.items[i], a->error);
            continue;
        }
        const char *why;
        if (!catalog_airs_as_house(ch->env->db, a, &cfg->house, &why) && all_house) {
            all_house = 0;
            why_not = why;
            why_path = job->conf.items[i];
        }
        playout_add(&p, a->path, a->duration, a->start_time);
    }
    int copy = job->conf.mode == ENCODE_COPY || (job->conf.mode == ENCODE_AUTO && all_house);
    if (!all_house && job->conf.mode != ENCODE_LIVE)
        log_info(ch->number, "%s: %s %s", why_path, why_not,
                 copy ? "(copy mode was asked for; cuts may not be clean)" : "; encoding live");
    for (size_t i = 0; i < job->conf.n_items; i++)
        asset_dispose(&job->assets[i]);
    free(job->assets);
    free(job->have);
    free(job->ffprobe);
    conf_dispose(&job->conf);
    free(job);

    if (ch->state == CHANNEL_STOPPING) {
        playout_dispose(&p);
        if (ch->proc == NULL)
            finish_stop(ch);
        return;
    }
    if (p.n_items == 0) {
        log_error(ch->number, "no playable media; the channel stays off the air until its config changes");
        playout_dispose(&p);
        if (!ch->prepared)
            ch->state = CHANNEL_STOPPED;
        return;
    }
    playout_dispose(&ch->playout);
    ch->playout = p;
    log_info(ch->number, "%zu items, %.0f s loop, %s", p.n_items, p.cycle,
             copy ? "stream copy" : "live encode");
    int was_prepared = ch->prepared;
    ch->prepared = 1;
    /* Keep the cursor: a reload must not make the running ffmpeg jump. */
    ch->feed.keyframe_interval = copy ? cfg->segment_seconds : 0;
    ch->feed.tolerance = feed_tolerance(cfg);
    if (was_prepared && copy != ch->copy && ch->proc != NULL) {
        /* The stream's codec parameters change: a new run, marked as a discontinuity. */
        ch->copy = copy;
        ch->disc_next_run = 1;
        ch->switching = 1;
        uv_process_kill(ch->proc, SIGTERM);
    }
    ch->copy = copy;
    if (ch->reprobe_pending) {
        ch->reprobe_pending = 0;
        prepare(ch);
        return;
    }
    if (!was_prepared || ch->state == CHANNEL_STOPPED || ch->state == CHANNEL_PREPARING)
        spawn_ffmpeg(ch);
}

static int needs_live(const sched_asset_t *a, void *arg)
{
    const unsigned char *house = arg;
    return house != NULL && !house[a->index];
}

/* A scheduled channel's media is the station's library, probed by the station
   before channels start; all that is left is the encode decision, made for this
   channel alone: it copies once everything its schedule can air is house format. */
static void prepare_scheduled(channel_t *ch)
{
    const config_t *cfg = ch->env->config;
    const sched_asset_t *live = sched_channel_find_asset(ch->conf.schedule, needs_live,
                                                         (void *)ch->env->library_house);
    int copy = ch->conf.mode == ENCODE_COPY || (ch->conf.mode == ENCODE_AUTO && live == NULL);
    int was_prepared = ch->prepared;
    ch->prepared = 1;
    ch->feed.keyframe_interval = copy ? cfg->segment_seconds : 0;
    ch->feed.tolerance = feed_tolerance(cfg);
    log_info(ch->number, "scheduled (%s, horizon %d days), %s%s%s", ch->conf.timezone,
             ch->conf.schedule->days_ahead, copy ? "stream copy" : "live encode",
             live && ch->conf.mode == ENCODE_AUTO ? ": not in the house format yet: " : "",
             live && ch->conf.mode == ENCODE_AUTO ? live->path : "");
    if (was_prepared && copy != ch->copy && ch->proc != NULL) {
        ch->copy = copy;
        ch->disc_next_run = 1;
        ch->switching = 1;
        uv_process_kill(ch->proc, SIGTERM);
        return;
    }
    ch->copy = copy;
    if (!was_prepared || ch->state == CHANNEL_STOPPED || ch->state == CHANNEL_PREPARING)
        spawn_ffmpeg(ch);
}

static void prepare(channel_t *ch)
{
    if (ch->conf.schedule != NULL) {
        prepare_scheduled(ch);
        return;
    }
    probe_job_t *job = xcalloc(1, sizeof(*job));
    job->ch = ch;
    job->work.data = job;
    job->ffprobe = xstrdup(ch->env->config->ffprobe);
    conf_copy(&job->conf, &ch->conf);
    job->assets = xcalloc(job->conf.n_items, sizeof(asset_t));
    job->have = xcalloc(job->conf.n_items, sizeof(int));
    size_t cached = 0;
    for (size_t i = 0; i < job->conf.n_items; i++)
        if (catalog_get(ch->env->db, job->conf.items[i], &job->assets[i]) == 0) {
            job->have[i] = 1;
            cached++;
        }
    if (!ch->prepared)
        ch->state = CHANNEL_PREPARING;
    log_info(ch->number, "preparing %zu items (%zu known, %zu to probe)", job->conf.n_items, cached,
             job->conf.n_items - cached);
    uv_queue_work(ch->env->loop, &job->work, probe_work, probe_done);
}

static int resolve_conformed(void *arg, const char *path, char **file, double *start_time);

channel_t *channel_create(const channel_env_t *env, const channel_conf_t *conf)
{
    channel_t *ch = xcalloc(1, sizeof(*ch));
    ch->env = env;
    conf_copy(&ch->conf, conf);
    ch->number = xstrdup(conf->number);
    ch->name = xstrdup(conf->name);
    ch->dir = xasprintf("%s/channels/%s", env->config->state_dir, conf->number);
    ch->private_playlist = xasprintf("%s/ffmpeg.m3u8", ch->dir);
    ch->outer_script = xasprintf("%s/feed.ffconcat", ch->dir);
    strbuf_init(&ch->stderr_line);
    playout_init(&ch->playout, conf->epoch);
    double seg = env->config->segment_seconds;
    char *prefix = xasprintf("%s/", conf->number);
    /* At least 6 segments and 30 s in the window, like a broadcaster's live playlist. */
    size_t size = (size_t)fmax(6.0, ceil(30.0 / seg));
    hls_window_init(&ch->hls, ch->dir, prefix, size, (int)ceil(seg));
    free(prefix);
    feed_init(&ch->feed, seg, feed_tolerance(env->config));
    ch->feed.resolve = resolve_conformed;
    ch->feed.resolve_arg = ch;
    /* ffmpeg needs about 0.08 s of real time (measured on a 2-core box) from the
       first answer to paced reading; it matters only when the clock is warped. */
    ch->feed.lead = 0.08 * clock_rate();
    return ch;
}

void channel_start(channel_t *ch)
{
    int rc = util_mkdirs(ch->dir, 0755);
    if (rc != 0) {
        log_error(ch->number, "unable to create %s: %s", ch->dir, strerror(-rc));
        return;
    }
    clean_dir(ch);
    load_state(ch);
    ch->tick = xcalloc(1, sizeof(uv_timer_t));
    ch->restart = xcalloc(1, sizeof(uv_timer_t));
    ch->watch = xcalloc(1, sizeof(uv_fs_event_t));
    uv_timer_init(ch->env->loop, ch->tick);
    uv_timer_init(ch->env->loop, ch->restart);
    uv_fs_event_init(ch->env->loop, ch->watch);
    ch->tick->data = ch->restart->data = ch->watch->data = ch;
    ch->open_handles += 3;
    uv_timer_start(ch->tick, on_tick, 1000, 1000);
    rc = uv_fs_event_start(ch->watch, on_watch, ch->dir, 0);
    if (rc != 0)
        log_warn(ch->number, "unable to watch %s (%s); polling once a second", ch->dir, uv_strerror(rc));
    prepare(ch);
}

void channel_reconfigure(channel_t *ch, const channel_conf_t *conf)
{
    conf_dispose(&ch->conf);
    conf_copy(&ch->conf, conf);
    free(ch->name);
    ch->name = xstrdup(conf->name);
    ch->playout.epoch = conf->epoch;
    if (conf->schedule != NULL && ch->prepared && ch->playout.n_items > 0) {
        /* It was a looping playlist and now has a schedule: the feed switches over at
           the next item. */
        playout_dispose(&ch->playout);
        playout_init(&ch->playout, conf->epoch);
    }
    if (ch->state == CHANNEL_PREPARING && !ch->prepared)
        ch->reprobe_pending = 1;
    else if (ch->state != CHANNEL_STOPPING && ch->tick != NULL)
        prepare(ch);
}

void channel_stop(channel_t *ch, void (*done)(void *arg), void *arg)
{
    ch->stopped_cb = done;
    ch->stopped_arg = arg;
    if (ch->tick == NULL) {
        /* Never started (its directory could not be made): nothing to close. */
        ch->open_handles = 1;
        on_handle_closed((uv_handle_t *)xmalloc(1));
        return;
    }
    enum channel_state was = ch->state;
    ch->state = CHANNEL_STOPPING;
    if (ch->proc != NULL) {
        log_info(ch->number, "stopping ffmpeg (pid %d)", ch->proc->pid);
        uv_process_kill(ch->proc, SIGTERM);
        uv_timer_start(ch->restart, on_restart_timer, STOP_GRACE, 0);
    } else if (was != CHANNEL_PREPARING || ch->prepared) {
        uv_timer_stop(ch->restart);
        finish_stop(ch);
    }
    /* Preparing: probe_done sees the stopping state and finishes the stop. */
}

/* The feed reads a source's conformed copy when the content manager has made one. */
static int resolve_conformed(void *arg, const char *path, char **file, double *start_time)
{
    channel_t *ch = arg;
    char *key = conform_house_key(&ch->env->config->house);
    int rc = catalog_conformed(ch->env->db, path, key, file, start_time);
    free(key);
    return rc;
}

/* What decoding a file takes, as far as one ffmpeg run can follow: the concat demuxer
   keeps the first file's stream parameters for the whole run, so a change of
   container, codec or audio layout needs fresh decoders. Everything in the house
   format (sources that are, and conformed copies) decodes alike. */
static char *decoder_of(channel_t *ch, const char *path)
{
    const house_format_t *house = &ch->env->config->house;
    char *file = NULL;
    double start;
    if (resolve_conformed(ch, path, &file, &start) == 0) {
        free(file);
        return xstrdup("house");
    }
    asset_t a;
    if (catalog_get(ch->env->db, path, &a) != 0)
        return xasprintf("unknown: %s", path); /* never shares a run */
    const char *why;
    char *d = catalog_is_house(&a, house, &why)
                  ? xstrdup("house")
                  : xasprintf("%s, %s, %s %d Hz %d ch", a.format ? a.format : "?",
                              a.video_codec ? a.video_codec : "no video",
                              a.audio_codec ? a.audio_codec : "no audio", a.audio_rate,
                              a.audio_channels);
    asset_dispose(&a);
    return d;
}

int channel_feed_answer(channel_t *ch, strbuf_t *answer)
{
    if (!ch->prepared)
        return -ENOENT;
    feed_pick_t pick;
    double now = clock_now();
    double cursor = ch->feed.cursor;
    feed_schedule_ctx_t sctx = {ch->env->db, ch->conf.schedule};
    feed_source_fn source = ch->conf.schedule ? feed_source_schedule : feed_source_playout;
    void *ctx = ch->conf.schedule ? (void *)&sctx : (void *)&ch->playout;
    int rc = feed_next(&ch->feed, source, ctx, now, util_file_readable, &pick, answer);
    if (rc == -ENOENT && ch->conf.schedule != NULL) {
        /* The fine log does not reach this far yet (a long stall, a warped clock):
           extend it and ask again. */
        log_info(ch->number, "extending the schedule to cover the clock");
        schedule_extend(ch->env->db, ch->conf.schedule, (sched_ms_t)llround(now * 1000), 0);
        rc = feed_next(&ch->feed, source, ctx, now, util_file_readable, &pick, answer);
    }
    if (rc != 0) {
        log_error(ch->number, "nothing to air: no file of the %s can be read",
                  ch->conf.schedule ? "schedule" : "playlist");
        ch->feed_failed = 1;
        return rc;
    }
    if (pick.substituted) {
        /* Name the file that is missing: what the programming has at that time. */
        char *missing = NULL;
        playout_pos_t pos;
        sched_item_t si;
        if (ch->conf.schedule != NULL) {
            if (schedule_item_at(ch->env->db, ch->conf.schedule,
                                 (sched_ms_t)llround(pick.air_start * 1000), NULL, &si) == 0) {
                missing = xstrdup(si.path);
                schedule_item_dispose(&si);
            }
        } else if (playout_at(&ch->playout, pick.air_start, &pos) == 0) {
            missing = xstrdup(ch->playout.items[pos.index].path);
        }
        log_warn(ch->number, "%s is missing at air time; %s fills its time",
                 missing ? missing : "the scheduled file", pick.path);
        db_event(ch->env->db, now, ch->number, "missing", missing ? missing : pick.path);
        free(missing);
    }
    if (!ch->copy) {
        char *decoder = decoder_of(ch, pick.path);
        if (ch->run_decoder == NULL) {
            ch->run_decoder = decoder;
        } else if (strcmp(decoder, ch->run_decoder) != 0) {
            /* Handing it to this run would feed it to the wrong decoders (garbage,
               then a stall): end the run here instead, and start the next with it. */
            log_info(ch->number, "%s needs other decoders (%s, not %s): this ffmpeg run ends "
                                 "before it", pick.path, decoder, ch->run_decoder);
            free(decoder);
            feed_pick_dispose(&pick);
            ch->feed.cursor = cursor;
            ch->run_break = 1;
            answer->len = 0;
            return -EAGAIN;
        } else {
            free(decoder);
        }
    }
    if (ch->first_answer_pending) {
        ch->first_answer_pending = 0;
        hls_window_begin_run(&ch->hls, pick.air_start, ch->disc_next_run);
        ch->disc_next_run = 0;
    }
    log_debug(ch->number, "next: %s from %.3f s for %.3f s%s%s", pick.path, pick.inpoint,
              pick.length, pick.rejoined ? " (joined the clock)" : "",
              pick.substituted ? " (substitute)" : "");
    /* actual_start is the clock when ffmpeg asked: it asks when it has read the
       previous item to its end at the clock's pace, so that is when this one airs. */
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(ch->env->db,
                           "INSERT INTO as_run (channel, path, scheduled_start, actual_start,"
                           " inpoint, duration, note) VALUES (?,?,?,?,?,?,?)",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, ch->number, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, pick.path, -1, SQLITE_STATIC);
        sqlite3_bind_double(st, 3, pick.scheduled_start);
        sqlite3_bind_double(st, 4, pick.rejoined ? pick.air_start : now);
        sqlite3_bind_double(st, 5, pick.inpoint);
        sqlite3_bind_double(st, 6, pick.length);
        if (pick.substituted)
            sqlite3_bind_text(st, 7, "replaced: scheduled file missing", -1, SQLITE_STATIC);
        else if (pick.rejoined)
            sqlite3_bind_text(st, 7, "joined in progress", -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_DONE)
            ch->last_asrun = sqlite3_last_insert_rowid(ch->env->db);
        sqlite3_finalize(st);
    }
    feed_pick_dispose(&pick);
    return 0;
}

hls_window_t *channel_hls(channel_t *ch)
{
    return &ch->hls;
}

const char *channel_number(const channel_t *ch)
{
    return ch->number;
}

void channel_get_status(channel_t *ch, channel_status_t *st)
{
    memset(st, 0, sizeof(*st));
    st->number = ch->number;
    st->name = ch->name;
    st->state = ch->state;
    st->copy = ch->copy;
    st->restarts = ch->restarts;
    st->pid = ch->proc ? ch->proc->pid : 0;
    st->scheduled = ch->conf.schedule != NULL;
    double now = clock_now();
    if (ch->conf.schedule != NULL) {
        /* A guide shows programs, not commercials: answer from the coarse log. */
        schedule_slots_free(ch->status_slots, ch->n_status_slots);
        ch->status_slots = NULL;
        ch->n_status_slots = 0;
        sched_ms_t t = (sched_ms_t)llround(now * 1000);
        if (schedule_coarse_range(ch->env->db, ch->number, t, t + 1, &ch->status_slots,
                                  &ch->n_status_slots) != 0 || ch->n_status_slots == 0)
            return;
        sched_slot_t *cur = &ch->status_slots[0];
        sched_slot_t *nx = NULL;
        size_t n = 0;
        if (ch->n_status_slots == 1 &&
            schedule_coarse_range(ch->env->db, ch->number, cur->end, cur->end + 1, &nx, &n) == 0 &&
            n > 0) {
            /* Keep the first entry after the current one; free the rest as usual. */
            ch->status_slots = xrealloc(ch->status_slots, 2 * sizeof(sched_slot_t));
            ch->status_slots[1] = nx[0];
            memset(&nx[0], 0, sizeof(nx[0]));
            ch->n_status_slots = 2;
            cur = &ch->status_slots[0];
        }
        schedule_slots_free(nx, n);
        st->now_title = cur->title;
        st->now_path = cur->path;
        st->now_start = (double)cur->start / 1000.0;
        st->now_end = (double)cur->end / 1000.0;
        if (ch->n_status_slots > 1) {
            st->next_title = ch->status_slots[1].title;
            st->next_path = ch->status_slots[1].path;
            st->next_start = (double)ch->status_slots[1].start / 1000.0;
            st->next_end = (double)ch->status_slots[1].end / 1000.0;
        }
        return;
    }
    playout_pos_t pos;
    if (ch->prepared && playout_at(&ch->playout, now, &pos) == 0) {
        const playout_item_t *it = &ch->playout.items[pos.index];
        const playout_item_t *nx = &ch->playout.items[(pos.index + 1) % ch->playout.n_items];
        st->now_title = it->title;
        st->now_path = it->path;
        st->now_start = pos.item_start;
        st->now_end = pos.item_start + it->duration;
        st->next_title = nx->title;
        st->next_path = nx->path;
        st->next_start = st->now_end;
        st->next_end = st->now_end + nx->duration;
    }
}
