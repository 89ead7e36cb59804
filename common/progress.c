/*
 * The progress display. Speed is given as a multiple of real time (media seconds
 * handled per wall second), the figure that tells whether a library can keep up with
 * the channels airing it; the ETA follows from it, or from the file count when
 * durations are not known yet.
 */
#include "progress.h"

#include <string.h>
#include <time.h>
#include <unistd.h>

#define BAR_WIDTH 24
#define TTY_INTERVAL 0.1   /* seconds between redraws: smooth, yet cheap */
#define LINE_INTERVAL 5.0  /* seconds between plain lines in a log */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void progress_start(progress_t *p, FILE *out, const char *what, long total, double total_media)
{
    memset(p, 0, sizeof(*p));
    p->out = out;
    p->tty = isatty(fileno(out));
    snprintf(p->what, sizeof(p->what), "%s", what);
    p->total = total;
    p->total_media = total_media;
    p->started = p->last_line = now_s();
}

static double fraction(const progress_t *p)
{
    double f;
    if (p->total_media > 0)
        f = p->done_media / p->total_media;
    else
        f = p->total > 0 ? (double)p->done / (double)p->total : 0;
    return f < 0 ? 0 : f > 1 ? 1 : f;
}

static void format_duration(double s, char *buf, size_t size)
{
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, size, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(buf, size, "%ld:%02ld", t / 60, t % 60);
}

void progress_format(const progress_t *p, double now, char *buf, size_t size)
{
    double elapsed = now - p->started, f = fraction(p);
    int n = snprintf(buf, size, "%3.0f%%  %ld/%ld files", f * 100, p->done, p->total);
    if (n < 0 || (size_t)n >= size)
        return;
    if (p->done_media > 0 && elapsed > 0.2) {
        int m = snprintf(buf + n, size - (size_t)n, "  %.1fx real time", p->done_media / elapsed);
        if (m > 0)
            n += m;
    }
    if (f > 0.01 && f < 1 && elapsed > 1 && (size_t)n < size) {
        char eta[24];
        format_duration(elapsed * (1 - f) / f, eta, sizeof(eta));
        snprintf(buf + n, size - (size_t)n, "  ETA %s", eta);
    }
}

static void draw(progress_t *p, double now, const char *current)
{
    char status[160];
    progress_format(p, now, status, sizeof(status));
    if (p->tty) {
        int fill = (int)(fraction(p) * BAR_WIDTH + 0.5);
        char bar[BAR_WIDTH + 1];
        for (int i = 0; i < BAR_WIDTH; i++)
            bar[i] = i < fill ? '#' : '-';
        bar[BAR_WIDTH] = '\0';
        /* \r and erase-to-end redraw the one line; the current name is cut to fit. */
        fprintf(p->out, "\r\033[K%s [%s] %s  %.30s", p->what, bar, status, current ? current : "");
        p->drawn = 1;
    } else {
        fprintf(p->out, "%s: %s%s%s\n", p->what, status, current ? "  " : "", current ? current : "");
        p->last_line = now;
    }
    fflush(p->out);
    p->last_drawn = now;
}

void progress_update(progress_t *p, long done, double done_media, const char *current)
{
    p->done = done;
    p->done_media = done_media;
    double now = now_s();
    if (p->tty ? now - p->last_drawn >= TTY_INTERVAL : now - p->last_line >= LINE_INTERVAL)
        draw(p, now, current);
}

void progress_finish(progress_t *p)
{
    double elapsed = now_s() - p->started;
    if (p->drawn)
        fputs("\r\033[K", p->out);
    char took[24];
    format_duration(elapsed, took, sizeof(took));
    fprintf(p->out, "%s: %ld/%ld files in %s", p->what, p->done, p->total, took);
    if (p->done_media > 0 && elapsed > 0)
        fprintf(p->out, " (%.1fx real time)", p->done_media / elapsed);
    fputc('\n', p->out);
    fflush(p->out);
}
