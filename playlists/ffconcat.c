/*
 * ffconcat text. Paths are quoted so spaces and quotes in file names survive, and
 * local files carry the "file:" protocol prefix because the answer is fetched over
 * HTTP: without it ffmpeg would resolve the path against the http:// URL.
 */
#include "ffconcat.h"

#include <errno.h>

void ffconcat_begin(strbuf_t *sb)
{
    strbuf_puts(sb, "ffconcat version 1.0\n");
}

/* The concat demuxer's quoting: inside single quotes everything is literal, and a
   quote itself is written as '\'' (close, escaped quote, reopen). */
static void put_quoted(strbuf_t *sb, const char *s)
{
    strbuf_puts(sb, "'");
    for (; *s; s++) {
        if (*s == '\'')
            strbuf_puts(sb, "'\\''");
        else
            strbuf_append(sb, s, 1);
    }
    strbuf_puts(sb, "'");
}

void ffconcat_file(strbuf_t *sb, const char *path, double inpoint, double outpoint)
{
    strbuf_puts(sb, "file ");
    strbuf_t url;
    strbuf_init(&url);
    strbuf_puts(&url, "file:");
    strbuf_puts(&url, path);
    put_quoted(sb, url.data);
    strbuf_dispose(&url);
    strbuf_puts(sb, "\n");
    if (inpoint >= 0)
        strbuf_printf(sb, "inpoint %.6f\n", inpoint);
    if (outpoint >= 0)
        strbuf_printf(sb, "outpoint %.6f\n", outpoint);
}

int ffconcat_write_outer(const char *path, const char *url, int count)
{
    strbuf_t sb;
    strbuf_init(&sb);
    ffconcat_begin(&sb);
    for (int i = 0; i < count; i++) {
        strbuf_puts(&sb, "file ");
        put_quoted(&sb, url);
        /* The answers are themselves ffconcat scripts naming absolute local files,
           which the concat demuxer refuses unless safe mode is off for them too. */
        strbuf_puts(&sb, "\noption safe 0\n");
    }
    int rc = util_write_file_atomic(path, sb.data, sb.len);
    strbuf_dispose(&sb);
    return rc;
}
