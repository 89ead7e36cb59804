/*
 * The ffconcat writer: the only place that formats concat-demuxer scripts, both the
 * long outer script a channel's ffmpeg reads and the one-item answers it fetches.
 */
#ifndef RV_FFCONCAT_H
#define RV_FFCONCAT_H

#include "util.h"

/** Appends the "ffconcat version 1.0" header. */
void ffconcat_begin(strbuf_t *sb);
/**
 * Appends a local file entry. inpoint and outpoint are in the file's own timestamps;
 * a negative value leaves that directive out.
 */
void ffconcat_file(strbuf_t *sb, const char *path, double inpoint, double outpoint);
/** Writes the outer script: count identical entries that each fetch url. 0 or -errno. */
int ffconcat_write_outer(const char *path, const char *url, int count);

#endif
