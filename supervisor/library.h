/*
 * Getting the schedule library ready: every asset a schedule may air needs its
 * duration, so unknown files are probed (in the thread pool) before schedules are
 * built, and the station learns whether everything is in the house format.
 */
#ifndef RV_LIBRARY_H
#define RV_LIBRARY_H

#include <sqlite3.h>
#include <uv.h>

#include "config.h"

/** Called on the loop when the library is ready; all_house says copy mode can be used. */
typedef void (*library_ready_cb)(void *arg, int all_house);

/**
 * Whether every library asset with a duration can be stream-copied: in the house
 * format, or conformed (logs the first one that cannot).
 */
int library_all_house(sqlite3 *db, const config_t *cfg);
/** Fills durations from the cache, probes the rest off the loop, then calls done. */
void library_prepare(uv_loop_t *loop, sqlite3 *db, config_t *config, library_ready_cb done,
                     void *arg);

#endif
