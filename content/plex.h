/*
 * Plex Media Server as a source of episodes and movies: walks the show and movie
 * library sections through Plex's HTTP API (JSON, token in X-Plex-Token) and hands
 * back each media file with its metadata, its path translated to where Retrovue sees
 * it, and Plex's ratingKey as the source reference.
 */
#ifndef RV_PLEX_H
#define RV_PLEX_H

#include <stddef.h>
#include <stdint.h>

/** One path translation: the folder as Plex reports it, and the same folder here. */
typedef struct plex_path_map {
    const char *from; /* "/data/tv" or "D:\\TV" */
    const char *to;   /* "/media/tv" */
} plex_path_map_t;

/** Where and what to read. Only url is required. */
typedef struct plex_source {
    const char *url;                 /* "http://192.168.1.5:32400"; plain http only */
    const char *token;               /* X-Plex-Token; NULL sends none (Plex will say 401) */
    const char *const *sections;     /* section titles; none = every show and movie section */
    size_t n_sections;
    const plex_path_map_t *path_map; /* longest matching prefix wins */
    size_t n_path_map;
    int page_size;                   /* items per request; 0 = 200 */
    int timeout_ms;                  /* connect and per-wait timeout; 0 = 15000 */
} plex_source_t;

enum plex_kind { PLEX_EPISODE, PLEX_MOVIE };

/**
 * One media file and what Plex knows about it. A movie split over several files (Plex
 * "parts", cd1/cd2) gives one item per part. Unknown strings are NULL, unknown numbers
 * -1. Episodes without their own genres or rating get the show's.
 */
typedef struct plex_item {
    enum plex_kind kind;
    const char *section;     /* library section title */
    const char *show;        /* episodes: the series title (grandparentTitle) */
    int season;              /* episodes: parentIndex */
    int episode;             /* episodes: index */
    const char *title;
    const char *aired;       /* originallyAvailableAt, "YYYY-MM-DD" */
    const char *summary;
    int year;
    const char *const *genres;
    size_t n_genres;
    const char *rating;      /* contentRating: "TV-PG", "R", ... */
    int64_t duration_ms;     /* of this part */
    const char *path;        /* the file as Retrovue sees it (mapped) */
    const char *plex_path;   /* the file as Plex reports it */
    int mapped;              /* 0: no path_map prefix matched, path is plex_path unchanged */
    int part;                /* 0-based part number within the item */
    int n_parts;
    const char *rating_key;  /* Plex's id for the episode or movie */
} plex_item_t;

/** Receives each item; the item is valid only during the call. Nonzero stops the scan. */
typedef int (*plex_item_cb)(void *arg, const plex_item_t *item);

/**
 * Reads every show and movie section (or those named in src->sections; unknown names
 * are logged) and calls cb for each media file, in Plex's order. Returns 0, -ECANCELED
 * when cb stopped it, or a negative errno with *error set to a one-line message naming
 * the server (caller frees): -EACCES when the token was refused, -ECONNREFUSED,
 * -ETIMEDOUT, -EHOSTUNREACH, -EPROTO or -EBADMSG for answers that make no sense.
 * Blocking (many HTTP requests): run it off the event loop.
 */
int plex_scan(const plex_source_t *src, plex_item_cb cb, void *arg, char **error);

/**
 * Translates a path Plex reports through map (the longest "from" that is a whole-folder
 * prefix wins; Windows separators after a Windows-style prefix become '/'). Returns a new
 * string; *mapped is 1 when a prefix matched, else 0 and the path is returned unchanged.
 */
char *plex_map_path(const plex_path_map_t *map, size_t n, const char *path, int *mapped);

#endif
