/*
 * What a media file is, as ffprobe sees it: container, video, audio, subtitles and
 * chapters, parsed into plain fields; and the one rule for whether a file is already
 * in the house format (so it can be stream-copied without conforming).
 */
#ifndef RV_PROBE_H
#define RV_PROBE_H

#include <stddef.h>

#include "config.h"

/* How long ffprobe may take before the file is declared unreadable (a dying disk or a
 * stalled network share would otherwise hold a worker for ever). */
#define PROBE_TIMEOUT 60.0

/** How the video's fields are ordered, as ffprobe reports field_order. */
enum probe_field_order {
    PROBE_FIELD_UNKNOWN,     /* not reported */
    PROBE_FIELD_PROGRESSIVE, /* "progressive" */
    PROBE_FIELD_TT,          /* interlaced, top field first, top coded first */
    PROBE_FIELD_BB,          /* interlaced, bottom field first, bottom coded first */
    PROBE_FIELD_TB,          /* interlaced, top coded first, bottom displayed first */
    PROBE_FIELD_BT           /* interlaced, bottom coded first, top displayed first */
};

/** One chapter marker. */
typedef struct probe_chapter {
    double start, end; /* seconds */
    char *title;       /* NULL when untitled */
} probe_chapter_t;

/** The first video stream (attached cover pictures are not video). */
typedef struct probe_video {
    char *codec;                  /* codec_name, e.g. "h264" */
    char *profile;                /* e.g. "High", "Main"; NULL when not reported */
    int width, height;
    int fps_num, fps_den;         /* frames per second, e.g. 30000/1001 */
    enum probe_field_order field_order;
    int interlaced;               /* field_order is tt, bb, tb or bt */
    int sar_num, sar_den;         /* sample (pixel) aspect ratio, 1:1 when not stated */
    int dar_num, dar_den;         /* display aspect ratio, e.g. 16:9 */
    char *pix_fmt;                /* e.g. "yuv420p" */
    char *color_space;            /* YCbCr matrix, e.g. "bt709", "smpte170m"; NULL when
                                     not tagged (ffprobe omits it or says "unknown") */
    int tb_num, tb_den;           /* stream time base, e.g. 1/90000 */
    int has_b_frames;             /* frame reordering depth; 0 means no B-frames */
} probe_video_t;

/** The first audio stream. */
typedef struct probe_audio {
    char *codec;          /* e.g. "aac" */
    int sample_rate;      /* Hz */
    int channels;
    char *channel_layout; /* e.g. "stereo"; NULL when not reported */
} probe_audio_t;

/** Everything probe_file learns about one file. */
typedef struct probe {
    char *path;
    double duration;    /* seconds */
    double start_time;  /* the container's first timestamp, seconds */
    long long size;     /* bytes */
    char *format;       /* format_name, e.g. "mpegts" or "matroska,webm" */
    long long bit_rate; /* bits per second, 0 when unknown */
    int has_video;
    probe_video_t video; /* zeroed when has_video is 0 */
    int has_audio;
    int audio_count;     /* number of audio streams */
    probe_audio_t audio; /* the first audio stream; zeroed when has_audio is 0 */
    int subtitle_count;
    probe_chapter_t *chapters;
    size_t n_chapters;
    char *error;        /* why the file cannot be used, or NULL */
} probe_t;

/**
 * Runs ffprobe (NULL means "ffprobe" from PATH) on path and fills out; blocking, at
 * most PROBE_TIMEOUT seconds. 0, or a negative errno with out->error set to one line
 * that names the file and says what ffprobe said ("PATH: ffprobe: moov atom not found").
 * Free out with probe_dispose either way.
 */
int probe_file(const char *ffprobe, const char *path, probe_t *out);

/**
 * Fills out from ffprobe's JSON (-show_format -show_streams -show_chapters), as
 * probe_file does after running it; useful for cached output. 0 or -EINVAL with
 * out->error set.
 */
int probe_parse_json(const char *path, const char *json, probe_t *out);

/** Frees a probe's contents (not the struct) and zeroes it. */
void probe_dispose(probe_t *p);

/**
 * True when the file can be stream-copied into a house-format channel: MPEG-TS, H.264
 * Baseline, Main or High without B-frames, yuv420p, the house size and frame rate,
 * square pixels, progressive, AAC at the house rate and channel count. Otherwise 0 with
 * *why (if not NULL) set to the first difference found.
 */
int probe_is_house(const probe_t *p, const house_format_t *house, const char **why);

/** "progressive", "tt", "bb", "tb", "bt" or "unknown". */
const char *probe_field_order_name(enum probe_field_order f);

#endif
