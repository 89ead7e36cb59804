/*
 * The HTTP side of the station: h2o on the station's libuv loop. A public listener
 * serves streams, the API and the page; a separate loopback listener serves the
 * internal feed that channels' ffmpeg processes read, so it is never exposed.
 */
#ifndef RV_SERVER_H
#define RV_SERVER_H

#include <uv.h>

typedef struct station station_t;
typedef struct web_server web_server_t;

/** Starts both listeners; 0 or a negative libuv error (message logged). */
int web_start(uv_loop_t *loop, station_t *st, const char *host, int port, web_server_t **out);
/** The loopback port of the internal feed listener. */
int web_feed_port(const web_server_t *ws);
/** The public port actually bound (useful with port 0). */
int web_public_port(const web_server_t *ws);
/** Stops accepting public connections (the feed keeps serving until channels stop). */
void web_stop(web_server_t *ws);
/** Stops the internal feed listener, once no ffmpeg needs it. */
void web_stop_feed(web_server_t *ws);

#endif
