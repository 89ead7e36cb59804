/*
 * Continuous MPEG-TS for one channel (/channel/N.ts, /auto/vN): the channel's HLS
 * segment files sent back to back, starting at the newest complete one.
 */
#ifndef RV_STREAM_H
#define RV_STREAM_H

#include <h2o.h>

typedef struct station station_t;

/** Starts streaming channel number to req (the channel must exist). */
void stream_start(h2o_req_t *req, station_t *st, const char *number);
/** Number of continuous streams being served now. */
int stream_active_count(void);

#endif
