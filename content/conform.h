/*
 * Conforming: transcoding one asset, once, into the house format (H.264 + AAC in
 * MPEG-TS, fixed size, frame rate and audio layout, closed GOPs on the segment grid) so
 * copy-mode channels can stream-copy it and cut it on any keyframe. Blocking by design,
 * like run.h: it runs from worker threads and `retrovue ingest`, never the event loop.
 */
#ifndef RV_CONFORM_H
#define RV_CONFORM_H

#include <stdatomic.h>
#include <stddef.h>

#include "config.h"
#include "probe.h"

/* Niceness added to the encoder by default: playout ffmpegs must win the CPU. */
#define CONFORM_DEFAULT_NICE 10

/**
 * Called as the encode advances with the media seconds written so far and the total
 * expected; return nonzero to cancel the conform.
 */
typedef int (*conform_progress_fn)(void *arg, double done, double total);

/** How to run a conform; set the defaults with conform_opts_init, then change fields. */
typedef struct conform_opts {
    int nice;                     /* niceness added for ffmpeg; default 10, 0 = ours */
    double timeout;               /* seconds; 0 = a generous limit from the duration
                                     (CONFORM_TIMEOUT_BASE + FACTOR x it), < 0 = none */
    int threads;                  /* encoder threads; 0 = ffmpeg's choice (all cores) */
    conform_progress_fn progress; /* may be NULL */
    void *arg;                    /* passed to progress */
    const atomic_int *cancel;     /* when not NULL and set, the conform stops soon after
                                     (at ffmpeg's next progress report, twice a second) */
} conform_opts_t;

/* The automatic time limit: long enough for a slow machine busy with playout, short
   enough that a stalled network share does not hold a worker for ever. */
#define CONFORM_TIMEOUT_BASE 300.0
#define CONFORM_TIMEOUT_FACTOR 10.0

/** What a finished conform produced. */
typedef struct conform_result {
    double duration;     /* the output's duration (ffprobe's), seconds */
    double start_time;   /* the output's first timestamp, seconds (0 for house files) */
    long long frames;    /* video frames written */
    double *keyframes;   /* keyframe times, seconds from start_time, ascending */
    size_t n_keyframes;
    char *error;         /* why the conform failed (one line, without the file name),
                            or NULL */
} conform_result_t;

/** Fills o with the defaults: nice 10, automatic timeout, all threads, no callbacks. */
void conform_opts_init(conform_opts_t *o);

/**
 * Transcodes src (described by probe, from probe_file) into the house format at dst.
 * Blocking. The output is written as dst + ".part" in the same directory (created if
 * missing), checked (probe_is_house, keyframes on every multiple of the GOP, length),
 * synced to disk and only then renamed to dst, so dst is either absent or complete;
 * the .part is removed on any failure. ffmpeg and ffprobe may be NULL ("ffmpeg",
 * "ffprobe" from PATH); opts may be NULL for the defaults. Returns 0 with out filled
 * in, or a negative errno (-ECANCELED, -ETIMEDOUT, -ENOENT when ffmpeg is missing,
 * -EINVAL for an unusable source or an output that failed its checks, -EIO when
 * ffmpeg failed) with out->error set. Free out with conform_result_dispose either way.
 */
int conform_file(const char *ffmpeg, const char *ffprobe, const char *src, const probe_t *probe,
                 const house_format_t *house, const char *dst, const conform_opts_t *opts,
                 conform_result_t *out);

/** Frees a result's contents and zeroes it. */
void conform_result_dispose(conform_result_t *r);

/**
 * Reads the keyframe times of path's first video stream (from packet flags, without
 * decoding), in seconds from start_time. 0 with *kf (caller frees) and *n set, and
 * *frames (if not NULL) the number of video packets; or a negative errno.
 */
int conform_read_keyframes(const char *ffprobe, const char *path, double start_time,
                           double **kf, size_t *n, long long *frames);

/**
 * Where the conformed copy of a source lives: STATE/conform/<16 hex of the source's
 * path, size and mtime>-<8 hex of the house format and encoder settings>.ts. A changed
 * source or house format gets a new name, so a stale copy is never reused. Caller frees.
 */
char *conform_cache_path(const char *state_dir, const char *src, long long size, long long mtime,
                         const house_format_t *house);

/**
 * The house format as a short stable key for the database, e.g.
 * "640x480@30000/1001g60a48000c2v1500ka128k" (size, rate, GOP frames, audio rate and
 * channels, video and audio kbps). Caller frees.
 */
char *conform_house_key(const house_format_t *house);

/** Keyframe times as a JSON array with millisecond precision ("[0.000,2.002]"). Caller frees. */
char *conform_keyframes_json(const double *kf, size_t n);

#endif
