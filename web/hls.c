/*
 * The public HLS window, built from ffmpeg's private playlist. Sequence numbers are
 * the ones retrovue hands each ffmpeg run (-start_number), so they keep increasing
 * across restarts; the timestamps continue too (-output_ts_offset = ts_offset), so
 * a restart needs no discontinuity tag. Program date-times are the station time of
 * the run's first frame plus the duration published since.
 */
#include "hls.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void hls_segment_name(long long seq, char *buf, size_t size)
{
    snprintf(buf, size, "seg%09lld.ts", seq);
}

int hls_segment_parse(const char *name, long long *seq)
{
    if (strncmp(name, "seg", 3) != 0)
        return -EINVAL;
    const char *p = name + 3;
    long long v = 0;
    int digits = 0;
    while (*p >= '0' && *p <= '9' && digits < 15) {
        v = v * 10 + (*p - '0');
        p++;
        digits++;
    }
    if (digits < 9 || strcmp(p, ".ts") != 0)
        return -EINVAL;
    *seq = v;
    return 0;
}

void hls_window_init(hls_window_t *w, const char *dir, const char *uri_prefix, size_t size,
                     int target)
{
    memset(w, 0, sizeof(*w));
    w->dir = xstrdup(dir);
    w->uri_prefix = xstrdup(uri_prefix);
    w->size = size;
    w->target = target;
    w->waiters.next = w->waiters.prev = &w->waiters;
}

void hls_window_dispose(hls_window_t *w)
{
    /* Waiters belong to their viewers: wake each one (unlinked first) so it sees the
       channel is gone and ends its stream instead of waiting forever. */
    while (w->waiters.next != &w->waiters) {
        hls_waiter_t *x = w->waiters.next;
        hls_window_unwait(x);
        x->cb(x);
    }
    free(w->dir);
    free(w->uri_prefix);
    free(w->segs);
    memset(w, 0, sizeof(*w));
}

void hls_window_restore(hls_window_t *w, long long next_seq, double ts_offset, long long disc_seq)
{
    w->next_seq = next_seq;
    w->ts_offset = ts_offset;
    w->disc_seq = disc_seq;
}

void hls_window_begin_run(hls_window_t *w, double pdt, int discontinuity)
{
    w->run_pdt = pdt;
    w->run_elapsed = 0;
    if (discontinuity && w->n > 0)
        w->pending_disc = 1;
}

static size_t first_published(const hls_window_t *w)
{
    size_t i = 0;
    while (i < w->n && w->segs[i].retired_at > 0)
        i++;
    return i;
}

static void publish(hls_window_t *w, long long seq, double duration, double now_mono)
{
    if (w->n == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 32;
        w->segs = xrealloc(w->segs, w->cap * sizeof(*w->segs));
    }
    hls_segment_t *s = &w->segs[w->n++];
    s->seq = seq;
    s->duration = duration;
    s->pdt = w->run_pdt + w->run_elapsed;
    s->discontinuity = w->pending_disc;
    s->retired_at = 0;
    w->pending_disc = 0;
    w->run_elapsed += duration;
    w->ts_offset += duration;
    w->next_seq = seq + 1;
    /* Slide the window; a tagged discontinuity leaving it bumps the sequence. */
    size_t first = first_published(w);
    while (w->n - first > w->size) {
        w->segs[first].retired_at = now_mono > 0 ? now_mono : 1e-9;
        first++;
        if (first < w->n && w->segs[first].discontinuity)
            w->disc_seq++;
    }
}

int hls_window_ingest(hls_window_t *w, const char *text, double now_mono)
{
    int added = 0;
    double extinf = -1;
    const char *line = text;
    while (line != NULL && *line) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        if (len > 0 && line[len - 1] == '\r')
            len--;
        char buf[512];
        if (len < sizeof(buf)) {
            memcpy(buf, line, len);
            buf[len] = '\0';
            long long seq;
            if (strncmp(buf, "#EXTINF:", 8) == 0) {
                extinf = strtod(buf + 8, NULL);
            } else if (buf[0] != '#' && buf[0] != '\0') {
                const char *name = strrchr(buf, '/');
                name = name ? name + 1 : buf;
                if (extinf > 0 && hls_segment_parse(name, &seq) == 0 && seq >= w->next_seq) {
                    publish(w, seq, extinf, now_mono);
                    added++;
                }
                extinf = -1;
            }
        }
        line = end ? end + 1 : NULL;
    }
    if (added > 0) {
        /* Detach the list first: a callback may register again for the next one. */
        hls_waiter_t head = w->waiters;
        if (head.next != &w->waiters) {
            head.next->prev = &head;
            head.prev->next = &head;
            w->waiters.next = w->waiters.prev = &w->waiters;
            while (head.next != &head) {
                hls_waiter_t *x = head.next;
                hls_window_unwait(x);
                x->cb(x);
            }
        }
    }
    return added;
}

int hls_window_expire(hls_window_t *w, double now_mono, double keep)
{
    size_t drop = 0;
    while (drop < w->n && w->segs[drop].retired_at > 0 && now_mono - w->segs[drop].retired_at >= keep) {
        char name[64];
        hls_segment_name(w->segs[drop].seq, name, sizeof(name));
        char *path = xasprintf("%s/%s", w->dir, name);
        unlink(path);
        free(path);
        drop++;
    }
    if (drop > 0) {
        memmove(w->segs, w->segs + drop, (w->n - drop) * sizeof(*w->segs));
        w->n -= drop;
    }
    return (int)drop;
}

void hls_window_render(const hls_window_t *w, strbuf_t *out)
{
    size_t first = first_published(w);
    strbuf_puts(out, "#EXTM3U\n#EXT-X-VERSION:3\n");
    strbuf_printf(out, "#EXT-X-TARGETDURATION:%d\n", w->target);
    long long media_seq = first < w->n ? w->segs[first].seq : w->next_seq;
    strbuf_printf(out, "#EXT-X-MEDIA-SEQUENCE:%lld\n", media_seq);
    strbuf_printf(out, "#EXT-X-DISCONTINUITY-SEQUENCE:%lld\n", w->disc_seq);
    for (size_t i = first; i < w->n; i++) {
        const hls_segment_t *s = &w->segs[i];
        char date[40], name[64];
        if (s->discontinuity && i != first)
            strbuf_puts(out, "#EXT-X-DISCONTINUITY\n");
        util_format_iso8601(s->pdt, date, sizeof(date));
        hls_segment_name(s->seq, name, sizeof(name));
        strbuf_printf(out, "#EXT-X-PROGRAM-DATE-TIME:%s\n#EXTINF:%.6f,\n%s%s\n", date, s->duration,
                      w->uri_prefix, name);
    }
}

const hls_segment_t *hls_window_find(const hls_window_t *w, long long seq)
{
    if (w->n == 0 || seq < w->segs[0].seq || seq > w->segs[w->n - 1].seq)
        return NULL;
    /* Sequence numbers are consecutive within a run but may jump between runs. */
    size_t lo = 0, hi = w->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (w->segs[mid].seq < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < w->n && w->segs[lo].seq == seq ? &w->segs[lo] : NULL;
}

const hls_segment_t *hls_window_newest(const hls_window_t *w)
{
    return w->n > 0 && w->segs[w->n - 1].retired_at == 0 ? &w->segs[w->n - 1] : NULL;
}

const hls_segment_t *hls_window_oldest(const hls_window_t *w)
{
    size_t first = first_published(w);
    return first < w->n ? &w->segs[first] : NULL;
}

void hls_window_wait(hls_window_t *w, hls_waiter_t *x)
{
    x->next = &w->waiters;
    x->prev = w->waiters.prev;
    w->waiters.prev->next = x;
    w->waiters.prev = x;
}

void hls_window_unwait(hls_waiter_t *x)
{
    if (x->next == NULL)
        return;
    x->prev->next = x->next;
    x->next->prev = x->prev;
    x->next = x->prev = NULL;
}
