/*
 * The just-in-time feed: when a channel's ffmpeg asks for its next item, decide what
 * airs from the playout and the clock, and answer with a one-item ffconcat script.
 */
#ifndef RV_FEED_H
#define RV_FEED_H

#include "playout.h"
#include "util.h"

/** Per-channel feed state: where ffmpeg's output has got to in station time. */
typedef struct feed {
    double cursor;            /* station time the next answer starts at; 0 = join the clock */
    double tolerance;         /* drift from the clock allowed before rejoining it */
    double keyframe_interval; /* > 0 for stream copy: joins round down to a keyframe */
} feed_t;

/** What one answer airs. */
typedef struct feed_pick {
    size_t index;           /* item in the playout */
    size_t scheduled_index; /* the item the schedule has here (differs when substituted) */
    double scheduled_start; /* when the scheduled airing began */
    double air_start;       /* station time this answer's first frame airs */
    double inpoint;         /* seconds into the item */
    double length;          /* seconds this answer airs */
    int rejoined;           /* the cursor was reset to the clock */
    int substituted;        /* the scheduled file was missing; another item fills its time */
} feed_pick_t;

/** Starts a feed that joins the clock on its first answer. */
void feed_init(feed_t *f, double keyframe_interval, double tolerance);
/** Makes the next answer join the clock (after an ffmpeg restart). */
void feed_rejoin(feed_t *f);
/**
 * Picks the next item at station time now and appends the ffconcat answer. exists()
 * says whether a file can be read; a missing scheduled file is replaced for the rest
 * of its airing by the next items that exist. 0, or -ENOENT when no file exists.
 */
int feed_next(feed_t *f, const playout_t *p, double now, int (*exists)(const char *path),
              feed_pick_t *pick, strbuf_t *answer);

#endif
