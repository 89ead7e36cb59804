/*
 * Finding media under a root folder: a recursive walk that lists every media file
 * with its size and modification time, the key ingest compares against the catalog
 * to decide what is new, changed or gone.
 */
#ifndef RV_SCAN_H
#define RV_SCAN_H

#include <stddef.h>

#include "util.h"

typedef struct scan_file {
    char *path;          /* absolute */
    long long size;
    long long mtime;     /* seconds */
} scan_file_t;

typedef struct scan_list {
    scan_file_t *files;  /* sorted by path */
    size_t n, cap;
} scan_list_t;

/** True for names with a video container extension we ingest (case-insensitive). */
int scan_is_media_name(const char *name);
/**
 * Appends every media file under root (following symlinks, skipping hidden entries and
 * loops) to list. Unreadable folders are reported in warnings and skipped.
 * 0, or -ENOENT / -ENOTDIR when root itself is not a folder.
 */
int scan_root(const char *root, scan_list_t *list, strbuf_t *warnings);
/** Sorts by path (scan_root leaves the list sorted; call after merging several roots). */
void scan_sort(scan_list_t *list);
/** Frees the list's contents. */
void scan_list_dispose(scan_list_t *list);

#endif
