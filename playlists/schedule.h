/*
 * The schedule engine: a channel's weekly template (local time) becomes a coarse log
 * (which program fills each slot) and a fine log (every item with its exact UTC start
 * and end, breaks filled, each slot ending exactly on the clock), kept in SQLite.
 *
 * Times are integer milliseconds since 1970 UTC (sched_ms_t) so sums are exact.
 * Building is pure given (template, asset durations, rotation state, seed, range):
 * no ffprobe and no clock inside; callers pass "now".
 */
#ifndef RV_SCHEDULE_H
#define RV_SCHEDULE_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "tz.h"
#include "util.h"

/** Milliseconds since 1970-01-01T00:00:00Z. */
typedef int64_t sched_ms_t;

/** What an asset is used as. */
enum sched_asset_kind { SCHED_ASSET_EPISODE, SCHED_ASSET_MOVIE, SCHED_ASSET_CLIP };

/**
 * One media file as the engine sees it. Today assets come from the library's globs
 * with durations from the catalog; a content manager can fill the same fields.
 */
typedef struct sched_asset {
    char *path;               /* absolute */
    char *title;              /* display title, e.g. "Nebula Patrol S01E01" */
    char *series;             /* series key, or NULL */
    int season, episode;      /* parsed from "sNNeNN" in the name; 0 when unknown */
    enum sched_asset_kind kind;
    sched_ms_t duration;      /* 0 = unknown (not probed yet): never scheduled */
    sched_ms_t start_time;    /* the file's first timestamp; inpoints are relative to it */
    sched_ms_t *breaks;       /* hook: known break offsets into the asset, ascending */
    size_t n_breaks;
    size_t index;             /* position in the library's asset list */
    uint64_t key;             /* hash of the path: stable tie-breaks across config edits */
} sched_asset_t;

/** A named list of assets: a series, a movie collection or a pool of clips. */
typedef struct sched_set {
    char *name;               /* the key in the library */
    char *title;              /* series title; NULL for collections and pools */
    char *rating, *genre;     /* optional series metadata */
    char **tags;              /* collection tags */
    size_t n_tags;
    sched_asset_t **assets;   /* in order (file name order = episode order) */
    size_t n_assets;
    sched_asset_t **promos;   /* series only: promos for this series (may be empty) */
    size_t n_promos;
} sched_set_t;

/** Media shared by all channels: every asset once, and the named sets over them. */
typedef struct sched_library {
    sched_asset_t **assets;   /* owned */
    size_t n_assets;
    sched_set_t **series, **collections, **pools; /* each set allocated on its own: stable */
    size_t n_series, n_collections, n_pools;
    size_t *by_path;          /* open-addressing hash of asset indexes + 1 (0 = empty) */
    size_t hash_cap;
} sched_library_t;

/** What fills a block's slots. */
enum sched_fill { SCHED_FILL_SERIES, SCHED_FILL_MOVIES, SCHED_FILL_OFF_AIR };
/** How episodes (or movies) are picked: in order, a fixed shuffle, or a new shuffle each pass. */
enum sched_order { SCHED_ORDER_SEQUENTIAL, SCHED_ORDER_SHUFFLE, SCHED_ORDER_RANDOM };

/** One block of the weekly template (or of an override). */
typedef struct sched_block {
    char *name;               /* optional display name, e.g. "Saturday Cartoons" */
    unsigned days;            /* bit 0 = Monday ... bit 6 = Sunday; ignored in overrides */
    int start_min;            /* local minutes after midnight */
    int end_min;              /* local minutes after midnight, > start_min (may pass 1440) */
    int n_slots;              /* > 0 when given as a slot count: the block ends n slots later */
    sched_ms_t slot;          /* slot length */
    enum sched_fill fill;
    enum sched_order order;
    const sched_set_t **series; /* SERIES: one or more; slots take them in turn */
    size_t n_series;
    sched_asset_t **movies;   /* MOVIES: the collection's (or tag's collections') movies; owned array */
    size_t n_movies;
    char *movies_key;         /* MOVIES: rotation key, "collection:NAME" or "tag:NAME" */
    sched_ms_t round_up;      /* MOVIES: a movie takes its length rounded up to this */
    const sched_set_t *sign_off, *pattern, *sign_on; /* OFF_AIR (sign_off/on optional) */
} sched_block_t;

/** Blocks that replace the template on one local date where they overlap it. */
typedef struct sched_override {
    int64_t day;              /* local date as days since 1970-01-01 */
    sched_block_t *blocks;
    size_t n_blocks;
} sched_override_t;

/** Pools that fill breaks, and how many breaks an episode without break points gets. */
typedef struct sched_breaks {
    const sched_set_t *commercials;
    const sched_set_t *bumper_out;  /* "we'll be right back" */
    const sched_set_t *bumper_in;   /* "now back to" */
    const sched_set_t *station_id;  /* at the top of each local hour */
    const sched_set_t *promo;       /* generic "coming up next" when the series has none */
    const sched_set_t *filler;      /* required: cut to the last millisecond */
    int per_half_hour;              /* breaks per 30 min of slot, the end break included */
} sched_breaks_t;

/** A channel's schedule: everything the engine needs besides the database. */
typedef struct sched_channel {
    char *channel;            /* the channel number, the key in every table */
    const sched_library_t *library; /* not owned: the config's library */
    tz_t *tz;                 /* owned */
    uint64_t seed;
    int days_ahead;           /* horizon kept built, in days (>= 1) */
    sched_ms_t gop;           /* act cuts land on multiples of this (keyframes); 0 = any */
    sched_breaks_t breaks;
    sched_block_t *blocks;
    size_t n_blocks;
    sched_override_t *overrides;
    size_t n_overrides;
    uint64_t fingerprint;     /* hash of the JSON it came from: a change means rebuild */
} sched_channel_t;

/** Kinds of coarse entries and fine items, as stored and printed. */
#define SCHED_KIND_PROGRAM "program"     /* coarse: a series episode */
#define SCHED_KIND_MOVIE "movie"         /* coarse */
#define SCHED_KIND_OFF_AIR "off_air"     /* coarse */
#define SCHED_KIND_FILL "fill"           /* coarse: time no block covers (filler) */

/** One coarse-log entry: a program over one or more slots. */
typedef struct sched_slot {
    sched_ms_t start, end;
    char *kind;               /* SCHED_KIND_* */
    char *block;              /* block name or NULL */
    char *series;             /* series key or NULL */
    char *title;              /* program title */
    char *path;               /* program asset or NULL */
    int season, episode;
} sched_slot_t;

/** One fine-log item. */
typedef struct sched_item {
    sched_ms_t start, end;    /* when it airs (UTC ms) */
    sched_ms_t inpoint, outpoint; /* into the file, relative to its start_time */
    sched_ms_t slot_start;    /* the coarse entry it belongs to */
    char *kind;   /* id, program, bumper_out, bumper_in, commercial, promo, filler, sign_off, pattern, sign_on */
    char *path;
    char *title;
    int substituted;          /* schedule_item_at: the file was missing; filler airs instead */
} sched_item_t;

/* ---- library and templates (config.c builds these) ---- */

/** Makes an empty library. */
sched_library_t *sched_library_new(void);
/** Frees a library and every asset and set in it (NULL is fine). */
void sched_library_free(sched_library_t *lib);
/** Returns the library's asset for an absolute path, adding it (title, series, sNNeNN parsed). */
sched_asset_t *sched_library_asset(sched_library_t *lib, const char *path, enum sched_asset_kind kind);
/** The library's asset for an absolute path, or NULL. */
sched_asset_t *sched_library_find(const sched_library_t *lib, const char *path);
/** Appends a named set to one of the library's lists (name copied); returns it. */
sched_set_t *sched_set_add(sched_set_t ***sets, size_t *n, const char *name);
/** Appends an asset to a set (or to its promos when promo is true). */
void sched_set_push(sched_set_t *set, sched_asset_t *a, int promo);
/** Finds a set by name in one of the library's lists; NULL when absent. */
const sched_set_t *sched_set_find(sched_set_t *const *sets, size_t n, const char *name);
/** Sets the duration (and start time) of every asset with this path, from the catalog. */
void sched_library_set_duration(sched_library_t *lib, const char *path, double duration,
                                double start_time);
/** Fills one asset's duration, start time and break points from the catalog (kept when
    the catalog does not know the file). */
void sched_asset_fill_from_catalog(sched_asset_t *a, sqlite3 *db);
/** Fills durations of every asset from the catalog cache (catalog_get); returns how many are still unknown. */
size_t sched_library_fill_from_catalog(sched_library_t *lib, sqlite3 *db);
/** Frees a channel schedule (NULL is fine). */
void sched_channel_free(sched_channel_t *ch);
/**
 * The first asset the channel can air (its blocks, its overrides' blocks, its break
 * pools) for which match returns nonzero, or NULL. An asset may be offered more than
 * once.
 */
const sched_asset_t *sched_channel_find_asset(const sched_channel_t *ch,
                                              int (*match)(const sched_asset_t *a, void *arg),
                                              void *arg);
/** Frees a block's owned memory (not the struct). */
void sched_block_dispose(sched_block_t *b);

/* ---- building and keeping the logs ---- */

/**
 * Makes sure the coarse and fine logs cover [now, now + days) (days <= 0: the
 * channel's days_ahead), continuing from what is built; when the template's
 * fingerprint changed since the last build, first rebuilds from the next slot
 * boundary after now. Rotation state is read from and saved to the database. 0 or -EIO.
 */
int schedule_extend(sqlite3 *db, const sched_channel_t *ch, sched_ms_t now, int days);
/**
 * After an edit: keeps everything that starts before the end of the entry on air at
 * now, drops the rest (rolling rotation back), and builds again to the horizon.
 */
int schedule_rebuild(sqlite3 *db, const sched_channel_t *ch, sched_ms_t now, int days);
/** Forgets a channel's logs and state entirely (channel removed from the config). */
int schedule_forget(sqlite3 *db, const char *channel);
/** Deletes log rows that ended before `before` (keeps the as-aired history bounded). */
int schedule_prune(sqlite3 *db, const char *channel, sched_ms_t before);

/* ---- questions ---- */

/**
 * The fine-log item airing at t. When exists is given and says the file is missing,
 * the answer is filler from the channel's filler pool for the rest of that item
 * (start moved to t, end capped by the filler clip; ask again at end), substituted = 1.
 * 0, -ENOENT when nothing is built at t, -EIO.
 */
int schedule_item_at(sqlite3 *db, const sched_channel_t *ch, sched_ms_t t,
                     int (*exists)(const char *path), sched_item_t *out);
/** Fine-log items overlapping [a, b), in order. Caller frees with schedule_items_free. */
int schedule_fine_range(sqlite3 *db, const char *channel, sched_ms_t a, sched_ms_t b,
                        sched_item_t **items, size_t *n);
/** Coarse-log entries overlapping [a, b), in order. Caller frees with schedule_slots_free. */
int schedule_coarse_range(sqlite3 *db, const char *channel, sched_ms_t a, sched_ms_t b,
                          sched_slot_t **slots, size_t *n);
/** Frees one item's strings. */
void schedule_item_dispose(sched_item_t *it);
/** Frees an array of items. */
void schedule_items_free(sched_item_t *items, size_t n);
/** Frees an array of coarse entries. */
void schedule_slots_free(sched_slot_t *slots, size_t n);
/** The end of the built horizon (0 when nothing is built). */
sched_ms_t schedule_built_until(sqlite3 *db, const char *channel);

/** Output forms for schedule_print. */
enum sched_print { SCHED_PRINT_COARSE = 0, SCHED_PRINT_FINE = 1, SCHED_PRINT_JSON = 2 };
/**
 * Appends the coarse (or, with SCHED_PRINT_FINE, fine) log of one local date
 * ("YYYY-MM-DD" in the channel's zone) as a table, or as JSON with SCHED_PRINT_JSON.
 * 0, -EINVAL for a bad date, -EIO.
 */
int schedule_print(sqlite3 *db, const sched_channel_t *ch, const char *date, int flags,
                   strbuf_t *out);
/** Parses "YYYY-MM-DD" into days since 1970; 0 or -EINVAL. */
int schedule_parse_date(const char *s, int64_t *day);
/** Formats UTC ms as local "YYYY-MM-DD HH:MM:SS.mmm" in tz (NULL = UTC). */
void schedule_format_local(const tz_t *tz, sched_ms_t t, char *buf, size_t size);

#endif
