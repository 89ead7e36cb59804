/*
 * One channel on the air: its playout, its feed, its HLS window and the ffmpeg
 * child that turns the feed into segments, supervised as a small state machine
 * (preparing → starting → on air, backing off after a failure, stopping).
 */
#ifndef RV_CHANNEL_H
#define RV_CHANNEL_H

#include <sqlite3.h>
#include <uv.h>

#include "config.h"
#include "feed.h"
#include "hls.h"
#include "playout.h"

/** What every channel shares: the loop, the database, programs and settings. */
typedef struct channel_env {
    uv_loop_t *loop;
    sqlite3 *db;
    const char *self_exe;   /* this binary, used to spawn ffmpeg with a parent-death signal */
    const config_t *config; /* current configuration (replaced on reload) */
    int feed_port;          /* loopback port of the internal feed endpoint */
    const unsigned char *library_house; /* library_house_flags for config's library */
} channel_env_t;

enum channel_state {
    CHANNEL_STOPPED,
    CHANNEL_PREPARING, /* probing its media */
    CHANNEL_STARTING,  /* ffmpeg spawned, no segment yet */
    CHANNEL_ON_AIR,
    CHANNEL_BACKOFF,   /* waiting to restart ffmpeg */
    CHANNEL_STOPPING
};

typedef struct channel channel_t;

/** A snapshot for the API and the management page. */
typedef struct channel_status {
    const char *number, *name;
    enum channel_state state;
    int copy;                /* 1 stream copy, 0 live encode */
    int restarts;            /* ffmpeg restarts since the channel started */
    int pid;                 /* ffmpeg's pid, 0 when not running */
    int scheduled;           /* programmed by a schedule (else a looping playlist) */
    const char *now_title;   /* the program on now (coarse log) or the loop's item; NULL when unknown */
    const char *now_path;
    double now_start, now_end;
    const char *next_title;  /* what follows it */
    const char *next_path;
    double next_start, next_end;
} channel_status_t;

/** Creates a channel from its configuration (copied); call channel_start to air it. */
channel_t *channel_create(const channel_env_t *env, const channel_conf_t *conf);
/** Prepares (probes media) and then starts airing. */
void channel_start(channel_t *ch);
/** Applies a new configuration for the same channel number; takes effect at the next item. */
void channel_reconfigure(channel_t *ch, const channel_conf_t *conf);
/** Stops ffmpeg (SIGTERM, then SIGKILL after a grace period), closes handles, frees the channel, then calls done. */
void channel_stop(channel_t *ch, void (*done)(void *arg), void *arg);
/** Appends the ffconcat answer for ffmpeg's next item; 0, -ENOENT when nothing can air,
    or -EAGAIN when this ffmpeg run must end here (live: the next item needs other
    decoders; a new run starts with it). */
int channel_feed_answer(channel_t *ch, strbuf_t *answer);
/** The channel's HLS window (segments, public playlist, waiters). */
hls_window_t *channel_hls(channel_t *ch);
/** Fills a status snapshot (pointers valid until the next loop iteration). */
void channel_get_status(channel_t *ch, channel_status_t *st);
/** The channel's guide number. */
const char *channel_number(const channel_t *ch);
/** A word for a state ("on-air", "backoff", ...). */
const char *channel_state_name(enum channel_state state);

#endif
