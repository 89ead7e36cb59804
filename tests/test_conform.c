/*
 * Tests for conforming: small sources made with ffmpeg's lavfi at start (16:9, 4:3,
 * interlaced with non-square pixels, silent, 44.1 kHz mono) go into small house formats
 * and are checked independently with ffprobe and by looking at pixels: house format,
 * bars where the aspect needs them, keyframes on the GOP grid, lengths, colours converted
 * from HD's matrix to SD's and tagged, and a stream copy of three results back to back
 * as a copy-mode channel plays them. Also cancelling, time limits, failures leaving no
 * files, and the cache names and keys.
 */
#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "conform.h"
#include "probe.h"
#include "run.h"
#include "util.h"

static char dir[] = "/tmp/rv-conform-XXXXXX";

/* The small house most cases use (fast), and the project's defaults (supervisor/config.c). */
static const house_format_t small = {320, 240, 30000, 1001, 30, 48000, 2, 800, 96};
static const house_format_t wide_house = {320, 180, 30000, 1001, 30, 48000, 2, 800, 96};
static const house_format_t defaults = {640, 480, 30000, 1001, 60, 48000, 2, 1500, 128};
static const house_format_t hd_house = {1280, 720, 30000, 1001, 30, 48000, 2, 3000, 96};

static int exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

/* Runs a command that must succeed; its stdout goes to *out when out is not NULL. */
static int run_ok(const char *const *argv, strbuf_t *out, strbuf_t *err)
{
    run_result_t res;
    run_opts_t o = {.timeout = 60};
    int rc = run_program(argv, &o, &res);
    int ok = rc == 0 && res.exit_code == 0;
    if (!ok)
        fprintf(stderr, "%s failed (%d, exit %d): %s\n", argv[0], rc, res.exit_code,
                res.err.data);
    if (out != NULL) {
        strbuf_init(out);
        strbuf_append(out, res.out.data, res.out.len);
    }
    if (err != NULL) {
        strbuf_init(err);
        strbuf_append(err, res.err.data, res.err.len);
    }
    run_result_dispose(&res);
    return ok;
}

/* A growing NULL-terminated argv. */
typedef struct args {
    char **v;
    size_t n;
} args_t;

static void push(args_t *a, const char *s)
{
    a->v = xrealloc(a->v, (a->n + 2) * sizeof(*a->v));
    a->v[a->n++] = xstrdup(s);
    a->v[a->n] = NULL;
}

/* "-map IN:KIND" */
static void push_map(args_t *a, size_t in, const char *kind)
{
    char *s = xasprintf("%zu:%s", in, kind);
    push(a, "-map");
    push(a, s);
    free(s);
}

static void push_all(args_t *a, const char *const *list)
{
    for (; *list; list++)
        push(a, *list);
}

static void args_dispose(args_t *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->v[i]);
    free(a->v);
}

/* A source to make: lavfi video, optional lavfi audio, and how to encode them. */
typedef struct source {
    const char *name, *video, *audio;
    const char *const *codec_args;
    char *path;
} source_t;

/* Makes all the sources with one ffmpeg (each start of ffmpeg costs a good part of a
   CPU-second on a loaded machine, more than these encodes). */
static void make_sources(source_t *s, size_t n)
{
    args_t a = {0};
    static const char *const head[] = {"ffmpeg", "-hide_banner", "-nostdin", "-loglevel",
                                       "error", "-y", NULL};
    push_all(&a, head);
    for (size_t i = 0; i < n; i++) {
        push_all(&a, (const char *const[]){"-f", "lavfi", "-i", s[i].video, NULL});
        if (s[i].audio)
            push_all(&a, (const char *const[]){"-f", "lavfi", "-i", s[i].audio, NULL});
    }
    for (size_t i = 0, in = 0; i < n; i++) {
        s[i].path = xasprintf("%s/%s", dir, s[i].name);
        push_map(&a, in++, "v");
        if (s[i].audio)
            push_map(&a, in++, "a");
        push_all(&a, s[i].codec_args);
        push(&a, s[i].path);
    }
    CHECK(run_ok((const char *const *)a.v, NULL, NULL));
    args_dispose(&a);
}

/* ---- what ffprobe says about a file ---- */

typedef struct pkt {
    int video;
    double pts, dts, dur;
    int key;
} pkt_t;

static double num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? strtod(v->valuestring, NULL) : NAN;
}

/* One ffprobe for both the probe (as probe_file would fill it) and every packet. */
static pkt_t *read_file(const char *path, probe_t *p, size_t *n)
{
    const char *argv[] = {"ffprobe", "-v", "error", "-show_format", "-show_streams",
                          "-show_packets", "-of", "json", path, NULL};
    strbuf_t out;
    *n = 0;
    memset(p, 0, sizeof(*p));
    if (!run_ok(argv, &out, NULL))
        return NULL;
    CHECK(probe_parse_json(path, out.data, p) == 0);
    cJSON *root = cJSON_Parse(out.data);
    const cJSON *packets = cJSON_GetObjectItemCaseSensitive(root, "packets"), *e;
    pkt_t *pk = xcalloc((size_t)cJSON_GetArraySize(packets) + 1, sizeof(*pk));
    cJSON_ArrayForEach(e, packets)
    {
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(e, "codec_type");
        const cJSON *flags = cJSON_GetObjectItemCaseSensitive(e, "flags");
        pkt_t k = {.video = cJSON_IsString(type) && strcmp(type->valuestring, "video") == 0,
                   .pts = num(e, "pts_time"),
                   .dts = num(e, "dts_time"),
                   .dur = num(e, "duration_time"),
                   .key = cJSON_IsString(flags) && flags->valuestring[0] == 'K'};
        if (!isnan(k.pts) && !isnan(k.dts))
            pk[(*n)++] = k;
    }
    cJSON_Delete(root);
    strbuf_dispose(&out);
    return pk;
}

/* ---- what a picture looks like ---- */

/* One decoded frame, 1 s in, as 8-bit luma. */
static unsigned char *grab_luma(const char *path, int w, int h)
{
    const char *argv[] = {"ffmpeg", "-v", "error", "-ss", "1", "-i", path, "-frames:v", "1",
                          "-vf", "format=gray", "-f", "rawvideo", "pipe:1", NULL};
    strbuf_t out;
    if (!run_ok(argv, &out, NULL))
        return NULL;
    if (out.len != (size_t)w * h) {
        fprintf(stderr, "%s: %zu bytes of luma, expected %d\n", path, out.len, w * h);
        strbuf_dispose(&out);
        return NULL;
    }
    return (unsigned char *)strbuf_steal(&out);
}

static double row_mean(const unsigned char *y, int w, int row)
{
    double s = 0;
    for (int x = 0; x < w; x++)
        s += y[row * w + x];
    return s / w;
}

static double col_mean(const unsigned char *y, int w, int h, int col)
{
    double s = 0;
    for (int r = 0; r < h; r++)
        s += y[r * w + col];
    return s / h;
}

/* Video black is luma 16; the test pictures are far brighter. */
#define BLACK 24
#define BRIGHT 60

/* Bars of size `bar` at both ends of the rows (or columns), picture in between; a
   couple of lines at each edge of the picture are left out (scaler ringing). */
static void check_bars(const unsigned char *y, int w, int h, int bar, int vertical_bars)
{
    int len = vertical_bars ? w : h;
    for (int i = 0; i < len; i++) {
        double m = vertical_bars ? col_mean(y, w, h, i) : row_mean(y, w, i);
        if (i < bar - 2 || i >= len - bar + 2) {
            if (m > BLACK)
                fprintf(stderr, "line %d should be black: mean %.1f\n", i, m);
            CHECK(m <= BLACK);
        } else if (i >= bar + 2 && i < len - bar - 2) {
            if (m < BRIGHT)
                fprintf(stderr, "line %d should be picture: mean %.1f\n", i, m);
            CHECK(m >= BRIGHT);
        }
    }
}

/* The centre of the first frame as 8-bit Y, Cb, Cr (each the mean of a 2x2 block), read
   without any matrix conversion: yuv444p keeps the file's own matrix. */
static int centre_yuv(const char *path, double yuv[3])
{
    const char *argv[] = {"ffmpeg", "-v", "error", "-i", path, "-vf",
                          "crop=2:2:iw/2:ih/2,format=yuv444p", "-f", "rawvideo",
                          "-frames:v", "1", "pipe:1", NULL};
    strbuf_t out;
    if (!run_ok(argv, &out, NULL))
        return 0;
    int ok = out.len == 12;
    if (!ok)
        fprintf(stderr, "%s: %zu bytes for a 2x2 yuv444p block, expected 12\n", path, out.len);
    for (int plane = 0; ok && plane < 3; plane++) {
        const unsigned char *b = (const unsigned char *)out.data + 4 * plane;
        yuv[plane] = (b[0] + b[1] + b[2] + b[3]) / 4.0;
    }
    strbuf_dispose(&out);
    return ok;
}

/* The output's colour tags as ffprobe prints them: "range,space,transfer,primaries" (the
   first line: MPEG-TS streams are listed again under their program). */
static char *colour_tags(const char *path)
{
    const char *argv[] = {"ffprobe", "-v", "error", "-select_streams", "v:0",
                          "-show_entries",
                          "stream=color_range,color_space,color_transfer,color_primaries",
                          "-of", "csv=p=0", path, NULL};
    strbuf_t out;
    if (!run_ok(argv, &out, NULL) || out.data == NULL) {
        strbuf_dispose(&out);
        return xstrdup("");
    }
    out.data[strcspn(out.data, "\r\n")] = '\0';
    return strbuf_steal(&out);
}

/* What ffmpeg's idet filter makes of every frame: how many look interlaced (combed)
   and how many progressive. */
static void detect_interlace(const char *path, int *combed, int *progressive)
{
    const char *argv[] = {"ffmpeg", "-hide_banner", "-nostdin", "-i", path, "-vf", "idet",
                          "-an", "-f", "null", "-", NULL};
    strbuf_t err;
    if (!run_ok(argv, NULL, &err))
        return;
    const char *m = strstr(err.data, "Multi frame detection:");
    int tff, bff;
    if (m && sscanf(m, "Multi frame detection: TFF: %d BFF: %d Progressive: %d", &tff, &bff,
                    progressive) == 3)
        *combed = tff + bff;
    fprintf(stderr, "%s: idet: %d combed, %d progressive frames\n", path, *combed, *progressive);
    strbuf_dispose(&err);
}

/* ---- one conform, checked ---- */

typedef struct progress_log {
    int calls;
    double last, total;
    int backwards;
} progress_log_t;

static int log_progress(void *arg, double done, double total)
{
    progress_log_t *l = arg;
    if (done < l->last)
        l->backwards = 1;
    l->calls++;
    l->last = done;
    l->total = total;
    return 0;
}

/* Conforms src into house at DIR/name and checks the result; returns the output path,
   with the source's probe in *src_probe and the output's in *out_probe (caller disposes). */
static char *conform_checked(const char *src, const house_format_t *house, const char *name,
                             probe_t *src_probe, probe_t *out_probe)
{
    probe_t p;
    CHECK(probe_file(NULL, src, &p) == 0);
    char *dst = xasprintf("%s/out/%s", dir, name);
    conform_opts_t o;
    conform_opts_init(&o);
    progress_log_t log = {0};
    o.progress = log_progress;
    o.arg = &log;
    conform_result_t r;
    int rc = conform_file(NULL, NULL, src, &p, house, dst, &o, &r);
    if (rc != 0)
        fprintf(stderr, "%s: conform failed: %s\n", name, r.error);
    CHECK(rc == 0);
    CHECK(r.error == NULL);
    char *part = xasprintf("%s.part", dst);
    CHECK(exists(dst) && !exists(part));
    free(part);
    CHECK(log.calls >= 1 && !log.backwards);
    CHECK_NEAR(log.last, log.total, 0.05);

    /* House format, as the playout rule sees it, and every packet. */
    probe_t op;
    size_t n;
    pkt_t *pk = read_file(dst, &op, &n);
    const char *why = NULL;
    int house_ok = probe_is_house(&op, house, &why);
    if (!house_ok)
        fprintf(stderr, "%s: not house format: %s\n", name, why);
    CHECK(house_ok);
    CHECK(op.video.field_order == PROBE_FIELD_PROGRESSIVE);
    CHECK_NEAR(op.start_time, 0, 0.001);

    /* Keyframes on every multiple of the GOP and nowhere else, per ffprobe's own packet
       list, and the module's list the same. */
    double gop = (double)house->gop_frames * house->fps_den / house->fps_num;
    double frame = (double)house->fps_den / house->fps_num;
    size_t frames = 0, keys = 0;
    double v_start = -1, a_start = -1, v_end = 0, a_end = 0;
    for (size_t i = 0; i < n; i++) {
        if (pk[i].video) {
            if (v_start < 0)
                v_start = pk[i].pts;
            if (pk[i].key) {
                CHECK_NEAR(pk[i].pts - op.start_time, keys * gop, 0.001);
                if (keys < r.n_keyframes)
                    CHECK_NEAR(r.keyframes[keys], keys * gop, 0.001);
                keys++;
            }
            frames++;
            v_end = pk[i].pts + frame;
        } else {
            if (a_start < 0)
                a_start = pk[i].pts;
            a_end = pk[i].pts + pk[i].dur;
        }
    }
    CHECK(keys == (frames + house->gop_frames - 1) / house->gop_frames);
    CHECK(keys == r.n_keyframes);
    CHECK((long long)frames == r.frames);

    /* Both streams start at 0; the audio ends within one AAC frame after the video (the
       encoder fills its last frame), well inside the 50 ms a viewer could notice. */
    CHECK_NEAR(v_start, 0, 0.001);
    CHECK_NEAR(a_start, 0, 0.001);
    CHECK(a_end >= v_end - 0.001);
    CHECK(a_end - v_end <= 1024.0 / house->audio_rate + 0.001);
    CHECK(fabs(a_end - v_end) <= 0.050);
    /* As long as the source to the nearest house frame. */
    CHECK(fabs(v_end - p.duration) <= frame / 2 + 0.001);
    CHECK_NEAR(r.duration, op.duration, 0.001);
    fprintf(stderr,
            "%s: source %.3f s -> video %.3f s (%zu frames, %zu keyframes), audio %.3f s, "
            "%d progress reports\n",
            name, p.duration, v_end, frames, keys, a_end, log.calls);
    free(pk);
    *src_probe = p;
    *out_probe = op;
    conform_result_dispose(&r);
    return dst;
}

/* ---- colours ---- */

/* Pure red conformed into house: the centre must be red as that house's matrix codes it,
   and the file tagged with that matrix (space). src_space is the source's tag, or NULL. */
static void check_red(const char *src, const char *src_space, const house_format_t *house,
                      const char *name, const double want[3], const char *space)
{
    probe_t sp, op;
    char *out = conform_checked(src, house, name, &sp, &op);
    if (src_space != NULL)
        CHECK_STR(sp.video.color_space, src_space);
    else
        CHECK(sp.video.color_space == NULL);
    double yuv[3] = {0, 0, 0};
    CHECK(centre_yuv(out, yuv));
    fprintf(stderr, "%s: source tagged %s, centre Y %.1f Cb %.1f Cr %.1f (want %.0f %.0f %.0f)\n",
            name, sp.video.color_space ? sp.video.color_space : "(none)", yuv[0], yuv[1], yuv[2],
            want[0], want[1], want[2]);
    for (int i = 0; i < 3; i++)
        CHECK_NEAR(yuv[i], want[i], 4);
    char *tags = colour_tags(out), *want_tags = xasprintf("tv,%s,%s,%s", space, space, space);
    CHECK_STR(tags, want_tags);
    CHECK_STR(op.video.color_space, space);
    free(tags);
    free(want_tags);
    probe_dispose(&sp);
    probe_dispose(&op);
    free(out);
}

/* ---- copy-mode playout of conformed files ---- */

/* Three conformed files through the concat demuxer with stream copy, as a channel's
   ffmpeg reads them: no timestamp warnings, and the timestamps run on across each
   boundary with no step back and no hole (video: one frame plus at most the one AAC
   frame by which the previous item's audio outlasted its video; audio: one AAC frame). */
static void check_playout(char *const files[3], const house_format_t *house)
{
    char *list = xasprintf("%s/list.ffconcat", dir), *out = xasprintf("%s/playout.ts", dir);
    FILE *fp = fopen(list, "w");
    CHECK(fp != NULL);
    if (fp == NULL)
        return;
    fputs("ffconcat version 1.0\n", fp);
    for (int i = 0; i < 3; i++)
        fprintf(fp, "file 'file:%s'\n", files[i]);
    fclose(fp);
    const char *argv[] = {"ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "warning", "-y",
                          "-f", "concat", "-safe", "0", "-i", list, "-c", "copy",
                          "-f", "mpegts", out, NULL};
    strbuf_t err;
    CHECK(run_ok(argv, NULL, &err));
    if (strstr(err.data, "onotonous") || strstr(err.data, "onotonically") ||
        strstr(err.data, "onotonic"))
        fprintf(stderr, "playout warnings: %s\n", err.data);
    CHECK(strstr(err.data, "Non-monotonous DTS") == NULL);
    CHECK(strstr(err.data, "non monotonically increasing dts") == NULL);
    strbuf_dispose(&err);

    size_t n;
    probe_t op;
    pkt_t *pk = read_file(out, &op, &n);
    probe_dispose(&op);
    double frame = (double)house->fps_den / house->fps_num, aac = 1024.0 / house->audio_rate;
    double last[2] = {-1, -1}, biggest[2] = {0, 0};
    size_t count[2] = {0, 0};
    for (size_t i = 0; i < n; i++) {
        int v = pk[i].video;
        if (last[v] >= 0) {
            double step = pk[i].dts - last[v];
            CHECK(step > 0);
            if (step > biggest[v])
                biggest[v] = step;
        }
        last[v] = pk[i].dts;
        count[v]++;
    }
    CHECK(count[1] > 0 && count[0] > 0);
    CHECK(biggest[1] <= frame + aac + 0.001);
    CHECK(biggest[0] <= aac + 0.001);
    fprintf(stderr, "playout: %zu video, %zu audio packets; largest DTS step video %.4f s, "
                    "audio %.4f s\n", count[1], count[0], biggest[1], biggest[0]);
    free(pk);
    free(list);
    free(out);
}

/* ---- stopping early leaves nothing behind ---- */

static int cancel_at_first_report(void *arg, double done, double total)
{
    atomic_store((atomic_int *)arg, 1);
    return 0;
}

static void check_stops(const char *src)
{
    probe_t p;
    CHECK(probe_file(NULL, src, &p) == 0);
    char *dst = xasprintf("%s/out/stopped.ts", dir), *part = xasprintf("%s.part", dst);
    conform_opts_t o;
    conform_result_t r;

    /* A cancel flag raised mid-encode (here by the progress callback). */
    atomic_int flag = 0;
    conform_opts_init(&o);
    o.progress = cancel_at_first_report;
    o.arg = &flag;
    o.cancel = &flag;
    CHECK(conform_file(NULL, NULL, src, &p, &small, dst, &o, &r) == -ECANCELED);
    CHECK_STR(r.error, "canceled");
    CHECK(!exists(dst) && !exists(part));
    conform_result_dispose(&r);

    /* Already raised: nothing runs. */
    conform_opts_init(&o);
    o.cancel = &flag;
    CHECK(conform_file(NULL, NULL, src, &p, &small, dst, &o, &r) == -ECANCELED);
    CHECK(!exists(dst) && !exists(part));
    conform_result_dispose(&r);

    /* Out of time: ffmpeg is killed and its half file removed. */
    conform_opts_init(&o);
    o.timeout = 0.01;
    CHECK(conform_file(NULL, NULL, src, &p, &small, dst, &o, &r) == -ETIMEDOUT);
    CHECK(!exists(dst) && !exists(part));
    conform_result_dispose(&r);

    /* No ffmpeg. */
    CHECK(conform_file("/nonexistent/ffmpeg", NULL, src, &p, &small, dst, NULL, &r) == -ENOENT);
    CHECK_CONTAINS(r.error, "not found");
    conform_result_dispose(&r);

    /* A source that is not what its probe said: ffmpeg fails, says why, no files. */
    char *junk = xasprintf("%s/junk.mkv", dir);
    CHECK(util_write_file_atomic(junk, "not media", 9) == 0);
    CHECK(conform_file(NULL, NULL, junk, &p, &small, dst, NULL, &r) == -EIO);
    CHECK_CONTAINS(r.error, "ffmpeg: ");
    CHECK(!exists(dst) && !exists(part));
    conform_result_dispose(&r);
    free(junk);

    /* No video: refused before anything runs. */
    probe_t audio_only = {.duration = 3, .has_audio = 1};
    CHECK(conform_file(NULL, NULL, src, &audio_only, &small, dst, NULL, &r) == -EINVAL);
    CHECK_CONTAINS(r.error, "no video");
    conform_result_dispose(&r);

    probe_dispose(&p);
    free(dst);
    free(part);
}

/* ---- names and keys ---- */

static int is_cache_name(const char *path, const char *state)
{
    size_t sl = strlen(state);
    if (strncmp(path, state, sl) != 0 || strncmp(path + sl, "/conform/", 9) != 0)
        return 0;
    const char *b = path + sl + 9;
    if (strlen(b) != 16 + 1 + 8 + 3 || b[16] != '-' || strcmp(b + 25, ".ts") != 0)
        return 0;
    for (int i = 0; i < 25; i++)
        if (i != 16 && strchr("0123456789abcdef", b[i]) == NULL)
            return 0;
    return 1;
}

static void check_names(void)
{
    char *key = conform_house_key(&defaults);
    CHECK_STR(key, "640x480@30000/1001g60a48000c2v1500ka128k");
    free(key);

    char *a = conform_cache_path("/state", "/media/a.mkv", 1000, 1700000000, &defaults);
    char *b = conform_cache_path("/state", "/media/a.mkv", 1000, 1700000001, &defaults);
    char *c = conform_cache_path("/state", "/media/a.mkv", 1000, 1700000000, &small);
    char *d = conform_cache_path("/state", "/media/a.mkv", 1000, 1700000000, &defaults);
    CHECK(is_cache_name(a, "/state"));
    size_t base = strlen("/state/conform/");
    CHECK(strncmp(a, b, base + 16) != 0);         /* the source changed: another name */
    CHECK_STR(a + base + 16, b + base + 16);      /* ... for the same house */
    CHECK(strncmp(a, c, base + 16) == 0);         /* the same source ... */
    CHECK(strcmp(a + base + 16, c + base + 16) != 0); /* ... in another house */
    CHECK_STR(a, d);                              /* stable */
    free(a);
    free(b);
    free(c);
    free(d);

    double kf[] = {0, 2.002, 4.0039999, -0.0000001, 123.4565};
    char *json = conform_keyframes_json(kf, 5);
    CHECK_STR(json, "[0.000,2.002,4.004,0.000,123.457]");
    free(json);
    json = conform_keyframes_json(NULL, 0);
    CHECK_STR(json, "[]");
    free(json);
}

int main(void)
{
    CHECK(mkdtemp(dir) != NULL);
    check_names();

    static const char *const x264[] = {"-c:v", "libx264", "-preset", "ultrafast", NULL};
    static const char *const x264_aac[] = {"-c:v", "libx264", "-preset", "ultrafast",
                                           "-c:a", "aac", NULL};
    static const char *const interlaced[] = {"-c:v", "libx264", "-preset", "ultrafast",
                                             "-flags", "+ildct+ilme", "-x264-params", "tff=1",
                                             "-c:a", "ac3", NULL};
    static const char *const x264_bt709[] = {"-c:v", "libx264", "-preset", "ultrafast",
                                              "-colorspace", "bt709", "-color_primaries", "bt709",
                                              "-color_trc", "bt709", NULL};
    /* Pure red coded with the BT.709 matrix, as HD is. */
    const char *red = "color=c=red:size=1280x720:rate=30000/1001:duration=1,format=rgb24,"
                      "scale=out_color_matrix=bt709:out_range=tv,format=yuv420p";
    enum { WIDE, NARROW, INTERLACED, SILENT, MONO, RED_TAGGED, RED_UNTAGGED, N_SOURCES };
    source_t src[N_SOURCES] = {
        [WIDE] = {"wide.mkv", "color=c=0xC08040:size=640x360:rate=25:duration=3",
                  "sine=f=440:r=48000:d=3,pan=stereo|c0=c0|c1=c0", x264_aac},
        [NARROW] = {"narrow.mkv", "color=c=0x40A0C0:size=320x240:rate=30:duration=2.5",
                    "sine=f=660:r=48000:d=2.5", x264_aac},
        [INTERLACED] = {"interlaced.ts",
                        "testsrc2=size=720x480:rate=60000/1001:duration=3,"
                        "drawbox=x=0:y=0:w=iw:h=ih:color=white:t=16,"
                        "tinterlace=interleave_top,setsar=10/11,setfield=tff",
                        "sine=f=880:r=48000:d=3,pan=stereo|c0=c0|c1=c0", interlaced},
        [SILENT] = {"silent.mkv", "testsrc2=size=320x240:rate=24:duration=2.2", NULL, x264},
        [MONO] = {"mono.mkv", "testsrc2=size=320x240:rate=30000/1001:duration=3",
                  "sine=f=330:r=44100:d=3", x264_aac},
        [RED_TAGGED] = {"red-bt709.mkv", red, NULL, x264_bt709},
        [RED_UNTAGGED] = {"red-untagged.mkv", red, NULL, x264},
    };
    make_sources(src, N_SOURCES);
    probe_t sp, op;

    /* 16:9 into 4:3: letterboxed, 320x180 of picture with 30-line bars. */
    char *out_wide = conform_checked(src[WIDE].path, &small, "wide.ts", &sp, &op);
    probe_dispose(&sp);
    probe_dispose(&op);
    unsigned char *y = grab_luma(out_wide, 320, 240);
    CHECK(y != NULL);
    if (y)
        check_bars(y, 320, 240, 30, 0);
    free(y);

    /* 4:3 into 16:9: pillarboxed, 240x180 of picture with 40-column bars. */
    char *out_narrow = conform_checked(src[NARROW].path, &wide_house, "narrow.ts", &sp, &op);
    probe_dispose(&sp);
    probe_dispose(&op);
    y = grab_luma(out_narrow, 320, 180);
    CHECK(y != NULL);
    if (y)
        check_bars(y, 320, 180, 40, 1);
    free(y);

    /* Interlaced 720x480 at 10:11: deinterlaced, square pixels, filling the 4:3 frame
       (15:11 is within the crop slack: no thin bars). */
    char *out_il = conform_checked(src[INTERLACED].path, &small, "interlaced.ts", &sp, &op);
    CHECK(sp.video.interlaced && sp.video.sar_num == 10 && sp.video.sar_den == 11);
    CHECK_STR(probe_field_order_name(op.video.field_order), "progressive");
    probe_dispose(&sp);
    probe_dispose(&op);
    y = grab_luma(out_il, 320, 240);
    CHECK(y != NULL);
    if (y) {
        CHECK(row_mean(y, 320, 0) > BLACK && row_mean(y, 320, 239) > BLACK);
        CHECK(col_mean(y, 320, 240, 0) > BLACK && col_mean(y, 320, 240, 319) > BLACK);
    }
    free(y);

    /* No audio: AAC silence of the full length (the length is checked for every case). */
    char *out_silent = conform_checked(src[SILENT].path, &small, "silent.ts", &sp, &op);
    CHECK(!sp.has_audio);
    CHECK(op.has_audio && op.audio.codec && strcmp(op.audio.codec, "aac") == 0);
    probe_dispose(&sp);
    probe_dispose(&op);

    /* 44.1 kHz mono: 48 kHz stereo. */
    char *out_mono = conform_checked(src[MONO].path, &small, "mono.ts", &sp, &op);
    CHECK(sp.audio.sample_rate == 44100 && sp.audio.channels == 1);
    CHECK(op.audio.sample_rate == 48000 && op.audio.channels == 2);
    probe_dispose(&sp);
    probe_dispose(&op);

    /* HD red into the SD house: converted to BT.601's red (Y 16+219*0.299, Cb and Cr from
       B-Y and R-Y scaled by 112/0.886 and 112/0.701), tagged smpte170m. Untagged, it is
       taken as BT.709 for its 720 lines, as players take it. Into an HD house it stays
       BT.709's red (Y 16+219*0.2126), tagged bt709. Without the conversion the SD
       results would be 63, 102, 240. */
    static const double red_601[3] = {81, 90, 240}, red_709[3] = {63, 102, 240};
    check_red(src[RED_TAGGED].path, "bt709", &small, "red-tagged.ts", red_601, "smpte170m");
    check_red(src[RED_UNTAGGED].path, NULL, &small, "red-untagged.ts", red_601, "smpte170m");
    check_red(src[RED_TAGGED].path, "bt709", &hd_house, "red-hd.ts", red_709, "bt709");

    /* The project's default house format. Its 480 lines keep any combing the small
       house would have scaled away, so it shows the fields were really merged. */
    char *out_default = conform_checked(src[INTERLACED].path, &defaults, "default.ts", &sp, &op);
    CHECK(op.video.width == 640 && op.video.height == 480);
    int combed = -1, progressive = -1;
    detect_interlace(out_default, &combed, &progressive);
    CHECK(combed >= 0 && combed * 10 <= progressive);
    probe_dispose(&sp);
    probe_dispose(&op);

    char *const three[3] = {out_wide, out_il, out_mono};
    check_playout(three, &small);
    check_stops(src[INTERLACED].path);

    char *const outs[] = {out_wide, out_narrow, out_il, out_silent, out_mono, out_default};
    for (size_t i = 0; i < RV_ARRAY_SIZE(outs); i++)
        free(outs[i]);
    for (size_t i = 0; i < N_SOURCES; i++)
        free(src[i].path);
    if (check_failures == 0) {
        char *cleanup = xasprintf("rm -rf '%s'", dir);
        if (system(cleanup) != 0)
            fprintf(stderr, "unable to remove %s\n", dir);
        free(cleanup);
    } else {
        fprintf(stderr, "files kept in %s\n", dir);
    }
    return CHECK_DONE();
}
