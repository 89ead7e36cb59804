/*
 * The asset catalog: what ffprobe says about each media file, cached in the
 * database by (path, size, mtime) so a restart does not probe the library again.
 */
#ifndef RV_CATALOG_H
#define RV_CATALOG_H

#include <sqlite3.h>

#include "config.h"

/** What playout needs to know about one media file. */
typedef struct asset {
    char *path;
    long long size;
    long long mtime;
    double duration;    /* seconds of media */
    double start_time;  /* the file's first timestamp; inpoints are relative to it */
    char *format;       /* ffprobe format_name, e.g. "mpegts" */
    char *video_codec;  /* NULL when the file has no video */
    int width, height;
    char *fps;          /* r_frame_rate, e.g. "30000/1001" */
    int has_b_frames;
    char *pix_fmt;
    char *profile;      /* e.g. "Main", or NULL */
    char *field_order;  /* "progressive", "tt", ... or NULL when unknown */
    int sar_num, sar_den; /* sample aspect ratio (1:1 when not stated) */
    char *audio_codec;  /* NULL when the file has no audio */
    int audio_rate, audio_channels;
    char *error;        /* why the file is unusable, or NULL */
} asset_t;

/** Frees an asset's strings (not the struct itself). */
void asset_dispose(asset_t *a);
/** Looks up a cached probe that still matches the file on disk; 0, -ENOENT or -ESTALE. */
int catalog_get(sqlite3 *db, const char *path, asset_t *out);
/** Probes path (blocking: call from a worker); 0 or a negative errno with a->error set. */
int catalog_probe(const char *ffprobe, const char *path, asset_t *out);
/** Stores a probe result (including failures) in the cache. */
int catalog_store(sqlite3 *db, const asset_t *a);
/**
 * The finished conformed copy of path for the house format house_key, when there is
 * one on disk: 0 with *file (caller frees) and its first timestamp, else -ENOENT.
 */
int catalog_conformed(sqlite3 *db, const char *path, const char *house_key, char **file,
                      double *start_time);
/**
 * True when the file can air in a copy-mode channel: it is in the house format, or a
 * finished conformed copy of it exists. Sets *why otherwise.
 */
int catalog_airs_as_house(sqlite3 *db, const asset_t *a, const house_format_t *house,
                          const char **why);
/**
 * True when a file can be stream-copied into a house-format channel: the same rule as
 * probe_is_house, applied to what the catalog stored. Sets *why otherwise.
 */
int catalog_is_house(const asset_t *a, const house_format_t *house, const char **why);

#endif
