/*
 * Probing a media file: ffprobe runs as a child with JSON output, cJSON parses it, and
 * the fields playout and conforming care about are pulled out and normalised (frame
 * rate, aspect ratios, field order). Also the house-format rule.
 */
#include "probe.h"

#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "run.h"
#include "util.h"

/* Less than this is not a program but the first packets of a truncated file. */
#define MIN_DURATION 0.1

/* ---- small JSON readers ---- */

static const char *jstr(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) && v->valuestring[0] != '\0' ? v->valuestring : NULL;
}

/* ffprobe writes most numbers as strings ("48000", "2.002000"); accept either form. */
static double jnum(const cJSON *o, const char *key, double dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (cJSON_IsNumber(v))
        return v->valuedouble;
    if (cJSON_IsString(v)) {
        char *end;
        double d = strtod(v->valuestring, &end);
        if (end != v->valuestring && isfinite(d))
            return d;
    }
    return dflt;
}

static int jint(const cJSON *o, const char *key)
{
    double d = jnum(o, key, 0);
    return d > 0 && d < 1e9 ? (int)d : 0;
}

/* ---- rationals ---- */

static long long gcd(long long a, long long b)
{
    while (b != 0) {
        long long t = a % b;
        a = b;
        b = t;
    }
    return a < 0 ? -a : a;
}

/* Parses "30000/1001" or "16:9" (sep is '/' or ':'); 0/0 when absent or malformed. */
static void parse_ratio(const char *s, char sep, int *num, int *den)
{
    *num = *den = 0;
    if (s == NULL)
        return;
    char *end;
    long n = strtol(s, &end, 10);
    if (end == s || *end != sep)
        return;
    const char *d_start = end + 1;
    long d = strtol(d_start, &end, 10);
    if (end == d_start || *end != '\0' || n < 0 || d < 0 || n > 1000000000 || d > 1000000000)
        return;
    *num = (int)n;
    *den = (int)d;
}

static void reduce(int *num, int *den)
{
    long long g = gcd(*num, *den);
    if (g > 1) {
        *num = (int)(*num / g);
        *den = (int)(*den / g);
    }
}

/* A frame rate a real video could have. */
static int rate_sane(int num, int den)
{
    if (num <= 0 || den <= 0)
        return 0;
    double r = (double)num / den;
    return r >= 1.0 && r <= 240.0;
}

static int rate_close(double a, double b)
{
    return fabs(a - b) <= b * 0.002;
}

/* The rate avg_frame_rate measures is right for interlaced and telecined video, where
   r_frame_rate (the finest timestamp step) is often the field rate or 30000/1001 for
   24p film; but it is measured, so it can come out as 2997/100 or 1318000/43979.
   Prefer avg, then write it as r or a standard rate when it is within 0.2% of one. */
static void choose_frame_rate(const char *r, const char *avg, int *num, int *den)
{
    static const int standard[][2] = {{24000, 1001}, {24, 1}, {25, 1},      {30000, 1001},
                                      {30, 1},       {50, 1}, {60000, 1001}, {60, 1}};
    int rn, rd, an, ad;
    parse_ratio(r, '/', &rn, &rd);
    parse_ratio(avg, '/', &an, &ad);
    *num = *den = 0;
    if (!rate_sane(an, ad)) {
        if (rate_sane(rn, rd)) {
            *num = rn;
            *den = rd;
            reduce(num, den);
        }
        return;
    }
    double a = (double)an / ad;
    *num = an;
    *den = ad;
    if (rate_sane(rn, rd) && rate_close(a, (double)rn / rd)) {
        *num = rn;
        *den = rd;
    } else {
        for (size_t i = 0; i < RV_ARRAY_SIZE(standard); i++)
            if (rate_close(a, (double)standard[i][0] / standard[i][1])) {
                *num = standard[i][0];
                *den = standard[i][1];
                break;
            }
    }
    reduce(num, den);
}

/* ---- streams ---- */

static enum probe_field_order parse_field_order(const char *s)
{
    static const struct {
        const char *name;
        enum probe_field_order f;
    } names[] = {{"progressive", PROBE_FIELD_PROGRESSIVE},
                 {"tt", PROBE_FIELD_TT},
                 {"bb", PROBE_FIELD_BB},
                 {"tb", PROBE_FIELD_TB},
                 {"bt", PROBE_FIELD_BT}};
    for (size_t i = 0; s != NULL && i < RV_ARRAY_SIZE(names); i++)
        if (strcmp(s, names[i].name) == 0)
            return names[i].f;
    return PROBE_FIELD_UNKNOWN;
}

const char *probe_field_order_name(enum probe_field_order f)
{
    switch (f) {
    case PROBE_FIELD_PROGRESSIVE: return "progressive";
    case PROBE_FIELD_TT: return "tt";
    case PROBE_FIELD_BB: return "bb";
    case PROBE_FIELD_TB: return "tb";
    case PROBE_FIELD_BT: return "bt";
    default: return "unknown";
    }
}

/* Aspect ratios: a stream that states no sample aspect ratio (or "0:1") is shown with
   square pixels by every player, so that is what it has. The display ratio follows from
   the size and SAR when ffprobe leaves it out. */
static void parse_aspect(const cJSON *s, probe_video_t *v)
{
    parse_ratio(jstr(s, "sample_aspect_ratio"), ':', &v->sar_num, &v->sar_den);
    if (v->sar_num <= 0 || v->sar_den <= 0)
        v->sar_num = v->sar_den = 1;
    reduce(&v->sar_num, &v->sar_den);
    parse_ratio(jstr(s, "display_aspect_ratio"), ':', &v->dar_num, &v->dar_den);
    if ((v->dar_num <= 0 || v->dar_den <= 0) && v->width > 0 && v->height > 0) {
        long long n = (long long)v->width * v->sar_num, d = (long long)v->height * v->sar_den;
        long long g = gcd(n, d);
        v->dar_num = (int)(n / g);
        v->dar_den = (int)(d / g);
    }
}

static void parse_video(const cJSON *s, probe_video_t *v)
{
    v->codec = xstrdup(jstr(s, "codec_name"));
    v->profile = xstrdup(jstr(s, "profile"));
    v->width = jint(s, "width");
    v->height = jint(s, "height");
    choose_frame_rate(jstr(s, "r_frame_rate"), jstr(s, "avg_frame_rate"), &v->fps_num,
                      &v->fps_den);
    v->field_order = parse_field_order(jstr(s, "field_order"));
    v->interlaced = v->field_order >= PROBE_FIELD_TT;
    parse_aspect(s, v);
    v->pix_fmt = xstrdup(jstr(s, "pix_fmt"));
    /* "unknown" (colour info present, matrix not stated) says no more than no tag. */
    const char *cs = jstr(s, "color_space");
    v->color_space = cs != NULL && strcmp(cs, "unknown") != 0 ? xstrdup(cs) : NULL;
    parse_ratio(jstr(s, "time_base"), '/', &v->tb_num, &v->tb_den);
    v->has_b_frames = jint(s, "has_b_frames");
}

static void parse_audio(const cJSON *s, probe_audio_t *a)
{
    a->codec = xstrdup(jstr(s, "codec_name"));
    a->sample_rate = jint(s, "sample_rate");
    a->channels = jint(s, "channels");
    a->channel_layout = xstrdup(jstr(s, "channel_layout"));
}

/* Cover art in MP4 and Matroska shows up as a one-frame video stream. */
static int is_attached_picture(const cJSON *s)
{
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(s, "disposition");
    return jnum(d, "attached_pic", 0) != 0;
}

static void parse_streams(const cJSON *streams, probe_t *p, double *video_duration)
{
    const cJSON *s;
    cJSON_ArrayForEach(s, streams)
    {
        const char *type = jstr(s, "codec_type");
        if (type == NULL)
            continue;
        if (strcmp(type, "video") == 0 && !p->has_video && !is_attached_picture(s)) {
            p->has_video = 1;
            parse_video(s, &p->video);
            *video_duration = jnum(s, "duration", 0);
        } else if (strcmp(type, "audio") == 0) {
            if (p->audio_count++ == 0) {
                p->has_audio = 1;
                parse_audio(s, &p->audio);
            }
        } else if (strcmp(type, "subtitle") == 0) {
            p->subtitle_count++;
        }
    }
}

static void parse_chapters(const cJSON *chapters, probe_t *p)
{
    int n = cJSON_GetArraySize(chapters);
    if (n <= 0)
        return;
    p->chapters = xcalloc((size_t)n, sizeof(*p->chapters));
    const cJSON *c;
    cJSON_ArrayForEach(c, chapters)
    {
        probe_chapter_t *ch = &p->chapters[p->n_chapters++];
        ch->start = jnum(c, "start_time", 0);
        ch->end = jnum(c, "end_time", ch->start);
        ch->title = xstrdup(jstr(cJSON_GetObjectItemCaseSensitive(c, "tags"), "title"));
    }
}

/* Says what makes a parsed file unusable, or NULL. */
static const char *check_usable(const probe_t *p)
{
    if (!p->has_video && !p->has_audio)
        return "no audio or video streams";
    if (p->duration < MIN_DURATION)
        return "no usable duration (empty or truncated file)";
    if (p->has_video && (p->video.width <= 0 || p->video.height <= 0 || p->video.fps_num <= 0))
        return "the video stream has no size or frame rate (truncated or damaged file)";
    return NULL;
}

int probe_parse_json(const char *path, const char *json, probe_t *out)
{
    memset(out, 0, sizeof(*out));
    out->path = xstrdup(path);
    cJSON *root = json ? cJSON_Parse(json) : NULL;
    const cJSON *format = cJSON_GetObjectItemCaseSensitive(root, "format");
    if (!cJSON_IsObject(format)) {
        cJSON_Delete(root);
        out->error = xasprintf("%s: ffprobe gave no format information", path);
        return -EINVAL;
    }
    out->format = xstrdup(jstr(format, "format_name"));
    out->duration = jnum(format, "duration", 0);
    out->start_time = jnum(format, "start_time", 0);
    out->size = (long long)jnum(format, "size", 0);
    out->bit_rate = (long long)jnum(format, "bit_rate", 0);
    double video_duration = 0;
    parse_streams(cJSON_GetObjectItemCaseSensitive(root, "streams"), out, &video_duration);
    /* Raw elementary streams carry no container duration; the stream's will do. */
    if (out->duration <= 0)
        out->duration = video_duration;
    parse_chapters(cJSON_GetObjectItemCaseSensitive(root, "chapters"), out);
    cJSON_Delete(root);
    const char *why = check_usable(out);
    if (why != NULL) {
        out->error = xasprintf("%s: %s", path, why);
        return -EINVAL;
    }
    return 0;
}

/* ---- running ffprobe ---- */

/* ffprobe reads "foo:bar.mkv" as protocol "foo" and "-x.mkv" as an option; the file:
   prefix makes every path a plain file. */
static int run_ffprobe(const char *ffprobe, const char *url, run_result_t *res)
{
    const char *argv[] = {ffprobe,        "-hide_banner",   "-v",
                          "error",        "-print_format",  "json",
                          "-show_format", "-show_streams",  "-show_chapters",
                          url,            NULL};
    run_opts_t opts = {.timeout = PROBE_TIMEOUT};
    return run_program(argv, &opts, res);
}

/* The message for a run that did not produce a usable answer. */
static char *failure_message(const char *ffprobe, const char *path, const char *url, int rc,
                             const run_result_t *res, const char *parse_error)
{
    if (rc == -ENOENT)
        return xasprintf("%s: unable to run %s: not found (apt-get install ffmpeg)", path,
                         ffprobe);
    if (rc == -ETIMEDOUT)
        return xasprintf("%s: ffprobe did not finish within %.0f s (stalled storage?)", path,
                         PROBE_TIMEOUT);
    if (rc != 0)
        return xasprintf("%s: unable to run %s: %s", path, ffprobe, strerror(-rc));
    char *said = run_error_line(res->err.data, url, 2);
    char *msg;
    if (parse_error != NULL && said != NULL)
        msg = xasprintf("%s (ffprobe: %s)", parse_error, said);
    else if (parse_error != NULL)
        msg = xstrdup(parse_error);
    else if (said != NULL)
        msg = xasprintf("%s: ffprobe: %s", path, said);
    else if (res->term_signal != 0)
        msg = xasprintf("%s: ffprobe was killed by signal %d", path, res->term_signal);
    else
        msg = xasprintf("%s: ffprobe cannot read it (exit status %d)", path, res->exit_code);
    free(said);
    return msg;
}

int probe_file(const char *ffprobe, const char *path, probe_t *out)
{
    if (ffprobe == NULL)
        ffprobe = "ffprobe";
    memset(out, 0, sizeof(*out));
    /* Only regular files: a FIFO or device would have ffprobe wait for ever. */
    struct stat sb;
    if (stat(path, &sb) != 0) {
        int err = -errno;
        out->path = xstrdup(path);
        out->error = xasprintf("%s: cannot read: %s", path, strerror(errno));
        return err;
    }
    if (!S_ISREG(sb.st_mode)) {
        out->path = xstrdup(path);
        out->error = xasprintf("%s: not a regular file", path);
        return -EINVAL;
    }
    char *url = xasprintf("file:%s", path);
    run_result_t res;
    int rc = run_ffprobe(ffprobe, url, &res);
    if (rc == 0 && res.exit_code == 0) {
        rc = probe_parse_json(path, res.out.data, out);
        if (rc == 0 && out->size <= 0)
            out->size = (long long)sb.st_size;
        if (rc != 0) {
            char *m = failure_message(ffprobe, path, url, 0, &res, out->error);
            free(out->error);
            out->error = m;
        }
    } else {
        memset(out, 0, sizeof(*out));
        out->path = xstrdup(path);
        out->error = failure_message(ffprobe, path, url, rc, &res, NULL);
        rc = rc != 0 ? rc : -EINVAL;
    }
    run_result_dispose(&res);
    free(url);
    return rc;
}

void probe_dispose(probe_t *p)
{
    free(p->path);
    free(p->format);
    free(p->video.codec);
    free(p->video.profile);
    free(p->video.pix_fmt);
    free(p->video.color_space);
    free(p->audio.codec);
    free(p->audio.channel_layout);
    for (size_t i = 0; i < p->n_chapters; i++)
        free(p->chapters[i].title);
    free(p->chapters);
    free(p->error);
    memset(p, 0, sizeof(*p));
}

/* ---- the house format ---- */

static int streq(const char *a, const char *b)
{
    return a != NULL && strcmp(a, b) == 0;
}

/* The video half of the rule. No B-frames, 8-bit 4:2:0 Baseline, Main or High: stream
   copy cuts only on keyframes, and with B-frames the frames around a cut decode wrongly
   (see DESIGN.md, "Feeding ffmpeg"); every set-top and browser decoder plays those. */
static const char *video_difference(const probe_video_t *v, const house_format_t *h)
{
    if (!streq(v->codec, "h264"))
        return "video is not H.264";
    /* Any 8-bit 4:2:0 profile a player decodes without B-frames splices cleanly;
       the fast presets make Constrained Baseline, conforms make Main. */
    if (!streq(v->profile, "High") && !streq(v->profile, "Main") &&
        !streq(v->profile, "Constrained Baseline") && !streq(v->profile, "Baseline"))
        return "H.264 profile is not Baseline, Main or High";
    if (v->width != h->width || v->height != h->height)
        return "frame size differs from the house format";
    if ((long long)v->fps_num * h->fps_den != (long long)h->fps_num * v->fps_den ||
        v->fps_num <= 0)
        return "frame rate differs from the house format";
    if (v->has_b_frames)
        return "has B-frames (cuts would not be clean)";
    if (!streq(v->pix_fmt, "yuv420p"))
        return "pixel format is not yuv420p";
    if (v->sar_num != v->sar_den)
        return "pixels are not square (SAR is not 1:1)";
    if (v->field_order != PROBE_FIELD_PROGRESSIVE)
        return "video is not progressive";
    return NULL;
}

int probe_is_house(const probe_t *p, const house_format_t *h, const char **why)
{
    const char *w = NULL;
    if (!streq(p->format, "mpegts"))
        w = "container is not MPEG-TS";
    else if (!p->has_video)
        w = "no video stream";
    else if ((w = video_difference(&p->video, h)) != NULL)
        ;
    else if (!p->has_audio || !streq(p->audio.codec, "aac"))
        w = "audio is missing or not AAC";
    else if (p->audio.sample_rate != h->audio_rate || p->audio.channels != h->audio_channels)
        w = "audio rate or layout differs from the house format";
    if (why != NULL)
        *why = w;
    return w == NULL;
}
