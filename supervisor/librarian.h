/*
 * The content manager at work inside `serve`: ingest in the background when the
 * station starts and when its media roots change, then conform what is not in the
 * house format, a bounded number at a time and niced below the channels' own ffmpegs.
 * Everything slow runs on libuv's thread pool with its own database connection; the
 * loop only hears when something finished.
 */
#ifndef RV_LIBRARIAN_H
#define RV_LIBRARIAN_H

#include <sqlite3.h>
#include <stdio.h>
#include <uv.h>

#include "config.h"

typedef struct librarian librarian_t;

/** Called on the loop after an ingest run (ingested 1: metadata the guide shows may have
    changed) or a finished conform (ingested 0): the catalog changed. */
typedef void (*librarian_changed_cb)(void *arg, int ingested);

/**
 * Starts the librarian: an ingest now (when the config has media roots or Plex), then
 * conforms. db_path is the station database's file.
 */
librarian_t *librarian_start(uv_loop_t *loop, const config_t *cfg, const char *db_path,
                             librarian_changed_cb changed, void *arg);
/** A new configuration: ingests again when its media roots or Plex source changed. */
void librarian_reconfigure(librarian_t *lib, const config_t *cfg);
/**
 * Asks running work to stop (an ingest stops after the file in hand, a conform at once,
 * its partial output removed) and calls done on the loop when nothing runs any more.
 * The librarian is freed then.
 */
void librarian_stop(librarian_t *lib, void (*done)(void *arg), void *arg);
/**
 * Conforms, in this thread, every ingested asset that has no house copy yet (what the
 * station would do in the background), with a progress bar on progress when not NULL.
 * Returns how many it took on.
 */
int librarian_conform_all(sqlite3 *db, const config_t *cfg, FILE *progress);
/** "idle", "ingesting" or "conforming", for the status API. */
const char *librarian_state(const librarian_t *lib);

#endif
