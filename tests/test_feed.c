/*
 * Unit tests for the playout loop and the just-in-time feed: what airs at a given
 * clock time, the ffconcat answer (join-in-progress offsets rounded to keyframes,
 * item boundaries, the cursor), and substitution of missing files.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "feed.h"
#include "ffconcat.h"
#include "playout.h"

static const char *missing_path;

static int exists_except(const char *path)
{
    return missing_path == NULL || strcmp(path, missing_path) != 0;
}

/* feed_next over a playout; the previous pick's path is freed first. */
static int pick_next(feed_t *f, playout_t *p, double now, int (*exists)(const char *),
                     feed_pick_t *pick, strbuf_t *sb)
{
    feed_pick_dispose(pick);
    return feed_next(f, feed_source_playout, p, now, exists, pick, sb);
}

static void make_loop(playout_t *p)
{
    /* 100 s, 30 s and 20 s: a 150 s cycle from t = 1000. */
    playout_init(p, 1000);
    CHECK(playout_add(p, "/m/a.ts", 100, 0) == 0);
    CHECK(playout_add(p, "/m/b.ts", 30, 1.4) == 0);
    CHECK(playout_add(p, "/m/c's file.ts", 20, 0) == 0);
    CHECK(playout_add(p, "/m/zero.ts", 0, 0) != 0);
}

static void test_playout_at(void)
{
    playout_t p;
    make_loop(&p);
    playout_pos_t pos;
    CHECK(playout_at(&p, 1000, &pos) == 0 && pos.index == 0 && pos.offset == 0);
    CHECK(playout_at(&p, 1099.5, &pos) == 0 && pos.index == 0);
    CHECK_NEAR(pos.offset, 99.5, 1e-9);
    CHECK(playout_at(&p, 1100, &pos) == 0 && pos.index == 1);
    CHECK_NEAR(pos.item_start, 1100, 1e-9);
    CHECK(playout_at(&p, 1149.999, &pos) == 0 && pos.index == 2);
    /* Whole cycles later, and before the epoch (the loop extends backwards too). */
    CHECK(playout_at(&p, 1000 + 150 * 1000 + 105, &pos) == 0 && pos.index == 1);
    CHECK_NEAR(pos.offset, 5, 1e-6);
    CHECK(playout_at(&p, 1000 - 10, &pos) == 0 && pos.index == 2);
    CHECK_NEAR(pos.offset, 10, 1e-6);
    /* A time that is the sum of the durations lands on the next item, not on an
       empty tail of the previous one. */
    double t = 1000;
    for (int k = 0; k < 1000; k++)
        for (size_t i = 0; i < p.n_items; i++)
            t += p.items[i].duration;
    CHECK(playout_at(&p, t, &pos) == 0 && pos.index == 0);
    CHECK(pos.offset < 1e-6);
    playout_t empty;
    playout_init(&empty, 0);
    CHECK(playout_at(&empty, 5, &pos) != 0);
    playout_dispose(&p);
}

static void test_titles(void)
{
    char *t = playout_title_from_path("/media/shows/nebula-patrol-s01e02.ts");
    CHECK_STR(t, "Nebula Patrol S01E02");
    free(t);
    t = playout_title_from_path("zap_cola-30.ts");
    CHECK_STR(t, "Zap Cola 30");
    free(t);
}

static void test_join_in_progress(void)
{
    playout_t p;
    make_loop(&p);
    feed_t f;
    feed_init(&f, 2.002, 5.0);
    feed_pick_t pick = {0};
    strbuf_t sb;
    strbuf_init(&sb);
    /* 37.5 s into a.ts: copy mode joins at the keyframe at or before, 18 * 2.002. */
    CHECK(pick_next(&f, &p, 1037.5, exists_except, &pick, &sb) == 0);
    CHECK(pick.rejoined && pick.index == 0);
    CHECK_NEAR(pick.inpoint, 38.038, 1e-6); /* nearest keyframe: 19 * 2.002 */
    CHECK_NEAR(pick.air_start, 1038.038, 1e-6);
    CHECK_NEAR(pick.length, 100 - 38.038, 1e-6);
    CHECK_STR(sb.data, "ffconcat version 1.0\nfile 'file:/m/a.ts'\ninpoint 38.038000\n");
    /* ffmpeg asks again a little late: the cursor continues at the item boundary. */
    sb.len = 0;
    CHECK(pick_next(&f, &p, 1101.2, exists_except, &pick, &sb) == 0);
    CHECK(!pick.rejoined && pick.index == 1 && pick.inpoint == 0);
    CHECK_NEAR(pick.air_start, 1100, 1e-9);
    CHECK_STR(sb.data, "ffconcat version 1.0\nfile 'file:/m/b.ts'\n");
    /* A quote in a file name is escaped the concat demuxer's way. */
    sb.len = 0;
    CHECK(pick_next(&f, &p, 1129.0, exists_except, &pick, &sb) == 0);
    CHECK(pick.index == 2);
    CHECK_STR(sb.data, "ffconcat version 1.0\nfile 'file:/m/c'\\''s file.ts'\n");
    /* Far off the clock (a stall): rejoin at the clock. */
    sb.len = 0;
    CHECK(pick_next(&f, &p, 1000 + 150 + 120.0, exists_except, &pick, &sb) == 0);
    CHECK(pick.rejoined && pick.index == 1);
    CHECK_NEAR(pick.inpoint, 20.02, 1e-6); /* 20 s in: the nearest keyframe, 10 * 2.002 */
    /* b.ts starts at 1.4 s in its own timestamps: the inpoint is shifted by that. */
    CHECK_CONTAINS(sb.data, "inpoint 21.420000\n");
    /* Live mode (no keyframe rounding) joins exactly, and skips a tail shorter than
       a request round trip. */
    feed_t live;
    feed_init(&live, 0, 5.0);
    sb.len = 0;
    CHECK(pick_next(&live, &p, 1037.5, exists_except, &pick, &sb) == 0);
    CHECK_NEAR(pick.inpoint, 37.5, 1e-9);
    feed_rejoin(&live);
    sb.len = 0;
    CHECK(pick_next(&live, &p, 1099.9, exists_except, &pick, &sb) == 0);
    CHECK(pick.index == 1 && pick.inpoint == 0);
    feed_pick_dispose(&pick);
    strbuf_dispose(&sb);
    playout_dispose(&p);
}

static void test_missing_file(void)
{
    playout_t p;
    make_loop(&p);
    feed_t f;
    feed_init(&f, 0, 5.0);
    feed_pick_t pick = {0};
    strbuf_t sb;
    strbuf_init(&sb);
    missing_path = "/m/a.ts";
    /* a.ts is missing: b.ts fills, cut to its own length; the cursor stays on the clock. */
    CHECK(pick_next(&f, &p, 1010, exists_except, &pick, &sb) == 0);
    CHECK(pick.substituted && pick.index == 1);
    CHECK_NEAR(pick.length, 30, 1e-9);
    CHECK_NEAR(f.cursor, 1040, 1e-9);
    /* With 10 s of a.ts's slot left, the filler is cut to 10 s with an outpoint. */
    feed_rejoin(&f);
    sb.len = 0;
    CHECK(pick_next(&f, &p, 1090, exists_except, &pick, &sb) == 0);
    CHECK(pick.substituted);
    CHECK_NEAR(pick.length, 10, 1e-9);
    CHECK_CONTAINS(sb.data, "outpoint 11.400000\n");
    /* After the missing slot the schedule is back: b.ts at 1100. */
    sb.len = 0;
    CHECK(pick_next(&f, &p, 1100.3, exists_except, &pick, &sb) == 0);
    CHECK(!pick.substituted && pick.index == 1 && pick.air_start == 1100);
    missing_path = NULL;
    /* Nothing exists: an error, not an answer. */
    playout_t one;
    playout_init(&one, 0);
    playout_add(&one, "/m/only.ts", 10, 0);
    missing_path = "/m/only.ts";
    sb.len = 0;
    CHECK(pick_next(&f, &one, 5, exists_except, &pick, &sb) == -ENOENT);
    missing_path = NULL;
    playout_dispose(&one);
    feed_pick_dispose(&pick);
    strbuf_dispose(&sb);
    playout_dispose(&p);
}

int main(void)
{
    test_playout_at();
    test_titles();
    test_join_in_progress();
    test_missing_file();
    return CHECK_DONE();
}
