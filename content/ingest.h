/*
 * Ingest: bring the catalog in line with the media roots (and Plex). New and changed
 * files are probed and described (sidecar metadata, break points); files that went
 * away are marked gone, never deleted, so the as-run history keeps its meaning.
 * It blocks: `retrovue ingest` runs it in the foreground, `serve` in a worker thread
 * with its own database connection.
 */
#ifndef RV_INGEST_H
#define RV_INGEST_H

#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>

#include "config.h"

typedef struct ingest_opts {
    FILE *progress;            /* where progress goes (a bar on a terminal), or NULL */
    int skip_breaks;           /* do not look for break points (faster) */
    int threads;               /* files analysed at once; 0 = one per CPU */
    const atomic_int *cancel;  /* stop early when it becomes nonzero, or NULL */
} ingest_opts_t;

typedef struct ingest_report {
    size_t found;              /* media files under the roots (and from Plex) */
    size_t added, changed, unchanged, gone, failed;
    size_t with_metadata;      /* new or changed files described by a sidecar or Plex */
    size_t with_breaks;        /* new or changed files with break points */
    double media_seconds;      /* media probed this run */
    double seconds;            /* wall time */
} ingest_report_t;

/**
 * Runs one ingest of cfg's media roots and Plex source into db. Problems with single
 * files (unreadable, broken .nfo) are written to warnings and do not stop the run.
 * 0, or a negative errno when the database failed or the run was cancelled.
 */
int ingest_run(sqlite3 *db, const config_t *cfg, const ingest_opts_t *opts,
               ingest_report_t *report, strbuf_t *warnings);

#endif
