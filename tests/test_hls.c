/*
 * Unit tests for the public HLS window: taking segments from ffmpeg's private
 * playlist, never-reused sequence numbers across runs, program date-times,
 * discontinuity sequence, the sliding window, retention and expiry of files.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "hls.h"

static char *private_list(long long first, int count, double dur)
{
    strbuf_t sb;
    strbuf_init(&sb);
    strbuf_printf(&sb, "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:3\n"
                       "#EXT-X-MEDIA-SEQUENCE:%lld\n", first);
    for (int i = 0; i < count; i++)
        strbuf_printf(&sb, "#EXTINF:%.6f,\r\n/state/channels/1/seg%09lld.ts\n", dur, first + i);
    return strbuf_steal(&sb);
}

static int woken;
static void on_wake(hls_waiter_t *w)
{
    woken++;
}

static void test_window(void)
{
    char dir[] = "/tmp/rv-hls-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    hls_window_t w;
    hls_window_init(&w, dir, "1/", 6, 3);
    hls_window_begin_run(&w, 1000.0, 0);
    hls_waiter_t waiter = {.cb = on_wake};
    hls_window_wait(&w, &waiter);
    char *text = private_list(0, 3, 2.002);
    CHECK(hls_window_ingest(&w, text, 50.0) == 3);
    CHECK(woken == 1);
    /* The same playlist again adds nothing. */
    CHECK(hls_window_ingest(&w, text, 50.0) == 0);
    free(text);
    CHECK(w.next_seq == 3);
    CHECK(hls_window_newest(&w)->seq == 2);
    CHECK_NEAR(hls_window_newest(&w)->pdt, 1004.004, 1e-9);
    CHECK_NEAR(w.ts_offset, 6.006, 1e-9);

    /* ffmpeg's private list slides; ours keeps 6. */
    text = private_list(3, 8, 2.002);
    CHECK(hls_window_ingest(&w, text, 60.0) == 8);
    free(text);
    CHECK(hls_window_oldest(&w)->seq == 5);
    CHECK(hls_window_find(&w, 0) != NULL && hls_window_find(&w, 0)->retired_at == 60.0);
    strbuf_t out;
    strbuf_init(&out);
    hls_window_render(&w, &out);
    CHECK_CONTAINS(out.data, "#EXT-X-MEDIA-SEQUENCE:5\n");
    CHECK_CONTAINS(out.data, "#EXT-X-DISCONTINUITY-SEQUENCE:0\n");
    CHECK_CONTAINS(out.data, "#EXT-X-TARGETDURATION:3\n");
    CHECK_CONTAINS(out.data, "#EXT-X-PROGRAM-DATE-TIME:1970-01-01T00:16:50.010Z\n#EXTINF:2.002000,\n1/seg000000005.ts\n");
    CHECK(strstr(out.data, "seg000000004.ts") == NULL);
    CHECK(strstr(out.data, "#EXT-X-DISCONTINUITY\n") == NULL);

    /* A restart: a new run numbers from next_seq and its date-times follow the clock. */
    hls_window_begin_run(&w, 2000.0, 1);
    text = private_list(w.next_seq, 2, 2.002);
    CHECK(hls_window_ingest(&w, text, 70.0) == 2);
    free(text);
    CHECK_NEAR(hls_window_newest(&w)->pdt, 2002.002, 1e-9);
    out.len = 0;
    hls_window_render(&w, &out);
    CHECK_CONTAINS(out.data, "#EXT-X-DISCONTINUITY\n#EXT-X-PROGRAM-DATE-TIME:1970-01-01T00:33:20.000Z\n");
    /* The tagged segment slides out: the discontinuity sequence counts it. */
    text = private_list(w.next_seq, 6, 2.002);
    hls_window_ingest(&w, text, 80.0);
    free(text);
    CHECK(w.disc_seq == 1);
    out.len = 0;
    hls_window_render(&w, &out);
    CHECK_CONTAINS(out.data, "#EXT-X-DISCONTINUITY-SEQUENCE:1\n");

    /* Retired files are deleted only after the retention time. */
    char name[64], path[256];
    hls_segment_name(0, name, sizeof(name));
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *fp = fopen(path, "w");
    CHECK(fp != NULL);
    if (fp)
        fclose(fp);
    CHECK(hls_window_expire(&w, 65.0, 10.0) == 0);
    CHECK(access(path, F_OK) == 0);
    CHECK(hls_window_expire(&w, 70.5, 10.0) == 5);
    CHECK(access(path, F_OK) != 0);
    CHECK(hls_window_find(&w, 4) == NULL && hls_window_find(&w, 5) != NULL);
    strbuf_dispose(&out);
    hls_window_dispose(&w);
    rmdir(dir);
}

static void test_names(void)
{
    long long seq;
    char name[64];
    hls_segment_name(123, name, sizeof(name));
    CHECK_STR(name, "seg000000123.ts");
    CHECK(hls_segment_parse(name, &seq) == 0 && seq == 123);
    CHECK(hls_segment_parse("seg123.ts", &seq) != 0);
    CHECK(hls_segment_parse("seg000000123.ts.tmp", &seq) != 0);
    CHECK(hls_segment_parse("../seg000000123.ts", &seq) != 0);
    CHECK(hls_segment_parse("seg000000123.m3u8", &seq) != 0);
}

static void test_restore(void)
{
    hls_window_t w;
    hls_window_init(&w, "/nonexistent", "7/", 6, 3);
    hls_window_restore(&w, 500, 1234.5, 2);
    hls_window_begin_run(&w, 0, 0);
    /* Segments a previous run numbered below next_seq are never published again. */
    char *text = private_list(498, 4, 2.0);
    CHECK(hls_window_ingest(&w, text, 1.0) == 2);
    free(text);
    CHECK(hls_window_oldest(&w)->seq == 500);
    CHECK_NEAR(w.ts_offset, 1238.5, 1e-9);
    strbuf_t out;
    strbuf_init(&out);
    hls_window_render(&w, &out);
    CHECK_CONTAINS(out.data, "#EXT-X-MEDIA-SEQUENCE:500\n#EXT-X-DISCONTINUITY-SEQUENCE:2\n");
    strbuf_dispose(&out);
    hls_window_dispose(&w);
}

int main(void)
{
    test_window();
    test_names();
    test_restore();
    return CHECK_DONE();
}
