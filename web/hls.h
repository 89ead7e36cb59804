/*
 * A channel's published HLS window. ffmpeg writes segments and a private playlist;
 * this module takes the new segments from that playlist and owns the public one:
 * never-reused sequence numbers, program date-times from the station clock,
 * discontinuity tags only where timestamps break, and removed segments kept on
 * disk for a while after they leave the window (RFC 8216 6.2.2).
 */
#ifndef RV_HLS_H
#define RV_HLS_H

#include <stddef.h>

#include "util.h"

/** One segment, published or retired. */
typedef struct hls_segment {
    long long seq;
    double duration;
    double pdt;        /* station time of its first frame */
    int discontinuity; /* timestamps break before this segment */
    double retired_at; /* monotonic seconds it left the window; 0 while in it */
} hls_segment_t;

typedef struct hls_waiter hls_waiter_t;
/** Someone (a continuous-TS viewer) waiting for the next segment. */
struct hls_waiter {
    void (*cb)(hls_waiter_t *w);
    hls_waiter_t *prev, *next;
};

/** The window of one channel. */
typedef struct hls_window {
    char *dir;             /* where the segment files live */
    char *uri_prefix;      /* prepended to file names in the public playlist, e.g. "1/" */
    hls_segment_t *segs;   /* retired then published, ascending seq */
    size_t n, cap;
    size_t size;           /* segments in the published window */
    int target;            /* EXT-X-TARGETDURATION, whole seconds */
    long long next_seq;    /* sequence number the next ffmpeg run starts at */
    long long disc_seq;    /* EXT-X-DISCONTINUITY-SEQUENCE of the window's first segment */
    double ts_offset;      /* total duration ever published: the next run's -output_ts_offset */
    double run_pdt;        /* station time of the current run's first frame */
    double run_elapsed;    /* duration published by the current run */
    int pending_disc;      /* tag the next segment with a discontinuity */
    hls_waiter_t waiters;  /* circular list head */
} hls_window_t;

/** Starts an empty window over dir, publishing size segments of about target seconds. */
void hls_window_init(hls_window_t *w, const char *dir, const char *uri_prefix, size_t size,
                     int target);
/** Frees the window (files stay on disk). */
void hls_window_dispose(hls_window_t *w);
/** Restores the numbering saved from an earlier run of the station. */
void hls_window_restore(hls_window_t *w, long long next_seq, double ts_offset, long long disc_seq);
/** A new ffmpeg run begins: its first frame airs at station time pdt. */
void hls_window_begin_run(hls_window_t *w, double pdt, int discontinuity);
/**
 * Reads ffmpeg's private playlist text and publishes segments not seen before.
 * now_mono stamps segments that leave the window. Returns how many were added.
 */
int hls_window_ingest(hls_window_t *w, const char *private_playlist, double now_mono);
/** Deletes retired segment files older than keep seconds; returns how many. */
int hls_window_expire(hls_window_t *w, double now_mono, double keep);
/** Appends the public playlist. */
void hls_window_render(const hls_window_t *w, strbuf_t *out);
/** A published or retired segment by sequence number, or NULL. */
const hls_segment_t *hls_window_find(const hls_window_t *w, long long seq);
/** The newest published segment, or NULL before the first. */
const hls_segment_t *hls_window_newest(const hls_window_t *w);
/** The oldest segment still in the published window, or NULL. */
const hls_segment_t *hls_window_oldest(const hls_window_t *w);
/** The file name of a segment ("seg000000123.ts") into buf. */
void hls_segment_name(long long seq, char *buf, size_t size);
/** Parses a segment file name; 0 and *seq, or -EINVAL. */
int hls_segment_parse(const char *name, long long *seq);
/** Registers a waiter, called once at the next published segment. */
void hls_window_wait(hls_window_t *w, hls_waiter_t *waiter);
/** Removes a waiter that has not been called yet (safe when not registered). */
void hls_window_unwait(hls_waiter_t *waiter);

#endif
