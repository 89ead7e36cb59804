/*
 * Running a helper program (ffprobe, ffmpeg) to completion: argv in, stdout and stderr
 * captured, with a time limit and an optional lower CPU priority. It blocks by design:
 * the content manager calls it from worker threads and from `retrovue ingest`, never
 * from the event loop.
 */
#ifndef RV_RUN_H
#define RV_RUN_H

#include <stddef.h>

#include "util.h"

/** Which of the child's output streams a line came from. */
enum run_stream { RUN_STDOUT = 1, RUN_STDERR = 2 };

/**
 * Called with each line of output as it arrives (without its "\n" or "\r", empty lines
 * skipped); return nonzero to stop the run, which then ends with -ECANCELED.
 */
typedef int (*run_line_fn)(void *arg, enum run_stream stream, const char *line, size_t len);

/** How to run a program; a zeroed struct means no limit, same priority, no callback. */
typedef struct run_opts {
    double timeout;      /* seconds before the child is killed; 0 = no limit */
    int nice;            /* niceness added for the child (1..19), 0 = same as ours */
    size_t max_capture;  /* bytes kept of each stream; 0 = RUN_DEFAULT_MAX_CAPTURE */
    run_line_fn on_line; /* may be NULL */
    void *arg;           /* passed to on_line */
} run_opts_t;

/* Enough for any ffprobe JSON; the rest of a runaway log is read and dropped. */
#define RUN_DEFAULT_MAX_CAPTURE (16u << 20)

/** How a run ended and what it printed. */
typedef struct run_result {
    int exit_code;     /* the exit status, or -1 when a signal ended the child */
    int term_signal;   /* the signal that ended it, or 0 */
    int truncated;     /* some output went past max_capture and was dropped */
    strbuf_t out, err; /* what it wrote to stdout and stderr (always NUL-terminated) */
} run_result_t;

/**
 * Runs argv[0] (searched in PATH when it has no '/') with argv, stdin from /dev/null,
 * and waits for it. 0 when it ran to an exit (look at res->exit_code), -ENOENT when the
 * program is not found, -ETIMEDOUT or -ECANCELED after killing it, or another negative
 * errno. res is always filled in (partial output included); free it with
 * run_result_dispose.
 */
int run_program(const char *const *argv, const run_opts_t *opts, run_result_t *res);

/** Frees a result's buffers. */
void run_result_dispose(run_result_t *res);

/**
 * The gist of an ffmpeg tool's error output as one line: its last max_lines (at most 8)
 * distinct non-empty lines joined with "; ", each without a leading "[demuxer @ 0x...] "
 * or "INPUT:" (input may be NULL), control characters made spaces, cut to about 300
 * bytes. NULL when there is no text. Caller frees.
 */
char *run_error_line(const char *text, const char *input, int max_lines);

#endif
