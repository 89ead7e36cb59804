/*
 * The just-in-time feed: when a channel's ffmpeg asks for its next item, decide what
 * airs from the clock and the channel's programming (a looping playout or the fine
 * log of a schedule), and answer with a one-item ffconcat script.
 */
#ifndef RV_FEED_H
#define RV_FEED_H

#include <sqlite3.h>

#include "playout.h"
#include "schedule.h"
#include "util.h"

/** One airing as a source of programming describes it. */
typedef struct feed_item {
    char *path;            /* owned */
    double start, end;     /* station time the airing begins and ends */
    double file_in;        /* seconds into the file (after its start_time) at `start` */
    double start_time;     /* the file's first timestamp */
    double file_duration;  /* the file's length, for leaving out a needless outpoint */
    int substituted;       /* the scheduled file is missing; this fills its time */
    size_t index;          /* playout item, for status (0 for schedules) */
} feed_item_t;

/** Where the feed asks "what airs at t"; 0 or -ENOENT. */
typedef int (*feed_source_fn)(void *ctx, double t, int (*exists)(const char *path),
                              feed_item_t *out);

/**
 * Per-channel feed state: where ffmpeg's output has got to in station time. Within
 * one ffmpeg run the feed follows its cursor: ffmpeg paces its reading by its own
 * clock (-readrate) and catches up by itself after a hiccup, so the cursor and the
 * station clock differ by a constant set when the run joined.
 */
typedef struct feed {
    double cursor;            /* station time the next answer starts at; 0 = join the clock */
    double tolerance;         /* drift from the clock allowed before rejoining it */
    double keyframe_interval; /* > 0 for stream copy: joins round to the nearest keyframe */
    double lead;              /* station seconds ffmpeg needs to start; joins aim that far ahead */
    /* Optional: the file to actually read for a path (its conformed copy) and that
       file's first timestamp; returns 0 and sets *path (owned by the caller) when there
       is one, nonzero to read the path itself. */
    int (*resolve)(void *arg, const char *path, char **file, double *start_time);
    void *resolve_arg;
} feed_t;

/** What one answer airs. */
typedef struct feed_pick {
    size_t index;           /* playout item (playout sources) */
    double scheduled_start; /* when the scheduled airing began */
    double air_start;       /* station time this answer's first frame airs */
    double inpoint;         /* seconds into the file */
    double length;          /* seconds this answer airs */
    int rejoined;           /* the cursor was reset to the clock */
    int substituted;        /* the scheduled file was missing; another item fills its time */
    char *path;             /* owned by the pick: free with feed_pick_dispose */
} feed_pick_t;

/** Starts a feed that joins the clock on its first answer. */
void feed_init(feed_t *f, double keyframe_interval, double tolerance);
/** Makes the next answer join the clock (after an ffmpeg restart). */
void feed_rejoin(feed_t *f);
/**
 * Picks the next item at station time now from source and appends the ffconcat
 * answer. 0, or -ENOENT when nothing can air.
 */
int feed_next(feed_t *f, feed_source_fn source, void *ctx, double now,
              int (*exists)(const char *path), feed_pick_t *pick, strbuf_t *answer);
/** Frees a pick's path. */
void feed_pick_dispose(feed_pick_t *pick);

/** A feed source over a looping playout (ctx is the playout_t). A missing file's time
    is filled by the next items that exist, from their start, cut to the time left. */
int feed_source_playout(void *ctx, double t, int (*exists)(const char *path), feed_item_t *out);

/** Context for feed_source_schedule. */
typedef struct feed_schedule_ctx {
    sqlite3 *db;
    const sched_channel_t *channel;
} feed_schedule_ctx_t;

/** A feed source over a schedule's fine log (ctx is a feed_schedule_ctx_t). */
int feed_source_schedule(void *ctx, double t, int (*exists)(const char *path), feed_item_t *out);

#endif
