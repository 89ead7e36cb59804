/*
 * The schedule engine proper: turns a channel's template into coarse-log entries on
 * the UTC timeline (DST-correct, overrides winning) and each entry into fine-log items
 * that end exactly on the clock, and keeps both in SQLite with the rotation state.
 */
#include "schedule.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "log.h"

#define MS_PER_DAY 86400000LL
#define MS_PER_HOUR 3600000LL
/* Commercials not aired for this long count as never aired, so an incremental build
 * (which reads history back this far) picks exactly what a full build would. */
#define LRU_WINDOW (2 * MS_PER_DAY)
#define NEVER INT64_MIN
/* fine-log rows per INSERT statement */
#define FINE_BATCH 16

/* ---- deterministic randomness ---- */

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static uint64_t mix(uint64_t a, uint64_t b)
{
    uint64_t s = a ^ (b * 0xD6E8FEB86659FD93ULL);
    return splitmix64(&s);
}

static uint64_t str_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s != '\0'; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int64_t ceil_div(int64_t a, int64_t b)
{
    return -floor_div(-a, b);
}

/* UTC ms of local midnight starting local date `day`. */
static sched_ms_t local_midnight(const tz_t *tz, int64_t day)
{
    return tz_local_to_utc(tz, day * 86400) * 1000;
}

/* Local date (days since 1970) at UTC ms t. */
static int64_t local_day(const tz_t *tz, sched_ms_t t)
{
    int64_t s = floor_div(t, 1000);
    return floor_div(s + tz_utc_offset(tz, s), 86400);
}

static bool top_of_hour(const tz_t *tz, sched_ms_t t)
{
    int64_t s = floor_div(t, 1000);
    return t % 1000 == 0 && (s + tz_utc_offset(tz, s)) % 3600 == 0;
}

static sched_ms_t next_local_hour(const tz_t *tz, sched_ms_t t)
{
    int64_t s = floor_div(t, 1000);
    int32_t off = tz_utc_offset(tz, s);
    return ((floor_div(s + off, 3600) + 1) * 3600 - off) * 1000;
}

/* ---- windows: where each block's slots lie on the UTC timeline ---- */

typedef struct window {
    sched_ms_t start, end, anchor; /* slots are anchor + k * slot */
    const sched_block_t *block;    /* NULL: no block covers this time (filler) */
} window_t;

typedef struct wlist {
    window_t *v;
    size_t n, cap;
} wlist_t;

static void wpush(wlist_t *l, window_t w)
{
    if (w.end <= w.start)
        return;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 32;
        l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
    }
    l->v[l->n++] = w;
}

static int cmp_window(const void *a, const void *b)
{
    const window_t *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

static window_t block_window(const tz_t *tz, const sched_block_t *b, int64_t day)
{
    window_t w = {.block = b};
    w.start = tz_local_to_utc(tz, day * 86400 + (int64_t)b->start_min * 60) * 1000;
    if (b->n_slots > 0)
        w.end = w.start + b->n_slots * b->slot;
    else
        w.end = tz_local_to_utc(tz, day * 86400 + (int64_t)b->end_min * 60) * 1000;
    w.anchor = w.start;
    return w;
}

/* Removes `cut` from every window in l; the pieces keep their slot grid. */
static void wsubtract(wlist_t *l, window_t cut)
{
    wlist_t next = {0};
    for (size_t i = 0; i < l->n; i++) {
        window_t w = l->v[i], a = w, b = w;
        if (w.end <= cut.start || w.start >= cut.end) {
            wpush(&next, w);
            continue;
        }
        a.end = cut.start;
        b.start = cut.end;
        wpush(&next, a);
        wpush(&next, b);
    }
    free(l->v);
    *l = next;
}

/* Overlaps among blocks of one kind: the later-starting block wins over its span and
 * the earlier one resumes after it ("news 18:00-19:00" inside "shows 06:00-24:00"). */
static void wresolve(wlist_t *l)
{
    if (l->n == 0)
        return;
    qsort(l->v, l->n, sizeof(*l->v), cmp_window);
    wlist_t out = {0};
    for (size_t i = l->n; i-- > 0;) {
        wlist_t one = {0};
        wpush(&one, l->v[i]);
        for (size_t j = 0; j < out.n; j++)
            wsubtract(&one, out.v[j]);
        for (size_t j = 0; j < one.n; j++)
            wpush(&out, one.v[j]);
        free(one.v);
    }
    free(l->v);
    *l = out;
    qsort(l->v, l->n, sizeof(*l->v), cmp_window);
}

static const sched_override_t *find_override(const sched_channel_t *ch, int64_t day)
{
    for (size_t i = 0; i < ch->n_overrides; i++)
        if (ch->overrides[i].day == day)
            return &ch->overrides[i];
    return NULL;
}

/* The whole timeline from local midnight of d0 to local midnight after d1: template
 * windows minus override windows (which keep their slot grid), gaps as filler. */
static void build_windows(const sched_channel_t *ch, int64_t d0, int64_t d1, wlist_t *out)
{
    wlist_t tmpl = {0}, over = {0};
    for (int64_t d = d0; d <= d1; d++) {
        const sched_override_t *ov = find_override(ch, d);
        for (size_t i = 0; ov != NULL && i < ov->n_blocks; i++)
            wpush(&over, block_window(ch->tz, &ov->blocks[i], d));
        int wd = tz_weekday(d);
        for (size_t i = 0; i < ch->n_blocks; i++)
            if (ch->blocks[i].days & (1u << wd))
                wpush(&tmpl, block_window(ch->tz, &ch->blocks[i], d));
    }
    wresolve(&over);
    wresolve(&tmpl);
    for (size_t o = 0; o < over.n; o++)
        wsubtract(&tmpl, over.v[o]);
    for (size_t i = 0; i < over.n; i++)
        wpush(&tmpl, over.v[i]);
    free(over.v);
    if (tmpl.n > 1)
        qsort(tmpl.v, tmpl.n, sizeof(*tmpl.v), cmp_window);
    sched_ms_t pos = local_midnight(ch->tz, d0), end = local_midnight(ch->tz, d1 + 1);
    for (size_t i = 0; i < tmpl.n; i++) {
        window_t w = tmpl.v[i];
        if (w.end <= pos || w.start >= end)
            continue;
        if (w.start > pos)
            wpush(out, (window_t){.start = pos, .end = w.start, .anchor = pos});
        if (w.start < pos)
            w.start = pos;
        if (w.end > end)
            w.end = end;
        wpush(out, w);
        pos = w.end;
    }
    if (pos < end)
        wpush(out, (window_t){.start = pos, .end = end, .anchor = pos});
    free(tmpl.v);
}

/* ---- rotation ---- */

typedef struct rot {
    char *key;
    int64_t count;
    bool dirty;
} rot_t;

/* One extend call's working state. */
typedef struct gen {
    sqlite3 *db;
    const sched_channel_t *ch;
    wlist_t windows;
    size_t hint;
    rot_t *rots;
    size_t n_rots;
    int64_t *last_used; /* per library asset: when it last aired on this channel */
    int64_t *asset_ids; /* per library asset: sched_assets.id, 0 until known */
    sqlite3_stmt *ins_coarse, *ins_fine, *ins_fine_batch, *ins_asset, *get_asset;
    size_t n_fine;
} gen_t;

static rot_t *rot_find(gen_t *g, const char *key)
{
    for (size_t i = 0; i < g->n_rots; i++)
        if (strcmp(g->rots[i].key, key) == 0)
            return &g->rots[i];
    g->rots = xrealloc(g->rots, (g->n_rots + 1) * sizeof(*g->rots));
    rot_t *r = &g->rots[g->n_rots++];
    *r = (rot_t){.key = xstrdup(key)};
    return r;
}

/* Which of n items the c-th pick of a rotation is. */
static size_t order_index(const sched_channel_t *ch, enum sched_order order, const char *key,
                          int64_t c, size_t n)
{
    if (order == SCHED_ORDER_SEQUENTIAL || n < 2)
        return (size_t)(c % (int64_t)n);
    int64_t pass = order == SCHED_ORDER_RANDOM ? c / (int64_t)n : 0;
    uint64_t s = mix(mix(ch->seed, str_hash(key)), (uint64_t)pass);
    size_t want = (size_t)(c % (int64_t)n);
    /* Fisher-Yates, stopping once position `want` is decided. */
    size_t *perm = xmalloc(n * sizeof(*perm));
    for (size_t i = 0; i < n; i++)
        perm[i] = i;
    for (size_t i = 0; i <= want; i++) {
        size_t j = i + (size_t)(splitmix64(&s) % (n - i));
        size_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    size_t r = perm[want];
    free(perm);
    return r;
}

/* The next usable asset of a rotation; sets *count to the pick's number. */
static sched_asset_t *rotation_pick(gen_t *g, const char *key, enum sched_order order,
                                    sched_asset_t *const *assets, size_t n, int64_t *count)
{
    if (n == 0)
        return NULL;
    rot_t *r = rot_find(g, key);
    for (size_t t = 0; t < n; t++) {
        sched_asset_t *a = assets[order_index(g->ch, order, key, r->count + (int64_t)t, n)];
        if (a->duration > 0) {
            *count = r->count + (int64_t)t;
            return a;
        }
    }
    return NULL;
}

/* ---- coarse entries ---- */

typedef struct entry {
    sched_ms_t start, end;
    const char *kind;
    const sched_block_t *block;
    const sched_set_t *series;
    sched_asset_t *asset;
    char rot_key[160];
    int64_t rot_count; /* -1: consumed nothing */
} entry_t;

static const window_t *window_at(gen_t *g, sched_ms_t t)
{
    wlist_t *l = &g->windows;
    if (g->hint < l->n && l->v[g->hint].start <= t && t < l->v[g->hint].end)
        return &l->v[g->hint];
    size_t lo = 0, hi = l->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (l->v[mid].end <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < l->n && l->v[lo].start <= t) {
        g->hint = lo;
        return &l->v[lo];
    }
    return NULL;
}

static sched_ms_t longest(const sched_set_t *pool)
{
    sched_ms_t m = 0;
    for (size_t i = 0; pool != NULL && i < pool->n_assets; i++)
        if (pool->assets[i]->duration > m)
            m = pool->assets[i]->duration;
    return m;
}

/* The entry starting at pos. commit advances the rotation; without it this is a peek
 * at what will air next (for the promo), which the next call will then confirm. */
static int entry_at(gen_t *g, sched_ms_t pos, bool commit, entry_t *e)
{
    const sched_channel_t *ch = g->ch;
    const window_t *w = window_at(g, pos);
    if (w == NULL)
        return -ERANGE;
    memset(e, 0, sizeof(*e));
    e->start = pos;
    e->rot_count = -1;
    e->kind = SCHED_KIND_FILL;
    const sched_block_t *b = w->block;
    e->block = b;
    if (b == NULL) {
        sched_ms_t h = next_local_hour(ch->tz, pos);
        e->end = h < w->end ? h : w->end;
        return 0;
    }
    if (b->fill == SCHED_FILL_OFF_AIR) {
        e->kind = SCHED_KIND_OFF_AIR;
        e->end = w->end;
        return 0;
    }
    int64_t k = floor_div(pos - w->anchor, b->slot);
    sched_ms_t grid = w->anchor + k * b->slot;
    if (grid != pos) { /* joined mid-slot (after an override or an edit): fill to the grid */
        sched_ms_t next = grid + b->slot;
        e->end = next < w->end ? next : w->end;
        return 0;
    }
    sched_asset_t *a = NULL;
    int64_t count = 0;
    sched_ms_t unit = b->slot;
    if (b->fill == SCHED_FILL_SERIES && b->n_series > 0) {
        const sched_set_t *s = b->series[(size_t)(k % (int64_t)b->n_series)];
        /* Shuffled airings keep their own count so the sequential one stays in order. */
        snprintf(e->rot_key, sizeof(e->rot_key), "series:%s%s", s->name,
                 b->order == SCHED_ORDER_SEQUENTIAL ? ""
                 : b->order == SCHED_ORDER_SHUFFLE  ? "#shuffle"
                                                    : "#random");
        a = rotation_pick(g, e->rot_key, b->order, s->assets, s->n_assets, &count);
        e->series = s;
        e->kind = SCHED_KIND_PROGRAM;
    } else if (b->fill == SCHED_FILL_MOVIES) {
        snprintf(e->rot_key, sizeof(e->rot_key), "%s", b->movies_key ? b->movies_key : "movies");
        a = rotation_pick(g, e->rot_key, b->order, b->movies, b->n_movies, &count);
        e->kind = SCHED_KIND_MOVIE;
        if (b->round_up > 0)
            unit = b->round_up;
    }
    sched_ms_t need = a ? a->duration : 0;
    if (a != NULL && top_of_hour(ch->tz, pos))
        need += longest(ch->breaks.station_id);
    sched_ms_t len = ceil_div(need, unit) * unit;
    if (a == NULL || pos + len > w->end) {
        /* Nothing to air, or it would run past the block: filler to the block's end,
         * so the next block still starts on time. */
        e->kind = SCHED_KIND_FILL;
        e->series = NULL;
        e->rot_key[0] = '\0';
        sched_ms_t next = pos + b->slot;
        e->end = a == NULL && next < w->end ? next : w->end;
        return 0;
    }
    e->asset = a;
    e->end = pos + len;
    e->rot_count = count;
    if (commit) {
        rot_t *r = rot_find(g, e->rot_key);
        r->count = count + 1;
        r->dirty = true;
    }
    return 0;
}

/* ---- fine items ---- */

typedef struct fitem {
    sched_ms_t start, end, in, out;
    const char *kind;
    sched_asset_t *asset; /* NULL only when a pool had nothing usable */
    char *title;          /* owned, or NULL */
} fitem_t;

typedef struct flist {
    fitem_t *v;
    size_t n, cap;
    sched_ms_t t;         /* where the next item starts */
    sched_ms_t slot_start;
} flist_t;

static void fadd(flist_t *l, const char *kind, sched_asset_t *a, sched_ms_t in, sched_ms_t out,
                 char *title)
{
    if (out <= in) {
        free(title);
        return;
    }
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 32;
        l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
    }
    l->v[l->n++] = (fitem_t){.start = l->t, .end = l->t + (out - in), .in = in, .out = out,
                             .kind = kind, .asset = a, .title = title};
    l->t += out - in;
}

/* Least recently aired first (ties broken by the seeded hash); skips clips longer than
 * max and those in `not` (already in this break). */
static sched_asset_t *pick_lru(gen_t *g, const sched_set_t *pool, sched_ms_t max, uint64_t salt,
                               sched_ms_t now, sched_asset_t *const *not, size_t n_not)
{
    sched_asset_t *best = NULL;
    int64_t best_lu = 0;
    uint64_t best_tb = 0;
    for (size_t i = 0; pool != NULL && i < pool->n_assets; i++) {
        sched_asset_t *a = pool->assets[i];
        if (a->duration <= 0 || a->duration > max)
            continue;
        bool skip = false;
        for (size_t j = 0; j < n_not && !skip; j++)
            skip = not[j] == a;
        if (skip)
            continue;
        int64_t lu = g->last_used[a->index];
        if (lu < now - LRU_WINDOW)
            lu = NEVER;
        uint64_t tb = mix(salt, a->key);
        if (best == NULL || lu < best_lu || (lu == best_lu && tb < best_tb)) {
            best = a;
            best_lu = lu;
            best_tb = tb;
        }
    }
    return best;
}

static void air(gen_t *g, flist_t *l, const char *kind, sched_asset_t *a, char *title)
{
    g->last_used[a->index] = l->t;
    fadd(l, kind, a, 0, a->duration, title);
}

/* Whole commercials for one break, none twice, up to budget: least recently aired first,
 * ties by the seeded hash. Chooses only; air_all puts them on the air. */
static size_t choose_commercials(gen_t *g, sched_ms_t budget, uint64_t salt, sched_ms_t now,
                                 sched_asset_t **out, size_t max)
{
    const sched_set_t *pool = g->ch->breaks.commercials;
    size_t n = pool ? pool->n_assets : 0, chosen = 0;
    if (n == 0 || budget <= 0)
        return 0;
    /* Rank keys once per break, not once per pick. */
    int64_t lu_stack[128];
    uint64_t tb_stack[128];
    bool used_stack[128];
    int64_t *lu = n <= 128 ? lu_stack : xmalloc(n * sizeof(*lu));
    uint64_t *tb = n <= 128 ? tb_stack : xmalloc(n * sizeof(*tb));
    bool *used = n <= 128 ? used_stack : xmalloc(n * sizeof(*used));
    for (size_t i = 0; i < n; i++) {
        const sched_asset_t *a = pool->assets[i];
        lu[i] = g->last_used[a->index] < now - LRU_WINDOW ? NEVER : g->last_used[a->index];
        tb[i] = mix(salt, a->key);
        used[i] = a->duration <= 0;
    }
    sched_ms_t left = budget;
    while (chosen < max) {
        size_t best = SIZE_MAX;
        for (size_t i = 0; i < n; i++) {
            if (used[i] || pool->assets[i]->duration > left)
                continue;
            if (best == SIZE_MAX || lu[i] < lu[best] || (lu[i] == lu[best] && tb[i] < tb[best]))
                best = i;
        }
        if (best == SIZE_MAX)
            break;
        used[best] = true; /* also: no commercial twice in one break */
        out[chosen++] = pool->assets[best];
        left -= pool->assets[best]->duration;
    }
    if (n > 128) {
        free(lu);
        free(tb);
        free(used);
    }
    return chosen;
}

static void air_all(gen_t *g, flist_t *l, sched_asset_t **list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        air(g, l, "commercial", list[i], NULL);
}

/* Filler clips to `end`, the last one cut. */
static void filler(gen_t *g, flist_t *l, const sched_set_t *pool, sched_ms_t end,
                   const char *kind, uint64_t salt)
{
    while (l->t < end) {
        sched_asset_t *a = pick_lru(g, pool, INT64_MAX, salt, l->t, NULL, 0);
        if (a == NULL && pool != g->ch->breaks.filler)
            a = pick_lru(g, g->ch->breaks.filler, INT64_MAX, salt, l->t, NULL, 0);
        if (a == NULL) { /* no clip has a known duration yet: an item without an asset keeps the slot on the
                              clock; at air time it is answered with filler or not at all */
            fadd(l, kind, NULL, 0, end - l->t, NULL);
            return;
        }
        g->last_used[a->index] = l->t;
        sched_ms_t len = a->duration < end - l->t ? a->duration : end - l->t;
        fadd(l, kind, a, 0, len, NULL);
    }
}

/* Where acts end inside the program: its known break points, else evenly, on keyframes. */
static size_t act_cuts(const sched_channel_t *ch, const sched_asset_t *a, sched_ms_t slot_len,
                       sched_ms_t *cuts, size_t max)
{
    size_t n = 0;
    if (a->n_breaks > 0) {
        /* A stream-copied act can only resume on a keyframe, so a found break moves to
           the nearest one (conformed files have one every gop). */
        for (size_t i = 0; i < a->n_breaks && n < max; i++) {
            sched_ms_t c = a->breaks[i];
            if (ch->gop > 0)
                c = (c + ch->gop / 2) / ch->gop * ch->gop;
            if (c > (n ? cuts[n - 1] : 0) && c < a->duration)
                cuts[n++] = c;
        }
        return n;
    }
    int64_t acts = ch->breaks.per_half_hour > 0
                       ? (int64_t)ch->breaks.per_half_hour * slot_len / (30 * 60000)
                       : 1;
    if (acts < 1)
        acts = 1;
    if (acts > (int64_t)max + 1)
        acts = (int64_t)max + 1;
    for (int64_t k = 1; k < acts; k++) {
        sched_ms_t c = a->duration * k / acts;
        if (ch->gop > 0)
            c = (c + ch->gop / 2) / ch->gop * ch->gop;
        if (c > (n ? cuts[n - 1] : 0) && c < a->duration)
            cuts[n++] = c;
    }
    return n;
}

static void fill_program(gen_t *g, const entry_t *e, const entry_t *next, flist_t *l)
{
    const sched_channel_t *ch = g->ch;
    const sched_breaks_t *br = &ch->breaks;
    uint64_t salt = mix(ch->seed, (uint64_t)e->start);
    sched_asset_t *a = e->asset;
    if (top_of_hour(ch->tz, e->start)) {
        sched_asset_t *id = pick_lru(g, br->station_id, e->end - l->t - a->duration, salt, l->t,
                                     NULL, 0);
        if (id != NULL)
            air(g, l, "id", id, NULL);
    }
    sched_ms_t cuts[32];
    size_t m = act_cuts(ch, a, e->end - e->start, cuts, RV_ARRAY_SIZE(cuts));
    sched_ms_t room = e->end - l->t - a->duration;

    /* The promo names what airs next: that series' own promo, else the generic one. */
    sched_asset_t *promo = NULL;
    char *promo_title = NULL;
    if (next != NULL && next->asset != NULL) {
        if (next->series != NULL && next->series->n_promos > 0) {
            sched_set_t tmp = {.assets = next->series->promos, .n_assets = next->series->n_promos};
            promo = pick_lru(g, &tmp, room, salt, l->t, NULL, 0);
        }
        if (promo == NULL)
            promo = pick_lru(g, br->promo, room, salt, l->t, NULL, 0);
        if (promo != NULL)
            promo_title = xasprintf("Next: %s", next->asset->title);
    }
    sched_ms_t promo_len = promo ? promo->duration : 0;
    sched_ms_t bump = longest(br->bumper_out) + longest(br->bumper_in);
    sched_ms_t budget = room - promo_len;
    sched_ms_t per = m > 0 ? (budget - (sched_ms_t)m * bump) / (sched_ms_t)(m + 1) : 0;
    sched_ms_t in = 0;
    for (size_t j = 0; j <= m; j++) {
        sched_ms_t out = j < m ? cuts[j] : a->duration;
        fadd(l, "program", a, in, out, xstrdup(a->title));
        in = out;
        if (j == m || per <= 0)
            continue;
        sched_asset_t *ads[64];
        size_t n_ads = choose_commercials(g, per, salt + j, l->t, ads, RV_ARRAY_SIZE(ads));
        if (n_ads == 0)
            continue; /* no commercial fits: no break here, the time goes to the end */
        sched_asset_t *bo = pick_lru(g, br->bumper_out, INT64_MAX, salt, l->t, NULL, 0);
        if (bo != NULL)
            air(g, l, "bumper_out", bo, NULL);
        air_all(g, l, ads, n_ads);
        sched_asset_t *bi = pick_lru(g, br->bumper_in, INT64_MAX, salt, l->t, NULL, 0);
        if (bi != NULL)
            air(g, l, "bumper_in", bi, NULL);
    }
    if (promo != NULL && l->t + promo->duration <= e->end)
        air(g, l, "promo", promo, promo_title);
    else
        free(promo_title);
    sched_asset_t *ads[64];
    air_all(g, l, ads, choose_commercials(g, e->end - l->t, salt + 99, l->t, ads, RV_ARRAY_SIZE(ads)));
    filler(g, l, br->filler, e->end, "filler", salt);
}

static void fill_off_air(gen_t *g, const entry_t *e, flist_t *l)
{
    const sched_block_t *b = e->block;
    uint64_t salt = mix(g->ch->seed, (uint64_t)e->start);
    sched_ms_t on = 0;
    for (size_t i = 0; b->sign_on != NULL && i < b->sign_on->n_assets; i++)
        on += b->sign_on->assets[i]->duration > 0 ? b->sign_on->assets[i]->duration : 0;
    if (on > e->end - e->start)
        on = 0;
    for (size_t i = 0; b->sign_off != NULL && i < b->sign_off->n_assets; i++) {
        sched_asset_t *a = b->sign_off->assets[i];
        if (a->duration > 0 && l->t + a->duration <= e->end - on)
            air(g, l, "sign_off", a, NULL);
    }
    filler(g, l, b->pattern, e->end - on, "pattern", salt);
    for (size_t i = 0; on > 0 && i < b->sign_on->n_assets; i++)
        if (b->sign_on->assets[i]->duration > 0)
            air(g, l, "sign_on", b->sign_on->assets[i], NULL);
}

/* Pure: the fine items of one entry (next may be NULL). Items tile [e->start, e->end). */
static void fill_entry(gen_t *g, const entry_t *e, const entry_t *next, flist_t *l)
{
    l->n = 0;
    l->t = e->start;
    l->slot_start = e->start;
    if (e->asset != NULL)
        fill_program(g, e, next, l);
    else if (strcmp(e->kind, SCHED_KIND_OFF_AIR) == 0)
        fill_off_air(g, e, l);
    else
        filler(g, l, g->ch->breaks.filler, e->end, "filler", mix(g->ch->seed, (uint64_t)e->start));
}

/* ---- the database side ---- */

static int prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st)
{
    if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK) {
        log_error(NULL, "schedule: %s", sqlite3_errmsg(db));
        return -EIO;
    }
    return 0;
}

static int step_done(sqlite3 *db, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        log_error(NULL, "schedule: %s", sqlite3_errmsg(db));
        return -EIO;
    }
    return 0;
}

static int64_t asset_id(gen_t *g, const char *path, size_t index)
{
    if (index != SIZE_MAX && g->asset_ids[index] != 0)
        return g->asset_ids[index];
    sqlite3_bind_text(g->ins_asset, 1, path, -1, SQLITE_STATIC);
    step_done(g->db, g->ins_asset);
    sqlite3_bind_text(g->get_asset, 1, path, -1, SQLITE_STATIC);
    int64_t id = 0;
    if (sqlite3_step(g->get_asset) == SQLITE_ROW)
        id = sqlite3_column_int64(g->get_asset, 0);
    sqlite3_reset(g->get_asset);
    if (index != SIZE_MAX)
        g->asset_ids[index] = id;
    return id;
}

static void bind_opt_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s != NULL)
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

static int store_entry(gen_t *g, const entry_t *e, const flist_t *l)
{
    sqlite3_stmt *st = g->ins_coarse;
    const char *title = e->asset ? e->asset->title
                        : e->block && e->block->name ? e->block->name
                        : strcmp(e->kind, SCHED_KIND_OFF_AIR) == 0 ? "Off Air"
                                                                    : "Filler";
    sqlite3_bind_text(st, 1, g->ch->channel, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, e->start);
    sqlite3_bind_int64(st, 3, e->end);
    sqlite3_bind_text(st, 4, e->kind, -1, SQLITE_STATIC);
    bind_opt_text(st, 5, e->block ? e->block->name : NULL);
    bind_opt_text(st, 6, e->series ? e->series->name : NULL);
    sqlite3_bind_text(st, 7, title, -1, SQLITE_STATIC);
    bind_opt_text(st, 8, e->asset ? e->asset->path : NULL);
    sqlite3_bind_int(st, 9, e->asset ? e->asset->season : 0);
    sqlite3_bind_int(st, 10, e->asset ? e->asset->episode : 0);
    bind_opt_text(st, 11, e->rot_count >= 0 ? e->rot_key : NULL);
    if (e->rot_count >= 0)
        sqlite3_bind_int64(st, 12, e->rot_count);
    else
        sqlite3_bind_null(st, 12);
    if (step_done(g->db, st) != 0)
        return -EIO;
    /* Rows go in FINE_BATCH at a time: one statement step per batch, not per row. */
    for (size_t i = 0; i < l->n;) {
        bool batch = l->n - i >= FINE_BATCH;
        size_t count = batch ? FINE_BATCH : 1;
        st = batch ? g->ins_fine_batch : g->ins_fine;
        for (size_t k = 0; k < count; k++, i++) {
            const fitem_t *it = &l->v[i];
            int b = (int)k * 9;
            sqlite3_bind_text(st, b + 1, g->ch->channel, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, b + 2, it->start);
            sqlite3_bind_int64(st, b + 3, it->end);
            sqlite3_bind_int64(st, b + 4, e->start);
            sqlite3_bind_text(st, b + 5, it->kind, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, b + 6,
                               it->asset ? asset_id(g, it->asset->path, it->asset->index)
                                         : asset_id(g, "", SIZE_MAX));
            sqlite3_bind_int64(st, b + 7, it->in);
            sqlite3_bind_int64(st, b + 8, it->out);
            bind_opt_text(st, b + 9, it->title);
        }
        if (step_done(g->db, st) != 0)
            return -EIO;
    }
    g->n_fine += l->n;
    return 0;
}

static int load_state(sqlite3 *db, const char *channel, sched_ms_t *built, char *fp, size_t fpsz)
{
    sqlite3_stmt *st;
    if (prepare(db, "SELECT built_until, fingerprint FROM schedule_state WHERE channel = ?",
                &st) != 0)
        return -EIO;
    sqlite3_bind_text(st, 1, channel, -1, SQLITE_STATIC);
    int rc = -ENOENT;
    if (sqlite3_step(st) == SQLITE_ROW) {
        *built = sqlite3_column_int64(st, 0);
        snprintf(fp, fpsz, "%s", (const char *)sqlite3_column_text(st, 1));
        rc = 0;
    }
    sqlite3_finalize(st);
    return rc;
}

static int save_state(sqlite3 *db, const sched_channel_t *ch, sched_ms_t built)
{
    sqlite3_stmt *st;
    if (prepare(db,
                "INSERT INTO schedule_state (channel, built_until, fingerprint) VALUES (?, ?, ?)"
                " ON CONFLICT (channel) DO UPDATE SET built_until = excluded.built_until,"
                " fingerprint = excluded.fingerprint",
                &st) != 0)
        return -EIO;
    char fp[24];
    snprintf(fp, sizeof(fp), "%016" PRIx64, ch->fingerprint);
    sqlite3_bind_text(st, 1, ch->channel, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, built);
    sqlite3_bind_text(st, 3, fp, -1, SQLITE_STATIC);
    int rc = step_done(db, st);
    sqlite3_finalize(st);
    return rc;
}

static const char *fine_batch_sql(void)
{
    static char sql[2048];
    if (sql[0] == '\0') {
        size_t n = (size_t)snprintf(sql, sizeof(sql),
                                    "INSERT INTO fine_log (channel, start, end, slot_start, kind,"
                                    " asset, inpoint, outpoint, title) VALUES ");
        for (int i = 0; i < FINE_BATCH; i++)
            n += (size_t)snprintf(sql + n, sizeof(sql) - n, "%s(?,?,?,?,?,?,?,?,?)",
                                  i ? "," : "");
    }
    return sql;
}

static int gen_init(gen_t *g, sqlite3 *db, const sched_channel_t *ch, sched_ms_t from)
{
    memset(g, 0, sizeof(*g));
    g->db = db;
    g->ch = ch;
    size_t n = ch->library ? ch->library->n_assets : 0;
    g->last_used = xmalloc((n + 1) * sizeof(*g->last_used));
    for (size_t i = 0; i < n; i++)
        g->last_used[i] = NEVER;
    g->asset_ids = xcalloc(n + 1, sizeof(*g->asset_ids));
    if (prepare(db,
                "INSERT INTO coarse_log (channel, slot_start, slot_end, kind, block, series, title,"
                " path, season, episode, rot_key, rot_count) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                &g->ins_coarse) != 0 ||
        prepare(db,
                "INSERT INTO fine_log (channel, start, end, slot_start, kind, asset, inpoint,"
                " outpoint, title) VALUES (?,?,?,?,?,?,?,?,?)",
                &g->ins_fine) != 0 ||
        prepare(db, fine_batch_sql(), &g->ins_fine_batch) != 0 ||
        prepare(db, "INSERT OR IGNORE INTO sched_assets (path) VALUES (?)", &g->ins_asset) != 0 ||
        prepare(db, "SELECT id FROM sched_assets WHERE path = ?", &g->get_asset) != 0)
        return -EIO;
    sqlite3_stmt *st;
    if (prepare(db, "SELECT key, next_count FROM rotation WHERE channel = ?", &st) != 0)
        return -EIO;
    sqlite3_bind_text(st, 1, ch->channel, -1, SQLITE_STATIC);
    while (sqlite3_step(st) == SQLITE_ROW) {
        rot_t *r = rot_find(g, (const char *)sqlite3_column_text(st, 0));
        r->count = sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    /* What aired lately, so least-recently-used picks continue where they left off. */
    if (prepare(db,
                "SELECT a.path, MAX(f.start) FROM fine_log f JOIN sched_assets a ON a.id = f.asset"
                " WHERE f.channel = ? AND f.start >= ? AND f.start < ? GROUP BY f.asset",
                &st) != 0)
        return -EIO;
    sqlite3_bind_text(st, 1, ch->channel, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, from - LRU_WINDOW);
    sqlite3_bind_int64(st, 3, from);
    while (sqlite3_step(st) == SQLITE_ROW) {
        sched_asset_t *a = ch->library ? sched_library_find(ch->library,
                                                            (const char *)sqlite3_column_text(st, 0))
                                       : NULL;
        if (a != NULL)
            g->last_used[a->index] = sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    return 0;
}

static int gen_save_rotation(gen_t *g)
{
    sqlite3_stmt *st;
    if (prepare(g->db,
                "INSERT INTO rotation (channel, key, next_count) VALUES (?, ?, ?)"
                " ON CONFLICT (channel, key) DO UPDATE SET next_count = excluded.next_count",
                &st) != 0)
        return -EIO;
    int rc = 0;
    for (size_t i = 0; i < g->n_rots && rc == 0; i++) {
        if (!g->rots[i].dirty)
            continue;
        sqlite3_bind_text(st, 1, g->ch->channel, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, g->rots[i].key, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, g->rots[i].count);
        rc = step_done(g->db, st);
    }
    sqlite3_finalize(st);
    return rc;
}

static void gen_dispose(gen_t *g)
{
    sqlite3_finalize(g->ins_coarse);
    sqlite3_finalize(g->ins_fine);
    sqlite3_finalize(g->ins_fine_batch);
    sqlite3_finalize(g->ins_asset);
    sqlite3_finalize(g->get_asset);
    for (size_t i = 0; i < g->n_rots; i++)
        free(g->rots[i].key);
    free(g->rots);
    free(g->last_used);
    free(g->asset_ids);
    free(g->windows.v);
}

static void flist_clear(flist_t *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i].title);
    l->n = 0;
}

/* Builds entries from `from` until one starts at or after `until`; returns the end. */
static int build(sqlite3 *db, const sched_channel_t *ch, sched_ms_t from, sched_ms_t until,
                 sched_ms_t *built)
{
    gen_t g;
    int rc = gen_init(&g, db, ch, from);
    if (rc == 0) {
        /* A day either side: blocks may cross midnight, the peek may pass `until`. */
        build_windows(ch, local_day(ch->tz, from) - 1, local_day(ch->tz, until) + 3, &g.windows);
    }
    flist_t l = {0};
    sched_ms_t pos = from;
    entry_t cur, next;
    bool have_next = false;
    if (rc == 0)
        rc = entry_at(&g, pos, true, &cur);
    while (rc == 0 && pos < until) {
        pos = cur.end;
        /* Peek when this is the last one (the next call commits the same pick). */
        have_next = entry_at(&g, pos, pos < until, &next) == 0;
        fill_entry(&g, &cur, have_next ? &next : NULL, &l);
        rc = store_entry(&g, &cur, &l);
        flist_clear(&l);
        cur = next;
        if (!have_next && pos < until)
            rc = -ERANGE;
    }
    if (rc == 0)
        rc = gen_save_rotation(&g);
    if (rc == -ERANGE)
        log_error(ch->channel, "schedule: no timeline at %" PRId64, pos);
    *built = pos;
    free(l.v);
    gen_dispose(&g);
    return rc;
}

/* ---- public ---- */

/* Savepoints nest, so a caller may wrap several channels in one transaction. */
static int begin(sqlite3 *db)
{
    return db_exec(db, "SAVEPOINT schedule");
}

static int finish(sqlite3 *db, int rc)
{
    if (rc != 0)
        db_exec(db, "ROLLBACK TO schedule");
    if (db_exec(db, "RELEASE schedule") != 0 && rc == 0)
        rc = -EIO;
    return rc;
}

static void fingerprint_text(const sched_channel_t *ch, char *buf, size_t size)
{
    snprintf(buf, size, "%016" PRIx64, ch->fingerprint);
}

/* Drops everything from `boundary` on and rolls rotation back to what it was there. */
static int cut_at(sqlite3 *db, const sched_channel_t *ch, sched_ms_t boundary)
{
    sqlite3_stmt *sel, *upd;
    if (prepare(db,
                "SELECT rot_key, MIN(rot_count) FROM coarse_log WHERE channel = ? AND"
                " slot_start >= ? AND rot_key IS NOT NULL GROUP BY rot_key",
                &sel) != 0)
        return -EIO;
    if (prepare(db, "UPDATE rotation SET next_count = ? WHERE channel = ? AND key = ?", &upd) !=
        0) {
        sqlite3_finalize(sel);
        return -EIO;
    }
    int rc = 0;
    sqlite3_bind_text(sel, 1, ch->channel, -1, SQLITE_STATIC);
    sqlite3_bind_int64(sel, 2, boundary);
    while (rc == 0 && sqlite3_step(sel) == SQLITE_ROW) {
        sqlite3_bind_int64(upd, 1, sqlite3_column_int64(sel, 1));
        sqlite3_bind_text(upd, 2, ch->channel, -1, SQLITE_STATIC);
        sqlite3_bind_text(upd, 3, (const char *)sqlite3_column_text(sel, 0), -1, SQLITE_TRANSIENT);
        rc = step_done(db, upd);
    }
    sqlite3_finalize(sel);
    sqlite3_finalize(upd);
    const char *sqls[] = {"DELETE FROM coarse_log WHERE channel = ? AND slot_start >= ?",
                          "DELETE FROM fine_log WHERE channel = ? AND start >= ?"}; /* B is an entry boundary */
    for (size_t i = 0; i < 2 && rc == 0; i++) {
        sqlite3_stmt *st;
        if (prepare(db, sqls[i], &st) != 0)
            return -EIO;
        sqlite3_bind_text(st, 1, ch->channel, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, boundary);
        rc = step_done(db, st);
        sqlite3_finalize(st);
    }
    return rc;
}

/* The first slot boundary after now: the end of the entry on air, or the next start. */
static sched_ms_t boundary_after(sqlite3 *db, const char *channel, sched_ms_t now,
                                 sched_ms_t built)
{
    sqlite3_stmt *st;
    sched_ms_t b = built;
    if (prepare(db,
                "SELECT slot_end FROM coarse_log WHERE channel = ? AND slot_start <= ?"
                " ORDER BY slot_start DESC LIMIT 1",
                &st) != 0)
        return b;
    sqlite3_bind_text(st, 1, channel, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int64(st, 0) > now)
        b = sqlite3_column_int64(st, 0);
    else
        b = now > built ? built : now; /* nothing on air: anything not yet started can go */
    sqlite3_finalize(st);
    return b;
}

static int extend_locked(sqlite3 *db, const sched_channel_t *ch, sched_ms_t now, int days,
                         bool check_fp)
{
    if (days <= 0)
        days = ch->days_ahead > 0 ? ch->days_ahead : 3;
    sched_ms_t target = now + (sched_ms_t)days * MS_PER_DAY;
    sched_ms_t built = 0;
    char fp[32] = "", want[32];
    fingerprint_text(ch, want, sizeof(want));
    bool have = load_state(db, ch->channel, &built, fp, sizeof(fp)) == 0;
    int rc = 0;
    if (have && check_fp && strcmp(fp, want) != 0) {
        sched_ms_t b = boundary_after(db, ch->channel, now, built);
        log_info(ch->channel, "schedule changed: rebuilding from the next slot boundary");
        rc = cut_at(db, ch, b);
        if (b < built)
            built = b;
    }
    sched_ms_t midnight = local_midnight(ch->tz, local_day(ch->tz, now));
    /* Nothing built, or only long ago (the station was off): start today. */
    sched_ms_t from = have && built >= midnight ? built : midnight;
    if (rc == 0 && have && built < midnight)
        rc = cut_at(db, ch, midnight); /* nothing should be there; keeps keys unique */
    if (rc == 0 && from < target)
        rc = build(db, ch, from, target, &built);
    if (rc == 0)
        rc = save_state(db, ch, built);
    return rc;
}

int schedule_extend(sqlite3 *db, const sched_channel_t *ch, sched_ms_t now, int days)
{
    if (db == NULL || ch == NULL || ch->tz == NULL)
        return -EINVAL;
    if (begin(db) != 0)
        return -EIO;
    return finish(db, extend_locked(db, ch, now, days, true));
}

int schedule_rebuild(sqlite3 *db, const sched_channel_t *ch, sched_ms_t now, int days)
{
    if (db == NULL || ch == NULL || ch->tz == NULL)
        return -EINVAL;
    if (begin(db) != 0)
        return -EIO;
    sched_ms_t built = 0;
    char fp[32];
    int rc = 0;
    if (load_state(db, ch->channel, &built, fp, sizeof(fp)) == 0) {
        sched_ms_t b = boundary_after(db, ch->channel, now, built);
        rc = cut_at(db, ch, b);
        if (rc == 0 && b < built)
            rc = save_state(db, ch, b);
    }
    if (rc == 0)
        rc = extend_locked(db, ch, now, days, false);
    return finish(db, rc);
}

static int run_channel_sql(sqlite3 *db, const char *sql, const char *channel, sched_ms_t t)
{
    sqlite3_stmt *st;
    if (prepare(db, sql, &st) != 0)
        return -EIO;
    sqlite3_bind_text(st, 1, channel, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, t);
    int rc = step_done(db, st);
    sqlite3_finalize(st);
    return rc;
}

int schedule_forget(sqlite3 *db, const char *channel)
{
    static const char *const sqls[] = {
        "DELETE FROM coarse_log WHERE channel = ?1 AND ?2 = ?2",
        "DELETE FROM fine_log WHERE channel = ?1 AND ?2 = ?2",
        "DELETE FROM rotation WHERE channel = ?1 AND ?2 = ?2",
        "DELETE FROM schedule_state WHERE channel = ?1 AND ?2 = ?2",
    };
    if (begin(db) != 0)
        return -EIO;
    int rc = 0;
    for (size_t i = 0; i < RV_ARRAY_SIZE(sqls) && rc == 0; i++)
        rc = run_channel_sql(db, sqls[i], channel, 0);
    return finish(db, rc);
}

int schedule_prune(sqlite3 *db, const char *channel, sched_ms_t before)
{
    if (begin(db) != 0)
        return -EIO;
    int rc = run_channel_sql(db, "DELETE FROM fine_log WHERE channel = ? AND end <= ?", channel,
                             before);
    if (rc == 0)
        rc = run_channel_sql(db, "DELETE FROM coarse_log WHERE channel = ? AND slot_end <= ?",
                             channel, before);
    return finish(db, rc);
}
