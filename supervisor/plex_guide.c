/*
 * The Plex guide notifier: a timer on the loop gathers changes, then one worker-thread
 * job lists Plex's DVRs (GET /livetv/dvrs, JSON), picks those with a device whose uuid
 * is "device://tv.plex.grabbers.hdhomerun/<our DeviceID>", and POSTs reloadGuide to
 * each. Plex's answer is logged; the same failure is not logged again until it changes.
 */
#include "plex_guide.h"

#include <cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http_client.h"
#include "log.h"
#include "util.h"

#define TIMEOUT_MS 10000

struct plex_guide {
    uv_loop_t *loop;
    uv_timer_t timer;
    uv_work_t work;
    char *device_id;
    /* settings, replaced by plex_guide_reconfigure */
    char *url, *token;
    int enabled;
    double delay;
    /* state on the loop */
    int busy;          /* a job is on a worker thread */
    int again;         /* a change came while it was */
    char *why;         /* what the next request is for */
    char *last_failure;
    int stopping;
    void (*done)(void *);
    void *done_arg;
    /* the job's copies and result (owned by the worker while busy) */
    char *job_url, *job_token;
    int job_ok;
    char *job_message;
};

static char *dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

static void take_settings(plex_guide_t *pg, const config_t *cfg)
{
    free(pg->url);
    free(pg->token);
    pg->url = dup_or_null(cfg->plex.url);
    pg->token = dup_or_null(cfg->plex.token);
    pg->enabled = cfg->plex.url != NULL && cfg->plex.reload_guide;
    pg->delay = cfg->plex.reload_delay;
}

plex_guide_t *plex_guide_start(uv_loop_t *loop, const config_t *cfg, const char *device_id)
{
    plex_guide_t *pg = xcalloc(1, sizeof(*pg));
    pg->loop = loop;
    pg->device_id = xstrdup(device_id);
    take_settings(pg, cfg);
    uv_timer_init(loop, &pg->timer);
    pg->timer.data = pg;
    pg->work.data = pg;
    return pg;
}

void plex_guide_reconfigure(plex_guide_t *pg, const config_t *cfg)
{
    if (pg == NULL)
        return;
    take_settings(pg, cfg);
    if (!pg->enabled)
        uv_timer_stop(&pg->timer);
}

/* ---- on a worker thread ---- */

static const char *const *request_headers(const char *token, const char **buf)
{
    size_t n = 0;
    buf[n++] = "Accept";
    buf[n++] = "application/json";
    buf[n++] = "X-Plex-Product";
    buf[n++] = "Retrovue";
    if (token != NULL) {
        buf[n++] = "X-Plex-Token";
        buf[n++] = token;
    }
    buf[n] = NULL;
    return buf;
}

/* Plex's JSON gives a repeated element as an array, and some versions a single one as
   an object. */
static const cJSON *nth(const cJSON *v, int i)
{
    if (cJSON_IsArray(v))
        return cJSON_GetArrayItem(v, i);
    return i == 0 && cJSON_IsObject(v) ? v : NULL;
}

static char *key_text(const cJSON *key)
{
    if (cJSON_IsString(key) && key->valuestring[0] != '\0' &&
        strspn(key->valuestring, "0123456789") == strlen(key->valuestring))
        return xstrdup(key->valuestring);
    if (cJSON_IsNumber(key) && key->valuedouble >= 0)
        return xasprintf("%.0f", key->valuedouble);
    return NULL;
}

static int uses_tuner(const cJSON *dvr, const char *device_id)
{
    const cJSON *devices = cJSON_GetObjectItemCaseSensitive(dvr, "Device");
    for (int i = 0;; i++) {
        const cJSON *d = nth(devices, i);
        if (d == NULL)
            return 0;
        const cJSON *uuid = cJSON_GetObjectItemCaseSensitive(d, "uuid");
        if (!cJSON_IsString(uuid))
            continue;
        const char *slash = strrchr(uuid->valuestring, '/');
        const char *id = slash ? slash + 1 : uuid->valuestring;
        if (strcasecmp(id, device_id) == 0)
            return 1;
    }
}

static void http_failure(char **message, const char *what, int rc, const http_response_t *res,
                        char *error)
{
    if (rc != 0)
        *message = xasprintf("%s: %s", what, error ? error : "failed");
    else if (res->status == 401)
        *message = xasprintf("%s: Plex refused the token (401 %s); check plex.token", what,
                             res->reason ? res->reason : "");
    else
        *message = xasprintf("%s: Plex answered %d %s", what, res->status,
                             res->reason ? res->reason : "");
    free(error);
}

static void reload_work(uv_work_t *w)
{
    plex_guide_t *pg = w->data;
    const char *buf[8];
    const char *const *headers = request_headers(pg->job_token, buf);
    char *url = xasprintf("%s/livetv/dvrs", pg->job_url);
    http_response_t res;
    char *error = NULL;
    int rc = http_get(url, headers, TIMEOUT_MS, &res, &error);
    free(url);
    if (rc != 0 || res.status != 200) {
        http_failure(&pg->job_message, "listing Plex's DVRs", rc, &res, error);
        http_response_dispose(&res);
        return;
    }
    cJSON *doc = cJSON_ParseWithLength(res.body, res.body_len);
    http_response_dispose(&res);
    const cJSON *mc = cJSON_GetObjectItemCaseSensitive(doc, "MediaContainer");
    if (!cJSON_IsObject(mc)) {
        pg->job_message = xstrdup("listing Plex's DVRs: the answer is not Plex's JSON");
        cJSON_Delete(doc);
        return;
    }
    const cJSON *dvrs = cJSON_GetObjectItemCaseSensitive(mc, "Dvr");
    strbuf_t done, failed;
    strbuf_init(&done);
    strbuf_init(&failed);
    size_t n_done = 0;
    for (int i = 0; nth(dvrs, i) != NULL; i++) {
        const cJSON *dvr = nth(dvrs, i);
        char *key = key_text(cJSON_GetObjectItemCaseSensitive(dvr, "key"));
        if (key == NULL || !uses_tuner(dvr, pg->device_id)) {
            free(key);
            continue;
        }
        url = xasprintf("%s/livetv/dvrs/%s/reloadGuide", pg->job_url, key);
        error = NULL;
        rc = http_request("POST", url, headers, TIMEOUT_MS, &res, &error);
        free(url);
        if (rc == 0 && res.status >= 200 && res.status < 300) {
            strbuf_printf(&done, "%s%s", n_done++ ? ", " : "", key);
            free(error);
        } else {
            char *why;
            http_failure(&why, "", rc, &res, error);
            strbuf_printf(&failed, "; DVR %s%s", key, why); /* why starts with ": " */
            free(why);
        }
        http_response_dispose(&res);
        free(key);
    }
    cJSON_Delete(doc);
    if (failed.len > 0)
        pg->job_message = xasprintf("reloading the guide failed%s%s%s", failed.data,
                                    n_done ? "; done for DVR " : "", n_done ? done.data : "");
    else if (n_done == 0)
        pg->job_message = xasprintf("no DVR in Plex uses this tuner (DeviceID %s) yet; "
                                    "nothing to reload", pg->device_id);
    else {
        pg->job_ok = 1;
        pg->job_message = xasprintf("Plex DVR %s reloading the guide", done.data);
    }
    strbuf_dispose(&done);
    strbuf_dispose(&failed);
}

/* ---- on the loop ---- */

static void on_closed(uv_handle_t *h)
{
    plex_guide_t *pg = h->data;
    if (pg->done != NULL)
        pg->done(pg->done_arg);
    free(pg->device_id);
    free(pg->url);
    free(pg->token);
    free(pg->why);
    free(pg->last_failure);
    free(pg);
}

static void on_timer(uv_timer_t *t);

static void schedule(plex_guide_t *pg)
{
    uv_timer_start(&pg->timer, on_timer, (uint64_t)(pg->delay * 1000), 0);
}

static void reload_done(uv_work_t *w, int status)
{
    plex_guide_t *pg = w->data;
    pg->busy = 0;
    free(pg->job_url);
    free(pg->job_token);
    pg->job_url = pg->job_token = NULL;
    if (status == 0 && pg->job_message != NULL) {
        if (pg->job_ok) {
            log_info(NULL, "plex: %s (%s)", pg->job_message, pg->why ? pg->why : "guide changed");
            free(pg->last_failure);
            pg->last_failure = NULL;
        } else if (pg->last_failure == NULL || strcmp(pg->last_failure, pg->job_message) != 0) {
            log_warn(NULL, "plex: %s", pg->job_message);
            free(pg->last_failure);
            pg->last_failure = xstrdup(pg->job_message);
        }
    }
    free(pg->job_message);
    pg->job_message = NULL;
    pg->job_ok = 0;
    if (pg->stopping) {
        uv_close((uv_handle_t *)&pg->timer, on_closed);
        return;
    }
    if (pg->again) {
        pg->again = 0;
        schedule(pg);
    }
}

static void on_timer(uv_timer_t *t)
{
    plex_guide_t *pg = t->data;
    if (!pg->enabled || pg->stopping)
        return;
    if (pg->busy) {
        pg->again = 1;
        return;
    }
    pg->busy = 1;
    pg->job_url = xstrdup(pg->url);
    pg->job_token = dup_or_null(pg->token);
    uv_queue_work(pg->loop, &pg->work, reload_work, reload_done);
}

void plex_guide_changed(plex_guide_t *pg, const char *why)
{
    if (pg == NULL || !pg->enabled || pg->stopping)
        return;
    free(pg->why);
    pg->why = xstrdup(why);
    if (pg->busy)
        pg->again = 1;
    else if (!uv_is_active((uv_handle_t *)&pg->timer))
        schedule(pg);
}

void plex_guide_stop(plex_guide_t *pg, void (*done)(void *arg), void *arg)
{
    pg->stopping = 1;
    pg->done = done;
    pg->done_arg = arg;
    uv_timer_stop(&pg->timer);
    if (!pg->busy)
        uv_close((uv_handle_t *)&pg->timer, on_closed);
}
