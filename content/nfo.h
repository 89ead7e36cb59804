/*
 * Kodi / TinyMediaManager ".nfo" sidecars: finding the ones that describe a media file
 * and reading the show, episode and movie metadata in them. A broken file never stops
 * ingest: what could be read is returned and the problems come back as warnings.
 */
#ifndef RV_NFO_H
#define RV_NFO_H

#include <stddef.h>

#include "util.h"

/** What the file describes, from its root element. */
enum nfo_kind {
    NFO_NONE,    /* no usable XML root (empty, unreadable, URL-only, unknown root) */
    NFO_SHOW,    /* <tvshow> */
    NFO_EPISODE, /* <episodedetails> */
    NFO_MOVIE,   /* <movie> */
};

/** One <uniqueid type="..."> (or a legacy <id>, <imdbid>, <tmdbid>, <tvdbid>). */
typedef struct nfo_uniqueid {
    char *type;     /* "imdb", "tmdb", "tvdb", ... as written */
    char *value;
    int is_default; /* default="true" */
} nfo_uniqueid_t;

/**
 * The metadata of one root element. Unset strings are NULL and unset numbers -1; text
 * is trimmed, entities and CDATA resolved, UTF-8. Which fields a kind fills:
 *   show:    title originaltitle showtitle plot year premiered mpaa studio genres ids thumb
 *   episode: title showtitle season episode aired premiered plot runtime mpaa year genres
 *            ids thumb
 *   movie:   title originaltitle year premiered plot tagline runtime mpaa studio set
 *            genres ids thumb
 * (any field present in the file is kept whatever the kind).
 */
typedef struct nfo_meta {
    enum nfo_kind kind;
    char *title;
    char *originaltitle;
    char *showtitle;
    char *plot;
    char *tagline;
    char *premiered;     /* "YYYY-MM-DD" as written */
    char *aired;         /* episodes: first aired, "YYYY-MM-DD" as written */
    char *mpaa;          /* content rating as written ("TV-PG", "US:R") */
    char *studio;        /* the first <studio> */
    char *set;           /* movies: the collection's name */
    char *thumb;         /* poster (show, movie) or still (episode) URL */
    char *url;           /* a scraper URL line, for Kodi's URL-only and XML+URL forms */
    int year;
    int season;          /* 0 is the specials season */
    int episode;
    int runtime;         /* minutes */
    char **genres;       /* "Comedy / Drama" in one element counts as two */
    size_t n_genres;
    nfo_uniqueid_t *ids;
    size_t n_ids;
    /* A multi-episode file (S01E01E02) holds one <episodedetails> per episode; the
       first fills this struct and each further one hangs here, in file order. */
    struct nfo_meta *next;
} nfo_meta_t;

/**
 * Reads path into out (which is overwritten; dispose it in every case). Returns 0 when a
 * show, episode or movie was read, even partly; a negative errno when the file cannot
 * be read (-ENOENT, ..., -EFBIG past 4 MiB) or holds none of them (-EINVAL; out->url
 * may still be set, from a URL-only or a release group's text nfo). Text that is not
 * valid UTF-8 and declares no other encoding is read as Windows-1252. Each problem
 * becomes one line "FILE:LINE: nfo: message" ("FILE: nfo: message" when no line
 * applies) appended to warnings, or logged with log_warn when warnings is NULL; at
 * most 5 per file, then a count. Blocking; safe on any thread.
 */
int nfo_read(const char *path, nfo_meta_t *out, strbuf_t *warnings);

/** Frees everything out holds (the whole episode chain) and leaves it empty. */
void nfo_meta_dispose(nfo_meta_t *meta);

/** The value of the uniqueid of that type ("imdb", "tvdb", ...), or NULL. */
const char *nfo_uniqueid(const nfo_meta_t *meta, const char *type);

/** The number of episodes in meta's chain (1 for a single-episode file, 0 for none). */
size_t nfo_episode_count(const nfo_meta_t *meta);

/**
 * Finds the sidecars of a media file (which need not exist): the item's own nfo (the
 * same path with ".nfo" for its extension, else "movie.nfo" in the same folder) and
 * the series' "tvshow.nfo" (in the file's folder, else the folder above: the season
 * folder's parent). Names match case-insensitively. Each result is a new string, or
 * NULL when not found. Returns 0 when at least one was found, else -ENOENT.
 */
int nfo_find_for_media(const char *media_path, char **item_nfo, char **tvshow_nfo);

#endif
