/*
 * Tells Plex when our guide changed. Plex fetches an XMLTV guide about once a day, so
 * after an edit it would show the old programmes for hours: when the schedules are
 * rebuilt, the station asks each Plex DVR that uses this tuner to reload its guide
 * (POST /livetv/dvrs/KEY/reloadGuide), a little later so that a burst of changes
 * makes one request.
 */
#ifndef RV_PLEX_GUIDE_H
#define RV_PLEX_GUIDE_H

#include <uv.h>

#include "config.h"

typedef struct plex_guide plex_guide_t;

/**
 * Starts the notifier for the tuner with this DeviceID. It does nothing until
 * plex_guide_changed, and nothing at all without plex.url or with
 * plex.reload_guide false.
 */
plex_guide_t *plex_guide_start(uv_loop_t *loop, const config_t *cfg, const char *device_id);

/** Takes the Plex settings of a reloaded configuration. */
void plex_guide_reconfigure(plex_guide_t *pg, const config_t *cfg);

/** The guide changed (why: "schedules built", "configuration reloaded"): ask Plex
    after plex.reload_guide_delay seconds, once for every change in that time. */
void plex_guide_changed(plex_guide_t *pg, const char *why);

/** Stops; done(arg) runs once a request in flight has ended and the handles are closed. */
void plex_guide_stop(plex_guide_t *pg, void (*done)(void *arg), void *arg);

#endif
