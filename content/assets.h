/*
 * The catalog as people and programs read it: `retrovue assets list|show` and
 * /api/assets. Both are built from the same JSON documents so the CLI's --json and the
 * API never disagree.
 */
#ifndef RV_ASSETS_H
#define RV_ASSETS_H

#include <cJSON.h>
#include <sqlite3.h>

#include "util.h"

/** Filters for a listing; zero/NULL fields do not filter. */
typedef struct asset_filter {
    const char *kind;     /* "episodes", "movies", ... */
    const char *query;    /* substring of the path, show or title (case-insensitive) */
    int include_gone;     /* also assets a scan found missing */
    int limit, offset;    /* limit 0 = no limit */
} asset_filter_t;

/** {"total": N, "assets": [summary, ...]}; NULL on a database error. */
cJSON *assets_list_json(sqlite3 *db, const asset_filter_t *f);
/** One asset with metadata, break points and conform state, by id or path; NULL when none. */
cJSON *assets_show_json(sqlite3 *db, long long id, const char *path);
/** A listing as a text table, one asset per line. */
void assets_list_text(const cJSON *list, strbuf_t *out);
/** One asset as labelled text lines. */
void assets_show_text(const cJSON *asset, strbuf_t *out);
/**
 * Replaces an asset's manual break points (seconds into the file, ascending, each
 * inside the file) with the given ones; an empty list removes them. 0, -ENOENT for no
 * such asset, -EINVAL with why set for bad times, -EIO.
 */
int assets_set_manual_breaks(sqlite3 *db, long long id, const double *at, size_t n,
                             char *why, size_t why_size);
/** The same, inside a transaction the caller holds. */
int assets_set_manual_breaks_locked(sqlite3 *db, long long id, const double *at, size_t n,
                                    char *why, size_t why_size);

#endif
