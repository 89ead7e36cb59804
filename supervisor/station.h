/*
 * The station: the one libuv loop, the configuration, the database, the channels and
 * the web server, plus signals (SIGINT/SIGTERM stop, SIGHUP reloads).
 */
#ifndef RV_STATION_H
#define RV_STATION_H

#include <sqlite3.h>
#include <stddef.h>

#include "channel.h"
#include "config.h"
#include "device.h"

typedef struct station station_t;

/** Options for `retrovue serve`. */
typedef struct station_opts {
    const char *config_dir;
    const char *listen;     /* overrides the configured listen address, or NULL */
    const char *state_dir;  /* overrides the configured state dir, or NULL */
    const char *self_exe;   /* path of this binary */
} station_opts_t;

/** Runs `retrovue serve` until SIGINT/SIGTERM; returns the process exit status. */
int station_serve(const station_opts_t *opts);
/** Number of channels on the air or being prepared. */
size_t station_channel_count(const station_t *st);
/** The i-th channel in guide order. */
channel_t *station_channel_at(const station_t *st, size_t i);
/** A channel by guide number, or NULL. */
channel_t *station_find_channel(const station_t *st, const char *number);
/** What the content manager is doing: "idle", "ingesting" or "conforming". */
const char *station_library_state(const station_t *st);
/** The emulated tuner's identity (DeviceID etc.), fixed for the life of the state dir. */
const device_identity_t *station_device(const station_t *st);
/** The public HTTP port actually bound (what URLs handed to clients must carry). */
int station_http_port(const station_t *st);
/** The station's database. */
sqlite3 *station_db(const station_t *st);
/** The current configuration. */
const config_t *station_config(const station_t *st);

#endif
