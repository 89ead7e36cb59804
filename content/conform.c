/*
 * Conforming an asset to the house format with one ffmpeg run: a filter graph that
 * deinterlaces, fits the picture by display aspect (letterbox, pillarbox or a slight
 * crop), fixes the frame rate and audio layout and makes both streams exactly as long
 * as the source; x264 with the same settings as scripts/make-demo; then checks on the
 * result before it gets its final name.
 */
#include "conform.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run.h"
#include "util.h"

/* Part of every cache name: bump it whenever the encode below changes in a way that
   makes old conformed files wrong, and they are all made again. */
#define ENCODER_VERSION "conform 2: x264 ultrafast main crf26 closed-gop bf0 601/709, aac fast"

/* Sources whose display aspect is within 3% of the house's are cropped to fit rather
   than given bars a few pixels thick: 720x480 at 10:11 (15:11, the analogue blanking
   included) fills a 4:3 house, losing 8 columns of blanking on each side. */
#define ASPECT_SLACK 0.03

/* Players read an untagged picture of this many lines or more as HD (the BT.709 matrix),
   and a smaller one as SD (BT.601). */
#define HD_LINES 720

/* ---- names and keys ---- */

static uint64_t fnv1a(const void *data, size_t n, uint64_t h)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

#define FNV_OFFSET 0xcbf29ce484222325ULL

char *conform_house_key(const house_format_t *h)
{
    return xasprintf("%dx%d@%d/%dg%da%dc%dv%dka%dk", h->width, h->height, h->fps_num,
                     h->fps_den, h->gop_frames, h->audio_rate, h->audio_channels,
                     h->video_kbps, h->audio_kbps);
}

char *conform_cache_path(const char *state_dir, const char *src, long long size, long long mtime,
                         const house_format_t *house)
{
    /* The NUL after the path keeps "a1" + size 2 apart from "a" + size 12. */
    char *id = xasprintf("%lld %lld", size, mtime);
    uint64_t s = fnv1a(src, strlen(src) + 1, FNV_OFFSET);
    s = fnv1a(id, strlen(id), s);
    char *key = conform_house_key(house);
    uint64_t h = fnv1a(key, strlen(key) + 1, FNV_OFFSET);
    h = fnv1a(ENCODER_VERSION, strlen(ENCODER_VERSION), h);
    char *path = xasprintf("%s/conform/%016llx-%08x.ts", state_dir, (unsigned long long)s,
                           (unsigned)((h >> 32) ^ (h & 0xffffffffu)));
    free(key);
    free(id);
    return path;
}

char *conform_keyframes_json(const double *kf, size_t n)
{
    strbuf_t sb;
    strbuf_init(&sb);
    strbuf_puts(&sb, "[");
    for (size_t i = 0; i < n; i++) {
        double ms = round(kf[i] * 1000.0) / 1000.0;
        strbuf_printf(&sb, "%s%.3f", i ? "," : "", ms == 0 ? 0.0 : ms); /* no "-0.000" */
    }
    strbuf_puts(&sb, "]");
    return strbuf_steal(&sb);
}

/* ---- options and results ---- */

void conform_opts_init(conform_opts_t *o)
{
    memset(o, 0, sizeof(*o));
    o->nice = CONFORM_DEFAULT_NICE;
}

void conform_result_dispose(conform_result_t *r)
{
    free(r->keyframes);
    free(r->error);
    memset(r, 0, sizeof(*r));
}

/* ---- the filter graph ---- */

/* How the source picture goes into the house frame. */
typedef struct fit {
    int crop_w, crop_h;   /* 0 when nothing is cropped */
    int scale_w, scale_h; /* the picture's size in the house frame */
    int pad;              /* bars needed (scale size smaller than the frame) */
} fit_t;

static int even(double x)
{
    long v = 2 * lround(x / 2);
    return v < 2 ? 2 : (int)v;
}

/* Works on display aspect (size times SAR), since the house has square pixels. */
static void fit_picture(const probe_video_t *v, const house_format_t *h, fit_t *f)
{
    memset(f, 0, sizeof(*f));
    double sar = v->sar_num > 0 && v->sar_den > 0 ? (double)v->sar_num / v->sar_den : 1.0;
    double src = v->width * sar / v->height, house = (double)h->width / h->height;
    double r = src / house;
    f->scale_w = h->width;
    f->scale_h = h->height;
    if (r > 1 + ASPECT_SLACK) { /* wider: letterbox */
        f->scale_h = even(h->width / src);
        f->pad = f->scale_h < h->height;
    } else if (r < 1 / (1 + ASPECT_SLACK)) { /* narrower: pillarbox */
        f->scale_w = even(h->height * src);
        f->pad = f->scale_w < h->width;
    } else if (r > 1) {
        f->crop_w = even(v->width / r);
        f->crop_h = v->height;
    } else if (r < 1) {
        f->crop_w = v->width;
        f->crop_h = even(v->height * r);
    }
    if (f->crop_w == v->width && f->crop_h == v->height)
        f->crop_w = f->crop_h = 0;
}

/* The YCbCr matrix the source was encoded with, in scale's names. An untagged source is
   read as players read it (by its size), not as swscale would: its default is BT.601
   for everything, which shifts the colours of untagged HD. */
static const char *source_matrix(const probe_video_t *v)
{
    static const struct {
        const char *tag, *matrix;
    } known[] = {{"bt709", "bt709"},     {"fcc", "fcc"},        {"smpte240m", "smpte240m"},
                 {"bt2020nc", "bt2020"}, {"bt2020c", "bt2020"}, {"smpte170m", "bt601"},
                 {"bt470bg", "bt601"}};
    for (size_t i = 0; v->color_space != NULL && i < RV_ARRAY_SIZE(known); i++)
        if (strcmp(v->color_space, known[i].tag) == 0)
            return known[i].matrix;
    return v->height >= HD_LINES ? "bt709" : "bt601";
}

/* Every filter ends in a fixed number of frames: fps starts the picture at 0 (cloning
   the first frame if the video starts late), tpad clones the last frame if the video
   ends before the audio, trim stops at exactly the frame count. -frames:v is no good:
   ffmpeg 5.1 closes every stream of the output when it is reached, cutting the audio
   short. bwdif makes one frame per frame, keeping the source's motion cadence. scale
   converts the matrix, not only the size: HD sources are BT.709 and an SD house is
   BT.601, and ffmpeg 5.1's scale keeps the input's matrix unless given the output's. */
static void video_graph(strbuf_t *g, const probe_video_t *v, const house_format_t *h,
                        long long frames)
{
    fit_t f;
    fit_picture(v, h, &f);
    strbuf_puts(g, "[0:V:0]");
    if (v->interlaced)
        strbuf_puts(g, "bwdif=mode=send_frame:parity=auto:deint=all,");
    if (f.crop_w > 0)
        strbuf_printf(g, "crop=%d:%d,", f.crop_w, f.crop_h);
    strbuf_printf(g, "scale=%d:%d:in_color_matrix=%s:out_color_matrix=%s:out_range=tv,setsar=1,",
                  f.scale_w, f.scale_h, source_matrix(v),
                  h->height >= HD_LINES ? "bt709" : "bt601");
    if (f.pad)
        strbuf_printf(g, "pad=%d:%d:(ow-iw)/2:(oh-ih)/2:black,", h->width, h->height);
    strbuf_printf(g,
                  "fps=%d/%d:start_time=0,tpad=stop=-1:stop_mode=clone,trim=end_frame=%lld,"
                  "format=yuv420p[v]",
                  h->fps_num, h->fps_den, frames);
}

static void layout_name(int channels, char *buf, size_t size)
{
    static const char *const names[] = {NULL, "mono", "stereo", NULL, NULL, NULL, "5.1",
                                        NULL, "7.1"};
    if (channels > 0 && (size_t)channels < RV_ARRAY_SIZE(names) && names[channels])
        snprintf(buf, size, "%s", names[channels]);
    else
        snprintf(buf, size, "%dc", channels);
}

/* aresample with async fills a late start and any gaps with silence (first_pts=0 puts
   the first sample at 0, with the picture); apad and atrim make the length exact. A
   silent source gets anullsrc, so every house file has both streams. */
static void audio_graph(strbuf_t *g, const probe_t *p, const house_format_t *h,
                        long long samples)
{
    char layout[16];
    layout_name(h->audio_channels, layout, sizeof(layout));
    if (p->has_audio)
        strbuf_printf(g,
                      "[0:a:0]aresample=%d:async=1:first_pts=0,"
                      "aformat=sample_fmts=fltp:sample_rates=%d:channel_layouts=%s,"
                      "apad=whole_len=%lld,atrim=end_sample=%lld[a]",
                      h->audio_rate, h->audio_rate, layout, samples, samples);
    else
        strbuf_printf(g, "anullsrc=r=%d:cl=%s,atrim=end_sample=%lld[a]", h->audio_rate, layout,
                      samples);
}

/* ---- the ffmpeg command ---- */

typedef struct args {
    char **v;
    size_t n, cap;
} args_t;

static void add(args_t *a, const char *s)
{
    if (a->n + 2 > a->cap) {
        a->cap = a->cap ? a->cap * 2 : 64;
        a->v = xrealloc(a->v, a->cap * sizeof(*a->v));
    }
    a->v[a->n++] = xstrdup(s);
    a->v[a->n] = NULL;
}

static void addf(args_t *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void addf(args_t *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    strbuf_t sb;
    strbuf_init(&sb);
    strbuf_vprintf(&sb, fmt, ap);
    va_end(ap);
    add(a, sb.data);
    strbuf_dispose(&sb);
}

static void args_dispose(args_t *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->v[i]);
    free(a->v);
}

static void add_list(args_t *a, const char *const *list)
{
    for (; *list; list++)
        add(a, *list);
}

/* The encode matches scripts/make-demo (x264 ultrafast Main, closed GOPs of exactly
   gop_frames with no scene-cut keyframes and no B-frames, crf 26 capped at the house
   bitrate; AAC with the fast coder), so conformed files and demo files can follow each
   other in one stream copy. Forcing keyframes by frame number puts one at every multiple
   of the GOP even if x264 would have drifted. The AAC encoder's priming packet (pts
   -1024 samples) is dropped, as make-demo does: otherwise the muxer shifts the whole
   file by 21 ms and the video no longer starts at 0. -muxdelay 0 starts both at 0.
   The colour tags say what video_graph made (BT.601 for SD, BT.709 for HD, limited
   range), which is what players assume for a picture of that size anyway; make-demo
   writes the same, so the SPS does not change where files are spliced. Primaries are
   tagged but not converted (the gamuts are close), as broadcasters down-convert HD. */
static void encode_args(args_t *a, const house_format_t *h, int threads)
{
    static const char *const video[] = {"-c:v", "libx264", "-preset", "ultrafast",
                                        "-profile:v", "main", "-pix_fmt", "yuv420p",
                                        "-sc_threshold", "0", "-bf", "0", "-flags", "+cgop",
                                        "-x264-params", "open_gop=0:cabac=1", "-crf", "26",
                                        NULL};
    add_list(a, video);
    const char *colour = h->height >= HD_LINES ? "bt709" : "smpte170m";
    static const char *const tags[] = {"-colorspace", "-color_primaries", "-color_trc", NULL};
    for (size_t i = 0; tags[i] != NULL; i++) {
        add(a, tags[i]);
        add(a, colour);
    }
    add(a, "-color_range");
    add(a, "tv");
    if (threads > 0) {
        add(a, "-threads");
        addf(a, "%d", threads);
    }
    add(a, "-g");
    addf(a, "%d", h->gop_frames);
    add(a, "-keyint_min");
    addf(a, "%d", h->gop_frames);
    add(a, "-force_key_frames");
    addf(a, "expr:eq(mod(n,%d),0)", h->gop_frames);
    add(a, "-maxrate");
    addf(a, "%dk", h->video_kbps);
    add(a, "-bufsize");
    addf(a, "%dk", 2 * h->video_kbps);
    static const char *const audio[] = {"-c:a", "aac", "-aac_coder", "fast", "-bsf:a",
                                        "noise=drop=not(n)", NULL};
    add_list(a, audio);
    add(a, "-b:a");
    addf(a, "%dk", h->audio_kbps);
    static const char *const mux[] = {"-f", "mpegts", "-muxdelay", "0", "-muxpreload", "0",
                                      "-progress", "pipe:1", NULL};
    add_list(a, mux);
}

static void build_args(args_t *a, const char *ffmpeg, const char *in_url, const probe_t *p,
                       const house_format_t *h, long long frames, long long samples,
                       int threads, const char *out_url)
{
    static const char *const head[] = {"-hide_banner", "-nostdin", "-nostats", "-loglevel",
                                       "error", "-y", "-i", NULL};
    add(a, ffmpeg);
    add_list(a, head);
    add(a, in_url);
    strbuf_t g;
    strbuf_init(&g);
    video_graph(&g, &p->video, h, frames);
    strbuf_puts(&g, ";");
    audio_graph(&g, p, h, samples);
    add(a, "-filter_complex");
    add(a, g.data);
    strbuf_dispose(&g);
    static const char *const maps[] = {"-map", "[v]", "-map", "[a]", "-map_metadata", "-1",
                                       "-map_chapters", "-1", NULL};
    add_list(a, maps);
    encode_args(a, h, threads);
    add(a, out_url);
}

/* ---- running it ---- */

typedef struct watch {
    const conform_opts_t *o;
    double total;
} watch_t;

static int canceled(const conform_opts_t *o)
{
    return o->cancel != NULL && atomic_load(o->cancel) != 0;
}

/* -progress reports come every half second on stdout as key=value lines; out_time_us is
   the media time written (out_time_ms is the same number in microseconds in 5.1, a
   misnomer, so it is not used). */
static int on_ffmpeg_line(void *arg, enum run_stream stream, const char *line, size_t len)
{
    watch_t *w = arg;
    static const char key[] = "out_time_us=";
    if (stream == RUN_STDOUT && len > sizeof(key) - 1 && len < 64 &&
        memcmp(line, key, sizeof(key) - 1) == 0) {
        char buf[64];
        memcpy(buf, line, len);
        buf[len] = '\0';
        char *end;
        long long us = strtoll(buf + sizeof(key) - 1, &end, 10);
        if (*end == '\0' && us >= 0 && w->o->progress != NULL &&
            w->o->progress(w->o->arg, (double)us / 1e6, w->total) != 0)
            return 1;
    }
    return canceled(w->o);
}

static char *run_failure(const char *ffmpeg, int rc, const run_result_t *res, const char *in_url,
                         double timeout)
{
    if (rc == -ENOENT)
        return xasprintf("unable to run %s: not found (apt-get install ffmpeg)", ffmpeg);
    if (rc == -ETIMEDOUT)
        return xasprintf("ffmpeg did not finish within %.0f s", timeout);
    if (rc == -ECANCELED)
        return xstrdup("canceled");
    if (rc != 0)
        return xasprintf("unable to run %s: %s", ffmpeg, strerror(-rc));
    char *said = run_error_line(res->err.data, in_url, 2);
    char *msg;
    if (said != NULL)
        msg = xasprintf("ffmpeg: %s", said);
    else if (res->term_signal != 0)
        msg = xasprintf("ffmpeg was killed by signal %d", res->term_signal);
    else
        msg = xasprintf("ffmpeg failed (exit status %d)", res->exit_code);
    free(said);
    return msg;
}

static int encode(const char *ffmpeg, const char *src, const probe_t *p, const house_format_t *h,
                  long long frames, long long samples, const char *part,
                  const conform_opts_t *o, conform_result_t *out)
{
    char *in_url = xasprintf("file:%s", src), *out_url = xasprintf("file:%s", part);
    args_t a = {0};
    build_args(&a, ffmpeg, in_url, p, h, frames, samples, o->threads, out_url);
    double total = (double)frames * h->fps_den / h->fps_num;
    watch_t w = {.o = o, .total = total};
    double timeout = o->timeout > 0   ? o->timeout
                     : o->timeout < 0 ? 0
                                      : CONFORM_TIMEOUT_BASE + CONFORM_TIMEOUT_FACTOR * total;
    run_opts_t ro = {.timeout = timeout,
                     .nice = o->nice,
                     .max_capture = 64 << 10,
                     .on_line = on_ffmpeg_line,
                     .arg = &w};
    run_result_t res;
    int rc = run_program((const char *const *)a.v, &ro, &res);
    if (rc != 0 || res.exit_code != 0) {
        out->error = run_failure(ffmpeg, rc, &res, in_url, timeout);
        rc = rc != 0 ? rc : -EIO;
    }
    run_result_dispose(&res);
    args_dispose(&a);
    free(in_url);
    free(out_url);
    return rc;
}

/* ---- reading keyframes ---- */

typedef struct kf_reader {
    double start;
    double *kf;
    size_t n, cap;
    long long frames;
} kf_reader_t;

/* Lines are "PTS_TIME,FLAGS[,side data...]" (csv, no section name). */
static int on_packet_line(void *arg, enum run_stream stream, const char *line, size_t len)
{
    kf_reader_t *r = arg;
    if (stream != RUN_STDOUT)
        return 0;
    const char *comma = memchr(line, ',', len);
    if (comma == NULL)
        return 0;
    r->frames++;
    if ((size_t)(comma + 1 - line) >= len || comma[1] != 'K')
        return 0;
    char *end;
    double t = strtod(line, &end);
    if (end != comma)
        return 0; /* pts N/A: not a cut point anyone could use */
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 256;
        r->kf = xrealloc(r->kf, r->cap * sizeof(*r->kf));
    }
    r->kf[r->n++] = t - r->start;
    return 0;
}

/* Packet flags need only demuxing, not decoding: a feature film takes a second or two. */
int conform_read_keyframes(const char *ffprobe, const char *path, double start_time,
                           double **kf, size_t *n, long long *frames)
{
    char *url = xasprintf("file:%s", path);
    const char *argv[] = {ffprobe ? ffprobe : "ffprobe",
                          "-hide_banner", "-v", "error", "-select_streams", "v:0",
                          "-show_entries", "packet=pts_time,flags", "-of", "csv=p=0",
                          url, NULL};
    kf_reader_t r = {.start = start_time};
    run_opts_t ro = {.timeout = PROBE_TIMEOUT,
                     .max_capture = 64 << 10,
                     .on_line = on_packet_line,
                     .arg = &r};
    run_result_t res;
    int rc = run_program(argv, &ro, &res);
    if (rc == 0 && res.exit_code != 0)
        rc = -EIO;
    run_result_dispose(&res);
    free(url);
    if (rc != 0) {
        free(r.kf);
        return rc;
    }
    *kf = r.kf;
    *n = r.n;
    if (frames != NULL)
        *frames = r.frames;
    return 0;
}

/* ---- checking the output ---- */

/* Says what is wrong with the keyframes, or returns NULL: one at every multiple of the
   GOP from 0, and no others. */
static char *keyframe_problem(const double *kf, size_t n, long long frames,
                              const house_format_t *h)
{
    double gop = (double)h->gop_frames * h->fps_den / h->fps_num;
    size_t want = (size_t)((frames + h->gop_frames - 1) / h->gop_frames);
    for (size_t i = 0; i < n && i < want; i++)
        if (fabs(kf[i] - (double)i * gop) > 0.002)
            return xasprintf("keyframe %zu is at %.3f s, expected %.3f s", i, kf[i],
                             (double)i * gop);
    if (n != want)
        return xasprintf("%zu keyframes, expected %zu (one every %d frames)", n, want,
                         h->gop_frames);
    return NULL;
}

/* The output must be house format (so channels can copy it), have every frame, start
   each GOP with a keyframe, and end its audio within one AAC frame of its video. */
static int verify(const char *ffprobe, const char *part, const house_format_t *h,
                  long long frames, conform_result_t *out)
{
    probe_t op;
    int rc = probe_file(ffprobe, part, &op);
    const char *why = NULL;
    if (rc != 0) {
        out->error = xasprintf("the output cannot be read: %s", op.error);
    } else if (!probe_is_house(&op, h, &why)) {
        out->error = xasprintf("the output is not in the house format: %s", why);
        rc = -EINVAL;
    } else {
        out->duration = op.duration;
        out->start_time = op.start_time;
        rc = conform_read_keyframes(ffprobe, part, op.start_time, &out->keyframes,
                                    &out->n_keyframes, &out->frames);
        if (rc != 0)
            out->error = xasprintf("unable to read the output's keyframes: %s", strerror(-rc));
    }
    probe_dispose(&op);
    if (rc != 0)
        return rc;
    char *problem = NULL;
    double video = (double)frames * h->fps_den / h->fps_num;
    double slack = 1024.0 / h->audio_rate + (double)h->fps_den / h->fps_num + 0.001;
    if (out->frames != frames)
        problem = xasprintf("%lld video frames, expected %lld", out->frames, frames);
    else if ((problem = keyframe_problem(out->keyframes, out->n_keyframes, frames, h)) != NULL)
        ;
    else if (fabs(out->duration - video) > slack)
        problem = xasprintf("it lasts %.3f s, expected %.3f s", out->duration, video);
    if (problem != NULL) {
        out->error = xasprintf("the output is not usable: %s", problem);
        free(problem);
        return -EINVAL;
    }
    return 0;
}

/* ---- putting it in place ---- */

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL)
        return xstrdup(".");
    if (slash == path)
        return xstrdup("/");
    return xasprintf("%.*s", (int)(slash - path), path);
}

static int fsync_path(const char *path, int flags)
{
    int fd = open(path, flags | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = fsync(fd) == 0 ? 0 : -errno;
    close(fd);
    return rc;
}

/* The data reaches the disk before the name does; otherwise a power cut soon after the
   rename can leave an empty or partial file under the final name. */
static int install(const char *part, const char *dst, conform_result_t *out)
{
    int rc = fsync_path(part, O_RDONLY);
    if (rc == 0 && rename(part, dst) != 0)
        rc = -errno;
    if (rc != 0) {
        out->error = xasprintf("unable to move the output into place: %s", strerror(-rc));
        return rc;
    }
    char *dir = dir_of(dst);
    fsync_path(dir, O_RDONLY | O_DIRECTORY); /* best effort: the file is complete anyway */
    free(dir);
    return 0;
}

/* ---- the whole conform ---- */

static const char *source_problem(const probe_t *p, const house_format_t *h)
{
    if (p->error != NULL)
        return "the source could not be probed";
    if (!p->has_video || p->video.width <= 0 || p->video.height <= 0)
        return "the source has no video stream";
    if (!(p->duration > 0))
        return "the source has no duration";
    if (h->width <= 0 || h->height <= 0 || h->width % 2 || h->height % 2 || h->fps_num <= 0 ||
        h->fps_den <= 0 || h->gop_frames <= 0 || h->audio_rate <= 0 ||
        h->audio_channels <= 0 || h->video_kbps <= 0 || h->audio_kbps <= 0)
        return "the house format is incomplete";
    return NULL;
}

int conform_file(const char *ffmpeg, const char *ffprobe, const char *src, const probe_t *probe,
                 const house_format_t *house, const char *dst, const conform_opts_t *opts,
                 conform_result_t *out)
{
    memset(out, 0, sizeof(*out));
    conform_opts_t defaults;
    conform_opts_init(&defaults);
    const conform_opts_t *o = opts ? opts : &defaults;
    const char *why = source_problem(probe, house);
    if (why != NULL) {
        out->error = xstrdup(why);
        return -EINVAL;
    }
    if (canceled(o)) {
        out->error = xstrdup("canceled");
        return -ECANCELED;
    }
    /* The length of the source in house frames and samples, both streams alike. */
    long long frames = llround(probe->duration * house->fps_num / house->fps_den);
    if (frames < 1)
        frames = 1;
    long long samples = (frames * house->fps_den * house->audio_rate * 2 + house->fps_num) /
                        (2LL * house->fps_num);

    char *dir = dir_of(dst);
    int rc = util_mkdirs(dir, 0755);
    free(dir);
    if (rc != 0) {
        out->error = xasprintf("unable to create the output's directory: %s", strerror(-rc));
        return rc;
    }
    char *part = xasprintf("%s.part", dst);
    rc = encode(ffmpeg ? ffmpeg : "ffmpeg", src, probe, house, frames, samples, part, o, out);
    if (rc == 0)
        rc = verify(ffprobe, part, house, frames, out);
    if (rc == 0)
        rc = install(part, dst, out);
    if (rc != 0) {
        unlink(part);
        free(out->keyframes);
        out->keyframes = NULL;
        out->n_keyframes = 0;
    }
    free(part);
    return rc;
}
