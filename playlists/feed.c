/*
 * Deciding the next item. ffmpeg reads at the clock's pace but asks a little early or
 * late, so the feed follows its own cursor (the end of what it already handed out)
 * for seamless item boundaries, and rejoins the clock only when the cursor has
 * drifted by more than the tolerance (a restart, a stall, a first start). Where the
 * programming comes from (a loop, a schedule's fine log) is a source callback.
 */
#include "feed.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ffconcat.h"

/* Pieces shorter than this are not worth a request round trip: skip to the next. */
#define MIN_PIECE 0.25

void feed_init(feed_t *f, double keyframe_interval, double tolerance)
{
    f->cursor = 0;
    f->tolerance = tolerance;
    f->keyframe_interval = keyframe_interval;
    f->lead = 0;
    f->resolve = NULL;
    f->resolve_arg = NULL;
}

void feed_rejoin(feed_t *f)
{
    f->cursor = 0;
}

void feed_pick_dispose(feed_pick_t *pick)
{
    free(pick->path);
    pick->path = NULL;
}

int feed_next(feed_t *f, feed_source_fn source, void *ctx, double now,
              int (*exists)(const char *path), feed_pick_t *pick, strbuf_t *answer)
{
    memset(pick, 0, sizeof(*pick));
    double t = f->cursor;
    if (t == 0 || fabs(t - now) > f->tolerance) {
        /* ffmpeg takes a moment to open the first item before its clock-paced reading
           starts; joining `lead` ahead makes its output line up with the clock. */
        t = now + f->lead;
        pick->rejoined = 1;
    }
    /* Bounded: each pass either answers or moves t forward past a short piece. */
    for (int guard = 0; guard < 64; guard++) {
        feed_item_t it;
        memset(&it, 0, sizeof(it));
        if (source(ctx, t, exists, &it) != 0)
            return -ENOENT;
        double in = t > it.start ? t - it.start : 0;
        if (pick->rejoined && f->keyframe_interval > 0 && guard == 0) {
            /* Stream copy can only start on a keyframe; conformed files have one every
               keyframe_interval seconds of their own time, so join at the nearest one:
               the output is then within half a GOP of the clock. */
            double k = f->keyframe_interval;
            double pos = floor((it.file_in + in) / k + 0.5) * k;
            in = pos > it.file_in ? pos - it.file_in : 0;
        }
        double left = it.end - (it.start + in);
        if (left < MIN_PIECE) {
            t = it.end;
            free(it.path);
            continue;
        }
        double file_pos = it.file_in + in;
        pick->index = it.index;
        pick->scheduled_start = it.start;
        pick->air_start = it.start + in;
        pick->inpoint = file_pos;
        pick->length = left;
        pick->substituted = it.substituted;
        pick->path = it.path;
        f->cursor = pick->air_start + left;

        /* Positions are media time from the file's start, so a conformed copy (same
           media, its own first timestamp) is read at the same offsets. */
        char *file = NULL;
        double start_time = it.start_time;
        if (f->resolve == NULL || f->resolve(f->resolve_arg, it.path, &file, &start_time) != 0)
            file = NULL;
        ffconcat_begin(answer);
        double inpoint = file_pos > 1e-6 ? start_time + file_pos : -1;
        double outpoint = file_pos + left < it.file_duration - 1e-3
                              ? start_time + file_pos + left
                              : -1;
        ffconcat_file(answer, file ? file : it.path, inpoint, outpoint);
        free(file);
        return 0;
    }
    return -ENOENT;
}

int feed_source_playout(void *ctx, double t, int (*exists)(const char *path), feed_item_t *out)
{
    const playout_t *p = ctx;
    playout_pos_t pos;
    if (playout_at(p, t, &pos) != 0)
        return -ENOENT;
    const playout_item_t *sched = &p->items[pos.index];
    memset(out, 0, sizeof(*out));
    out->start = pos.item_start;
    out->end = pos.item_start + sched->duration;
    if (exists == NULL || exists(sched->path)) {
        out->path = xstrdup(sched->path);
        out->start_time = sched->start_time;
        out->file_duration = sched->duration;
        out->index = pos.index;
        return 0;
    }
    /* Fill the missing item's time with the next item that exists, from its start at
       t, cut to the time left, so the loop stays on the clock. */
    for (size_t k = 1; k < p->n_items; k++) {
        size_t i = (pos.index + k) % p->n_items;
        const playout_item_t *sub = &p->items[i];
        if (!exists(sub->path))
            continue;
        out->start = t > pos.item_start ? t : pos.item_start;
        if (out->start + sub->duration < out->end)
            out->end = out->start + sub->duration;
        out->path = xstrdup(sub->path);
        out->start_time = sub->start_time;
        out->file_duration = sub->duration;
        out->index = i;
        out->substituted = 1;
        return 0;
    }
    return -ENOENT;
}

int feed_source_schedule(void *ctx, double t, int (*exists)(const char *path), feed_item_t *out)
{
    feed_schedule_ctx_t *c = ctx;
    sched_item_t it;
    sched_ms_t ms = (sched_ms_t)llround(t * 1000.0);
    if (schedule_item_at(c->db, c->channel, ms, exists, &it) != 0)
        return -ENOENT;
    memset(out, 0, sizeof(*out));
    out->start = (double)it.start / 1000.0;
    out->end = (double)it.end / 1000.0;
    out->file_in = (double)it.inpoint / 1000.0;
    out->substituted = it.substituted;
    const sched_asset_t *a = sched_library_find(c->channel->library, it.path);
    out->start_time = a ? (double)a->start_time / 1000.0 : 0;
    out->file_duration = a ? (double)a->duration / 1000.0 : out->file_in + (out->end - out->start);
    out->path = it.path;
    it.path = NULL;
    schedule_item_dispose(&it);
    return 0;
}
