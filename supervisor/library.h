/*
 * Getting the schedule library ready: every asset a schedule may air needs its
 * duration, so unknown files are probed (in the thread pool) before schedules are
 * built, and the station learns which assets are in the house format (or conformed).
 */
#ifndef RV_LIBRARY_H
#define RV_LIBRARY_H

#include <sqlite3.h>
#include <uv.h>

#include "config.h"

/** Called on the loop when the library is ready, with library_house_flags' answer
    (the callee owns it). */
typedef void (*library_ready_cb)(void *arg, unsigned char *house);

/**
 * For each library asset, by its index: 1 when it can be stream-copied (in the house
 * format, or conformed) or will never air (no duration, unreadable), 0 when a channel
 * airing it must encode live. Logs how many are not ready. Free the array.
 */
unsigned char *library_house_flags(sqlite3 *db, const config_t *cfg);
/** A library_refresh under way or done. */
typedef struct library_refresh library_refresh_t;

/** Called on the loop when a refresh has read the catalog. */
typedef void (*library_refreshed_cb)(void *arg, library_refresh_t *r);

/**
 * Reads durations, break points and house flags of cfg's library assets from the
 * catalog on a worker thread, with its own connection to db_path; nothing of cfg is
 * touched there. Then calls done on the loop: apply with library_refresh_apply (if the
 * configuration is still cfg) and free with library_refresh_free.
 */
library_refresh_t *library_refresh(uv_loop_t *loop, const char *db_path, const config_t *cfg,
                                   library_refreshed_cb done, void *arg);

/** Puts the refreshed durations and break points into cfg's library and returns the
    house flags (the caller frees them); NULL when the refresh failed or was for another
    library, and then nothing is changed. */
unsigned char *library_refresh_apply(library_refresh_t *r, config_t *cfg);

/** Frees a refresh whose done callback has run. */
void library_refresh_free(library_refresh_t *r);

/**
 * Fills config's library durations from the cache and probes the rest, on a worker
 * thread with its own connection to db_path (db, the loop's, only if that cannot be
 * opened), then calls done on the loop with the house flags. Nothing else may use
 * config's library meanwhile.
 */
void library_prepare(uv_loop_t *loop, sqlite3 *db, const char *db_path, config_t *config,
                     library_ready_cb done, void *arg);

#endif
