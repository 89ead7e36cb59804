/*
 * Finding a program's natural act breaks. A person's override file wins, then chapter
 * markers; otherwise one ffmpeg pass runs blackdetect and silencedetect, and the
 * moments that are both black and silent, in the body of the program, become breaks.
 */
#include "breaks.h"

#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_loc.h"
#include "run.h"

/* Detection settings. Broadcast masters and network-edited DVDs fade to black with the
   sound down for half a second to two seconds at an act break; 0.3 s catches the short
   ones without taking every dark cutaway. pix_th 0.10 counts near-black (video levels
   of analogue transfers never reach true black) and -50 dB is quieter than any room
   tone a scene keeps under its dialogue. */
#define BLACK_FILTER "blackdetect=d=0.3:pix_th=0.10"
#define SILENCE_FILTER "silencedetect=n=-50dB:d=0.3"
/* The detectors time black by frames and silence by audio frames, so the same 0.3 s
   gap seen by both can overlap by a frame less than 0.3 s. */
#define MIN_OVERLAP 0.25
/* An overlap this long or longer is as sure as detection gets. */
#define FULL_OVERLAP 1.0
/* Gaps closer than this are one break: a fade out, a flash of a logo, black again. */
#define MERGE_GAP 2.0
/* The body of a program excludes this share of each end, up to MAX_MARGIN seconds. */
#define MARGIN_SHARE 0.05
#define MAX_MARGIN 60.0

static const char SRC_MANUAL[] = "manual";
static const char SRC_CHAPTERS[] = "chapters";
static const char SRC_DETECTED[] = "detected";

/* ---- lists ---- */

static void list_add(break_list_t *l, break_point_t p)
{
    /* Powers of two: the list only ever grows by one. */
    if ((l->n & (l->n - 1)) == 0)
        l->v = xrealloc(l->v, (l->n ? l->n * 2 : 1) * sizeof(*l->v));
    l->v[l->n++] = p;
}

static break_point_t exact_point(double at, const char *source)
{
    return (break_point_t){.at = at, .confidence = 1.0, .source = source, .gap_start = at,
                           .gap_end = at};
}

void break_list_dispose(break_list_t *list)
{
    free(list->v);
    list->v = NULL;
    list->n = 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* ---- chapters ---- */

int breaks_from_chapters(const probe_t *probe, break_list_t *out)
{
    memset(out, 0, sizeof(*out));
    if (probe->n_chapters < 2)
        return 0;
    /* The first chapter starts the program; the others start after a break. A start
       past the end (a chapter list copied from another cut) is no break. */
    for (size_t i = 1; i < probe->n_chapters; i++) {
        double at = probe->chapters[i].start;
        if (at <= 0 || (probe->duration > 0 && at >= probe->duration))
            continue;
        if (out->n > 0 && at <= out->v[out->n - 1].at)
            continue; /* out of order or repeated */
        list_add(out, exact_point(at, SRC_CHAPTERS));
    }
    return 0;
}

/* ---- detection: collecting the detectors' spans ---- */

typedef struct span {
    double start, end;
} span_t;

typedef struct spans {
    span_t *v;
    size_t n;
} spans_t;

static void spans_add(spans_t *s, double start, double end)
{
    if (!(end > start))
        return;
    if ((s->n & (s->n - 1)) == 0)
        s->v = xrealloc(s->v, (s->n ? s->n * 2 : 1) * sizeof(*s->v));
    s->v[s->n++] = (span_t){start < 0 ? 0 : start, end};
}

/* What one ffmpeg pass reported. */
typedef struct detect {
    spans_t black, silence;
    double silence_open; /* start of a silence not yet ended, or -1 */
    double total;        /* the program's duration, for progress */
    const breaks_opts_t *opts;
    strbuf_t last_other; /* the last stderr line that was not a detector's: the reason
                            when ffmpeg fails, however much it printed before */
} detect_t;

static double number_after(const char *line, const char *key, int *found)
{
    const char *p = strstr(line, key);
    *found = 0;
    if (p == NULL)
        return 0;
    char *end;
    double v = strtod(p + strlen(key), &end);
    *found = end != p + strlen(key) && isfinite(v);
    return v;
}

/* blackdetect prints one line per stretch when it ends:
     [blackdetect @ 0x...] black_start:20.02 black_end:21.06 black_duration:1.04
   silencedetect prints its start and end on separate lines:
     [silencedetect @ 0x...] silence_start: 20.03
     [silencedetect @ 0x...] silence_end: 21.03 | silence_duration: 1.00
   Only the filters' own lines are read, so a title in the input dump cannot fake one.
   Returns whether the line was one of theirs. */
static int parse_detector_line(detect_t *d, const char *line)
{
    int ok1, ok2;
    if (strncmp(line, "[blackdetect @", 14) == 0) {
        double s = number_after(line, "black_start:", &ok1);
        double e = number_after(line, "black_end:", &ok2);
        if (ok1 && ok2)
            spans_add(&d->black, s, e);
    } else if (strncmp(line, "[silencedetect @", 16) == 0) {
        double s = number_after(line, "silence_start:", &ok1);
        double e = number_after(line, "silence_end:", &ok2);
        if (ok1)
            d->silence_open = s < 0 ? 0 : s;
        else if (ok2 && d->silence_open >= 0) {
            spans_add(&d->silence, d->silence_open, e);
            d->silence_open = -1;
        }
    } else {
        return 0;
    }
    return 1;
}

/* -progress pipe:1 writes key=value blocks; out_time_us is how far the pass has got. */
static int parse_progress_line(detect_t *d, const char *line)
{
    const breaks_opts_t *o = d->opts;
    if (o->progress == NULL)
        return 0;
    if (strncmp(line, "out_time_us=", 12) == 0) {
        char *end;
        long long us = strtoll(line + 12, &end, 10);
        if (end == line + 12 || us < 0)
            return 0; /* "N/A" before the first frame */
        double done = (double)us / 1e6;
        return o->progress(o->arg, done < d->total ? done : d->total, d->total);
    }
    if (strcmp(line, "progress=end") == 0)
        return o->progress(o->arg, d->total, d->total);
    return 0;
}

static int on_line(void *arg, enum run_stream stream, const char *line, size_t len)
{
    detect_t *d = arg;
    if (stream == RUN_STDOUT)
        return parse_progress_line(d, line);
    if (!parse_detector_line(d, line)) {
        d->last_other.len = 0;
        strbuf_append(&d->last_other, line, len);
    }
    return 0;
}

/* One pass over the file, video and audio decoded once. -nostats keeps stderr to the
   detectors' lines and the input description; progress goes to stdout. The file: prefix
   keeps a name like "s01e01:pilot.mkv" from being read as a protocol. */
static int run_pass(const char *path, const probe_t *probe, detect_t *d, char **error)
{
    const breaks_opts_t *o = d->opts;
    const char *ffmpeg = o->ffmpeg ? o->ffmpeg : "ffmpeg";
    char *url = xasprintf("file:%s", path);
    const char *argv[32];
    int n = 0;
    const char *head[] = {ffmpeg, "-nostdin", "-hide_banner", "-nostats", "-loglevel", "info",
                          "-progress", "pipe:1", "-i", url, "-map", "0:v:0", "-vf", BLACK_FILTER};
    for (size_t i = 0; i < RV_ARRAY_SIZE(head); i++)
        argv[n++] = head[i];
    if (probe->has_audio) {
        const char *audio[] = {"-map", "0:a:0", "-af", SILENCE_FILTER};
        for (size_t i = 0; i < RV_ARRAY_SIZE(audio); i++)
            argv[n++] = audio[i];
    }
    argv[n++] = "-f";
    argv[n++] = "null";
    argv[n++] = "-";
    argv[n] = NULL;

    /* Lines are parsed as they arrive, so little of the raw output needs keeping. */
    run_opts_t ro = {.timeout = o->timeout > 0 ? o->timeout : 60.0 + 3.0 * probe->duration,
                     .nice = o->nice, .max_capture = 65536, .on_line = on_line, .arg = d};
    run_result_t res;
    int rc = run_program(argv, &ro, &res);
    if (rc == -ENOENT)
        *error = xasprintf("%s: unable to run %s: not found (apt-get install ffmpeg)", path,
                           ffmpeg);
    else if (rc == -ETIMEDOUT)
        *error = xasprintf("%s: break detection did not finish within %.0f s", path, ro.timeout);
    else if (rc == -ECANCELED)
        *error = xasprintf("%s: break detection stopped", path);
    else if (rc != 0)
        *error = xasprintf("%s: unable to run %s: %s", path, ffmpeg, strerror(-rc));
    else if (res.exit_code != 0) {
        char *said = run_error_line(d->last_other.data, url, 1);
        *error = xasprintf("%s: ffmpeg: %s", path, said ? said : "failed");
        free(said);
        rc = -EIO;
    }
    run_result_dispose(&res);
    free(url);
    return rc;
}

/* ---- detection: from spans to breaks ---- */

/* A stretch that may be a break, and the evidence for it. */
typedef struct cand {
    double start, end;           /* all of it (after merging) */
    double best_start, best_end; /* the strongest part: the longest black+silent overlap */
    int black, silent;
} cand_t;

typedef struct cands {
    cand_t *v;
    size_t n, cap;
} cands_t;

static void cand_add(cands_t *c, double start, double end, int black, int silent)
{
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 16;
        c->v = xrealloc(c->v, c->cap * sizeof(*c->v));
    }
    c->v[c->n++] = (cand_t){start, end, start, end, black, silent};
}

static double overlap(span_t a, span_t b, double *start)
{
    *start = a.start > b.start ? a.start : b.start;
    double end = a.end < b.end ? a.end : b.end;
    return end - *start;
}

/* Candidates: every black+silent overlap, and each black or silent stretch that
   overlaps nothing of the other kind (kept as weak evidence). */
static void collect_candidates(const detect_t *d, cands_t *c)
{
    for (size_t i = 0; i < d->black.n; i++) {
        int paired = 0;
        for (size_t j = 0; j < d->silence.n; j++) {
            double s, len = overlap(d->black.v[i], d->silence.v[j], &s);
            if (len >= MIN_OVERLAP) {
                cand_add(c, s, s + len, 1, 1);
                paired = 1;
            }
        }
        if (!paired)
            cand_add(c, d->black.v[i].start, d->black.v[i].end, 1, 0);
    }
    for (size_t j = 0; j < d->silence.n; j++) {
        int paired = 0;
        for (size_t i = 0; i < d->black.n && !paired; i++) {
            double s;
            paired = overlap(d->black.v[i], d->silence.v[j], &s) >= MIN_OVERLAP;
        }
        if (!paired)
            cand_add(c, d->silence.v[j].start, d->silence.v[j].end, 0, 1);
    }
}

static int cmp_cand(const void *a, const void *b)
{
    const cand_t *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

static int stronger(const cand_t *a, const cand_t *b)
{
    if (a->black + a->silent != b->black + b->silent)
        return a->black + a->silent > b->black + b->silent;
    return a->best_end - a->best_start > b->best_end - b->best_start;
}

/* Folds candidates within MERGE_GAP of each other into one, keeping the strongest
   evidence as the place to cut. */
static void merge_candidates(cands_t *c)
{
    if (c->n == 0)
        return;
    qsort(c->v, c->n, sizeof(*c->v), cmp_cand);
    size_t w = 0;
    for (size_t i = 1; i < c->n; i++) {
        cand_t *m = &c->v[w], *x = &c->v[i];
        if (x->start - m->end > MERGE_GAP) {
            c->v[++w] = *x;
            continue;
        }
        if (stronger(x, m)) {
            m->best_start = x->best_start;
            m->best_end = x->best_end;
            m->black = x->black;
            m->silent = x->silent;
        }
        if (x->end > m->end)
            m->end = x->end;
    }
    c->n = w + 1;
}

static double clamp01(double x)
{
    return x < 0 ? 0 : x > 1 ? 1 : x;
}

/* Both detectors agreeing is what a real act break looks like: 0.6 at the shortest
   overlap, rising to 1.0 at FULL_OVERLAP. Black alone is often a night scene and
   silence alone a dramatic pause, so they stay under BREAKS_MIN_CONFIDENCE. (A program
   with no sound track at all can only show black, so its breaks come out weak too:
   include_weak or an override file is the way to use them.) */
static double confidence(const cand_t *c)
{
    double strength = clamp01((c->best_end - c->best_start - MIN_OVERLAP) /
                              (FULL_OVERLAP - MIN_OVERLAP));
    if (c->black && c->silent)
        return 0.6 + 0.4 * strength;
    if (c->black)
        return 0.2 + 0.2 * strength;
    return 0.1 + 0.2 * strength;
}

/* Turns the merged candidates into breaks.

   Only the body of the program counts: the first and last 5% (at most 60 s) are left
   out, because shows open from black (a cold open fading in) and close to black
   (credits fading out), and the start and end of a program are boundaries already.

   The cut goes in the middle of the black+silent overlap rather than at the end of the
   black. A fade crosses the detectors' thresholds gradually, so both ends of a detected
   stretch are uncertain by a few frames, and a stream-copied cut moves to a keyframe
   besides; from the middle, an error either way still lands in black and silence
   instead of clipping the first frame or word of the next act. The returning act then
   opens on a short beat of black, as it did on air. gap_start/gap_end keep the whole
   stretch for a conform step that wants to place a keyframe exactly. */
static void candidates_to_breaks(const cands_t *c, double duration, int include_weak,
                                 break_list_t *out)
{
    double margin = duration * MARGIN_SHARE;
    if (margin > MAX_MARGIN)
        margin = MAX_MARGIN;
    for (size_t i = 0; i < c->n; i++) {
        const cand_t *x = &c->v[i];
        double at = (x->best_start + x->best_end) / 2;
        if (at <= margin || at >= duration - margin)
            continue;
        double conf = confidence(x);
        if (!include_weak && conf < BREAKS_MIN_CONFIDENCE)
            continue;
        list_add(out, (break_point_t){.at = at, .confidence = conf, .source = SRC_DETECTED,
                                      .gap_start = x->start, .gap_end = x->end,
                                      .black = x->black, .silent = x->silent});
    }
}

int breaks_detect(const char *path, const probe_t *probe, const breaks_opts_t *opts,
                  break_list_t *out, char **error)
{
    static const breaks_opts_t defaults;
    memset(out, 0, sizeof(*out));
    *error = NULL;
    if (!probe->has_video)
        return 0; /* nothing to see black in: no breaks, not an error */
    detect_t d = {.silence_open = -1, .total = probe->duration,
                  .opts = opts ? opts : &defaults};
    strbuf_init(&d.last_other);
    int rc = run_pass(path, probe, &d, error);
    if (rc == 0) {
        /* Silence running into the end of the file is closed by the end. */
        if (d.silence_open >= 0)
            spans_add(&d.silence, d.silence_open, probe->duration);
        cands_t c = {0};
        collect_candidates(&d, &c);
        merge_candidates(&c);
        candidates_to_breaks(&c, probe->duration, d.opts->include_weak, out);
        free(c.v);
    }
    free(d.black.v);
    free(d.silence.v);
    strbuf_dispose(&d.last_other);
    return rc;
}

/* ---- the override file ---- */

typedef struct override_entry {
    char *path; /* absolute and normalised */
    double *at; /* sorted */
    size_t n;
} override_entry_t;

struct breaks_override {
    override_entry_t *v;
    size_t n;
};

/* Removes "." and ".." steps and repeated slashes, without touching the disk: a file
   listed as "shows/../shows/a.mkv" is the one the scanner calls "shows/a.mkv". */
static char *normalize_path(const char *path)
{
    char *out = xmalloc(strlen(path) + 2);
    size_t root = path[0] == '/', n = root;
    size_t fixed = 0; /* leading "../" steps of a relative path, which cannot be undone */
    out[0] = '/';
    for (const char *p = path; *p;) {
        while (*p == '/')
            p++;
        const char *e = strchrnul(p, '/');
        size_t seg = (size_t)(e - p);
        int dot = seg == 1 && p[0] == '.', dotdot = seg == 2 && p[0] == '.' && p[1] == '.';
        if (seg == 0 || dot) {
            /* nothing */
        } else if (dotdot && n > root + fixed) {
            while (n > root && out[n - 1] != '/')
                n--; /* drop the last step */
            if (n > root)
                n--; /* and the slash before it */
        } else if (!(dotdot && root)) { /* "/.." is "/" */
            if (n > root)
                out[n++] = '/';
            memcpy(out + n, p, seg);
            n += seg;
            if (dotdot)
                fixed = n - root;
        }
        p = e;
    }
    if (n == 0)
        out[n++] = '.';
    out[n] = '\0';
    return out;
}

/* Parses "S", "M:S" or "H:M:S", each part digits and the last with an optional
   fraction, minutes and seconds under 60 when a larger unit comes first. */
static int parse_timecode(const char *s, double *out)
{
    double parts[3];
    int n = 0;
    const char *p = s;
    for (;;) {
        if (n == 3 || *p < '0' || *p > '9')
            return -EINVAL;
        char *end;
        parts[n++] = strtod(p, &end); /* digits first, so no sign, "inf" or hex */
        if (*end == ':') {
            if (memchr(p, '.', (size_t)(end - p)) != NULL)
                return -EINVAL; /* only the seconds may have a fraction */
            p = end + 1;
            continue;
        }
        if (*end != '\0' || !isfinite(parts[n - 1]))
            return -EINVAL;
        break;
    }
    for (int i = 1; i < n; i++)
        if (parts[i] >= 60)
            return -EINVAL;
    double t = 0;
    for (int i = 0; i < n; i++)
        t = t * 60 + parts[i];
    *out = t;
    return 0;
}

/* The file being read, for messages that point into it. */
typedef struct odoc {
    const char *file;
    const char *text;
    size_t len;
    strbuf_t *errors;
    int n_errors;
} odoc_t;

static void report(odoc_t *d, const json_loc_step_t *path, size_t depth, int at_key,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void report(odoc_t *d, const json_loc_step_t *path, size_t depth, int at_key,
                   const char *fmt, ...)
{
    size_t value_off = 0, key_off = 0;
    if (json_loc_find(d->text, d->len, path, depth, &value_off, &key_off) != 0)
        value_off = key_off = 0;
    int line, col;
    json_loc_line_col(d->text, d->len, at_key ? key_off : value_off, &line, &col);
    strbuf_printf(d->errors, "%s:%d:%d: ", d->file, line, col);
    json_loc_path_render(path, depth, d->errors);
    strbuf_puts(d->errors, ": ");
    va_list ap;
    va_start(ap, fmt);
    strbuf_vprintf(d->errors, fmt, ap);
    va_end(ap);
    strbuf_puts(d->errors, "\n");
    d->n_errors++;
}

/* One list of times; 0 when every entry was good. */
static int read_times(odoc_t *d, const cJSON *list, json_loc_step_t *path,
                      override_entry_t *e)
{
    int bad = 0;
    size_t i = 0;
    e->at = xcalloc((size_t)cJSON_GetArraySize(list) + 1, sizeof(double));
    const cJSON *v;
    cJSON_ArrayForEach(v, list)
    {
        path[1] = (json_loc_step_t){.key = NULL, .index = i++};
        double t = -1;
        if (cJSON_IsNumber(v))
            t = v->valuedouble;
        else if (!cJSON_IsString(v) || parse_timecode(v->valuestring, &t) != 0) {
            report(d, path, 2, 0,
                   "expected a break time: seconds (612.5) or \"M:SS\" / \"H:MM:SS.sss\"");
            bad = 1;
            continue;
        }
        if (!(t > 0) || !isfinite(t)) {
            report(d, path, 2, 0, "a break must come after the start of the program (> 0)");
            bad = 1;
            continue;
        }
        e->at[e->n++] = t;
    }
    qsort(e->at, e->n, sizeof(double), cmp_double);
    size_t w = 0; /* the same time twice is one break */
    for (size_t k = 0; k < e->n; k++)
        if (w == 0 || e->at[k] != e->at[w - 1])
            e->at[w++] = e->at[k];
    e->n = w;
    return bad;
}

/* Index of an entry already read for the same file, or -1. */
static long find_entry(const breaks_override_t *o, const char *path)
{
    for (size_t i = 0; i < o->n; i++)
        if (strcmp(o->v[i].path, path) == 0)
            return (long)i;
    return -1;
}

static void read_entries(odoc_t *d, const cJSON *root, const char *base,
                         breaks_override_t *o)
{
    json_loc_step_t path[2] = {{0}};
    if (!cJSON_IsObject(root)) {
        report(d, path, 0, 0, "expected an object from media paths to lists of break times");
        return;
    }
    o->v = xcalloc((size_t)cJSON_GetArraySize(root) + 1, sizeof(*o->v));
    const cJSON *m;
    cJSON_ArrayForEach(m, root)
    {
        size_t occurrence = 0;
        for (const cJSON *p = root->child; p != m; p = p->next)
            occurrence += strcmp(p->string, m->string) == 0;
        path[0] = (json_loc_step_t){.key = m->string, .index = occurrence};
        if (m->string[0] == '\0') {
            report(d, path, 1, 1, "the media path is empty");
            continue;
        }
        if (!cJSON_IsArray(m)) {
            report(d, path, 1, 0, "expected a list of break times, e.g. [612.5, \"20:41\"]");
            continue;
        }
        char *joined = util_path_join(base, m->string);
        override_entry_t e = {.path = normalize_path(joined)};
        free(joined);
        if (find_entry(o, e.path) >= 0) {
            report(d, path, 1, 1, "this file is listed more than once");
            free(e.path);
            continue;
        }
        if (read_times(d, m, path, &e) != 0) {
            free(e.path);
            free(e.at);
            continue;
        }
        o->v[o->n++] = e;
    }
}

/* The directory the file's relative paths are relative to. */
static char *dir_of(const char *file)
{
    const char *slash = strrchr(file, '/');
    if (slash == NULL)
        return xstrdup(".");
    if (slash == file)
        return xstrdup("/");
    return xasprintf("%.*s", (int)(slash - file), file);
}

int breaks_override_load(const char *file, breaks_override_t **out, strbuf_t *errors)
{
    *out = NULL;
    char *text = NULL;
    size_t len = 0;
    int rc = util_read_file(file, &text, &len);
    if (rc != 0) {
        strbuf_printf(errors, "%s: cannot read: %s\n", file, strerror(-rc));
        return rc;
    }
    odoc_t d = {.file = file, .text = text, .len = len, .errors = errors};
    json_loc_error_t jerr;
    if (json_loc_check(text, len, &jerr) != 0) {
        int line, col;
        json_loc_line_col(text, len, jerr.offset, &line, &col);
        strbuf_printf(errors, "%s:%d:%d: %s: %s\n", file, line, col, jerr.path, jerr.message);
        free(text);
        return -EINVAL;
    }
    /* json_loc accepts a UTF-8 BOM; cJSON gets the text after it. */
    size_t bom = len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
    cJSON *root = cJSON_ParseWithLength(text + bom, len - bom);
    breaks_override_t *o = xcalloc(1, sizeof(*o));
    char *base = dir_of(file);
    read_entries(&d, root, base, o);
    free(base);
    cJSON_Delete(root);
    free(text);
    if (d.n_errors > 0) {
        breaks_override_free(o);
        return -EINVAL;
    }
    *out = o;
    return 0;
}

int breaks_override_lookup(const breaks_override_t *o, const char *media_path,
                           break_list_t *out)
{
    memset(out, 0, sizeof(*out));
    if (o == NULL)
        return 0;
    char *norm = normalize_path(media_path);
    long i = find_entry(o, norm);
    free(norm);
    if (i < 0)
        return 0;
    for (size_t k = 0; k < o->v[i].n; k++)
        list_add(out, exact_point(o->v[i].at[k], SRC_MANUAL));
    return 1;
}

void breaks_override_free(breaks_override_t *o)
{
    if (o == NULL)
        return;
    for (size_t i = 0; i < o->n; i++) {
        free(o->v[i].path);
        free(o->v[i].at);
    }
    free(o->v);
    free(o);
}

/* ---- all together ---- */

int breaks_find(const char *path, const probe_t *probe, const breaks_opts_t *opts,
                break_list_t *out, char **error)
{
    *error = NULL;
    if (opts != NULL && breaks_override_lookup(opts->overrides, path, out))
        return 0;
    breaks_from_chapters(probe, out);
    if (out->n > 0)
        return 0;
    return breaks_detect(path, probe, opts, out, error);
}
