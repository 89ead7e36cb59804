/*
 * Response helpers shared by the web modules: JSON bodies, JSON errors, and the
 * headers every reply carries. Errors are always JSON, never an HTML page.
 */
#ifndef RV_REPLY_H
#define RV_REPLY_H

#include <cJSON.h>
#include <h2o.h>

/** Sends a JSON document (consumed) with the given status and no-cache. */
void reply_json(h2o_req_t *req, int status, cJSON *doc);
/** Sends {"error": message, "status": status}. */
void reply_error(h2o_req_t *req, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/** Sends a text body from req's pool with a content type and cache policy. */
void reply_text(h2o_req_t *req, int status, const char *type, const char *cache, const char *body,
                size_t len);
/**
 * The base URL clients should use for links we hand out (lineups, M3U, guide icons):
 * the configured server.base_url, else "http://" + the request's Host header, else the
 * address the request arrived on. Allocated from req's pool; no trailing slash.
 */
const char *reply_base_url(h2o_req_t *req, const char *configured);
/** A query parameter's value, percent-decoded, into buf ("" when absent; cut to fit). */
void reply_query_param(h2o_req_t *req, const char *name, char *buf, size_t size);
/**
 * May this request change things? With server.api_token set, it must carry
 * "Authorization: Bearer TOKEN"; without one, only clients on this machine may write.
 * Answers 401/403 itself and returns 0 when not.
 */
int reply_may_write(h2o_req_t *req, const char *token);
/** Adds a header by name. */
void reply_header(h2o_req_t *req, const char *name, const char *value);

#endif
