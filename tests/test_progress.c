/*
 * Unit tests for the progress display: the status text (percent from media seconds
 * when known, else from files; speed as a multiple of real time; ETA), plain lines
 * when the output is not a terminal, and the final line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "progress.h"

static void test_format(void)
{
    progress_t p;
    FILE *out = tmpfile();
    progress_start(&p, out, "ingest", 4, 0);
    CHECK(p.tty == 0);
    char buf[160];
    /* Files only: percent from the count, no speed, no ETA yet. */
    p.done = 1;
    progress_format(&p, p.started + 0.1, buf, sizeof(buf));
    CHECK_STR(buf, " 25%  1/4 files");
    /* With media seconds: speed and an ETA from what is left. */
    p.done = 2;
    p.done_media = 40;
    progress_format(&p, p.started + 10, buf, sizeof(buf));
    CHECK_STR(buf, " 50%  2/4 files  4.0x real time  ETA 0:10");
    /* Known total media: percent follows media, not files. */
    p.total_media = 400;
    progress_format(&p, p.started + 10, buf, sizeof(buf));
    CHECK_STR(buf, " 10%  2/4 files  4.0x real time  ETA 1:30");
    p.total_media = 0;
    p.done = 4;
    progress_format(&p, p.started + 7300, buf, sizeof(buf));
    CHECK_STR(buf, "100%  4/4 files  0.0x real time");
    fclose(out);
}

static void test_lines(void)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    progress_t p;
    progress_start(&p, out, "conform", 2, 0);
    p.last_line -= 10; /* as if the last line were 10 s ago: the next update prints */
    progress_update(&p, 1, 0, "a.ts");
    progress_update(&p, 1, 0, "a.ts"); /* too soon for another line */
    p.done = 2;
    progress_finish(&p);
    fclose(out);
    CHECK_CONTAINS(text, "conform:  50%  1/2 files  a.ts\n");
    CHECK(strstr(strstr(text, "a.ts\n") + 5, "a.ts") == NULL);
    CHECK_CONTAINS(text, "conform: 2/2 files in 0:00\n");
    CHECK(strchr(text, '\r') == NULL); /* no bar codes in a log */
    free(text);
}

int main(void)
{
    test_format();
    test_lines();
    return CHECK_DONE();
}
