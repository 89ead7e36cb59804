/*
 * Positions in JSON text for error messages. cJSON keeps no positions, so this module
 * checks syntax itself (saying where and what was expected) and finds the byte offset
 * of the value at a JSON path, which callers turn into "LINE:COL" for people.
 */
#ifndef RV_JSON_LOC_H
#define RV_JSON_LOC_H

#include <stddef.h>

#include "util.h"

/* Deeper nesting is a syntax error; it stays under cJSON's own limit of 1000 so any
 * text json_loc_check accepts, cJSON parses too. */
#define JSON_LOC_MAX_DEPTH 512

/** One step of a JSON path: an object member by key, or an array element by index. */
typedef struct json_loc_step {
    const char *key; /* member name as decoded UTF-8; NULL when this step is an array index */
    size_t index;    /* the array index; for a key, which occurrence of it (0 = the first) */
} json_loc_step_t;

/** Where a syntax check failed and why. */
typedef struct json_loc_error {
    size_t offset;     /* byte offset of the problem in the text */
    char message[160]; /* what was expected, e.g. "expected ',' or '}' after object member" */
    char path[256];    /* path of the value being read there, e.g. "$.server" */
} json_loc_error_t;

/**
 * Checks that text is exactly one JSON value (RFC 8259, UTF-8, optional BOM, no \u0000)
 * that cJSON will also parse; 0, or -EINVAL with err filled in.
 */
int json_loc_check(const char *text, size_t len, json_loc_error_t *err);

/**
 * Finds the value at path (depth steps; 0 steps is the whole text). Sets *value_off to
 * its first byte and *key_off to its member key's opening quote (or the value when the
 * last step is an index or there are no steps); either may be NULL. 0, -ENOENT when the
 * path is not there, -EINVAL when the text is malformed on the way.
 */
int json_loc_find(const char *text, size_t len, const json_loc_step_t *path, size_t depth,
                  size_t *value_off, size_t *key_off);

/** Byte length of the JSON value starting at offset, or 0 when there is none. */
size_t json_loc_value_len(const char *text, size_t len, size_t offset);

/**
 * Turns a byte offset into a 1-based line and column. Columns count characters (UTF-8
 * code points, a tab is 1); "\r\n", "\n" and a lone "\r" each end a line; a BOM is skipped.
 */
void json_loc_line_col(const char *text, size_t len, size_t offset, int *line, int *col);

/** Appends path as "$", "$.server.listen", "$.playlist[2]" or "$[\"odd key\"]". */
void json_loc_path_render(const json_loc_step_t *path, size_t depth, strbuf_t *out);

#endif
