/*
 * Reading Plex's libraries over its HTTP API: /library/sections, each section's /all
 * (paged), each show's /allLeaves (paged), and turning every Media Part into a
 * plex_item_t. JSON via cJSON; one blocking request at a time through http_get.
 */
#include "plex.h"

#include <cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http_client.h"
#include "log.h"
#include "util.h"

#ifndef RETROVUE_VERSION
#define RETROVUE_VERSION "dev"
#endif

#define DEFAULT_PAGE_SIZE 200
#define DEFAULT_TIMEOUT_MS 15000

typedef struct scan {
    const plex_source_t *src;
    char *base; /* src->url without a trailing '/' */
    int page_size;
    int timeout_ms;
    plex_item_cb cb;
    void *arg;
    char **error;
    size_t n_files;
    size_t n_unmapped;
    char *first_unmapped;
} scan_t;


/* ---- JSON helpers: Plex sends ids as strings and counts as numbers, but older
   servers (and some fields) swap the two, so both are accepted everywhere. ---- */

static const char *jstr(const cJSON *o, const char *name, char num_buf[32])
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (cJSON_IsString(v) && v->valuestring[0] != '\0')
        return v->valuestring;
    if (cJSON_IsNumber(v) && num_buf != NULL) {
        snprintf(num_buf, 32, "%.0f", v->valuedouble);
        return num_buf;
    }
    return NULL;
}

static int64_t jint(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (cJSON_IsNumber(v))
        return (int64_t)v->valuedouble;
    if (cJSON_IsString(v) && isdigit((unsigned char)v->valuestring[0]))
        return strtoll(v->valuestring, NULL, 10);
    return -1;
}

static const cJSON *jarray(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsArray(v) ? v : NULL;
}

/* The "tag" strings of a tag list such as Genre: [{"tag": "Comedy"}, ...]. */
typedef struct tags {
    const char **v;
    size_t n;
} tags_t;

static void read_tags(const cJSON *o, const char *name, tags_t *out)
{
    out->v = NULL;
    out->n = 0;
    const cJSON *arr = jarray(o, name), *t;
    cJSON_ArrayForEach(t, arr)
    {
        const char *tag = jstr(t, "tag", NULL);
        if (tag != NULL) {
            out->v = xrealloc(out->v, (out->n + 1) * sizeof(char *));
            out->v[out->n++] = tag;
        }
    }
}

/* ---- requests ---- */

/* Section keys and ratingKeys are digits, but nothing forces that, so they are escaped
   before going into a request path. */
static void put_escaped(strbuf_t *sb, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (isalnum(c) || strchr("-._~", c))
            strbuf_append(sb, (const char *)&c, 1);
        else
            strbuf_printf(sb, "%%%02X", c);
    }
}

static int get_json(scan_t *s, const char *path, cJSON **out)
{
    *out = NULL;
    char *url = xasprintf("%s%s", s->base, path);
    const char *token = s->src->token;
    const char *headers[] = {"Accept", "application/json",
                             "X-Plex-Product", "Retrovue",
                             "X-Plex-Version", RETROVUE_VERSION,
                             "X-Plex-Client-Identifier", "retrovue",
                             token ? "X-Plex-Token" : NULL, token,
                             NULL};
    http_response_t res;
    char *why = NULL;
    int rc = http_get(url, headers, s->timeout_ms, &res, &why);
    free(url);
    if (rc != 0) {
        util_fail(s->error, rc, "Plex at %s: %s", s->base, why);
        free(why);
        return rc;
    }
    if (res.status == 401 || res.status == 403) {
        rc = token ? util_fail(s->error, -EACCES,
                               "Plex at %s refused the token (%d %s); check the X-Plex-Token in "
                               "the plex settings",
                               s->base, res.status, res.reason)
                   : util_fail(s->error, -EACCES,
                               "Plex at %s wants a token (%d %s) and none is configured",
                               s->base, res.status, res.reason);
    } else if (res.status != 200) {
        rc = util_fail(s->error, -EPROTO, "Plex at %s answered %d %s to GET %s", s->base, res.status,
                       res.reason, path);
    } else {
        *out = cJSON_ParseWithLength(res.body, res.body_len);
        if (*out == NULL)
            rc = util_fail(s->error, -EBADMSG,
                           "Plex at %s sent something that is not JSON for GET %s (is it a Plex "
                           "server?)",
                           s->base, path);
    }
    http_response_dispose(&res);
    return rc;
}

static const cJSON *container(scan_t *s, const cJSON *doc, const char *path)
{
    const cJSON *mc = cJSON_GetObjectItemCaseSensitive(doc, "MediaContainer");
    if (!cJSON_IsObject(mc))
        util_fail(s->error, -EBADMSG, "Plex at %s sent no MediaContainer for GET %s", s->base, path);
    return cJSON_IsObject(mc) ? mc : NULL;
}

typedef int (*metadata_fn)(scan_t *s, const cJSON *metadata, void *ctx);

/*
 * Why paging: a big section's /all or a long-running show's /allLeaves can run to tens
 * of megabytes in one answer, which Plex is slow to build and we would hold whole.
 * X-Plex-Container-Start/Size (accepted as query parameters as well as headers) cut it
 * into pages; MediaContainer's totalSize says when to stop. A server that ignores them
 * sends everything at once with size == totalSize, which ends the loop just the same.
 */
static int for_each_metadata(scan_t *s, const char *path, metadata_fn fn, void *ctx)
{
    int64_t start = 0;
    for (;;) {
        char *page = xasprintf("%s%cX-Plex-Container-Start=%lld&X-Plex-Container-Size=%d", path,
                               strchr(path, '?') ? '&' : '?', (long long)start, s->page_size);
        cJSON *doc;
        int rc = get_json(s, page, &doc);
        const cJSON *mc = rc == 0 ? container(s, doc, page) : NULL;
        free(page);
        if (mc == NULL) {
            cJSON_Delete(doc);
            return rc != 0 ? rc : -EBADMSG;
        }
        int64_t count = 0, total = jint(mc, "totalSize");
        const cJSON *m;
        cJSON_ArrayForEach(m, jarray(mc, "Metadata"))
        {
            count++;
            rc = fn(s, m, ctx);
            if (rc != 0)
                break;
        }
        cJSON_Delete(doc);
        if (rc != 0)
            return rc;
        start += count;
        if (count == 0 || total < 0 || start >= total)
            return 0;
    }
}

/* ---- items ---- */

/* What an episode inherits from its show when Plex leaves it out. */
typedef struct show_ctx {
    const char *section;
    const char *title;
    const char *rating;
    tags_t genres;
} show_ctx_t;

static int emit_parts(scan_t *s, plex_item_t *item, const cJSON *meta)
{
    /* The first Media is the version Plex would play; other versions are copies. */
    const cJSON *media = cJSON_GetArrayItem(jarray(meta, "Media"), 0);
    const cJSON *parts = jarray(media, "Part"), *p;
    int n = cJSON_GetArraySize(parts), i = 0;
    int64_t media_ms = jint(media, "duration"), meta_ms = jint(meta, "duration");
    cJSON_ArrayForEach(p, parts)
    {
        const char *file = jstr(p, "file", NULL);
        if (file == NULL) {
            i++;
            continue;
        }
        int64_t ms = jint(p, "duration");
        if (ms < 0)
            ms = n == 1 ? (media_ms >= 0 ? media_ms : meta_ms) : -1;
        char *path = plex_map_path(s->src->path_map, s->src->n_path_map, file, &item->mapped);
        item->plex_path = file;
        item->path = path;
        item->duration_ms = ms;
        item->part = i++;
        item->n_parts = n;
        s->n_files++;
        if (!item->mapped && s->src->n_path_map > 0 && s->n_unmapped++ == 0)
            s->first_unmapped = xstrdup(file);
        int stop = s->cb(s->arg, item);
        free(path);
        if (stop)
            return -ECANCELED;
    }
    return 0;
}

static void fill_common(plex_item_t *item, const cJSON *meta, char key_buf[32])
{
    item->title = jstr(meta, "title", NULL);
    item->summary = jstr(meta, "summary", NULL);
    item->aired = jstr(meta, "originallyAvailableAt", NULL);
    item->year = (int)jint(meta, "year");
    item->rating = jstr(meta, "contentRating", NULL);
    item->rating_key = jstr(meta, "ratingKey", key_buf);
    item->season = item->episode = -1;
}

static int on_episode(scan_t *s, const cJSON *meta, void *ctx)
{
    const show_ctx_t *show = ctx;
    char key[32];
    plex_item_t item = {.kind = PLEX_EPISODE, .section = show->section};
    fill_common(&item, meta, key);
    item.show = jstr(meta, "grandparentTitle", NULL);
    if (item.show == NULL)
        item.show = show->title;
    item.season = (int)jint(meta, "parentIndex");
    item.episode = (int)jint(meta, "index");
    if (item.rating == NULL)
        item.rating = show->rating;
    tags_t genres;
    read_tags(meta, "Genre", &genres);
    const tags_t *g = genres.n > 0 ? &genres : &show->genres;
    item.genres = g->v;
    item.n_genres = g->n;
    int rc = emit_parts(s, &item, meta);
    free(genres.v);
    return rc;
}

static int on_show(scan_t *s, const cJSON *meta, void *ctx)
{
    char key[32];
    const char *rating_key = jstr(meta, "ratingKey", key);
    if (rating_key == NULL)
        return 0;
    show_ctx_t show = {.section = ctx,
                       .title = jstr(meta, "title", NULL),
                       .rating = jstr(meta, "contentRating", NULL)};
    read_tags(meta, "Genre", &show.genres);
    strbuf_t path;
    strbuf_init(&path);
    strbuf_puts(&path, "/library/metadata/");
    put_escaped(&path, rating_key);
    strbuf_puts(&path, "/allLeaves");
    int rc = for_each_metadata(s, path.data, on_episode, &show);
    strbuf_dispose(&path);
    free(show.genres.v);
    return rc;
}

static int on_movie(scan_t *s, const cJSON *meta, void *ctx)
{
    char key[32];
    plex_item_t item = {.kind = PLEX_MOVIE, .section = ctx};
    fill_common(&item, meta, key);
    tags_t genres;
    read_tags(meta, "Genre", &genres);
    item.genres = genres.v;
    item.n_genres = genres.n;
    int rc = emit_parts(s, &item, meta);
    free(genres.v);
    return rc;
}

/* ---- sections ---- */

static int wanted_title(const plex_source_t *src, const char *title)
{
    if (src->n_sections == 0)
        return 1;
    for (size_t i = 0; i < src->n_sections; i++)
        if (title != NULL && strcasecmp(src->sections[i], title) == 0)
            return 1;
    return 0;
}

/* Names the configured sections Plex does not have, with the ones it does. */
static void warn_missing_sections(scan_t *s, const cJSON *dirs)
{
    for (size_t i = 0; i < s->src->n_sections; i++) {
        const char *want = s->src->sections[i];
        strbuf_t have;
        strbuf_init(&have);
        int found = 0;
        const cJSON *d;
        cJSON_ArrayForEach(d, dirs)
        {
            const char *title = jstr(d, "title", NULL);
            if (title == NULL)
                continue;
            found |= strcasecmp(title, want) == 0;
            strbuf_printf(&have, "%s\"%s\"", have.len ? ", " : "", title);
        }
        if (!found)
            log_warn(NULL, "plex: %s has no library section \"%s\" (it has %s)", s->base, want,
                     have.len ? have.data : "none");
        strbuf_dispose(&have);
    }
}

static int scan_section(scan_t *s, const cJSON *dir)
{
    char key_buf[32];
    const char *key = jstr(dir, "key", key_buf), *type = jstr(dir, "type", NULL),
               *title = jstr(dir, "title", NULL);
    if (key == NULL || type == NULL || !wanted_title(s->src, title))
        return 0;
    int show = strcmp(type, "show") == 0;
    if (!show && strcmp(type, "movie") != 0) {
        if (s->src->n_sections > 0)
            log_warn(NULL, "plex: section \"%s\" at %s holds %s, not shows or movies; skipped",
                     title, s->base, type);
        return 0;
    }
    strbuf_t path;
    strbuf_init(&path);
    strbuf_puts(&path, "/library/sections/");
    put_escaped(&path, key);
    strbuf_puts(&path, "/all");
    int rc = for_each_metadata(s, path.data, show ? on_show : on_movie, (void *)title);
    strbuf_dispose(&path);
    return rc;
}

int plex_scan(const plex_source_t *src, plex_item_cb cb, void *arg, char **error)
{
    if (error != NULL)
        *error = NULL;
    size_t n = strlen(src->url);
    while (n > 0 && src->url[n - 1] == '/')
        n--;
    scan_t s = {.src = src,
                .base = xasprintf("%.*s", (int)n, src->url),
                .page_size = src->page_size > 0 ? src->page_size : DEFAULT_PAGE_SIZE,
                .timeout_ms = src->timeout_ms > 0 ? src->timeout_ms : DEFAULT_TIMEOUT_MS,
                .cb = cb,
                .arg = arg,
                .error = error};
    cJSON *doc;
    int rc = get_json(&s, "/library/sections", &doc);
    const cJSON *mc = rc == 0 ? container(&s, doc, "/library/sections") : NULL;
    if (rc == 0 && mc == NULL)
        rc = -EBADMSG;
    if (rc == 0) {
        const cJSON *dirs = jarray(mc, "Directory"), *d;
        warn_missing_sections(&s, dirs);
        cJSON_ArrayForEach(d, dirs)
        {
            rc = scan_section(&s, d);
            if (rc != 0)
                break;
        }
    }
    if (s.n_unmapped > 0)
        log_warn(NULL,
                 "plex: %zu of %zu files from %s are under no path_map folder and are kept as "
                 "Plex reports them (the first: %s)",
                 s.n_unmapped, s.n_files, s.base, s.first_unmapped);
    cJSON_Delete(doc);
    free(s.first_unmapped);
    free(s.base);
    return rc;
}

/* ---- path mapping ---- */

static int is_sep(char c)
{
    return c == '/' || c == '\\';
}

/* "D:\Media" or "\\nas\share": Plex runs on Windows, whose names ignore case. */
static int windows_style(const char *p)
{
    return (isalpha((unsigned char)p[0]) && p[1] == ':') || strchr(p, '\\') != NULL;
}

/* Length without trailing separators, keeping a lone root separator. */
static size_t trimmed(const char *p)
{
    size_t n = strlen(p);
    while (n > 1 && is_sep(p[n - 1]))
        n--;
    return n;
}

static size_t prefix_match(const char *from, const char *path)
{
    size_t fl = trimmed(from);
    if (fl == 0)
        return 0;
    int same = windows_style(from) ? strncasecmp(path, from, fl) == 0
                                   : strncmp(path, from, fl) == 0;
    if (!same)
        return 0;
    /* whole folders only: "/data/tv" must not take "/data/tvshows/..." */
    return path[fl] == '\0' || is_sep(path[fl]) || is_sep(from[fl - 1]) ? fl : 0;
}

char *plex_map_path(const plex_path_map_t *map, size_t n, const char *path, int *mapped)
{
    const plex_path_map_t *best = NULL;
    size_t best_len = 0;
    for (size_t i = 0; i < n; i++) {
        size_t len = map[i].from && map[i].to ? prefix_match(map[i].from, path) : 0;
        if (len > best_len) {
            best = &map[i];
            best_len = len;
        }
    }
    *mapped = best != NULL;
    if (best == NULL)
        return xstrdup(path);
    const char *rest = path + best_len;
    size_t tl = trimmed(best->to);
    strbuf_t sb;
    strbuf_init(&sb);
    strbuf_append(&sb, best->to, tl);
    int to_ends_sep = tl > 0 && is_sep(best->to[tl - 1]);
    if (is_sep(rest[0]) && to_ends_sep)
        rest++;
    else if (rest[0] != '\0' && !is_sep(rest[0]) && !to_ends_sep)
        strbuf_puts(&sb, "/");
    size_t at = sb.len;
    strbuf_puts(&sb, rest);
    if (windows_style(best->from))
        for (char *p = sb.data + at; *p; p++)
            if (*p == '\\')
                *p = '/';
    return strbuf_steal(&sb);
}
