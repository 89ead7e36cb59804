/*
 * What an HDHomeRun answers over HTTP, so Plex, Jellyfin and Channels take the station
 * for a network tuner: /discover.json, /lineup_status.json, /lineup.json,
 * /lineup.post and /device.xml; plus the IPTV playlist /iptv.m3u and channel logos.
 */
#ifndef RV_HDHR_H
#define RV_HDHR_H

#include <h2o.h>

typedef struct station station_t;

/** Answers req when path is one of the tuner's routes; returns 1 when it did. */
int hdhr_handle(h2o_req_t *req, station_t *st, const char *path);

/** The model we present as: Plex and Channels know its quirks. */
#define HDHR_MODEL "HDTC-2US"
#define HDHR_FIRMWARE_NAME "hdhomeruntc_atsc"
#define HDHR_FIRMWARE_VERSION "20200101"

#endif
