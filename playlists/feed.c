/*
 * Deciding the next item. ffmpeg reads at the clock's pace but asks a little early or
 * late, so the feed follows its own cursor (the end of what it already handed out)
 * for seamless item boundaries, and rejoins the clock only when the cursor has
 * drifted by more than the tolerance (a restart, a stall, a first start).
 */
#include "feed.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "ffconcat.h"

/* Pieces shorter than this are not worth a request round trip: skip to the next. */
#define MIN_PIECE 0.25

void feed_init(feed_t *f, double keyframe_interval, double tolerance)
{
    f->cursor = 0;
    f->tolerance = tolerance;
    f->keyframe_interval = keyframe_interval;
}

void feed_rejoin(feed_t *f)
{
    f->cursor = 0;
}

int feed_next(feed_t *f, const playout_t *p, double now, int (*exists)(const char *path),
              feed_pick_t *pick, strbuf_t *answer)
{
    memset(pick, 0, sizeof(*pick));
    double t = f->cursor;
    if (t == 0 || fabs(t - now) > f->tolerance) {
        t = now;
        pick->rejoined = 1;
    }
    /* Bounded: each pass either answers or moves t forward past a short piece. */
    for (size_t guard = 0; guard < 4 * p->n_items + 4; guard++) {
        playout_pos_t pos;
        if (playout_at(p, t, &pos) != 0)
            return -ENOENT;
        const playout_item_t *sched = &p->items[pos.index];
        double in = pos.offset;
        if (pick->rejoined && f->keyframe_interval > 0 && guard == 0) {
            /* Stream copy can only start on a keyframe; conformed files have one every
               keyframe_interval seconds, so join at the one at or before the clock. */
            in = floor(in / f->keyframe_interval + 1e-6) * f->keyframe_interval;
        }
        double slot_left = sched->duration - in;
        if (slot_left < MIN_PIECE) {
            t = pos.item_start + sched->duration;
            continue;
        }
        size_t use = pos.index;
        double use_in = in, length = slot_left;
        if (exists != NULL && !exists(sched->path)) {
            /* Fill the missing item's time with the next items that exist, from their
               start, cut to the time left, so the schedule stays on the clock. */
            size_t k;
            for (k = 1; k < p->n_items; k++)
                if (exists(p->items[(pos.index + k) % p->n_items].path))
                    break;
            if (k == p->n_items)
                return -ENOENT;
            use = (pos.index + k) % p->n_items;
            use_in = 0;
            if (p->items[use].duration < length)
                length = p->items[use].duration;
            pick->substituted = 1;
        }
        const playout_item_t *it = &p->items[use];
        pick->index = use;
        pick->scheduled_index = pos.index;
        pick->scheduled_start = pos.item_start;
        pick->air_start = pos.item_start + in;
        pick->inpoint = use_in;
        pick->length = length;
        f->cursor = pick->air_start + length;

        ffconcat_begin(answer);
        double inpoint = use_in > 0 ? it->start_time + use_in : -1;
        double outpoint = length < it->duration - use_in - 1e-3
                              ? it->start_time + use_in + length
                              : -1;
        ffconcat_file(answer, it->path, inpoint, outpoint);
        return 0;
    }
    return -ENOENT;
}
