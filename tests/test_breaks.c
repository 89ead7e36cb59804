/*
 * Unit tests for break points: programs made with lavfi at the start of the run, with
 * black-and-silent gaps at known times (and at the very start and end, which must not
 * count), without gaps, with black only and silence only; chapter markers; the override
 * file and its error messages; progress, cancelling and failures of the ffmpeg pass.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "breaks.h"
#include "check.h"
#include "run.h"

static char dir[] = "/tmp/rv-breaks-XXXXXX";

static char *media(const char *name)
{
    return xasprintf("%s/%s", dir, name);
}

static int ffmpeg(const char *arg, ...)
{
    const char *argv[64] = {"ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y"};
    int n = 6;
    va_list ap;
    va_start(ap, arg);
    for (const char *a = arg; a != NULL && n < 63; a = va_arg(ap, const char *))
        argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    run_result_t r;
    run_opts_t o = {.timeout = 60};
    int rc = run_program(argv, &o, &r);
    if (rc != 0 || r.exit_code != 0)
        fprintf(stderr, "ffmpeg failed (%d, exit %d): %s\n", rc, r.exit_code, r.err.data);
    rc = rc != 0 ? rc : r.exit_code != 0 ? -EIO : 0;
    run_result_dispose(&r);
    return rc;
}

static void write_text(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    CHECK(fp != NULL);
    if (fp != NULL) {
        fputs(text, fp);
        fclose(fp);
    }
}

/* A program of `secs` seconds of colour bars and a tone, in MPEG-TS (whose clock starts
   at 1.4 s, so the test also shows breaks are counted from the program's first frame),
   with the picture black during `black` and the sound off during `silent` (ffmpeg
   timeline expressions such as "between(t,20,21)", or "0" for never). Small and fast:
   320x240, static bars, ultrafast x264. */
static int make_program(const char *name, int secs, const char *black, const char *silent)
{
    char *p = media(name);
    char *v = xasprintf("smptebars=s=320x240:r=25:d=%d,drawbox=c=black:t=fill:enable='%s'",
                        secs, black);
    char *a = xasprintf("sine=f=440:r=48000:d=%d,volume=0:enable='%s'", secs, silent);
    int rc = ffmpeg("-f", "lavfi", "-i", v, "-f", "lavfi", "-i", a, "-c:v", "libx264", "-preset",
                    "ultrafast", "-pix_fmt", "yuv420p", "-threads", "1", "-c:a", "aac", "-ac",
                    "1", "-f", "mpegts", p, NULL);
    free(a);
    free(v);
    free(p);
    return rc;
}

/* Gaps at 20 and 45 (1 s each), one at 60 split in two by half a second of picture,
   and black+silence in the first and last second (a cold open and a fade out). */
#define GAPS "between(t,0,1)+between(t,20,21)+between(t,45,46)+between(t,60,60.5)+" \
             "between(t,61,61.5)+gte(t,74)"

static void make_media(void)
{
    CHECK(make_program("gaps.ts", 75, GAPS, GAPS) == 0);
    CHECK(make_program("plain.ts", 40, "0", "0") == 0);
    /* Black with the sound going on at 15, a silent pause over picture at 25. */
    CHECK(make_program("black-only.ts", 40, "between(t,15,16)", "between(t,25,26)") == 0);
    char *meta = media("chapters.txt");
    write_text(meta, ";FFMETADATA1\n"
                     "[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=2000\ntitle=Teaser\n"
                     "[CHAPTER]\nTIMEBASE=1/1000\nSTART=2000\nEND=4000\ntitle=Act One\n"
                     "[CHAPTER]\nTIMEBASE=1/1000\nSTART=4000\nEND=6000\ntitle=Act Two\n");
    char *p = media("chapters.mkv");
    CHECK(ffmpeg("-f", "lavfi", "-i", "smptebars=s=320x240:r=25:d=6", "-f", "lavfi", "-i",
                 "sine=r=48000:d=6", "-i", meta, "-map", "0:v", "-map", "1:a", "-map_chapters",
                 "2", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a",
                 "aac", p, NULL) == 0);
    free(p);
    free(meta);
}

static void probe(const char *name, probe_t *pr)
{
    char *p = media(name);
    CHECK(probe_file(NULL, p, pr) == 0);
    free(p);
}

typedef struct progress {
    int calls;
    double last_done, total;
    int stop_after; /* cancel on this call; 0 = never */
} progress_t;

static int on_progress(void *arg, double done, double total)
{
    progress_t *p = arg;
    CHECK(done >= p->last_done); /* never goes backwards */
    CHECK(done <= total);
    p->last_done = done;
    p->total = total;
    return ++p->calls == p->stop_after;
}

static void test_detected(void)
{
    probe_t pr;
    probe("gaps.ts", &pr);
    CHECK(pr.start_time > 1.0); /* the TS clock does not start at 0 */
    progress_t prog = {0};
    breaks_opts_t o = {.nice = 10, .progress = on_progress, .arg = &prog};
    break_list_t l;
    char *err = NULL;
    CHECK(breaks_find(pr.path, &pr, &o, &l, &err) == 0);
    CHECK(err == NULL);
    /* 20 and 45 as made; the split gap at 60 is one break; the first and last seconds
       are a cold open and a fade out, not breaks. */
    CHECK(l.n == 3);
    if (l.n == 3) {
        const double start[] = {20.0, 45.0, 60.0}, end[] = {21.0, 46.0, 61.5};
        for (int i = 0; i < 2; i++) {
            CHECK_STR(l.v[i].source, "detected");
            CHECK_NEAR(l.v[i].gap_start, start[i], 0.1);
            CHECK_NEAR(l.v[i].gap_end, end[i], 0.1);
            CHECK_NEAR(l.v[i].at, start[i] + 0.5, 0.1); /* the middle of the gap */
            CHECK(l.v[i].black && l.v[i].silent);
            CHECK(l.v[i].confidence >= 0.9 && l.v[i].confidence <= 1.0);
        }
        /* Two half-second gaps 0.5 s apart: cut in one of them, never in the picture. */
        CHECK_NEAR(l.v[2].gap_start, 60.0, 0.1);
        CHECK_NEAR(l.v[2].gap_end, 61.5, 0.1);
        CHECK((l.v[2].at > 60.1 && l.v[2].at < 60.4) || (l.v[2].at > 61.1 && l.v[2].at < 61.4));
        CHECK(l.v[2].confidence >= BREAKS_MIN_CONFIDENCE && l.v[2].confidence < 0.9);
    }
    CHECK(prog.calls >= 1);
    CHECK_NEAR(prog.last_done, pr.duration, 0.001);
    CHECK_NEAR(prog.total, pr.duration, 0.001);
    break_list_dispose(&l);
    probe_dispose(&pr);
}

static void test_no_breaks(void)
{
    probe_t pr;
    probe("plain.ts", &pr);
    breaks_opts_t o = {.include_weak = 1};
    break_list_t l;
    char *err = NULL;
    CHECK(breaks_detect(pr.path, &pr, &o, &l, &err) == 0);
    CHECK(l.n == 0); /* not even a weak candidate */
    break_list_dispose(&l);
    probe_dispose(&pr);

    /* Black alone (a night scene) and silence alone (a pause) are not breaks... */
    probe("black-only.ts", &pr);
    CHECK(breaks_detect(pr.path, &pr, NULL, &l, &err) == 0);
    CHECK(l.n == 0);
    break_list_dispose(&l);
    /* ...but a caller can ask to see them, with the low confidence they deserve. */
    CHECK(breaks_detect(pr.path, &pr, &o, &l, &err) == 0);
    CHECK(l.n == 2);
    if (l.n == 2) {
        CHECK_NEAR(l.v[0].at, 15.5, 0.1);
        CHECK(l.v[0].black && !l.v[0].silent);
        CHECK(l.v[0].confidence > 0 && l.v[0].confidence < BREAKS_MIN_CONFIDENCE);
        CHECK_NEAR(l.v[1].at, 25.5, 0.1);
        CHECK(!l.v[1].black && l.v[1].silent);
        CHECK(l.v[1].confidence > 0 && l.v[1].confidence < l.v[0].confidence);
    }
    break_list_dispose(&l);
    probe_dispose(&pr);
}

static void test_chapters(void)
{
    probe_t pr;
    probe("chapters.mkv", &pr);
    CHECK(pr.n_chapters == 3);
    /* Chapters win without a detection pass: a missing ffmpeg would fail it. */
    breaks_opts_t o = {.ffmpeg = "/nonexistent/ffmpeg"};
    break_list_t l;
    char *err = NULL;
    CHECK(breaks_find(pr.path, &pr, &o, &l, &err) == 0);
    CHECK(l.n == 2);
    if (l.n == 2) {
        CHECK_NEAR(l.v[0].at, 2.0, 0.001);
        CHECK_NEAR(l.v[1].at, 4.0, 0.001);
        CHECK_STR(l.v[0].source, "chapters");
        CHECK(l.v[0].confidence == 1.0);
    }
    break_list_dispose(&l);

    /* One chapter is no list of acts: detection runs (and fails here, as it should). */
    pr.n_chapters = 1;
    CHECK(breaks_find(pr.path, &pr, &o, &l, &err) == -ENOENT);
    CHECK_CONTAINS(err, "unable to run /nonexistent/ffmpeg");
    free(err);
    break_list_dispose(&l);
    pr.n_chapters = 3;
    probe_dispose(&pr);
}

static void test_failures(void)
{
    probe_t pr;
    probe("gaps.ts", &pr);
    /* Stopping from the progress callback kills the pass. */
    progress_t prog = {.stop_after = 1};
    breaks_opts_t o = {.progress = on_progress, .arg = &prog};
    break_list_t l;
    char *err = NULL;
    CHECK(breaks_detect(pr.path, &pr, &o, &l, &err) == -ECANCELED);
    CHECK_CONTAINS(err, "break detection stopped");
    CHECK(l.n == 0);
    free(err);
    break_list_dispose(&l);

    /* A file that is not media (the probe is stale): ffmpeg's reason, one line. */
    char *notes = media("notes.ts");
    write_text(notes, "not a video\n");
    CHECK(breaks_detect(notes, &pr, NULL, &l, &err) == -EIO);
    CHECK_CONTAINS(err, notes);
    CHECK_CONTAINS(err, "ffmpeg: Invalid data found when processing input");
    CHECK(strchr(err, '\n') == NULL);
    free(err);
    break_list_dispose(&l);
    free(notes);

    /* A program with no picture has nothing to detect, and that is not an error. */
    pr.has_video = 0;
    CHECK(breaks_detect("/nonexistent.ts", &pr, NULL, &l, &err) == 0);
    CHECK(l.n == 0 && err == NULL);
    probe_dispose(&pr);
}

static breaks_override_t *load_ok(const char *name, const char *text)
{
    char *p = media(name);
    write_text(p, text);
    breaks_override_t *o = NULL;
    strbuf_t errors;
    strbuf_init(&errors);
    CHECK(breaks_override_load(p, &o, &errors) == 0);
    CHECK(errors.len == 0);
    if (errors.len)
        fprintf(stderr, "%s", errors.data);
    strbuf_dispose(&errors);
    free(p);
    return o;
}

/* Loads a bad file and checks the message (after "FILE:") holds expected. */
static void load_bad(const char *text, const char *expected)
{
    char *p = media("bad-breaks.json");
    write_text(p, text);
    breaks_override_t *o = (breaks_override_t *)1;
    strbuf_t errors;
    strbuf_init(&errors);
    CHECK(breaks_override_load(p, &o, &errors) == -EINVAL);
    CHECK(o == NULL);
    char *want = xasprintf("%s:%s", p, expected);
    CHECK_CONTAINS(errors.data, want);
    free(want);
    strbuf_dispose(&errors);
    free(p);
}

static void test_override(void)
{
    breaks_override_t *o = load_ok("breaks.json",
                                   "{\n"
                                   "  \"gaps.ts\": [\"1:00.25\", 12.5, \"0:30\", 12.5],\n"
                                   "  \"shows/../plain.ts\": [],\n"
                                   "  \"/elsewhere/movie.mkv\": [\"1:02:03.5\"]\n"
                                   "}\n");
    CHECK(o != NULL);
    break_list_t l;
    char *gaps = media("gaps.ts"), *plain = media("plain.ts");
    CHECK(breaks_override_lookup(o, gaps, &l) == 1);
    CHECK(l.n == 3); /* sorted, the repeat dropped */
    if (l.n == 3) {
        CHECK_NEAR(l.v[0].at, 12.5, 1e-9);
        CHECK_NEAR(l.v[1].at, 30.0, 1e-9);
        CHECK_NEAR(l.v[2].at, 60.25, 1e-9);
        CHECK_STR(l.v[0].source, "manual");
        CHECK(l.v[0].confidence == 1.0);
    }
    break_list_dispose(&l);
    CHECK(breaks_override_lookup(o, "/elsewhere/./movie.mkv", &l) == 1);
    CHECK(l.n == 1 && l.v[0].at == 3723.5);
    break_list_dispose(&l);
    CHECK(breaks_override_lookup(o, "/elsewhere/other.mkv", &l) == 0);
    CHECK(l.n == 0);
    CHECK(breaks_override_lookup(NULL, gaps, &l) == 0);

    /* The override wins over detection, and an empty list means "no breaks here":
       neither runs ffmpeg (which would fail). */
    breaks_opts_t opts = {.ffmpeg = "/nonexistent/ffmpeg", .overrides = o};
    probe_t pr;
    probe("gaps.ts", &pr);
    char *err = NULL;
    CHECK(breaks_find(gaps, &pr, &opts, &l, &err) == 0);
    CHECK(l.n == 3 && strcmp(l.v[0].source, "manual") == 0);
    break_list_dispose(&l);
    probe_dispose(&pr);
    probe("plain.ts", &pr);
    CHECK(breaks_find(plain, &pr, &opts, &l, &err) == 0);
    CHECK(l.n == 0 && err == NULL);
    break_list_dispose(&l);
    probe_dispose(&pr);
    breaks_override_free(o);
    free(gaps);
    free(plain);

    load_bad("{\n  \"a.ts\": [1, 2,]\n}\n", "2:16: $[\"a.ts\"]: trailing comma is not allowed");
    load_bad("[1, 2]\n", "1:1: $: expected an object from media paths to lists of break times");
    load_bad("{\n  \"a.ts\": 12\n}\n", "2:11: $[\"a.ts\"]: expected a list of break times");
    load_bad("{\n  \"a.ts\": [1, \"12:75\"]\n}\n", "2:15: $[\"a.ts\"][1]: expected a break time");
    load_bad("{\n  \"a.ts\": [1, true]\n}\n", "2:15: $[\"a.ts\"][1]: expected a break time");
    load_bad("{\n  \"a.ts\": [\"1:2:3:4\"]\n}\n", "2:12: $[\"a.ts\"][0]: expected a break time");
    load_bad("{\n  \"a.ts\": [-5]\n}\n",
             "2:12: $[\"a.ts\"][0]: a break must come after the start of the program");
    load_bad("{\n  \"a.ts\": [0]\n}\n", "2:12: $[\"a.ts\"][0]: a break must come after");
    load_bad("{\n  \"a.ts\": [1],\n  \"./a.ts\": [2]\n}\n",
             "3:3: $[\"./a.ts\"]: this file is listed more than once");
    load_bad("{\n  \"a.ts\": [1],\n  \"a.ts\": [2]\n}\n",
             "3:3: $[\"a.ts\"]: this file is listed more than once");
    load_bad("{\"\": [1]}", "1:2: $[\"\"]: the media path is empty");

    breaks_override_t *none = (breaks_override_t *)1;
    strbuf_t errors;
    strbuf_init(&errors);
    char *missing = media("no-such-breaks.json");
    CHECK(breaks_override_load(missing, &none, &errors) == -ENOENT);
    CHECK(none == NULL);
    char *want = xasprintf("%s: cannot read: No such file or directory\n", missing);
    CHECK_STR(errors.data, want);
    free(want);
    free(missing);
    strbuf_dispose(&errors);
}

int main(void)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK(mkdtemp(dir) != NULL);
    make_media();
    test_detected();
    test_no_breaks();
    test_chapters();
    test_failures();
    test_override();
    char *cmd = xasprintf("rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
    free(cmd);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    fprintf(stderr, "test_breaks: %.1f s\n",
            (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    return CHECK_DONE();
}
