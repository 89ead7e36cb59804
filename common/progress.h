/*
 * Progress of long work (ingest, probing, conforming): a bar redrawn in place on a
 * terminal, or plain lines at a steady pace when stderr is a log file or a pipe, so
 * both a person at a shell and `docker compose logs` see how far it got.
 */
#ifndef RV_PROGRESS_H
#define RV_PROGRESS_H

#include <stdio.h>

typedef struct progress {
    FILE *out;
    int tty;               /* redraw one line in place */
    char what[32];         /* "ingest", "conform" */
    long total;            /* items to do (files) */
    double total_media;    /* seconds of media to go through, or 0 when unknown */
    long done;
    double done_media;
    double started, last_drawn, last_line;
    int drawn;             /* a bar is on screen and must be finished with a newline */
} progress_t;

/** Begins; total_media (seconds of media) may be 0 when not known. */
void progress_start(progress_t *p, FILE *out, const char *what, long total, double total_media);
/** Reports done items and media seconds so far; current names the item (may be NULL). */
void progress_update(progress_t *p, long done, double done_media, const char *current);
/** Prints the final line (totals, elapsed, speed). */
void progress_finish(progress_t *p);
/** Formats the status text (no bar) into buf; exposed for tests. */
void progress_format(const progress_t *p, double now, char *buf, size_t size);

#endif
