/*
 * The schedule's view of media: every asset once (path, title, series, sNNeNN,
 * duration), and the named series, collections and pools that point at them. This is
 * the small interface a future content manager fills instead of globs.
 */
#include "schedule.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "catalog.h"
#include "playout.h"

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s != '\0'; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

sched_library_t *sched_library_new(void)
{
    return xcalloc(1, sizeof(sched_library_t));
}

static void sets_free(sched_set_t **sets, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(sets[i]->name);
        free(sets[i]->title);
        free(sets[i]->rating);
        free(sets[i]->genre);
        for (size_t j = 0; j < sets[i]->n_tags; j++)
            free(sets[i]->tags[j]);
        free(sets[i]->tags);
        free(sets[i]->assets);
        free(sets[i]->promos);
        free(sets[i]);
    }
    free(sets);
}

void sched_library_free(sched_library_t *lib)
{
    if (lib == NULL)
        return;
    for (size_t i = 0; i < lib->n_assets; i++) {
        sched_asset_t *a = lib->assets[i];
        free(a->path);
        free(a->title);
        free(a->series);
        free(a->breaks);
        free(a);
    }
    free(lib->assets);
    sets_free(lib->series, lib->n_series);
    sets_free(lib->collections, lib->n_collections);
    sets_free(lib->pools, lib->n_pools);
    free(lib->by_path);
    free(lib);
}

static void hash_insert(sched_library_t *lib, size_t index)
{
    size_t mask = lib->hash_cap - 1;
    size_t h = (size_t)lib->assets[index]->key & mask;
    while (lib->by_path[h] != 0)
        h = (h + 1) & mask;
    lib->by_path[h] = index + 1;
}

sched_asset_t *sched_library_find(const sched_library_t *lib, const char *path)
{
    if (lib->hash_cap == 0)
        return NULL;
    size_t mask = lib->hash_cap - 1;
    for (size_t h = (size_t)fnv1a(path) & mask; lib->by_path[h] != 0; h = (h + 1) & mask) {
        sched_asset_t *a = lib->assets[lib->by_path[h] - 1];
        if (strcmp(a->path, path) == 0)
            return a;
    }
    return NULL;
}

/* "sNNeNN" anywhere in the file name, case-insensitive. */
static void parse_episode(const char *path, int *season, int *episode)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    for (const char *p = base; *p != '\0'; p++) {
        if (tolower((unsigned char)p[0]) != 's' || !isdigit((unsigned char)p[1]))
            continue;
        char *e;
        long s = strtol(p + 1, &e, 10);
        if (tolower((unsigned char)*e) != 'e' || !isdigit((unsigned char)e[1]))
            continue;
        long ep = strtol(e + 1, NULL, 10);
        if (s > 0 && s < 1000 && ep > 0 && ep < 100000) {
            *season = (int)s;
            *episode = (int)ep;
            return;
        }
    }
}

sched_asset_t *sched_library_asset(sched_library_t *lib, const char *path,
                                   enum sched_asset_kind kind)
{
    sched_asset_t *a = sched_library_find(lib, path);
    if (a != NULL)
        return a;
    a = xcalloc(1, sizeof(*a));
    a->path = xstrdup(path);
    a->title = playout_title_from_path(path);
    a->kind = kind;
    a->key = fnv1a(path);
    parse_episode(path, &a->season, &a->episode);
    a->index = lib->n_assets;
    lib->assets = xrealloc(lib->assets, (lib->n_assets + 1) * sizeof(*lib->assets));
    lib->assets[lib->n_assets++] = a;
    if (lib->n_assets * 2 > lib->hash_cap) {
        free(lib->by_path);
        lib->hash_cap = lib->hash_cap ? lib->hash_cap * 2 : 64;
        lib->by_path = xcalloc(lib->hash_cap, sizeof(*lib->by_path));
        for (size_t i = 0; i < lib->n_assets; i++)
            hash_insert(lib, i);
    } else {
        hash_insert(lib, a->index);
    }
    return a;
}

sched_set_t *sched_set_add(sched_set_t ***sets, size_t *n, const char *name)
{
    *sets = xrealloc(*sets, (*n + 1) * sizeof(**sets));
    sched_set_t *s = xcalloc(1, sizeof(*s));
    s->name = xstrdup(name);
    (*sets)[(*n)++] = s;
    return s;
}

void sched_set_push(sched_set_t *set, sched_asset_t *a, int promo)
{
    sched_asset_t ***list = promo ? &set->promos : &set->assets;
    size_t *n = promo ? &set->n_promos : &set->n_assets;
    *list = xrealloc(*list, (*n + 1) * sizeof(**list));
    (*list)[(*n)++] = a;
}

const sched_set_t *sched_set_find(sched_set_t *const *sets, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(sets[i]->name, name) == 0)
            return sets[i];
    return NULL;
}

void sched_library_set_duration(sched_library_t *lib, const char *path, double duration,
                                double start_time)
{
    sched_asset_t *a = sched_library_find(lib, path);
    if (a == NULL || !(duration > 0))
        return;
    a->duration = (sched_ms_t)llround(duration * 1000.0);
    a->start_time = (sched_ms_t)llround(start_time * 1000.0);
}

/* The catalog's break points for one asset: a person's own when there are any, else
   chapter marks, else confident detections; one source, never a mix of them. */
static void fill_breaks(sched_asset_t *a, sqlite3 *db)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "SELECT b.at, b.source FROM asset_breaks b JOIN assets x"
                           " ON x.id = b.asset_id WHERE x.path = ? AND x.gone_at IS NULL"
                           " AND (b.source <> 'detected' OR b.confidence >= 0.5)"
                           " ORDER BY CASE b.source WHEN 'manual' THEN 0 WHEN 'chapters' THEN 1"
                           " ELSE 2 END, b.at",
                           -1, &st, NULL) != SQLITE_OK)
        return; /* an older database without the catalog tables: no breaks known */
    sqlite3_bind_text(st, 1, a->path, -1, SQLITE_STATIC);
    free(a->breaks);
    a->breaks = NULL;
    a->n_breaks = 0;
    char first[16] = "";
    size_t cap = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *source = (const char *)sqlite3_column_text(st, 1);
        if (first[0] == '\0')
            snprintf(first, sizeof(first), "%s", source);
        else if (strcmp(first, source) != 0)
            break;
        if (a->n_breaks == cap) {
            cap = cap ? cap * 2 : 8;
            a->breaks = xrealloc(a->breaks, cap * sizeof(*a->breaks));
        }
        a->breaks[a->n_breaks++] = (sched_ms_t)llround(sqlite3_column_double(st, 0) * 1000.0);
    }
    sqlite3_finalize(st);
}

void sched_asset_fill_from_catalog(sched_asset_t *a, sqlite3 *db)
{
    asset_t info;
    memset(&info, 0, sizeof(info));
    if (catalog_get(db, a->path, &info) == 0 && info.error == NULL && info.duration > 0) {
        a->duration = (sched_ms_t)llround(info.duration * 1000.0);
        a->start_time = (sched_ms_t)llround(info.start_time * 1000.0);
    }
    asset_dispose(&info);
    fill_breaks(a, db);
}

size_t sched_library_fill_from_catalog(sched_library_t *lib, sqlite3 *db)
{
    size_t unknown = 0;
    for (size_t i = 0; i < lib->n_assets; i++) {
        sched_asset_fill_from_catalog(lib->assets[i], db);
        if (lib->assets[i]->duration <= 0)
            unknown++;
    }
    return unknown;
}

void sched_block_dispose(sched_block_t *b)
{
    free(b->name);
    free(b->series);
    free(b->movies);
    free(b->movies_key);
    memset(b, 0, sizeof(*b));
}

static const sched_asset_t *find_in(sched_asset_t *const *assets, size_t n,
                                     int (*match)(const sched_asset_t *, void *), void *arg)
{
    for (size_t i = 0; i < n; i++)
        if (match(assets[i], arg))
            return assets[i];
    return NULL;
}

static const sched_asset_t *find_in_set(const sched_set_t *set,
                                        int (*match)(const sched_asset_t *, void *), void *arg)
{
    if (set == NULL)
        return NULL;
    const sched_asset_t *a = find_in(set->assets, set->n_assets, match, arg);
    return a ? a : find_in(set->promos, set->n_promos, match, arg);
}

static const sched_asset_t *find_in_blocks(const sched_block_t *blocks, size_t n,
                                           int (*match)(const sched_asset_t *, void *), void *arg)
{
    for (size_t i = 0; i < n; i++) {
        const sched_block_t *b = &blocks[i];
        const sched_asset_t *a = find_in(b->movies, b->n_movies, match, arg);
        for (size_t j = 0; a == NULL && j < b->n_series; j++)
            a = find_in_set(b->series[j], match, arg);
        if (a == NULL)
            a = find_in_set(b->sign_off, match, arg);
        if (a == NULL)
            a = find_in_set(b->pattern, match, arg);
        if (a == NULL)
            a = find_in_set(b->sign_on, match, arg);
        if (a != NULL)
            return a;
    }
    return NULL;
}

const sched_asset_t *sched_channel_find_asset(const sched_channel_t *ch,
                                              int (*match)(const sched_asset_t *a, void *arg),
                                              void *arg)
{
    const sched_asset_t *a = find_in_blocks(ch->blocks, ch->n_blocks, match, arg);
    for (size_t i = 0; a == NULL && i < ch->n_overrides; i++)
        a = find_in_blocks(ch->overrides[i].blocks, ch->overrides[i].n_blocks, match, arg);
    const sched_set_t *pools[] = {ch->breaks.commercials, ch->breaks.bumper_out,
                                  ch->breaks.bumper_in, ch->breaks.station_id,
                                  ch->breaks.promo, ch->breaks.filler};
    for (size_t i = 0; a == NULL && i < RV_ARRAY_SIZE(pools); i++)
        a = find_in_set(pools[i], match, arg);
    return a;
}

void sched_channel_free(sched_channel_t *ch)
{
    if (ch == NULL)
        return;
    free(ch->channel);
    tz_free(ch->tz);
    for (size_t i = 0; i < ch->n_blocks; i++)
        sched_block_dispose(&ch->blocks[i]);
    free(ch->blocks);
    for (size_t i = 0; i < ch->n_overrides; i++) {
        for (size_t j = 0; j < ch->overrides[i].n_blocks; j++)
            sched_block_dispose(&ch->overrides[i].blocks[j]);
        free(ch->overrides[i].blocks);
    }
    free(ch->overrides);
    free(ch);
}
