/*
 * The looping playout list. Positions are computed with whole cycles removed first
 * (fmod on the distance from the epoch), so the answer for any instant is exact and
 * does not depend on what was asked before.
 */
#include "playout.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define PLAYOUT_EPSILON 1e-6

void playout_init(playout_t *p, double epoch)
{
    memset(p, 0, sizeof(*p));
    p->epoch = epoch;
}

int playout_add(playout_t *p, const char *path, double duration, double start_time)
{
    if (!(duration > 0))
        return -EINVAL;
    p->items = xrealloc(p->items, (p->n_items + 1) * sizeof(*p->items));
    playout_item_t *it = &p->items[p->n_items++];
    it->path = xstrdup(path);
    it->duration = duration;
    it->start_time = start_time;
    it->title = playout_title_from_path(path);
    p->cycle += duration;
    return 0;
}

void playout_dispose(playout_t *p)
{
    for (size_t i = 0; i < p->n_items; i++) {
        free(p->items[i].path);
        free(p->items[i].title);
    }
    free(p->items);
    p->items = NULL;
    p->n_items = 0;
    p->cycle = 0;
}

int playout_at(const playout_t *p, double t, playout_pos_t *pos)
{
    if (p->n_items == 0 || !(p->cycle > 0))
        return -ENOENT;
    double since = t - p->epoch;
    double cycles = floor(since / p->cycle);
    double cycle_start = p->epoch + cycles * p->cycle;
    double into = t - cycle_start;
    /* Boundaries are compared with a small tolerance: t is often the sum of the
       durations before it, and floating-point rounding must not leave it a hair
       before a boundary (which would answer with an empty tail of the last item). */
    if (into >= p->cycle - PLAYOUT_EPSILON) {
        cycle_start += p->cycle;
        into = t - cycle_start;
    }
    if (into < 0)
        into = 0;
    double start = cycle_start;
    for (size_t i = 0; i < p->n_items; i++) {
        double d = p->items[i].duration;
        /* The last item takes any rounding remainder so every t lands somewhere. */
        if (into < d - PLAYOUT_EPSILON || i == p->n_items - 1) {
            pos->index = i;
            pos->item_start = start;
            pos->offset = t > start ? t - start : 0;
            return 0;
        }
        into -= d;
        start += d;
    }
    return -ENOENT;
}

char *playout_title_from_path(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    size_t n = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    char *t = xmalloc(n + 1);
    int word_start = 1;
    for (size_t i = 0; i < n; i++) {
        char c = base[i];
        if (c == '-' || c == '_' || c == '.') {
            t[i] = ' ';
            word_start = 1;
            continue;
        }
        /* "s01e01" reads better upper-cased, like a guide shows it. */
        if (word_start && (c == 's' || c == 'S') && i + 3 < n && isdigit((unsigned char)base[i + 1])) {
            size_t j = i;
            while (j < n && base[j] != '-' && base[j] != '_' && base[j] != '.') {
                t[j] = (char)toupper((unsigned char)base[j]);
                j++;
            }
            i = j - 1;
            word_start = 0;
            continue;
        }
        t[i] = word_start ? (char)toupper((unsigned char)c) : c;
        word_start = 0;
    }
    t[n] = '\0';
    return t;
}
