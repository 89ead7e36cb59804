/*
 * Unit tests for running helper programs: both streams captured (also past a pipe's
 * capacity), exit status and signals, missing programs, the time limit, cancelling from
 * the line callback, a parent without stdin and stdout, the nice level, and the one-line
 * error summary.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "run.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int sh(const char *script, const run_opts_t *opts, run_result_t *res)
{
    const char *argv[] = {"sh", "-c", script, NULL};
    return run_program(argv, opts, res);
}

typedef struct lines {
    int out, err;
    char last_err[64];
    int stop_at; /* cancel on this stdout line number; 0 = never */
} lines_t;

static int count_line(void *arg, enum run_stream stream, const char *line, size_t len)
{
    lines_t *l = arg;
    CHECK(strlen(line) == len); /* lines arrive NUL-terminated */
    if (stream == RUN_STDERR) {
        l->err++;
        snprintf(l->last_err, sizeof(l->last_err), "%s", line);
        return 0;
    }
    return ++l->out == l->stop_at;
}

static void test_capture(void)
{
    run_result_t r;
    CHECK(sh("echo out; echo err >&2; exit 3", NULL, &r) == 0);
    CHECK_STR(r.out.data, "out\n");
    CHECK_STR(r.err.data, "err\n");
    CHECK(r.exit_code == 3);
    CHECK(r.term_signal == 0);
    run_result_dispose(&r);

    /* Nothing printed: the buffers are still strings. */
    CHECK(sh("true", NULL, &r) == 0);
    CHECK_STR(r.out.data, "");
    CHECK_STR(r.err.data, "");
    CHECK(r.exit_code == 0);
    run_result_dispose(&r);

    /* Far more than a pipe holds on both streams at once must not deadlock. */
    lines_t l = {0};
    run_opts_t o = {.timeout = 20, .on_line = count_line, .arg = &l};
    CHECK(sh("i=0; while [ $i -lt 20000 ]; do echo line$i; echo eline$i >&2; i=$((i+1)); done;"
             " printf tail",
             &o, &r) == 0);
    /* "line" and "\n" per line, the digits of 0..19999, and "tail". */
    CHECK(r.out.len == 20000 * 5 + (10 + 180 + 2700 + 36000 + 50000) + 4);
    CHECK(l.out == 20001); /* the unterminated "tail" counts as a line */
    CHECK(l.err == 20000);
    CHECK_STR(l.last_err, "eline19999");
    CHECK(r.exit_code == 0);
    CHECK(!r.truncated);
    run_result_dispose(&r);

    /* The capture cap keeps the first bytes and says so. */
    o = (run_opts_t){.max_capture = 100};
    CHECK(sh("i=0; while [ $i -lt 1000 ]; do echo 0123456789; i=$((i+1)); done", &o, &r) == 0);
    CHECK(r.out.len == 100);
    CHECK(r.truncated);
    run_result_dispose(&r);

    /* "\r" ends a line too (ffmpeg's progress) and empty lines are skipped. */
    l = (lines_t){0};
    o = (run_opts_t){.on_line = count_line, .arg = &l};
    CHECK(sh("printf 'a\\rb\\r\\n\\nc\\n'", &o, &r) == 0);
    CHECK(l.out == 3);
    run_result_dispose(&r);
}

static void test_failures(void)
{
    run_result_t r;
    const char *missing[] = {"retrovue-no-such-program", NULL};
    CHECK(run_program(missing, NULL, &r) == -ENOENT);
    run_result_dispose(&r);
    const char *missing_path[] = {"/nonexistent/bin/ffprobe", NULL};
    CHECK(run_program(missing_path, NULL, &r) == -ENOENT);
    run_result_dispose(&r);

    CHECK(sh("kill -TERM $$", NULL, &r) == 0);
    CHECK(r.exit_code == -1);
    CHECK(r.term_signal == 15);
    run_result_dispose(&r);

    /* The time limit kills a child that would run on, and returns promptly. */
    run_opts_t o = {.timeout = 0.3};
    double t0 = now_s();
    CHECK(sh("echo started; exec sleep 30", &o, &r) == -ETIMEDOUT);
    double took = now_s() - t0;
    CHECK(took >= 0.25 && took < 3.0);
    CHECK_STR(r.out.data, "started\n");
    CHECK(r.term_signal == 9);
    run_result_dispose(&r);

    /* A nonzero return from the callback stops the child. */
    lines_t l = {.stop_at = 2};
    o = (run_opts_t){.timeout = 20, .on_line = count_line, .arg = &l};
    t0 = now_s();
    CHECK(sh("i=0; while :; do echo $i; i=$((i+1)); sleep 0.01; done", &o, &r) == -ECANCELED);
    CHECK(now_s() - t0 < 3.0);
    CHECK(l.out == 2);
    run_result_dispose(&r);
}

/* A parent started with stdin and stdout closed gets fds 0 and 1 for its pipes; the
   child must still see them as its stdout and stderr. */
static void test_closed_std_fds(void)
{
    fflush(stdout);
    int in = dup(0), out = dup(1);
    close(0);
    close(1);
    run_result_t r;
    int rc = sh("echo out; echo err >&2; cat", NULL, &r);
    dup2(in, 0);
    dup2(out, 1);
    close(in);
    close(out);
    CHECK(rc == 0);
    CHECK_STR(r.out.data, "out\n"); /* and cat read an empty stdin */
    CHECK_STR(r.err.data, "err\n");
    CHECK(r.exit_code == 0);
    run_result_dispose(&r);
}

static void test_nice(void)
{
    run_result_t r;
    CHECK(sh("nice", NULL, &r) == 0);
    int base = atoi(r.out.data);
    run_result_dispose(&r);
    run_opts_t o = {.nice = 7};
    CHECK(sh("nice", &o, &r) == 0);
    int lowered = atoi(r.out.data);
    run_result_dispose(&r);
    /* Niceness tops out at 19. */
    CHECK(lowered == (base + 7 > 19 ? 19 : base + 7));
}

static void test_error_line(void)
{
    const char *ffprobe_mp4 =
        "[mov,mp4,m4a,3gp,3g2,mj2 @ 0x5628f11f21c0] moov atom not found\n"
        "file:/m/a.mp4: Invalid data found when processing input\n";
    char *s = run_error_line(ffprobe_mp4, "file:/m/a.mp4", 1);
    CHECK_STR(s, "Invalid data found when processing input");
    free(s);
    s = run_error_line(ffprobe_mp4, "file:/m/a.mp4", 2);
    CHECK_STR(s, "moov atom not found; Invalid data found when processing input");
    free(s);
    /* Repeated lines count once; trailing blank lines are ignored. */
    s = run_error_line("[h264 @ 0x1] error A\n[h264 @ 0x2] error B\n[h264 @ 0x3] error B\n\n\n",
                       NULL, 2);
    CHECK_STR(s, "error A; error B");
    free(s);
    CHECK(run_error_line("", NULL, 2) == NULL);
    CHECK(run_error_line("\n \n", NULL, 2) == NULL);
    CHECK(run_error_line(NULL, NULL, 2) == NULL);
    /* Control characters cannot break the one-line promise; long text is cut. */
    s = run_error_line("bad\tbyte\x01here\n", NULL, 1);
    CHECK_STR(s, "bad byte here");
    free(s);
    char longline[1000];
    memset(longline, 'x', sizeof(longline) - 1);
    longline[sizeof(longline) - 1] = '\0';
    s = run_error_line(longline, NULL, 1);
    CHECK(s != NULL && strlen(s) == 300 && strcmp(s + 297, "...") == 0);
    free(s);
}

int main(void)
{
    test_capture();
    test_failures();
    test_closed_std_fds();
    test_nice();
    test_error_line();
    return CHECK_DONE();
}
