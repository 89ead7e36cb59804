/*
 * The JSON API and health check: /healthz, /api/channels, /api/channels/N.
 */
#ifndef RV_API_H
#define RV_API_H

#include <h2o.h>

typedef struct station station_t;

/** Answers req when path is an API route; returns 1 when it did. */
int api_handle(h2o_req_t *req, station_t *st, const char *path);

#endif
