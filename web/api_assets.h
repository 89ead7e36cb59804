/*
 * The catalog over HTTP: /api/assets (list, with filters), /api/assets/ID (one asset
 * with metadata, break points and conform state) and PUT /api/assets/ID/breaks (a
 * person's own break points, which win over detected ones).
 */
#ifndef RV_API_ASSETS_H
#define RV_API_ASSETS_H

#include <h2o.h>

typedef struct station station_t;

/** Answers req when path is under /api/assets; returns 1 when it did. */
int api_assets_handle(h2o_req_t *req, station_t *st, const char *path);

#endif
