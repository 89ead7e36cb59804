/*
 * What airs when. For now a channel plays its list of items in order, looping from
 * an epoch; the question "what is on at time t" is answered from the clock alone, so
 * a channel that (re)starts joins in progress at the right offset.
 */
#ifndef RV_PLAYOUT_H
#define RV_PLAYOUT_H

#include <stddef.h>

/** One item in the loop. */
typedef struct playout_item {
    char *path;
    double duration;    /* seconds it airs */
    double start_time;  /* the file's own first timestamp */
    char *title;        /* a display name derived from the file name */
} playout_item_t;

/** A channel's loop. */
typedef struct playout {
    playout_item_t *items;
    size_t n_items;
    double epoch;   /* UTC seconds when item 0 first aired */
    double cycle;   /* sum of durations */
} playout_t;

/** Where time t falls: which item, when that airing started, and how far into it. */
typedef struct playout_pos {
    size_t index;
    double item_start; /* UTC seconds this airing of the item began */
    double offset;     /* t - item_start */
} playout_pos_t;

/** Makes an empty loop starting at epoch. */
void playout_init(playout_t *p, double epoch);
/** Appends an item (path copied). Items of zero or negative duration are refused. */
int playout_add(playout_t *p, const char *path, double duration, double start_time);
/** Frees the items. */
void playout_dispose(playout_t *p);
/** Finds the airing that covers time t; -ENOENT when the loop is empty. */
int playout_at(const playout_t *p, double t, playout_pos_t *pos);
/** Derives a human title from a media path ("nebula-patrol-s01e01.ts" → "Nebula Patrol S01E01"). */
char *playout_title_from_path(const char *path);

#endif
