/*
 * Tests for the schedule engine with synthetic assets (no media, no ffprobe): 7 days of
 * logs checked for exact slot sums, clock-aligned slots, no gaps or overlaps, no repeat
 * within a break; DST days; rotation across a restart; rebuild after an edit; golden day.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "db.h"
#include "schedule.h"
#include "tz.h"
#include "util.h"

#define MIN 60000LL
#define DAY 86400000LL

static char tmpdir[] = "/tmp/rv-test-schedule-XXXXXX";

/* ---- a synthetic library ---- */

static sched_library_t *lib;

static void add_files(sched_set_t *set, const char *fmt, int n, sched_ms_t dur,
                      enum sched_asset_kind kind, int promo)
{
    for (int i = 1; i <= n; i++) {
        char *p = xasprintf(fmt, i);
        sched_asset_t *a = sched_library_asset(lib, p, kind);
        a->duration = dur + (sched_ms_t)i * 1001; /* lengths differ a little, like real ones */
        sched_set_push(set, a, promo);
        free(p);
    }
}

static const sched_set_t *S(const char *name)
{
    const sched_set_t *s = sched_set_find(lib->series, lib->n_series, name);
    if (s == NULL)
        s = sched_set_find(lib->pools, lib->n_pools, name);
    if (s == NULL)
        s = sched_set_find(lib->collections, lib->n_collections, name);
    return s;
}

static void make_library(void)
{
    lib = sched_library_new();
    /* All sets first: pointers into the arrays are taken only after the last add. */
    sched_set_t *nebula = sched_set_add(&lib->series, &lib->n_series, "nebula-patrol");
    sched_set_t *racers = sched_set_add(&lib->series, &lib->n_series, "retro-racers");
    sched_set_t *carol = sched_set_add(&lib->series, &lib->n_series, "cooking-with-carol");
    add_files(nebula, "/media/shows/nebula-patrol-s01e%02d.ts", 6, 22 * MIN, SCHED_ASSET_EPISODE, 0);
    add_files(nebula, "/media/promos/nebula-patrol-promo%d.ts", 1, 10000, SCHED_ASSET_CLIP, 1);
    add_files(racers, "/media/shows/retro-racers-s01e%02d.ts", 4, 23 * MIN, SCHED_ASSET_EPISODE, 0);
    add_files(carol, "/media/shows/cooking-with-carol-s01e%02d.ts", 5, 47 * MIN, SCHED_ASSET_EPISODE, 0);
    sched_set_t *movies = sched_set_add(&lib->collections, &lib->n_collections, "movies");
    add_files(movies, "/media/movies/movie-%d.ts", 3, 95 * MIN, SCHED_ASSET_MOVIE, 0);
    const char *pools[] = {"ads", "right-back", "back-to", "ids", "next", "filler", "bars", "signoff"};
    sched_set_t *p[8];
    for (int i = 0; i < 8; i++)
        p[i] = sched_set_add(&lib->pools, &lib->n_pools, pools[i]);
    add_files(p[0], "/media/ads/ad30-%d.ts", 6, 30030 - 1001, SCHED_ASSET_CLIP, 0);
    add_files(p[0], "/media/ads/ad15-%d.ts", 3, 16016 - 1001, SCHED_ASSET_CLIP, 0);
    add_files(p[1], "/media/bumpers/right-back-%d.ts", 1, 5005, SCHED_ASSET_CLIP, 0);
    add_files(p[2], "/media/bumpers/back-to-show-%d.ts", 1, 5005, SCHED_ASSET_CLIP, 0);
    add_files(p[3], "/media/ids/retrovue-id-%d.ts", 1, 9009, SCHED_ASSET_CLIP, 0);
    add_files(p[4], "/media/bumpers/coming-up-next-%d.ts", 1, 5005, SCHED_ASSET_CLIP, 0);
    add_files(p[5], "/media/filler/color-bars-%d.ts", 1, 9009, SCHED_ASSET_CLIP, 0);
    add_files(p[6], "/media/filler/test-pattern-%d.ts", 1, 59059, SCHED_ASSET_CLIP, 0);
    add_files(p[7], "/media/ids/sign-off-%d.ts", 1, 29029, SCHED_ASSET_CLIP, 0);
}

static sched_block_t series_block(unsigned days, int start, int end, const char *name,
                                  enum sched_order order, const char *s1, const char *s2)
{
    sched_block_t b = {.days = days, .start_min = start, .end_min = end, .slot = 30 * MIN,
                       .fill = SCHED_FILL_SERIES, .order = order};
    b.name = name ? xstrdup(name) : NULL;
    b.series = xcalloc(2, sizeof(*b.series));
    b.series[b.n_series++] = S(s1);
    if (s2)
        b.series[b.n_series++] = S(s2);
    return b;
}

/* The test channel: every kind of block, a Saturday block and a one-day override. */
static sched_channel_t *make_channel(const char *number, const char *zone, int variant)
{
    sched_channel_t *ch = xcalloc(1, sizeof(*ch));
    ch->channel = xstrdup(number);
    ch->library = lib;
    CHECK(tz_load(zone, &ch->tz) == 0);
    ch->seed = 7;
    ch->days_ahead = 3;
    ch->gop = 2002;
    ch->fingerprint = 1000 + (uint64_t)variant;
    ch->breaks = (sched_breaks_t){.commercials = S("ads"), .bumper_out = S("right-back"),
                                  .bumper_in = S("back-to"), .station_id = S("ids"),
                                  .promo = S("next"), .filler = S("filler"), .per_half_hour = 2};
    ch->blocks = xcalloc(8, sizeof(*ch->blocks));
    sched_block_t *b = ch->blocks;
    b[ch->n_blocks++] = (sched_block_t){.days = 0x7F, .start_min = 0, .end_min = 6 * 60,
                                        .slot = 30 * MIN, .fill = SCHED_FILL_OFF_AIR,
                                        .sign_off = S("signoff"), .pattern = S("bars")};
    b[ch->n_blocks++] = series_block(0x7F, 6 * 60, 20 * 60, NULL, SCHED_ORDER_SEQUENTIAL,
                                     variant ? "retro-racers" : "nebula-patrol", "retro-racers");
    b[ch->n_blocks++] = series_block(1u << 5, 8 * 60, 10 * 60, "Saturday Cartoons",
                                     SCHED_ORDER_SHUFFLE, "retro-racers", "nebula-patrol");
    b[ch->n_blocks++] = series_block(0x1F, 12 * 60, 14 * 60, NULL, SCHED_ORDER_SEQUENTIAL,
                                     "cooking-with-carol", NULL);
    sched_block_t mv = {.days = 0x7F, .start_min = 20 * 60, .end_min = 24 * 60, .slot = 30 * MIN,
                        .fill = SCHED_FILL_MOVIES, .order = SCHED_ORDER_RANDOM,
                        .round_up = 30 * MIN};
    const sched_set_t *movies = S("movies");
    mv.movies = xcalloc(movies->n_assets, sizeof(*mv.movies));
    for (size_t i = 0; i < movies->n_assets; i++)
        mv.movies[mv.n_movies++] = movies->assets[i];
    mv.movies_key = xstrdup("collection:movies");
    b[ch->n_blocks++] = mv;
    /* A marathon on 2026-03-10 evening wins over the template. */
    ch->overrides = xcalloc(1, sizeof(*ch->overrides));
    ch->overrides[0].day = tz_days_from_civil(2026, 3, 10);
    ch->overrides[0].blocks = xcalloc(1, sizeof(sched_block_t));
    ch->overrides[0].blocks[0] = series_block(0, 18 * 60, 22 * 60 + 15, "Nebula Marathon",
                                              SCHED_ORDER_SEQUENTIAL, "nebula-patrol", NULL);
    ch->overrides[0].n_blocks = 1;
    ch->n_overrides = 1;
    return ch;
}

static sqlite3 *open_db(const char *name)
{
    char *path = xasprintf("%s/%s", tmpdir, name);
    sqlite3 *db = NULL;
    CHECK(db_open(path, &db) == 0);
    free(path);
    return db;
}

static sched_ms_t utc(int y, int m, int d, int hh, int mm)
{
    return (tz_days_from_civil(y, m, d) * 86400 + hh * 3600 + mm * 60) * 1000LL;
}

/* ---- invariants ---- */

static int is_kind(const char *k, const char *want)
{
    return k != NULL && strcmp(k, want) == 0;
}

/* Checks [a, b) of a channel: coarse entries tile time, each entry's fine items tile it
 * exactly, in/out lengths match, and no commercial repeats within one break. */
static void check_invariants(sqlite3 *db, const sched_channel_t *ch, sched_ms_t a, sched_ms_t b)
{
    sched_slot_t *slots;
    size_t ns;
    CHECK(schedule_coarse_range(db, ch->channel, a, b, &slots, &ns) == 0);
    CHECK(ns > 0);
    size_t bad = 0;
    for (size_t i = 0; i < ns; i++) {
        const sched_slot_t *s = &slots[i];
        if (i > 0 && slots[i - 1].end != s->start)
            bad++;
        /* programs start on the half-hour grid of local time (every test block is 30m) */
        int64_t sec = s->start / 1000;
        int32_t off = tz_utc_offset(ch->tz, sec);
        if ((is_kind(s->kind, "program") || is_kind(s->kind, "movie")) &&
            ((sec + off) % 1800 != 0 || (s->end - s->start) % (30 * MIN) != 0))
            bad++;
        sched_item_t *it;
        size_t ni;
        CHECK(schedule_fine_range(db, ch->channel, s->start, s->end, &it, &ni) == 0);
        sched_ms_t t = s->start, sum = 0;
        for (size_t j = 0; j < ni; j++) {
            if (it[j].start != t || it[j].end <= it[j].start ||
                it[j].outpoint - it[j].inpoint != it[j].end - it[j].start ||
                it[j].slot_start != s->start)
                bad++;
            sum += it[j].end - it[j].start;
            t = it[j].end;
            if (is_kind(it[j].kind, "commercial"))
                for (size_t k = j + 1; k < ni && is_kind(it[k].kind, "commercial"); k++)
                    if (strcmp(it[j].path, it[k].path) == 0)
                        bad++;
        }
        if (t != s->end || sum != s->end - s->start)
            bad++;
        if (bad) {
            fprintf(stderr, "invariant broken in entry %zu (%s %lld..%lld)\n", i, s->kind,
                    (long long)s->start, (long long)s->end);
            schedule_items_free(it, ni);
            break;
        }
        schedule_items_free(it, ni);
    }
    CHECK(bad == 0);
    schedule_slots_free(slots, ns);
}

/* "program" entries of one series in order, as episode numbers. */
static size_t episodes(sqlite3 *db, const char *channel, const char *series, sched_ms_t a,
                       sched_ms_t b, int *out, size_t max)
{
    sched_slot_t *slots;
    size_t ns, n = 0;
    CHECK(schedule_coarse_range(db, channel, a, b, &slots, &ns) == 0);
    for (size_t i = 0; i < ns && n < max; i++)
        if (slots[i].series && strcmp(slots[i].series, series) == 0 &&
            (slots[i].block == NULL || strcmp(slots[i].block, "Saturday Cartoons") != 0))
            out[n++] = slots[i].episode;
    schedule_slots_free(slots, ns);
    return n;
}

/* ---- tests ---- */

static void test_tz(void)
{
    tz_t *ny;
    CHECK(tz_load("America/New_York", &ny) == 0);
    CHECK(tz_load("No/Such_Zone", &(tz_t *){NULL}) != 0);
    CHECK(tz_name_valid("Europe/Berlin"));
    CHECK(!tz_name_valid("../etc/passwd"));
    CHECK(!tz_name_valid("Mars/Olympus"));
    /* 2026-03-08: 02:00 EST -> 03:00 EDT (07:00 UTC). */
    int64_t d = tz_days_from_civil(2026, 3, 8) * 86400;
    CHECK(tz_local_to_utc(ny, d + 1 * 3600) == d + 6 * 3600);
    CHECK(tz_local_to_utc(ny, d + 2 * 3600 + 1800) == d + 7 * 3600); /* in the gap */
    CHECK(tz_local_to_utc(ny, d + 3 * 3600) == d + 7 * 3600);
    CHECK(tz_local_to_utc(ny, d + 86400) - tz_local_to_utc(ny, d) == 23 * 3600);
    /* 2026-11-01: 01:30 happens twice; the first (EDT) wins. */
    int64_t f = tz_days_from_civil(2026, 11, 1) * 86400;
    CHECK(tz_local_to_utc(ny, f + 5400) == f + 5400 + 4 * 3600);
    CHECK(tz_local_to_utc(ny, f + 86400) - tz_local_to_utc(ny, f) == 25 * 3600);
    /* Far beyond the file's table, the POSIX rule takes over. */
    int64_t y2100 = tz_days_from_civil(2100, 7, 1) * 86400;
    CHECK(tz_utc_offset(ny, y2100) == -4 * 3600);
    CHECK(tz_utc_offset(ny, tz_days_from_civil(2100, 1, 1) * 86400) == -5 * 3600);
    CHECK(tz_weekday(tz_days_from_civil(2026, 3, 9)) == 0); /* a Monday */
    tz_free(ny);
    tz_t *kol;
    CHECK(tz_load("Asia/Kolkata", &kol) == 0);
    CHECK(tz_utc_offset(kol, 1767225600) == 19800);
    tz_free(kol);
}

static void test_week_invariants(void)
{
    sqlite3 *db = open_db("week.db");
    sched_channel_t *ch = make_channel("7", "America/New_York", 0);
    sched_ms_t now = utc(2026, 3, 5, 17, 0); /* noon in New York, a Thursday */
    CHECK(schedule_extend(db, ch, now, 7) == 0);
    sched_ms_t a = utc(2026, 3, 5, 5, 0), b = now + 7 * DAY;
    check_invariants(db, ch, a, b);
    CHECK(schedule_built_until(db, "7") >= b);
    /* the marathon override: 18:00-22:15 on 2026-03-10 (EDT), nebula only */
    sched_slot_t *slots;
    size_t ns;
    CHECK(schedule_coarse_range(db, "7", utc(2026, 3, 10, 22, 0), utc(2026, 3, 11, 2, 15), &slots,
                                &ns) == 0);
    CHECK(ns >= 8);
    for (size_t i = 0; i < ns; i++) {
        CHECK(slots[i].block && strcmp(slots[i].block, "Nebula Marathon") == 0);
        CHECK(slots[i].series == NULL || strcmp(slots[i].series, "nebula-patrol") == 0);
    }
    schedule_slots_free(slots, ns);
    /* 22:15-22:30 is filler back to the template's half-hour grid, then a movie. */
    CHECK(schedule_coarse_range(db, "7", utc(2026, 3, 11, 2, 15), utc(2026, 3, 11, 2, 31), &slots,
                                &ns) == 0);
    CHECK(ns == 2);
    if (ns == 2) {
        CHECK_STR(slots[0].kind, "fill");
        CHECK(slots[1].start == utc(2026, 3, 11, 2, 30));
        CHECK_STR(slots[1].kind, "fill"); /* a 95-minute movie does not fit in 90 minutes */
    }
    schedule_slots_free(slots, ns);
    /* movies take 2 hours (95-98 minutes rounded up to the half hour) */
    CHECK(schedule_coarse_range(db, "7", utc(2026, 3, 6, 1, 0), utc(2026, 3, 6, 1, 1), &slots,
                                &ns) == 0);
    CHECK(ns == 1 && strcmp(slots[0].kind, "movie") == 0 &&
          slots[0].end - slots[0].start == 120 * MIN);
    schedule_slots_free(slots, ns);
    /* sequential order holds across the whole week */
    int eps[400];
    size_t n = episodes(db, "7", "nebula-patrol", a, b, eps, 400);
    CHECK(n > 30);
    for (size_t i = 1; i < n; i++)
        CHECK(eps[i] == eps[i - 1] % 6 + 1);
    /* the station ID opens each top-of-hour program slot */
    sched_item_t item;
    CHECK(schedule_item_at(db, ch, utc(2026, 3, 6, 15, 0), NULL, &item) == 0);
    CHECK_STR(item.kind, "id");
    schedule_item_dispose(&item);
    /* a missing file is replaced by filler of the same length */
    CHECK(schedule_item_at(db, ch, utc(2026, 3, 6, 15, 5), NULL, &item) == 0);
    CHECK_STR(item.kind, "program");
    sched_ms_t end = item.end;
    schedule_item_dispose(&item);
    int none(const char *p);
    CHECK(schedule_item_at(db, ch, utc(2026, 3, 6, 15, 5), none, &item) == -ENOENT);
    sched_channel_free(ch);
    db_close(db);
    (void)end;
}

static const char *missing_path;
int none(const char *p)
{
    (void)p;
    return 0;
}
static int all_but_missing(const char *p)
{
    return strcmp(p, missing_path) != 0;
}

static void test_missing_asset(void)
{
    sqlite3 *db = open_db("missing.db");
    sched_channel_t *ch = make_channel("8", "UTC", 0);
    sched_ms_t t0 = utc(2026, 4, 1, 10, 0);
    CHECK(schedule_extend(db, ch, t0, 1) == 0);
    sched_item_t item;
    CHECK(schedule_item_at(db, ch, t0 + 5 * MIN, NULL, &item) == 0);
    CHECK_STR(item.kind, "program");
    missing_path = item.path;
    sched_ms_t item_end = item.end;
    sched_item_t sub;
    CHECK(schedule_item_at(db, ch, t0 + 5 * MIN, all_but_missing, &sub) == 0);
    CHECK(sub.substituted == 1);
    CHECK_STR(sub.kind, "filler");
    CHECK(sub.start == t0 + 5 * MIN);
    CHECK(sub.end > sub.start && sub.end <= item_end);
    CHECK(sub.outpoint - sub.inpoint == sub.end - sub.start);
    /* walking the substitutes reaches exactly the scheduled end */
    sched_ms_t t = sub.end;
    schedule_item_dispose(&sub);
    int guard = 0;
    while (t < item_end && guard++ < 1000) {
        CHECK(schedule_item_at(db, ch, t, all_but_missing, &sub) == 0);
        CHECK(sub.substituted == 1);
        t = sub.end;
        schedule_item_dispose(&sub);
    }
    CHECK(t == item_end);
    schedule_item_dispose(&item);
    sched_channel_free(ch);
    db_close(db);
}

static void test_dst(void)
{
    sqlite3 *db = open_db("dst.db");
    sched_channel_t *ch = make_channel("9", "America/New_York", 0);
    /* one block, all day, half-hour slots of short episodes */
    for (size_t i = 0; i < ch->n_blocks; i++)
        sched_block_dispose(&ch->blocks[i]);
    ch->blocks[0] = series_block(0x7F, 0, 24 * 60, NULL, SCHED_ORDER_SEQUENTIAL, "nebula-patrol",
                                 NULL);
    ch->n_blocks = 1;
    sched_block_dispose(&ch->overrides[0].blocks[0]);
    free(ch->overrides[0].blocks);
    ch->n_overrides = 0;
    const int dates[2][3] = {{2026, 3, 8}, {2026, 11, 1}};
    const size_t want[2] = {46, 50};
    for (int k = 0; k < 2; k++) {
        int64_t day = tz_days_from_civil(dates[k][0], dates[k][1], dates[k][2]);
        sched_ms_t a = tz_local_to_utc(ch->tz, day * 86400) * 1000;
        sched_ms_t b = tz_local_to_utc(ch->tz, (day + 1) * 86400) * 1000;
        CHECK(b - a == (k == 0 ? 23 : 25) * 3600000LL);
        CHECK(schedule_extend(db, ch, a - DAY, 3) == 0);
        sched_slot_t *slots;
        size_t ns;
        CHECK(schedule_coarse_range(db, "9", a, b, &slots, &ns) == 0);
        CHECK(ns == want[k]);
        CHECK(ns > 0 && slots[0].start == a && slots[ns - 1].end == b);
        for (size_t i = 1; i < ns; i++)
            CHECK(slots[i].start == slots[i - 1].end && slots[i].end - slots[i].start == 30 * MIN);
        schedule_slots_free(slots, ns);
        check_invariants(db, ch, a, b);
        strbuf_t sb;
        strbuf_init(&sb);
        char date[16];
        snprintf(date, sizeof(date), "%04d-%02d-%02d", dates[k][0], dates[k][1], dates[k][2]);
        CHECK(schedule_print(db, ch, date, SCHED_PRINT_COARSE, &sb) == 0);
        CHECK_CONTAINS(sb.data, k == 0 ? "03:00:00.000-04:00" : "01:30:00.000-05:00");
        CHECK_CONTAINS(sb.data, k == 0 ? "01:30:00.000-05:00" : "01:30:00.000-04:00");
        strbuf_dispose(&sb);
    }
    sched_channel_free(ch);
    db_close(db);
}

/* Two builds of the same week, one in a single call and one in three calls with the
 * database closed and reopened between them, give identical logs. */
static void dump(sqlite3 *db, const char *channel, sched_ms_t a, sched_ms_t b, strbuf_t *out)
{
    sched_item_t *it;
    size_t n;
    CHECK(schedule_fine_range(db, channel, a, b, &it, &n) == 0);
    for (size_t i = 0; i < n; i++)
        strbuf_printf(out, "%lld %lld %s %s %lld %lld %s\n", (long long)it[i].start,
                      (long long)it[i].end, it[i].kind, it[i].path, (long long)it[i].inpoint,
                      (long long)it[i].outpoint, it[i].title ? it[i].title : "-");
    schedule_items_free(it, n);
}

static void test_restart_and_determinism(void)
{
    sched_ms_t now = utc(2026, 5, 1, 16, 0);
    sqlite3 *one = open_db("one.db");
    sched_channel_t *ch = make_channel("7", "America/New_York", 0);
    CHECK(schedule_extend(one, ch, now, 7) == 0);

    sqlite3 *db = open_db("restart.db");
    CHECK(schedule_extend(db, ch, now, 3) == 0);
    db_close(db);
    db = open_db("restart.db"); /* a restart: rotation comes back from SQLite */
    CHECK(schedule_extend(db, ch, now + DAY + 7 * MIN, 4) == 0);
    db_close(db);
    db = open_db("restart.db");
    CHECK(schedule_extend(db, ch, now + 2 * DAY, 5) == 0);

    sched_ms_t a = utc(2026, 5, 1, 4, 0), b = now + 7 * DAY;
    strbuf_t x, y;
    strbuf_init(&x);
    strbuf_init(&y);
    dump(one, "7", a, b, &x);
    dump(db, "7", a, b, &y);
    CHECK(x.len > 100000);
    CHECK(x.len == y.len && memcmp(x.data, y.data, x.len) == 0);
    int eps[400];
    size_t n = episodes(db, "7", "retro-racers", a, b, eps, 400);
    CHECK(n > 30);
    for (size_t i = 1; i < n; i++)
        CHECK(eps[i] == eps[i - 1] % 4 + 1);
    strbuf_dispose(&x);
    strbuf_dispose(&y);
    check_invariants(db, ch, a, b);
    sched_channel_free(ch);
    db_close(db);
    db_close(one);
}

static void test_rebuild_after_edit(void)
{
    sqlite3 *db = open_db("edit.db");
    sched_channel_t *ch = make_channel("7", "America/New_York", 0);
    sched_ms_t now = utc(2026, 6, 2, 16, 10); /* 12:10 EDT */
    CHECK(schedule_extend(db, ch, now - DAY, 3) == 0);
    strbuf_t before, after;
    strbuf_init(&before);
    strbuf_init(&after);
    sched_slot_t *on;
    size_t n_on;
    CHECK(schedule_coarse_range(db, "7", now, now + 1, &on, &n_on) == 0);
    CHECK(n_on == 1);
    sched_ms_t boundary = n_on == 1 ? on[0].end : now; /* the end of what is on air */
    CHECK(boundary > now);
    schedule_slots_free(on, n_on);
    dump(db, "7", now - DAY, boundary, &before);
    sched_slot_t *old;
    size_t n_old;
    CHECK(schedule_coarse_range(db, "7", boundary, boundary + DAY, &old, &n_old) == 0);

    sched_channel_t *edited = make_channel("7", "America/New_York", 1); /* new fingerprint */
    CHECK(schedule_extend(db, edited, now, 3) == 0); /* notices the edit */
    dump(db, "7", now - DAY, boundary, &after);
    CHECK(before.len == after.len && memcmp(before.data, after.data, before.len) == 0);
    sched_slot_t *neu;
    size_t n_new;
    CHECK(schedule_coarse_range(db, "7", boundary, boundary + DAY, &neu, &n_new) == 0);
    CHECK(n_new > 0 && neu[0].start == boundary);
    int differs = 0;
    for (size_t i = 0; i < n_new && i < n_old; i++)
        differs += strcmp(neu[i].title, old[i].title) != 0;
    CHECK(differs > 0);
    schedule_slots_free(old, n_old);
    schedule_slots_free(neu, n_new);
    check_invariants(db, edited, now - DAY, now + 3 * DAY);
    /* the rolled-back rotation continues the sequence from the boundary */
    int eps[200];
    size_t n = episodes(db, "7", "retro-racers", now - DAY, now + 3 * DAY, eps, 200);
    CHECK(n > 10);
    for (size_t i = 1; i < n; i++)
        CHECK(eps[i] == eps[i - 1] % 4 + 1);
    /* an explicit rebuild with the same template changes nothing after the boundary */
    strbuf_t x, y;
    strbuf_init(&x);
    strbuf_init(&y);
    dump(db, "7", now, now + 2 * DAY, &x);
    CHECK(schedule_rebuild(db, edited, now, 3) == 0);
    dump(db, "7", now, now + 2 * DAY, &y);
    CHECK(x.len == y.len && memcmp(x.data, y.data, x.len) == 0);
    strbuf_dispose(&x);
    strbuf_dispose(&y);
    strbuf_dispose(&before);
    strbuf_dispose(&after);
    sched_channel_free(ch);
    sched_channel_free(edited);
    db_close(db);
}

static void test_golden(void)
{
    sqlite3 *db = open_db("golden.db");
    sched_channel_t *ch = make_channel("7", "America/New_York", 0);
    CHECK(schedule_extend(db, ch, utc(2026, 3, 7, 5, 0), 2) == 0);
    strbuf_t sb;
    strbuf_init(&sb);
    CHECK(schedule_print(db, ch, "2026-03-07", SCHED_PRINT_FINE, &sb) == 0);
    CHECK(schedule_print(db, ch, "2026-03-07", SCHED_PRINT_COARSE, &sb) == 0);
    const char *src = getenv("RETROVUE_SOURCE_DIR");
    char *path = xasprintf("%s/tests/golden/schedule_ch7_2026-03-07.txt", src ? src : ".");
    const char *update = getenv("RETROVUE_UPDATE_GOLDEN");
    if (update != NULL && strcmp(update, "1") == 0) {
        CHECK(util_write_file_atomic(path, sb.data, sb.len) == 0);
        fprintf(stderr, "rewrote %s\n", path);
    } else {
        char *want = NULL;
        size_t len = 0;
        CHECK(util_read_file(path, &want, &len) == 0);
        CHECK(want != NULL && len == sb.len && memcmp(want, sb.data, len) == 0);
        if (want == NULL || len != sb.len || memcmp(want, sb.data, len) != 0)
            fprintf(stderr, "golden mismatch: %s (RETROVUE_UPDATE_GOLDEN=1 rewrites it)\n", path);
        free(want);
    }
    /* JSON output parses and names the items */
    strbuf_t js;
    strbuf_init(&js);
    CHECK(schedule_print(db, ch, "2026-03-07", SCHED_PRINT_FINE | SCHED_PRINT_JSON, &js) == 0);
    CHECK_CONTAINS(js.data, "\"kind\":\t\"commercial\"");
    CHECK(schedule_print(db, ch, "2026-02-30", 0, &js) == -EINVAL);
    strbuf_dispose(&js);
    free(path);
    strbuf_dispose(&sb);
    sched_channel_free(ch);
    db_close(db);
}


/* The example channels (examples/schedule) through the real config loader, with empty
 * stand-in media files and fixture durations: 7 days, every invariant. */
static void touch(const char *root, const char *rel)
{
    char *p = xasprintf("%s/%s", root, rel);
    char *dir = xstrdup(p);
    *strrchr(dir, '/') = '\0';
    CHECK(util_mkdirs(dir, 0755) == 0);
    CHECK(util_write_file_atomic(p, "", 0) == 0);
    free(dir);
    free(p);
}

static void copy_in(const char *src_dir, const char *dst_dir, const char *rel)
{
    char *from = xasprintf("%s/%s", src_dir, rel), *to = xasprintf("%s/%s", dst_dir, rel);
    char *text = NULL;
    size_t len = 0;
    CHECK(util_read_file(from, &text, &len) == 0);
    char *dir = xstrdup(to);
    *strrchr(dir, '/') = '\0';
    CHECK(util_mkdirs(dir, 0755) == 0);
    CHECK(text != NULL && util_write_file_atomic(to, text, len) == 0);
    free(dir);
    free(text);
    free(from);
    free(to);
}

static void test_example_channels(void)
{
    const char *src = getenv("RETROVUE_SOURCE_DIR");
    char *ex = xasprintf("%s/examples/schedule", src ? src : ".");
    char *root = xasprintf("%s/ex", tmpdir);
    char *cfgdir = xasprintf("%s/schedule", root);
    char *media = xasprintf("%s/demo/media", root);
    copy_in(ex, cfgdir, "retrovue.json");
    copy_in(ex, cfgdir, "channels/4.json");
    copy_in(ex, cfgdir, "channels/5.json");
    const char *files[] = {
        "shows/nebula-patrol-s01e01.ts", "shows/nebula-patrol-s01e02.ts",
        "shows/retro-racers-s01e01.ts", "shows/retro-racers-s01e02.ts",
        "shows/cooking-with-carol-s01e01.ts", "shows/cooking-with-carol-s01e02.ts",
        "movies/space-movie.ts", "movies/racing-movie.ts", "ads/super-suds-30.ts",
        "ads/zap-cola-30.ts", "ads/crunchy-os-30.ts", "ads/turbo-tapes-30.ts",
        "ads/glow-gum-15.ts", "ads/rocket-rollers-15.ts", "bumpers/right-back.ts",
        "bumpers/back-to-show.ts", "bumpers/coming-up-next.ts", "ids/retrovue-id.ts",
        "filler/color-bars.ts"};
    for (size_t i = 0; i < RV_ARRAY_SIZE(files); i++)
        touch(media, files[i]);
    strbuf_t errs;
    strbuf_init(&errs);
    config_t *cfg = NULL;
    CHECK(config_load(cfgdir, &cfg, &errs) == 0);
    if (errs.len)
        fputs(errs.data, stderr);
    strbuf_dispose(&errs);
    if (cfg == NULL)
        goto out;
    CHECK(cfg->warnings == NULL);
    CHECK(cfg->library->n_assets == RV_ARRAY_SIZE(files));
    for (size_t i = 0; i < cfg->library->n_assets; i++) {
        sched_asset_t *a = cfg->library->assets[i];
        double d = strstr(a->path, "/shows/") ? 22 * 60 + 0.1 * (double)i
                   : strstr(a->path, "/movies/") ? (strstr(a->path, "space") ? 95 * 60 : 131 * 60)
                   : strstr(a->path, "-30.ts") ? 30.03
                   : strstr(a->path, "-15.ts") ? 16.016
                   : strstr(a->path, "/bumpers/") ? 6.006
                                                  : 10.01;
        sched_library_set_duration(cfg->library, a->path, d, 1.4);
    }
    CHECK(cfg->n_channels == 2);
    sqlite3 *db = open_db("examples.db");
    sched_ms_t now = utc(2026, 12, 22, 15, 0);
    for (size_t i = 0; i < cfg->n_channels; i++) {
        const sched_channel_t *ch = cfg->channels[i].schedule;
        CHECK(ch != NULL && ch->gop == 2002);
        if (ch == NULL)
            continue;
        CHECK(schedule_extend(db, ch, now, 7) == 0);
        check_invariants(db, ch, now - 6 * 3600000LL, now + 7 * DAY);
    }
    /* the Christmas marathon on channel 4 */
    sched_slot_t *slots;
    size_t ns;
    CHECK(schedule_coarse_range(db, "4", utc(2026, 12, 25, 15, 0), utc(2026, 12, 25, 21, 0), &slots,
                                &ns) == 0);
    CHECK(ns == 12);
    for (size_t i = 0; i < ns; i++)
        CHECK(slots[i].series && strcmp(slots[i].series, "nebula-patrol") == 0);
    schedule_slots_free(slots, ns);
    db_close(db);
    config_free(cfg);
out:
    free(ex);
    free(root);
    free(cfgdir);
    free(media);
}

int main(void)
{
    CHECK(mkdtemp(tmpdir) != NULL);
    make_library();
    test_tz();
    test_week_invariants();
    test_missing_asset();
    test_dst();
    test_restart_and_determinism();
    test_rebuild_after_edit();
    test_golden();
    test_example_channels();
    sched_library_free(lib);
    char *cmd = xasprintf("rm -rf %s", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    free(cmd);
    return CHECK_DONE();
}
