/*
 * How Plex and other clients find the emulated HDHomeRun without being told its
 * address: SiliconDust's own discovery protocol (UDP 65001) and SSDP (UDP 1900). Both
 * only point the client at the HTTP side (/discover.json, /device.xml, ...).
 */
#ifndef RV_DISCOVERY_H
#define RV_DISCOVERY_H

#include <uv.h>

typedef struct station station_t;
typedef struct discovery discovery_t;
struct tuner_conf;

/**
 * Starts the responders the tuner configuration asks for. A port that cannot be bound
 * is logged with what to change and skipped, so this returns 0 unless st is unusable;
 * *out is NULL when nothing was started.
 */
int discovery_start(uv_loop_t *loop, station_t *st, discovery_t **out);
/** Whether every responder the tuner settings ask for is answering (d may be NULL):
    a reload retries the ones that could not bind their port. */
int discovery_complete(const discovery_t *d, const struct tuner_conf *t);
/** Says goodbye on SSDP and closes every handle; the memory goes when they have closed. */
void discovery_stop(discovery_t *d);

#endif
