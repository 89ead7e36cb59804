/*
 * Break points: where a program can be cut for commercials. From a person's override
 * file when there is one, else from chapter markers, else found by one ffmpeg pass
 * looking for the black, silent moments where a show fades out for its act breaks.
 */
#ifndef RV_BREAKS_H
#define RV_BREAKS_H

#include <stddef.h>

#include "probe.h"
#include "util.h"

/* Detected breaks below this confidence are left out unless the caller asks for all:
 * black picture alone (a night scene) or silence alone (a pause) score under it. */
#define BREAKS_MIN_CONFIDENCE 0.5

/** One place to cut. */
typedef struct break_point {
    double at;          /* seconds from the start of the program (its first frame) */
    double confidence;  /* 0..1; 1 for chapters and manual breaks */
    const char *source; /* "manual", "chapters" or "detected" (static strings) */
    double gap_start;   /* detected: the black/silent stretch the cut sits in; */
    double gap_end;     /* otherwise both equal at */
    int black, silent;  /* detected: which of the two detectors saw the gap */
} break_point_t;

/** Break points in time order. */
typedef struct break_list {
    break_point_t *v;
    size_t n;
} break_list_t;

/** Progress of a detection pass: seconds of media analysed so far, of total; nonzero stops it. */
typedef int (*breaks_progress_fn)(void *arg, double done, double total);

/** A loaded override file (opaque). */
typedef struct breaks_override breaks_override_t;

/** How to find breaks; a zeroed struct gives the defaults noted. */
typedef struct breaks_opts {
    const char *ffmpeg;     /* default "ffmpeg" from PATH */
    int nice;               /* niceness for the ffmpeg pass, e.g. 10 in the background */
    double timeout;         /* seconds; 0 = 60 + 3x the program's duration */
    int include_weak;       /* keep detections under BREAKS_MIN_CONFIDENCE */
    breaks_progress_fn progress; /* may be NULL */
    void *arg;              /* passed to progress */
    const breaks_override_t *overrides; /* may be NULL */
} breaks_opts_t;

/**
 * Finds the breaks of the file path that probe describes (blocking): manual ones from
 * opts->overrides when the file is listed there, else chapter starts when there are at
 * least two chapters, else breaks_detect. 0 or a negative errno with *error set to one
 * line (caller frees). Free out with break_list_dispose either way.
 */
int breaks_find(const char *path, const probe_t *probe, const breaks_opts_t *opts,
                break_list_t *out, char **error);

/** The starts of a probe's chapters after the first, when it has two or more; 0 always. */
int breaks_from_chapters(const probe_t *probe, break_list_t *out);

/**
 * Runs one ffmpeg pass (blackdetect + silencedetect) over path and turns the stretches
 * that are both black and silent into breaks (see breaks.c for the rules). 0, or
 * -ETIMEDOUT, -ECANCELED (progress said stop), -ENOENT (no ffmpeg) or -EIO with *error set.
 */
int breaks_detect(const char *path, const probe_t *probe, const breaks_opts_t *opts,
                  break_list_t *out, char **error);

/** Frees a list's points and empties it. */
void break_list_dispose(break_list_t *list);

/**
 * Loads an override file: a JSON object from media path (relative to the file's own
 * directory, or absolute) to a list of break times, each seconds (612.5) or a time
 * string ("10:12.5", "0:10:12.500"); an empty list means "no breaks". 0, or a negative
 * errno with one "FILE:LINE:COL: JSON-PATH: message" line per problem added to errors.
 */
int breaks_override_load(const char *file, breaks_override_t **out, strbuf_t *errors);

/** Sets out to the manual breaks for media_path and returns 1, or returns 0 when unlisted. */
int breaks_override_lookup(const breaks_override_t *o, const char *media_path,
                           break_list_t *out);

/** Frees an override file (NULL is fine). */
void breaks_override_free(breaks_override_t *o);

#endif
