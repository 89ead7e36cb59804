/*
 * The XMLTV guide (/xmltv.xml): one <channel> per channel and one <programme> per
 * program from a little before now to the end of what is built, produced a piece at
 * a time so a large guide never sits in memory whole.
 */
#ifndef RV_XMLTV_H
#define RV_XMLTV_H

#include <h2o.h>
#include <sqlite3.h>
#include <stddef.h>

#include "config.h"
#include "util.h"

typedef struct station station_t;

/** Room for any channel id ("retrovue." + a guide number). */
#define XMLTV_ID_MAX 48

/** The guide's id for a channel, "retrovue.5.1"; the M3U's tvg-id must be the same. */
void xmltv_channel_id(const char *number, char *buf, size_t size);

/** One programme as the guide shows it. Strings are owned; NULL when unknown. */
typedef struct xmltv_programme {
    double start, stop;       /* UTC seconds */
    const char *kind;         /* "program", "movie", "off_air", "fill" or "playlist" (static) */
    char *title;              /* never NULL */
    char *sub_title;          /* the episode's title */
    char *desc;
    char *date;               /* "1987" or "19871124": when it was made or first aired */
    char *categories[3];
    char *icon;               /* artwork URL */
    int season, episode;      /* 1-based; 0 when unknown */
    char *rating, *rating_system; /* "TV-Y7", "VCHIP" */
    int previously_shown, is_new;
} xmltv_programme_t;

/** Frees a programme's strings. */
void xmltv_programme_dispose(xmltv_programme_t *p);

/**
 * The programme the guide shows on a channel at t (UTC seconds), from the same code
 * that writes the guide: for a schedule the coarse entry airing at t; for a playlist
 * the loop's item (or the merged run of short items) airing at t.
 * 0, -ENOENT when nothing is known at t, -EIO.
 */
int xmltv_programme_at(sqlite3 *db, const config_t *cfg, const channel_conf_t *conf, double t,
                       xmltv_programme_t *out);

typedef struct xmltv_guide xmltv_guide_t;

/**
 * Starts a guide as of now (UTC seconds). What it needs from cfg is copied, so cfg
 * may be replaced (a reload) while the guide is being written; db must stay open.
 * base_url prefixes icon links (no trailing slash).
 */
xmltv_guide_t *xmltv_guide_new(sqlite3 *db, const config_t *cfg, const char *base_url, double now);
/**
 * Appends the next piece of the document to out: the head and channels, then one
 * channel-day of programmes at a time, then the end. Returns 1 while more follows,
 * 0 once the document is complete. A piece may be empty.
 */
int xmltv_guide_next(xmltv_guide_t *g, strbuf_t *out);
/** Frees a guide, finished or not (NULL is fine). */
void xmltv_guide_free(xmltv_guide_t *g);

/**
 * Writes a whole guide through emit, piece by piece (what the HTTP handler sends).
 * 0, or the first non-zero value emit returned.
 */
int xmltv_write(sqlite3 *db, const config_t *cfg, const char *base_url, double now,
                int (*emit)(void *arg, const char *data, size_t len), void *arg);

/** Answers GET and HEAD /xmltv.xml, streaming the guide. */
void xmltv_serve(h2o_req_t *req, station_t *st);

/* ---- formatting, exposed for the unit tests ---- */

/** Formats UTC seconds as XMLTV time in a zone offset_s east of UTC: "20261124190000 +0000". */
void xmltv_format_time(long long t, int offset_s, char *buf, size_t size);
/** The xmltv_ns episode number: season and episode are 0-based ("0.0."); 0 means unknown. */
void xmltv_episode_ns(int season, int episode, char *buf, size_t size);

#endif
