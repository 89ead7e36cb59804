/*
 * Catalog handlers. Reads are open like the rest of the API; the one write (manual
 * break points) needs the API token, or a client on this machine when none is set.
 */
#include "api_assets.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "assets.h"
#include "config.h"
#include "reply.h"
#include "station.h"
#include "util.h"

static int method_is(h2o_req_t *req, const char *m)
{
    return h2o_memis(req->method.base, req->method.len, m, strlen(m));
}

static void list_assets(h2o_req_t *req, station_t *st)
{
    char kind[32], q[256], limit[16], offset[16], gone[8];
    reply_query_param(req, "kind", kind, sizeof(kind));
    reply_query_param(req, "q", q, sizeof(q));
    reply_query_param(req, "limit", limit, sizeof(limit));
    reply_query_param(req, "offset", offset, sizeof(offset));
    reply_query_param(req, "gone", gone, sizeof(gone));
    asset_filter_t f = {
        .kind = kind[0] ? kind : NULL,
        .query = q[0] ? q : NULL,
        .include_gone = strcmp(gone, "1") == 0 || strcmp(gone, "true") == 0,
        .limit = limit[0] ? atoi(limit) : 100,
        .offset = offset[0] ? atoi(offset) : 0,
    };
    if (f.limit <= 0 || f.limit > 1000 || f.offset < 0) {
        reply_error(req, 400, "limit must be 1 to 1000 and offset 0 or more");
        return;
    }
    cJSON *doc = assets_list_json(station_db(st), &f);
    if (doc == NULL)
        reply_error(req, 500, "unable to read the catalog");
    else
        reply_json(req, 200, doc);
}

/* Body: {"break_points": [seconds, ...]}; an empty list removes the manual ones. */
static void put_breaks(h2o_req_t *req, station_t *st, long long id)
{
    if (!reply_may_write(req, station_config(st)->api_token))
        return;
    cJSON *body = cJSON_ParseWithLength(req->entity.base, req->entity.len);
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(body, "break_points");
    if (!cJSON_IsArray(arr)) {
        cJSON_Delete(body);
        reply_error(req, 400, "expected a JSON body like {\"break_points\": [612.5, 1204.0]}");
        return;
    }
    size_t n = (size_t)cJSON_GetArraySize(arr), i = 0;
    double *at = xcalloc(n ? n : 1, sizeof(double));
    const cJSON *v;
    cJSON_ArrayForEach(v, arr)
    {
        if (!cJSON_IsNumber(v)) {
            free(at);
            cJSON_Delete(body);
            reply_error(req, 400, "break_points[%zu] must be a number of seconds", i);
            return;
        }
        at[i++] = v->valuedouble;
    }
    cJSON_Delete(body);
    char why[160] = "";
    int rc = assets_set_manual_breaks(station_db(st), id, at, n, why, sizeof(why));
    free(at);
    if (rc == -ENOENT)
        reply_error(req, 404, "no asset %lld", id);
    else if (rc == -EINVAL)
        reply_error(req, 400, "%s", why);
    else if (rc != 0)
        reply_error(req, 500, "unable to store break points");
    else
        reply_json(req, 200, assets_show_json(station_db(st), id, NULL));
}

int api_assets_handle(h2o_req_t *req, station_t *st, const char *path)
{
    if (strncmp(path, "/api/assets", 11) != 0 || (path[11] != '\0' && path[11] != '/'))
        return 0;
    const char *rest = path[11] == '/' ? path + 12 : "";
    int get = method_is(req, "GET") || method_is(req, "HEAD");
    if (*rest == '\0') {
        if (!get) {
            reply_header(req, "allow", "GET, HEAD");
            reply_error(req, 405, "method not allowed");
        } else {
            list_assets(req, st);
        }
        return 1;
    }
    char *end;
    long long id = strtoll(rest, &end, 10);
    if (end == rest || id <= 0 || (*end != '\0' && strcmp(end, "/breaks") != 0)) {
        reply_error(req, 404, "not found: %s (try /api/assets/ID)", path);
        return 1;
    }
    if (strcmp(end, "/breaks") == 0) {
        if (!method_is(req, "PUT") && !method_is(req, "POST")) {
            reply_header(req, "allow", "PUT, POST");
            reply_error(req, 405, "method not allowed");
        } else {
            put_breaks(req, st, id);
        }
        return 1;
    }
    if (!get) {
        reply_header(req, "allow", "GET, HEAD");
        reply_error(req, 405, "method not allowed");
        return 1;
    }
    cJSON *doc = assets_show_json(station_db(st), id, NULL);
    if (doc == NULL)
        reply_error(req, 404, "no asset %lld", id);
    else
        reply_json(req, 200, doc);
    return 1;
}
