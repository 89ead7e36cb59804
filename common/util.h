/*
 * Small helpers every module uses: allocation that aborts on failure, a growable
 * string buffer, and path and time formatting. Nothing here knows about channels.
 */
#ifndef RV_UTIL_H
#define RV_UTIL_H

#include <stdarg.h>
#include <stddef.h>

#define RV_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/** malloc that aborts with a message instead of returning NULL. */
void *xmalloc(size_t n);
/** calloc that aborts on failure. */
void *xcalloc(size_t count, size_t n);
/** realloc that aborts on failure. */
void *xrealloc(void *p, size_t n);
/** strdup that aborts on failure; NULL stays NULL. */
char *xstrdup(const char *s);
/** printf into a freshly allocated string. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/** A growable, always NUL-terminated byte buffer. */
typedef struct strbuf {
    char *data;
    size_t len;
    size_t cap;
} strbuf_t;

/** Starts an empty buffer (no allocation until the first append). */
void strbuf_init(strbuf_t *sb);
/** Frees the buffer's memory and leaves it empty. */
void strbuf_dispose(strbuf_t *sb);
/** Appends n bytes. */
void strbuf_append(strbuf_t *sb, const char *s, size_t n);
/** Appends a NUL-terminated string. */
void strbuf_puts(strbuf_t *sb, const char *s);
/** Appends printf-formatted text. */
void strbuf_printf(strbuf_t *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/** Appends vprintf-formatted text. */
void strbuf_vprintf(strbuf_t *sb, const char *fmt, va_list ap);
/** Hands the buffer's string to the caller (never NULL) and leaves sb empty. */
char *strbuf_steal(strbuf_t *sb);
/**
 * Appends s escaped for XML text and attribute values (&, <, >, both quotes); drops
 * the control characters XML 1.0 forbids and replaces bytes that are not UTF-8 with
 * U+FFFD, so a stray byte in a title cannot make a document invalid.
 */
void strbuf_put_xml(strbuf_t *sb, const char *s);

/** The value of a hexadecimal digit, or -1. */
int util_hex_value(char c);
/**
 * Sets *error (when error is not NULL and nothing is set yet: the first reason is the
 * one worth keeping) to a formatted message and returns rc, for one-line failures.
 */
int util_fail(char **error, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/** Reads a whole file into a NUL-terminated buffer; 0 or a negative errno. */
int util_read_file(const char *path, char **out, size_t *len);
/** Writes a file atomically (temp file + rename); 0 or a negative errno. */
int util_write_file_atomic(const char *path, const char *data, size_t len);
/** mkdir -p; 0 or a negative errno. */
int util_mkdirs(const char *path, int mode);
/** True when path names a regular file this process can read. */
int util_file_readable(const char *path);
/** Joins dir and a relative path; an absolute path is returned as is. Caller frees. */
char *util_path_join(const char *dir, const char *path);

/** Formats UTC seconds as ISO 8601 with milliseconds and a Z ("2026-01-01T00:00:00.000Z"). */
void util_format_iso8601(double t, char *buf, size_t size);
/** Parses "YYYY-MM-DDTHH:MM:SS[.fff](Z|±HH:MM)" to UTC seconds; 0 or -EINVAL. */
int util_parse_iso8601(const char *s, double *out);

#endif
