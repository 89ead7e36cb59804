/*
 * Allocation wrappers, the string buffer, whole-file I/O and ISO 8601 time text.
 * Allocation failure aborts in one place so callers never check for NULL.
 */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void oom(size_t n)
{
    fprintf(stderr, "retrovue: out of memory allocating %zu bytes\n", n);
    abort();
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL)
        oom(n);
    return p;
}

void *xcalloc(size_t count, size_t n)
{
    void *p = calloc(count ? count : 1, n ? n : 1);
    if (p == NULL)
        oom(count * n);
    return p;
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (q == NULL)
        oom(n);
    return q;
}

char *xstrdup(const char *s)
{
    if (s == NULL)
        return NULL;
    size_t n = strlen(s) + 1;
    char *p = xmalloc(n);
    memcpy(p, s, n);
    return p;
}

char *xasprintf(const char *fmt, ...)
{
    strbuf_t sb;
    strbuf_init(&sb);
    va_list ap;
    va_start(ap, fmt);
    strbuf_vprintf(&sb, fmt, ap);
    va_end(ap);
    return strbuf_steal(&sb);
}

void strbuf_init(strbuf_t *sb)
{
    sb->data = NULL;
    sb->len = 0;
    sb->cap = 0;
}

void strbuf_dispose(strbuf_t *sb)
{
    free(sb->data);
    strbuf_init(sb);
}

static void reserve(strbuf_t *sb, size_t extra)
{
    if (sb->len + extra + 1 <= sb->cap)
        return;
    size_t cap = sb->cap ? sb->cap : 64;
    while (cap < sb->len + extra + 1)
        cap *= 2;
    sb->data = xrealloc(sb->data, cap);
    sb->cap = cap;
}

void strbuf_append(strbuf_t *sb, const char *s, size_t n)
{
    reserve(sb, n);
    memcpy(sb->data + sb->len, s, n);
    sb->len += n;
    sb->data[sb->len] = '\0';
}

void strbuf_puts(strbuf_t *sb, const char *s)
{
    strbuf_append(sb, s, strlen(s));
}

void strbuf_vprintf(strbuf_t *sb, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return;
    reserve(sb, (size_t)n);
    vsnprintf(sb->data + sb->len, (size_t)n + 1, fmt, ap);
    sb->len += (size_t)n;
}

void strbuf_printf(strbuf_t *sb, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    strbuf_vprintf(sb, fmt, ap);
    va_end(ap);
}

char *strbuf_steal(strbuf_t *sb)
{
    char *s = sb->data;
    if (s == NULL)
        s = xstrdup("");
    strbuf_init(sb);
    return s;
}

int util_read_file(const char *path, char **out, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    strbuf_t sb;
    strbuf_init(&sb);
    char buf[65536];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int err = -errno;
            close(fd);
            strbuf_dispose(&sb);
            return err;
        }
        if (n == 0)
            break;
        strbuf_append(&sb, buf, (size_t)n);
    }
    close(fd);
    if (len != NULL)
        *len = sb.len;
    *out = strbuf_steal(&sb);
    return 0;
}

int util_write_file_atomic(const char *path, const char *data, size_t len)
{
    char *tmp = xasprintf("%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        int err = -errno;
        free(tmp);
        return err;
    }
    size_t off = 0;
    while (off < len) {
        ssize_t n = write(fd, data + off, len - off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int err = -errno;
            close(fd);
            unlink(tmp);
            free(tmp);
            return err;
        }
        off += (size_t)n;
    }
    close(fd);
    int rc = rename(tmp, path) == 0 ? 0 : -errno;
    if (rc != 0)
        unlink(tmp);
    free(tmp);
    return rc;
}

int util_mkdirs(const char *path, int mode)
{
    char *p = xstrdup(path);
    int rc = 0;
    for (char *s = p + 1;; s++) {
        if (*s == '/' || *s == '\0') {
            char c = *s;
            *s = '\0';
            if (mkdir(p, (mode_t)mode) != 0 && errno != EEXIST) {
                rc = -errno;
                break;
            }
            *s = c;
            if (c == '\0')
                break;
        }
    }
    free(p);
    return rc;
}

int util_file_readable(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode) && access(path, R_OK) == 0;
}

char *util_path_join(const char *dir, const char *path)
{
    if (path[0] == '/' || dir == NULL || dir[0] == '\0')
        return xstrdup(path);
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/')
        n--;
    return xasprintf("%.*s/%s", (int)n, dir, path);
}

void util_format_iso8601(double t, char *buf, size_t size)
{
    time_t secs = (time_t)t;
    if ((double)secs > t)
        secs--;
    int ms = (int)((t - (double)secs) * 1000.0 + 0.5);
    if (ms >= 1000) {
        secs++;
        ms -= 1000;
    }
    struct tm tm;
    gmtime_r(&secs, &tm);
    snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
}

int util_parse_iso8601(const char *s, double *out)
{
    int y, mo, d, h, mi, n = 0;
    double sec;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%lf%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6)
        return -EINVAL;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec < 0 || sec >= 61)
        return -EINVAL;
    const char *z = s + n;
    int offset = 0;
    if (*z == 'Z' && z[1] == '\0') {
        offset = 0;
    } else if ((*z == '+' || *z == '-') && strlen(z) == 6 && z[3] == ':') {
        int oh, om;
        if (sscanf(z + 1, "%2d:%2d", &oh, &om) != 2)
            return -EINVAL;
        offset = (oh * 60 + om) * 60 * (*z == '-' ? -1 : 1);
    } else {
        return -EINVAL;
    }
    struct tm tm = {0};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = 0;
    time_t base = timegm(&tm);
    *out = (double)base + sec - offset;
    return 0;
}

/* Length of the well-formed UTF-8 sequence at p (RFC 3629: no overlongs, no
   surrogates, nothing past U+10FFFF), or 0. */
static size_t utf8_len(const unsigned char *p)
{
    unsigned char c = p[0];
#define CONT(x) (((x) & 0xC0) == 0x80)
    if (c >= 0xC2 && c <= 0xDF)
        return CONT(p[1]) ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        unsigned char lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
        return p[1] >= lo && p[1] <= hi && CONT(p[2]) ? 3 : 0;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        unsigned char lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
        return p[1] >= lo && p[1] <= hi && CONT(p[2]) && CONT(p[3]) ? 4 : 0;
    }
#undef CONT
    return 0;
}

/* File names and titles are not always UTF-8 (a Latin-1 name from an old disk), and
   one bad byte makes a whole guide unparseable, so every string is checked here. */
void strbuf_put_xml(strbuf_t *sb, const char *s)
{
    const unsigned char *p = (const unsigned char *)s, *run = p;
    while (*p != '\0') {
        const char *rep = NULL;
        size_t len = 1;
        if (*p < 0x80) {
            switch (*p) {
            case '&': rep = "&amp;"; break;
            case '<': rep = "&lt;"; break;
            case '>': rep = "&gt;"; break;
            case '"': rep = "&quot;"; break;
            case '\'': rep = "&apos;"; break;
            default:
                if (*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r')
                    rep = "";
            }
        } else if ((len = utf8_len(p)) == 0) {
            rep = "\xEF\xBF\xBD";
            len = 1;
        } else if (len == 3 && p[0] == 0xEF && p[1] == 0xBF && p[2] >= 0xBE) {
            rep = ""; /* U+FFFE and U+FFFF are not XML characters */
        }
        if (rep != NULL) {
            strbuf_append(sb, (const char *)run, (size_t)(p - run));
            strbuf_puts(sb, rep);
            run = p + len;
        }
        p += len;
    }
    strbuf_append(sb, (const char *)run, (size_t)(p - run));
}


int util_fail(char **error, int rc, const char *fmt, ...)
{
    if (error != NULL && *error == NULL) {
        strbuf_t sb;
        strbuf_init(&sb);
        va_list ap;
        va_start(ap, fmt);
        strbuf_vprintf(&sb, fmt, ap);
        va_end(ap);
        *error = strbuf_steal(&sb);
    }
    return rc;
}

int util_hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}
