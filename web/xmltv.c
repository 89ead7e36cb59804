/*
 * The XMLTV guide. Programmes come from a schedule's coarse log (programs, never its
 * commercials) or from a playlist's loop, and describe() is the one place program
 * metadata enters the guide. The document is made a channel-day at a time and
 * streamed with one h2o_send in flight, so a guide of 50 channels by 7 days holds a
 * week of one channel's coarse log and one send's worth of XML, never the document.
 */
#include "xmltv.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "catalog.h"
#include "clock.h"
#include "log.h"
#include "playout.h"
#include "reply.h"
#include "schedule.h"
#include "station.h"
#include "tz.h"

#define DAY 86400.0
#define LOOKBACK (2 * 3600.0)  /* the guide starts with what aired this long before now */
#define PLAYLIST_DAYS 3        /* playlists' horizon when no schedule sets a longer one */
#define MIN_PROGRAMME 300.0    /* playlists: items this long always start a programme */
#define MIN_GROUP 120.0        /* playlists: no programme is shorter than this */
#define MAIN_SHARE 0.6         /* playlists: a programme is named for an item this much of it */
#define EPS 1e-6               /* boundary tolerance, the same as playout_at's */
#define FETCH_DAYS 7           /* the coarse log is read this many days at a time */
#define SEND_MIN 32768         /* pieces are gathered into sends of at least this many bytes */
#define LIST_MAX 10            /* titles named in a merged programme's description */
#define KIND_PLAYLIST "playlist" /* a programme from a playlist's loop */

/* ---------------------------------------------------------------- formatting */

void xmltv_channel_id(const char *number, char *buf, size_t size)
{
    snprintf(buf, size, "retrovue.%s", number);
}

/* Writes n digits of v at p (the guide formats thousands of times; printf would
   be most of its cost). */
static char *digits(char *p, long long v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
    return p + n;
}

void xmltv_format_time(long long t, int offset_s, char *buf, size_t size)
{
    char tmp[32];
    long long l = t + offset_s;
    long long day = l >= 0 ? l / 86400 : -((-l + 86399) / 86400);
    long long sod = l - day * 86400;
    int y, m, d;
    tz_civil_from_days(day, &y, &m, &d);
    int off = offset_s < 0 ? -offset_s : offset_s;
    char *p = digits(tmp, y < 0 ? 0 : y > 9999 ? 9999 : y, 4);
    p = digits(p, m, 2);
    p = digits(p, d, 2);
    p = digits(p, sod / 3600, 2);
    p = digits(p, sod / 60 % 60, 2);
    p = digits(p, sod % 60, 2);
    *p++ = ' ';
    *p++ = offset_s < 0 ? '-' : '+';
    p = digits(p, off / 3600 % 100, 2);
    p = digits(p, off / 60 % 60, 2);
    size_t n = (size_t)(p - tmp);
    if (size == 0)
        return;
    if (n >= size)
        n = size - 1;
    memcpy(buf, tmp, n);
    buf[n] = '\0';
}

void xmltv_episode_ns(int season, int episode, char *buf, size_t size)
{
    char s[16] = "", e[16] = "";
    if (season > 0)
        snprintf(s, sizeof(s), "%d", season - 1);
    if (episode > 0)
        snprintf(e, sizeof(e), "%d", episode - 1);
    snprintf(buf, size, "%s.%s.", s, e);
}

/* Times are written in whole seconds; rounding to the millisecond first makes a
   boundary computed as 1799.9999999 read as 1800, the same for both programmes. */
static long long whole_seconds(double t)
{
    long long ms = llround(t * 1000.0);
    return ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
}

/* ---------------------------------------------------------------- metadata */

/** A series as the library describes it. */
typedef struct series_meta {
    char *name, *title, *rating, *genre;
} series_meta_t;

/* What is known about one program. Today that is the coarse log, the library's
   series entry and the file name; metadata from the content manager (plot,
   first-aired date, episode title, genres, artwork) belongs here, and describe() is
   the only function that turns it into a programme. */
typedef struct program_facts {
    const char *kind;           /* SCHED_KIND_* or KIND_PLAYLIST */
    const char *path;           /* the program's file, or NULL */
    const char *coarse_title;   /* the coarse log's title, or NULL */
    const char *block;          /* the schedule block's name, or NULL */
    const series_meta_t *series;
    int season, episode;        /* from the coarse log; 0 when unknown */
    const char *channel_name;
    sqlite3 *db;                /* the catalog, for sidecar or Plex metadata; or NULL */
} program_facts_t;

static char *xstrndup(const char *s, size_t n)
{
    char *c = xmalloc(n + 1);
    memcpy(c, s, n);
    c[n] = '\0';
    return c;
}

/* The file's name as words ("nebula-patrol-s01e01.ts" → "Nebula Patrol S01E01"),
   separators collapsed to single spaces. */
static char *pretty_name(const char *path)
{
    char *t = playout_title_from_path(path);
    char *w = t;
    for (const char *r = t; *r != '\0'; r++) {
        if (*r == ' ' && (w == t || w[-1] == ' '))
            continue;
        *w++ = *r;
    }
    while (w > t && w[-1] == ' ')
        w--;
    *w = '\0';
    return t;
}

/* Finds an "S01E01" word in a pretty name: the text before it (the series), the
   numbers, and the text after it (an episode title, when the file has one). before
   and after may be NULL when only the question matters. */
static int split_episode(const char *name, char **before, int *season, int *episode,
                         char **after)
{
    for (const char *p = name; *p != '\0'; p++) {
        if ((p != name && p[-1] != ' ') || toupper((unsigned char)p[0]) != 'S' ||
            !isdigit((unsigned char)p[1]))
            continue;
        char *e;
        long s = strtol(p + 1, &e, 10);
        if (toupper((unsigned char)*e) != 'E' || !isdigit((unsigned char)e[1]))
            continue;
        long ep = strtol(e + 1, &e, 10);
        while (*e != '\0' && *e != ' ')
            e++; /* "S01E01E02" */
        if (s <= 0 || s >= 1000 || ep <= 0 || ep >= 100000)
            continue;
        size_t n = (size_t)(p - name);
        while (n > 0 && name[n - 1] == ' ')
            n--;
        while (*e == ' ')
            e++;
        if (before != NULL)
            *before = n > 0 ? xstrndup(name, n) : NULL;
        if (after != NULL)
            *after = *e != '\0' ? xstrdup(e) : NULL;
        *season = (int)s;
        *episode = (int)ep;
        return 1;
    }
    return 0;
}

/* Takes a "(1987)" or "[1987]" out of a name, the way movie files are usually named;
   returns the year as a string, or NULL. */
static char *take_year(char *name)
{
    for (char *p = name; *p != '\0'; p++) {
        if ((*p != '(' && *p != '[') || strlen(p) < 6)
            continue;
        char close = *p == '(' ? ')' : ']';
        if (!isdigit((unsigned char)p[1]) || !isdigit((unsigned char)p[2]) ||
            !isdigit((unsigned char)p[3]) || !isdigit((unsigned char)p[4]) || p[5] != close)
            continue;
        int y = atoi(p + 1);
        if (y < 1900 || y > 2099)
            continue;
        char *year = xstrndup(p + 1, 4);
        char *end = p + 6;
        while (p > name && p[-1] == ' ')
            p--;
        memmove(p, end, strlen(end) + 1);
        size_t n = strlen(name);
        while (n > 0 && name[n - 1] == ' ')
            name[--n] = '\0';
        return year;
    }
    return NULL;
}

static char *capitalized(const char *s)
{
    char *c = xstrdup(s);
    if (c[0] != '\0')
        c[0] = (char)toupper((unsigned char)c[0]);
    return c;
}

static void add_category(xmltv_programme_t *p, const char *c)
{
    for (size_t i = 0; i < RV_ARRAY_SIZE(p->categories); i++)
        if (p->categories[i] == NULL) {
            p->categories[i] = capitalized(c);
            return;
        }
}

static void set_rating(xmltv_programme_t *p, const char *rating)
{
    if (rating == NULL || rating[0] == '\0')
        return;
    static const char *const mpaa[] = {"G", "PG", "PG-13", "R", "NC-17", "NR"};
    p->rating = xstrdup(rating);
    if (strncmp(rating, "TV-", 3) == 0)
        p->rating_system = xstrdup("VCHIP");
    for (size_t i = 0; i < RV_ARRAY_SIZE(mpaa); i++)
        if (strcmp(rating, mpaa[i]) == 0)
            p->rating_system = xstrdup("MPAA");
}

static void describe_episode(xmltv_programme_t *p, const program_facts_t *f, char *name)
{
    char *before = NULL, *after = NULL;
    int season = 0, episode = 0;
    if (name != NULL)
        split_episode(name, &before, &season, &episode, &after);
    p->season = f->season > 0 ? f->season : season;
    p->episode = f->season > 0 ? f->episode : episode;
    if (f->series != NULL && f->series->title != NULL)
        p->title = xstrdup(f->series->title);
    else if (before != NULL)
        p->title = xstrdup(before);
    else
        p->title = xstrdup(name ? name : f->coarse_title ? f->coarse_title : "");
    /* The episode's title: what the file name has after "S01E01", else the name
       (unless that only repeats the title). */
    const char *sub = after != NULL ? after : name;
    if (sub != NULL && strcasecmp(sub, p->title) != 0)
        p->sub_title = xstrdup(sub);
    if (p->season > 0)
        p->desc = xasprintf("Season %d, episode %d of %s.", p->season, p->episode, p->title);
    if (name != NULL)
        p->date = take_year(name);
    if (f->series != NULL && f->series->genre != NULL)
        add_category(p, f->series->genre);
    if (p->season > 0 || f->series != NULL)
        add_category(p, "Series");
    if (f->series != NULL)
        set_rating(p, f->series->rating);
    p->previously_shown = 1; /* a station of reruns: nothing airs for the first time */
    free(before);
    free(after);
}

static char *column_dup(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t != NULL && t[0] != '\0' ? xstrdup((const char *)t) : NULL;
}

static void replace(char **slot, char *value)
{
    if (value == NULL)
        return;
    free(*slot);
    *slot = value;
}

/* What the content manager learned from a sidecar or Plex wins over what the file
   name suggests: the show's and episode's real titles, the plot, the first-aired
   date, genres and rating. */
static void apply_catalog(sqlite3 *db, const char *path, xmltv_programme_t *p)
{
    sqlite3_stmt *st;
    if (db == NULL || path == NULL ||
        sqlite3_prepare_v2(db,
                           "SELECT a.kind, m.show, m.title, m.plot, m.aired, m.genre, m.rating,"
                           " m.season, m.episode, m.year FROM asset_meta m JOIN assets a"
                           " ON a.id = m.asset_id WHERE a.path = ?",
                           -1, &st, NULL) != SQLITE_OK)
        return;
    sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        const char *kind = (const char *)sqlite3_column_text(st, 0);
        int movie = kind != NULL && strcmp(kind, "movies") == 0;
        char *show = column_dup(st, 1), *title = column_dup(st, 2);
        if (movie || show == NULL) {
            replace(&p->title, title);
            free(show);
        } else {
            replace(&p->title, show);
            replace(&p->sub_title, title);
        }
        replace(&p->desc, column_dup(st, 3));
        char *aired = column_dup(st, 4);
        if (aired != NULL && strlen(aired) == 10 && aired[4] == '-' && aired[7] == '-') {
            replace(&p->date, xasprintf("%.4s%.2s%.2s", aired, aired + 5, aired + 8));
            free(aired);
        } else {
            free(aired);
            if (sqlite3_column_type(st, 9) == SQLITE_INTEGER)
                replace(&p->date, xasprintf("%d", sqlite3_column_int(st, 9)));
        }
        if (sqlite3_column_type(st, 7) == SQLITE_INTEGER && sqlite3_column_type(st, 8) == SQLITE_INTEGER) {
            p->season = sqlite3_column_int(st, 7);
            p->episode = sqlite3_column_int(st, 8);
        }
        char *genre = column_dup(st, 5);
        for (char *g = genre, *save = NULL; genre != NULL && (g = strtok_r(g, "/", &save)) != NULL;
             g = NULL) {
            while (*g == ' ')
                g++;
            size_t n = strlen(g);
            while (n > 0 && g[n - 1] == ' ')
                g[--n] = '\0';
            if (n > 0)
                add_category(p, g);
        }
        free(genre);
        char *rating = column_dup(st, 6);
        if (rating != NULL) {
            free(p->rating);
            free(p->rating_system);
            p->rating = p->rating_system = NULL;
            set_rating(p, rating);
            free(rating);
        }
    }
    sqlite3_finalize(st);
}

static void describe(const program_facts_t *f, xmltv_programme_t *p)
{
    char *name = f->path != NULL ? pretty_name(f->path) : NULL;
    if (strcmp(f->kind, SCHED_KIND_OFF_AIR) == 0) {
        p->kind = SCHED_KIND_OFF_AIR;
        p->title = xstrdup("Off Air");
        p->desc = xasprintf("%s is off the air.", f->channel_name);
    } else if (strcmp(f->kind, SCHED_KIND_FILL) == 0) {
        p->kind = SCHED_KIND_FILL;
        p->title = xstrdup(f->block != NULL ? f->block : f->channel_name);
    } else if (strcmp(f->kind, SCHED_KIND_MOVIE) == 0) {
        p->kind = SCHED_KIND_MOVIE;
        char *title = xstrdup(name ? name : f->coarse_title ? f->coarse_title : "");
        p->date = take_year(title);
        p->title = title;
        if (f->block != NULL)
            p->desc = xasprintf("A feature presentation of %s.", f->block);
        add_category(p, "Movie");
        p->previously_shown = 1;
    } else if (strcmp(f->kind, KIND_PLAYLIST) == 0) {
        p->kind = KIND_PLAYLIST;
        int s, e;
        if (name != NULL && split_episode(name, NULL, &s, &e, NULL)) {
            describe_episode(p, f, name);
        } else {
            char *title = xstrdup(name ? name : "");
            p->date = take_year(title);
            p->title = title;
        }
    } else {
        p->kind = SCHED_KIND_PROGRAM;
        describe_episode(p, f, name);
    }
    if (strcmp(p->kind, SCHED_KIND_OFF_AIR) != 0 && strcmp(p->kind, SCHED_KIND_FILL) != 0)
        apply_catalog(f->db, f->path, p);
    if (p->title[0] == '\0') {
        free(p->title);
        p->title = xstrdup(f->channel_name);
    }
    free(name);
}

void xmltv_programme_dispose(xmltv_programme_t *p)
{
    free(p->title);
    free(p->sub_title);
    free(p->desc);
    free(p->date);
    for (size_t i = 0; i < RV_ARRAY_SIZE(p->categories); i++)
        free(p->categories[i]);
    free(p->icon);
    free(p->rating);
    free(p->rating_system);
    memset(p, 0, sizeof(*p));
}

static const char *kind_of_slot(const char *kind)
{
    static const char *const kinds[] = {SCHED_KIND_MOVIE, SCHED_KIND_OFF_AIR, SCHED_KIND_FILL};
    for (size_t i = 0; i < RV_ARRAY_SIZE(kinds); i++)
        if (kind != NULL && strcmp(kind, kinds[i]) == 0)
            return kinds[i];
    return SCHED_KIND_PROGRAM;
}

static void slot_programme(sqlite3 *db, const sched_slot_t *s, const series_meta_t *series,
                           const char *channel_name, xmltv_programme_t *p)
{
    program_facts_t f = {.kind = kind_of_slot(s->kind),
                         .path = s->path,
                         .coarse_title = s->title,
                         .block = s->block,
                         .series = series,
                         .season = s->season,
                         .episode = s->episode,
                         .channel_name = channel_name,
                         .db = db};
    memset(p, 0, sizeof(*p));
    describe(&f, p);
    p->start = (double)s->start / 1000.0;
    p->stop = (double)s->end / 1000.0;
}

/* ---------------------------------------------------------------- playlist loops */

/*
 * A playlist's loop as the guide shows it. A guide of every 15-second commercial
 * would be thousands of entries a day and say nothing, so items are grouped into
 * programmes the way a guide lists a show with its breaks:
 *
 * - An item at least half as long as the loop's longest (capped at MIN_PROGRAMME)
 *   is an anchor: it starts a programme, and the shorter items after it belong to
 *   it (the commercials and bumpers after a show).
 * - A run of short items that is itself MIN_PROGRAMME or longer is not swallowed by
 *   the anchor before it: it is cut into programmes of at least MIN_PROGRAMME.
 * - A programme shorter than MIN_GROUP takes in the one after it.
 *
 * So no programme is shorter than MIN_GROUP (at most 720 a day, whatever the items).
 * The groups repeat every cycle, so the programme at any instant is arithmetic on the
 * epoch, like playout_at's answer. A loop shorter than MIN_PROGRAMME is treated as
 * itself repeated until it lasts that long. Groups are laid out from the first
 * anchor, so none straddles the end of the cycle.
 */
typedef struct loop_unit {
    size_t item;
    double dur;
} loop_unit_t;

typedef struct loop_group {
    size_t first, n; /* units */
    double off;      /* from the origin of the cycle */
} loop_group_t;

typedef struct loop {
    char **paths;
    char **titles;
    double *durs;
    size_t n_items;
    loop_unit_t *units; /* in cycle order from the origin */
    size_t n_units;
    loop_group_t *groups;
    size_t n_groups;
    double origin;      /* UTC seconds when a cycle began */
    double cycle;
    int refs;           /* holders: the cache, guides being written, a caller */
} loop_t;

static void loop_free(loop_t *l)
{
    if (l == NULL)
        return;
    for (size_t i = 0; i < l->n_items; i++) {
        free(l->paths[i]);
        free(l->titles[i]);
    }
    free(l->paths);
    free(l->titles);
    free(l->durs);
    free(l->units);
    free(l->groups);
    free(l);
}

static void add_group(loop_t *l, size_t first, size_t n, double off)
{
    l->groups = xrealloc(l->groups, (l->n_groups + 1) * sizeof(*l->groups));
    l->groups[l->n_groups++] = (loop_group_t){.first = first, .n = n, .off = off};
}

/* The loop the channel airs: its items with the durations from the catalog, skipping
   what the channel skips (files that failed to probe). NULL when nothing is known.
   *complete says whether the catalog knew every item (else a probe is still due). */
static loop_t *loop_build(sqlite3 *db, char *const *items, size_t n_items, double epoch,
                          int *complete)
{
    loop_t *l = xcalloc(1, sizeof(*l));
    l->refs = 1;
    double cycle = 0;
    *complete = 1;
    for (size_t i = 0; i < n_items; i++) {
        asset_t a;
        if (catalog_get(db, items[i], &a) != 0) {
            *complete = 0;
            continue;
        }
        if (a.error == NULL && a.duration > 0) {
            l->paths = xrealloc(l->paths, (l->n_items + 1) * sizeof(char *));
            l->titles = xrealloc(l->titles, (l->n_items + 1) * sizeof(char *));
            l->durs = xrealloc(l->durs, (l->n_items + 1) * sizeof(double));
            l->paths[l->n_items] = xstrdup(items[i]);
            l->titles[l->n_items] = pretty_name(items[i]);
            l->durs[l->n_items] = a.duration;
            l->n_items++;
            cycle += a.duration; /* summed in order, as playout_add does */
        }
        asset_dispose(&a);
    }
    if (l->n_items == 0 || !(cycle > 0)) {
        loop_free(l);
        return NULL;
    }
    size_t repeat = cycle < MIN_PROGRAMME ? (size_t)ceil(MIN_PROGRAMME / cycle) : 1;
    l->cycle = cycle * (double)repeat;
    l->n_units = l->n_items * repeat;
    l->units = xcalloc(l->n_units, sizeof(*l->units));
    double longest = 0;
    for (size_t i = 0; i < l->n_items; i++)
        longest = fmax(longest, l->durs[i]);
    double anchor = fmin(MIN_PROGRAMME, longest / 2);
    size_t first = 0;
    double lead = 0;
    while (l->durs[first] < anchor) /* ends: the longest item is an anchor */
        lead += l->durs[first++];
    l->origin = epoch + lead;
    for (size_t u = 0; u < l->n_units; u++) {
        size_t item = (first + u) % l->n_items;
        l->units[u] = (loop_unit_t){.item = item, .dur = l->durs[item]};
    }
    double off = 0;
    size_t u = 0;
    while (u < l->n_units) {
        size_t end = u + 1;
        double run = 0;
        while (end < l->n_units && l->units[end].dur < anchor)
            run += l->units[end++].dur;
        if (run < MIN_PROGRAMME) {
            add_group(l, u, end - u, off);
            for (; u < end; u++)
                off += l->units[u].dur;
            continue;
        }
        add_group(l, u, 1, off);
        off += l->units[u++].dur;
        /* A long run of short items: programmes of at least MIN_PROGRAMME, the
           remainder joining the last of them. */
        size_t start = u;
        double acc = 0, start_off = off;
        for (; u < end; u++) {
            acc += l->units[u].dur;
            off += l->units[u].dur;
            if (acc >= MIN_PROGRAMME) {
                add_group(l, start, u + 1 - start, start_off);
                start = u + 1;
                start_off = off;
                acc = 0;
            }
        }
        if (start < end)
            l->groups[l->n_groups - 1].n += end - start;
    }
    /* A programme shorter than MIN_GROUP takes in the next one; a short last one
       joins the one before. */
    size_t w = 0;
    for (size_t g = 0; g < l->n_groups; g++) {
        if (w > 0 && l->groups[g].off - l->groups[w - 1].off < MIN_GROUP)
            l->groups[w - 1].n += l->groups[g].n;
        else
            l->groups[w++] = l->groups[g];
    }
    if (w > 1 && l->cycle - l->groups[w - 1].off < MIN_GROUP) {
        l->groups[w - 2].n += l->groups[w - 1].n;
        w--;
    }
    l->n_groups = w;
    return l;
}

static void loop_release(loop_t *l)
{
    if (l != NULL && --l->refs == 0)
        loop_free(l);
}

/*
 * Built loops are kept a while: building one reads the catalog once per item (tens
 * of milliseconds for a playlist of a thousand), and /api/channels asks on every
 * poll. A loop is kept only when the catalog knew every item, and for LOOP_TTL, so
 * what a probe learns (at start-up, after a reload) shows within that time.
 */
#define LOOP_TTL 30.0 /* seconds of real time */

typedef struct loop_cache {
    char *number;
    sqlite3 *db;
    uint64_t key;     /* the epoch and the items */
    double built_at;  /* clock_monotonic() */
    loop_t *loop;
    struct loop_cache *next;
} loop_cache_t;

static loop_cache_t *loop_cache;

static uint64_t loop_key(double epoch, char *const *items, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    const unsigned char *e = (const unsigned char *)&epoch;
    for (size_t i = 0; i < sizeof(epoch); i++)
        h = (h ^ e[i]) * 1099511628211ULL;
    for (size_t i = 0; i < n; i++)
        for (const unsigned char *p = (const unsigned char *)items[i];; p++) {
            h = (h ^ *p) * 1099511628211ULL; /* the NUL too: "ab","c" is not "a","bc" */
            if (*p == '\0')
                break;
        }
    return h;
}

/* A playlist channel's loop, built or from the cache; the caller releases it. */
static loop_t *loop_get(sqlite3 *db, const char *number, char *const *items, size_t n_items,
                        double epoch)
{
    uint64_t key = loop_key(epoch, items, n_items);
    double now = clock_monotonic();
    for (loop_cache_t **pp = &loop_cache; *pp != NULL;) {
        loop_cache_t *e = *pp;
        if (e->db == db && strcmp(e->number, number) == 0 && e->key == key &&
            now - e->built_at < LOOP_TTL) {
            e->loop->refs++;
            return e->loop;
        }
        if ((e->db == db && strcmp(e->number, number) == 0) || now - e->built_at >= LOOP_TTL) {
            *pp = e->next; /* stale, or a channel gone from the configuration */
            loop_release(e->loop);
            free(e->number);
            free(e);
            continue;
        }
        pp = &e->next;
    }
    int complete;
    loop_t *l = loop_build(db, items, n_items, epoch, &complete);
    if (l != NULL && complete) {
        loop_cache_t *e = xcalloc(1, sizeof(*e));
        e->number = xstrdup(number);
        e->db = db;
        e->key = key;
        e->built_at = now;
        e->loop = l;
        l->refs++;
        e->next = loop_cache;
        loop_cache = e;
    }
    return l;
}

static double group_start(const loop_t *l, size_t g, long long j)
{
    return l->origin + (double)j * l->cycle + l->groups[g].off;
}

static void group_next(const loop_t *l, size_t *g, long long *j)
{
    if (++*g == l->n_groups) {
        *g = 0;
        ++*j;
    }
}

/* The group airing at t (cycle j, group g). */
static void group_at(const loop_t *l, double t, size_t *g, long long *j)
{
    long long c = (long long)floor((t - l->origin) / l->cycle);
    double into = t - (l->origin + (double)c * l->cycle);
    if (into >= l->cycle - EPS) {
        c++;
        into = t - (l->origin + (double)c * l->cycle);
    }
    size_t lo = 0, hi = l->n_groups; /* the last group with off <= into */
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (l->groups[mid].off <= into + EPS)
            lo = mid;
        else
            hi = mid;
    }
    *g = lo;
    *j = c;
}

/* A group as a programme: described by its main item when that is most of it (a
   show with its commercials), else named for the channel with its items listed: two
   music videos of about the same length are not one video. */
static void group_programme(sqlite3 *db, const loop_t *l, size_t g, double start, double stop,
                            const char *channel_name, xmltv_programme_t *p)
{
    const loop_group_t *gr = &l->groups[g];
    size_t main = gr->first;
    double total = 0;
    int one_item = 1; /* a short file looping on its own is still that file */
    for (size_t u = gr->first; u < gr->first + gr->n; u++) {
        total += l->units[u].dur;
        if (l->units[u].dur > l->units[main].dur)
            main = u;
        one_item = one_item && l->units[u].item == l->units[gr->first].item;
    }
    memset(p, 0, sizeof(*p));
    if (one_item || l->units[main].dur > MAIN_SHARE * total) {
        program_facts_t f = {.kind = KIND_PLAYLIST,
                             .path = l->paths[l->units[main].item],
                             .channel_name = channel_name,
                             .db = db};
        describe(&f, p);
    } else {
        p->kind = KIND_PLAYLIST;
        p->title = xstrdup(channel_name);
        /* The first few distinct items, in order. */
        size_t named[LIST_MAX], n_named = 0;
        int more = 0;
        strbuf_t sb;
        strbuf_init(&sb);
        for (size_t u = gr->first; u < gr->first + gr->n; u++) {
            size_t item = l->units[u].item, k = 0;
            while (k < n_named && named[k] != item)
                k++;
            if (k < n_named)
                continue;
            if (n_named == LIST_MAX) {
                more = 1;
                break;
            }
            if (n_named > 0)
                strbuf_puts(&sb, ", ");
            strbuf_puts(&sb, l->titles[item]);
            named[n_named++] = item;
        }
        strbuf_puts(&sb, more ? " and more." : ".");
        p->desc = strbuf_steal(&sb);
    }
    p->start = start;
    p->stop = stop;
}

/* ---------------------------------------------------------------- one programme */

static int series_cmp(const void *a, const void *b)
{
    return strcmp(((const series_meta_t *)a)->name, ((const series_meta_t *)b)->name);
}

int xmltv_programme_at(sqlite3 *db, const config_t *cfg, const channel_conf_t *conf, double t,
                       xmltv_programme_t *out)
{
    memset(out, 0, sizeof(*out));
    if (conf->schedule != NULL) {
        sched_slot_t *slots = NULL;
        size_t n = 0;
        sched_ms_t ms = llround(t * 1000.0);
        if (schedule_coarse_range(db, conf->number, ms, ms + 1, &slots, &n) != 0)
            return -EIO;
        if (n == 0)
            return -ENOENT;
        const sched_set_t *set = NULL;
        if (slots[0].series != NULL && cfg->library != NULL)
            set = sched_set_find(cfg->library->series, cfg->library->n_series, slots[0].series);
        series_meta_t meta = {0};
        if (set != NULL)
            meta = (series_meta_t){.name = set->name, .title = set->title,
                                   .rating = set->rating, .genre = set->genre};
        slot_programme(db, &slots[0], set ? &meta : NULL, conf->name, out);
        schedule_slots_free(slots, n);
        return 0;
    }
    loop_t *l = loop_get(db, conf->number, conf->items, conf->n_items, conf->epoch);
    if (l == NULL)
        return -ENOENT;
    size_t g, ng;
    long long j, nj;
    group_at(l, t, &g, &j);
    ng = g;
    nj = j;
    group_next(l, &ng, &nj);
    group_programme(db, l, g, group_start(l, g, j), group_start(l, ng, nj), conf->name, out);
    loop_release(l);
    return 0;
}

/* ---------------------------------------------------------------- the document */

typedef struct guide_channel {
    char *number, *name, *call_sign;
    char id[XMLTV_ID_MAX];
    int has_logo;
    int scheduled;
    char **items;        /* playlist */
    size_t n_items;
    double epoch;
    int started;
    double cursor, end;  /* the next channel-day starts at cursor; the horizon */
    sched_ms_t last_stop; /* schedule: where the last programme written ends */
    sched_slot_t *slots; /* schedule: coarse entries read ahead, the next at next_slot */
    size_t n_slots, next_slot;
    double fetched;      /* schedule: read up to here */
    loop_t *loop;        /* playlist: built at the channel's first day */
    size_t g;            /* playlist: the next group to write */
    long long j;
} guide_channel_t;

struct xmltv_guide {
    sqlite3 *db;
    sqlite3 *meta_db;    /* db when the catalog holds any metadata, else NULL (no lookups) */
    char *base_url;
    double now, from, playlist_end;
    series_meta_t *series; /* sorted by name */
    size_t n_series;
    guide_channel_t *channels;
    size_t n_channels;
    size_t at;           /* the channel being written */
    int stage;           /* 0 head, 1 programmes, 2 tail, 3 done */
};

/* Whether any asset has sidecar or Plex metadata; without any, a big guide skips a
   lookup per programme. */
static int catalog_has_metadata(sqlite3 *db)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT EXISTS (SELECT 1 FROM asset_meta)", -1, &st, NULL) !=
        SQLITE_OK)
        return 0;
    int yes = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return yes;
}

xmltv_guide_t *xmltv_guide_new(sqlite3 *db, const config_t *cfg, const char *base_url, double now)
{
    xmltv_guide_t *g = xcalloc(1, sizeof(*g));
    g->db = db;
    g->meta_db = catalog_has_metadata(db) ? db : NULL;
    g->base_url = xstrdup(base_url ? base_url : "");
    g->now = now;
    g->from = now - LOOKBACK;
    int days = PLAYLIST_DAYS;
    for (size_t i = 0; i < cfg->n_channels; i++)
        if (cfg->channels[i].schedule != NULL && cfg->channels[i].schedule->days_ahead > days)
            days = cfg->channels[i].schedule->days_ahead;
    g->playlist_end = now + days * DAY;
    const sched_library_t *lib = cfg->library;
    if (lib != NULL && lib->n_series > 0) {
        g->series = xcalloc(lib->n_series, sizeof(*g->series));
        for (size_t i = 0; i < lib->n_series; i++) {
            const sched_set_t *s = lib->series[i];
            g->series[i] = (series_meta_t){.name = xstrdup(s->name), .title = xstrdup(s->title),
                                           .rating = xstrdup(s->rating),
                                           .genre = xstrdup(s->genre)};
        }
        g->n_series = lib->n_series;
        qsort(g->series, g->n_series, sizeof(*g->series), series_cmp);
    }
    g->n_channels = cfg->n_channels;
    g->channels = xcalloc(cfg->n_channels ? cfg->n_channels : 1, sizeof(*g->channels));
    for (size_t i = 0; i < cfg->n_channels; i++) {
        const channel_conf_t *c = &cfg->channels[i];
        guide_channel_t *gc = &g->channels[i];
        gc->number = xstrdup(c->number);
        gc->name = xstrdup(c->name);
        gc->call_sign = xstrdup(c->call_sign);
        xmltv_channel_id(c->number, gc->id, sizeof(gc->id));
        gc->has_logo = c->logo != NULL;
        gc->scheduled = c->schedule != NULL;
        gc->epoch = c->epoch;
        if (!gc->scheduled) {
            gc->n_items = c->n_items;
            gc->items = xcalloc(c->n_items ? c->n_items : 1, sizeof(char *));
            for (size_t k = 0; k < c->n_items; k++)
                gc->items[k] = xstrdup(c->items[k]);
        }
    }
    return g;
}

void xmltv_guide_free(xmltv_guide_t *g)
{
    if (g == NULL)
        return;
    for (size_t i = 0; i < g->n_series; i++) {
        free(g->series[i].name);
        free(g->series[i].title);
        free(g->series[i].rating);
        free(g->series[i].genre);
    }
    free(g->series);
    for (size_t i = 0; i < g->n_channels; i++) {
        guide_channel_t *c = &g->channels[i];
        free(c->number);
        free(c->name);
        free(c->call_sign);
        for (size_t k = 0; k < c->n_items; k++)
            free(c->items[k]);
        free(c->items);
        loop_release(c->loop);
        schedule_slots_free(c->slots, c->n_slots);
    }
    free(g->channels);
    free(g->base_url);
    free(g);
}

static void element(strbuf_t *out, const char *name, const char *text)
{
    if (text == NULL || text[0] == '\0')
        return;
    size_t n = strlen(name);
    strbuf_append(out, "    <", 5);
    strbuf_append(out, name, n);
    strbuf_append(out, ">", 1);
    strbuf_put_xml(out, text);
    strbuf_append(out, "</", 2);
    strbuf_append(out, name, n);
    strbuf_append(out, ">\n", 2);
}

static void put_head(xmltv_guide_t *g, strbuf_t *out)
{
    char date[32];
    xmltv_format_time(whole_seconds(g->now), 0, date, sizeof(date));
    strbuf_printf(out,
                  "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                  "<!DOCTYPE tv SYSTEM \"xmltv.dtd\">\n"
                  "<tv date=\"%s\" source-info-name=\"Retrovue\" generator-info-name=\"Retrovue\">\n",
                  date);
    /* Plex and Kodi match the guide to the lineup by these names, so every form a
       lineup may use is listed: name, number, "number name", call sign. */
    for (size_t i = 0; i < g->n_channels; i++) {
        const guide_channel_t *c = &g->channels[i];
        strbuf_puts(out, "  <channel id=\"");
        strbuf_put_xml(out, c->id);
        strbuf_puts(out, "\">\n");
        element(out, "display-name", c->name);
        element(out, "display-name", c->number);
        char *both = xasprintf("%s %s", c->number, c->name);
        element(out, "display-name", both);
        free(both);
        element(out, "display-name", c->call_sign);
        if (c->has_logo) {
            strbuf_puts(out, "    <icon src=\"");
            strbuf_put_xml(out, g->base_url);
            strbuf_puts(out, "/logos/");
            strbuf_put_xml(out, c->number);
            strbuf_puts(out, "\"/>\n");
        }
        strbuf_puts(out, "  </channel>\n");
    }
}

static void put_programme(strbuf_t *out, const char *id, const xmltv_programme_t *p)
{
    long long a = whole_seconds(p->start), b = whole_seconds(p->stop);
    if (b <= a)
        return;
    char start[32], stop[32];
    xmltv_format_time(a, 0, start, sizeof(start));
    xmltv_format_time(b, 0, stop, sizeof(stop));
    strbuf_puts(out, "  <programme start=\"");
    strbuf_puts(out, start);
    strbuf_puts(out, "\" stop=\"");
    strbuf_puts(out, stop);
    strbuf_puts(out, "\" channel=\"");
    strbuf_put_xml(out, id);
    strbuf_puts(out, "\">\n");
    element(out, "title", p->title);
    element(out, "sub-title", p->sub_title);
    element(out, "desc", p->desc);
    element(out, "date", p->date);
    for (size_t i = 0; i < RV_ARRAY_SIZE(p->categories); i++)
        element(out, "category", p->categories[i]);
    if (p->icon != NULL) {
        strbuf_puts(out, "    <icon src=\"");
        strbuf_put_xml(out, p->icon);
        strbuf_puts(out, "\"/>\n");
    }
    if (p->season > 0 || p->episode > 0) {
        char ns[32];
        xmltv_episode_ns(p->season, p->episode, ns, sizeof(ns));
        strbuf_puts(out, "    <episode-num system=\"xmltv_ns\">");
        strbuf_puts(out, ns);
        strbuf_puts(out, "</episode-num>\n");
        if (p->season > 0 && p->episode > 0) {
            snprintf(ns, sizeof(ns), "S%02dE%02d", p->season, p->episode);
            strbuf_puts(out, "    <episode-num system=\"onscreen\">");
            strbuf_puts(out, ns);
            strbuf_puts(out, "</episode-num>\n");
        }
    }
    if (p->previously_shown)
        strbuf_puts(out, "    <previously-shown/>\n");
    if (p->is_new)
        strbuf_puts(out, "    <new/>\n");
    if (p->rating != NULL) {
        strbuf_puts(out, "    <rating");
        if (p->rating_system != NULL) {
            strbuf_puts(out, " system=\"");
            strbuf_put_xml(out, p->rating_system);
            strbuf_puts(out, "\"");
        }
        strbuf_puts(out, "><value>");
        strbuf_put_xml(out, p->rating);
        strbuf_puts(out, "</value></rating>\n");
    }
    strbuf_puts(out, "  </programme>\n");
}

static const series_meta_t *find_series(const xmltv_guide_t *g, const char *name)
{
    if (name == NULL || g->n_series == 0)
        return NULL;
    series_meta_t key = {.name = (char *)name};
    return bsearch(&key, g->series, g->n_series, sizeof(*g->series), series_cmp);
}

static sched_ms_t to_ms(double t)
{
    return llround(t * 1000.0);
}

/* One day of a schedule's programmes. A programme belongs to the day it starts in;
   one that starts before the end of the last one written is skipped, so a schedule
   rebuilt while the guide is being sent never makes programmes overlap. The coarse
   log is read a week at a time: a query per day cost more than writing the day. */
static int schedule_day(xmltv_guide_t *g, guide_channel_t *c, strbuf_t *out)
{
    if (!c->started) {
        c->started = 1;
        c->cursor = c->fetched = g->from;
        c->end = (double)schedule_built_until(g->db, c->number) / 1000.0;
        c->last_stop = INT64_MIN;
    }
    if (c->cursor >= c->end)
        return 0;
    double until = fmin(c->cursor + DAY, c->end);
    for (;;) {
        if (c->next_slot == c->n_slots) {
            if (c->fetched >= until)
                break;
            schedule_slots_free(c->slots, c->n_slots);
            c->slots = NULL;
            c->n_slots = c->next_slot = 0;
            double to = fmin(c->fetched + FETCH_DAYS * DAY, c->end);
            if (schedule_coarse_range(g->db, c->number, to_ms(c->fetched), to_ms(to), &c->slots,
                                      &c->n_slots) != 0)
                log_warn(c->number, "guide: unable to read the coarse log");
            c->fetched = to;
            continue;
        }
        const sched_slot_t *s = &c->slots[c->next_slot];
        if (s->start >= to_ms(until))
            break;
        c->next_slot++;
        if (s->start < c->last_stop || s->end <= s->start)
            continue;
        xmltv_programme_t p;
        slot_programme(g->meta_db, s, find_series(g, s->series), c->name, &p);
        put_programme(out, c->id, &p);
        xmltv_programme_dispose(&p);
        c->last_stop = s->end;
    }
    c->cursor = until;
    if (c->cursor < c->end)
        return 1;
    schedule_slots_free(c->slots, c->n_slots);
    c->slots = NULL;
    c->n_slots = c->next_slot = 0;
    return 0;
}

/* One day of a playlist's programmes: the groups that start in it. */
static int playlist_day(xmltv_guide_t *g, guide_channel_t *c, strbuf_t *out)
{
    if (!c->started) {
        c->started = 1;
        c->loop = loop_get(g->db, c->number, c->items, c->n_items, c->epoch);
        c->cursor = g->from;
        c->end = g->playlist_end;
        if (c->loop != NULL)
            group_at(c->loop, g->from, &c->g, &c->j);
    }
    if (c->loop == NULL || c->cursor >= c->end)
        return 0;
    double until = fmin(c->cursor + DAY, c->end);
    for (;;) {
        double start = group_start(c->loop, c->g, c->j);
        if (start >= until)
            break;
        size_t ng = c->g;
        long long nj = c->j;
        group_next(c->loop, &ng, &nj);
        xmltv_programme_t p;
        group_programme(g->meta_db, c->loop, c->g, start, group_start(c->loop, ng, nj), c->name,
                        &p);
        put_programme(out, c->id, &p);
        xmltv_programme_dispose(&p);
        c->g = ng;
        c->j = nj;
    }
    c->cursor = until;
    if (c->cursor < c->end)
        return 1;
    loop_release(c->loop);
    c->loop = NULL;
    return 0;
}

int xmltv_guide_next(xmltv_guide_t *g, strbuf_t *out)
{
    switch (g->stage) {
    case 0:
        put_head(g, out);
        g->stage = 1;
        return 1;
    case 1:
        if (g->at < g->n_channels) {
            guide_channel_t *c = &g->channels[g->at];
            int more = c->scheduled ? schedule_day(g, c, out) : playlist_day(g, c, out);
            if (!more)
                g->at++;
            return 1;
        }
        g->stage = 2;
        /* fall through */
    case 2:
        strbuf_puts(out, "</tv>\n");
        g->stage = 3;
        return 0;
    default:
        return 0;
    }
}

int xmltv_write(sqlite3 *db, const config_t *cfg, const char *base_url, double now,
                int (*emit)(void *arg, const char *data, size_t len), void *arg)
{
    xmltv_guide_t *g = xmltv_guide_new(db, cfg, base_url, now);
    strbuf_t sb;
    strbuf_init(&sb);
    int more = 1, rc = 0;
    while (more && rc == 0) {
        sb.len = 0;
        more = xmltv_guide_next(g, &sb);
        if (sb.len > 0)
            rc = emit(arg, sb.data, sb.len);
    }
    strbuf_dispose(&sb);
    xmltv_guide_free(g);
    return rc;
}

/* ---------------------------------------------------------------- HTTP */

/* One guide being sent: one h2o_send in flight, its bytes in buf until proceed. */
typedef struct guide_stream {
    h2o_generator_t gen; /* first: h2o hands this pointer back */
    h2o_req_t *req;
    xmltv_guide_t *guide;
    strbuf_t buf;
    int more;
    size_t sent;
} guide_stream_t;

static void guide_stream_free(guide_stream_t *s)
{
    xmltv_guide_free(s->guide);
    strbuf_dispose(&s->buf);
    free(s);
}

static void send_next(guide_stream_t *s)
{
    s->buf.len = 0;
    while (s->more && s->buf.len < SEND_MIN)
        s->more = xmltv_guide_next(s->guide, &s->buf);
    if (s->buf.len == 0) {
        h2o_req_t *req = s->req;
        guide_stream_free(s);
        h2o_send(req, NULL, 0, H2O_SEND_STATE_FINAL);
        return;
    }
    s->sent += s->buf.len;
    h2o_iovec_t vec = h2o_iovec_init(s->buf.data, s->buf.len);
    h2o_send(s->req, &vec, 1, H2O_SEND_STATE_IN_PROGRESS);
}

static void on_proceed(h2o_generator_t *gen, h2o_req_t *req)
{
    send_next((guide_stream_t *)gen);
}

static void on_stop(h2o_generator_t *gen, h2o_req_t *req)
{
    guide_stream_t *s = (guide_stream_t *)gen;
    log_debug(NULL, "guide: the client left after %zu bytes", s->sent);
    guide_stream_free(s);
}

void xmltv_serve(h2o_req_t *req, station_t *st)
{
    const config_t *cfg = station_config(st);
    req->res.status = 200;
    req->res.reason = "OK";
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
                   H2O_STRLIT("application/xml; charset=utf-8"));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL,
                   H2O_STRLIT("no-cache"));
    if (h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD"))) {
        h2o_send_inline(req, "", 0);
        return;
    }
    guide_stream_t *s = xcalloc(1, sizeof(*s));
    s->gen.proceed = on_proceed;
    s->gen.stop = on_stop;
    s->req = req;
    s->guide = xmltv_guide_new(station_db(st), cfg, reply_base_url(req, cfg->base_url), clock_now());
    s->more = 1;
    strbuf_init(&s->buf);
    h2o_start_response(req, &s->gen);
    send_next(s);
}
