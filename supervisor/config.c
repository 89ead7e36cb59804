/*
 * Loads DIR/retrovue.json and DIR/channels/<name>.json into a config_t. Every value is checked
 * and every problem reported as "FILE:LINE:COL: PATH: message", so one failed start tells
 * a person everything there is to fix, not one thing at a time.
 */
#include "config.h"

#include <arpa/inet.h>
#include <cJSON.h>
#include <dirent.h>
#include <glob.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "json_loc.h"
#include "log.h"
#include "playout.h"
#include "schedule.h"
#include "tz.h"

#define DEFAULT_EPOCH "2026-01-01T00:00:00Z"
#define NAME_MAX_CHARS 100
#define MAX_FPS 1000
/* kbps * 1000 must still fit in an int where ffmpeg arguments are built */
#define MAX_KBPS 1000000
/* our documents nest at most $.house.width or $.playlist[2] deep */
#define MAX_PATH_DEPTH 8

/* A channel number already taken, to catch duplicates across files. */
typedef struct seen_number {
    int major, minor; /* minor is -1 when there is none */
    char *number;     /* as written */
    char *file;       /* as shown in messages */
} seen_number_t;

/* State for one config_load call. */
typedef struct loader {
    const char *dir; /* as given, so messages name files the way the user did */
    char *dir_abs;
    strbuf_t *errors;
    int n_errors;
    config_t *cfg;
    seen_number_t *seen;
    size_t n_seen;
    strbuf_t warnings;     /* problems that do not stop a load (globs matching nothing) */
    uint64_t library_hash; /* of the library's JSON: part of every schedule's fingerprint */
} loader_t;

/* One JSON file being checked, and the path of the value being looked at in it. */
typedef struct doc {
    loader_t *ld;
    const char *file; /* as shown in messages */
    const char *text;
    size_t len;
    json_loc_step_t path[MAX_PATH_DEPTH];
    size_t depth;
} doc_t;

typedef void (*check_fn)(doc_t *doc, const cJSON *value, void *target);

/* One key an object may hold. */
typedef struct field {
    const char *key;
    bool required;
    check_fn check;
} field_t;

/* ---- reporting ---- */

static uint64_t fnv1a_str(const char *s, uint64_t h)
{
    if (h == 0)
        h = 1469598103934665603ULL;
    for (; s != NULL && *s != '\0'; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

static void push_key(doc_t *doc, const char *key, size_t occurrence)
{
    /* Depth is bounded by our own schema, never by the input. */
    if (doc->depth < MAX_PATH_DEPTH)
        doc->path[doc->depth] = (json_loc_step_t){.key = key, .index = occurrence};
    doc->depth++;
}

static void push_index(doc_t *doc, size_t index)
{
    if (doc->depth < MAX_PATH_DEPTH)
        doc->path[doc->depth] = (json_loc_step_t){.key = NULL, .index = index};
    doc->depth++;
}

static void pop(doc_t *doc)
{
    doc->depth--;
}

/* The path length json_loc may read; push() never writes past MAX_PATH_DEPTH. */
static size_t path_depth(const doc_t *doc)
{
    return doc->depth < MAX_PATH_DEPTH ? doc->depth : MAX_PATH_DEPTH;
}

enum at { AT_VALUE, AT_KEY };

static void file_error(loader_t *ld, const char *file, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A problem with a whole file or directory, where there is no line to point at. */
static void file_error(loader_t *ld, const char *file, const char *fmt, ...)
{
    strbuf_printf(ld->errors, "%s: ", file);
    va_list ap;
    va_start(ap, fmt);
    strbuf_vprintf(ld->errors, fmt, ap);
    va_end(ap);
    strbuf_puts(ld->errors, "\n");
    ld->n_errors++;
}

static void report(doc_t *doc, enum at at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A problem with the value at doc's current path (or with its key, for AT_KEY). */
static void report(doc_t *doc, enum at at, const char *fmt, ...)
{
    size_t value_off = 0, key_off = 0;
    size_t depth = path_depth(doc);
    if (json_loc_find(doc->text, doc->len, doc->path, depth, &value_off, &key_off) != 0)
        value_off = key_off = 0;
    int line, col;
    json_loc_line_col(doc->text, doc->len, at == AT_KEY ? key_off : value_off, &line, &col);
    strbuf_t *e = doc->ld->errors;
    strbuf_printf(e, "%s:%d:%d: ", doc->file, line, col);
    json_loc_path_render(doc->path, depth, e);
    strbuf_puts(e, ": ");
    va_list ap;
    va_start(ap, fmt);
    strbuf_vprintf(e, fmt, ap);
    va_end(ap);
    strbuf_puts(e, "\n");
    doc->ld->n_errors++;
}

/* Writes s quoted and escaped for a message, cut short so one wild value cannot swamp
 * the error list; escaping keeps every error on one line. */
static const char *quote(const char *s, char *buf, size_t size)
{
    size_t j = 0;
    buf[j++] = '"';
    for (size_t i = 0; s[i] != '\0'; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[8];
        if (c == '"' || c == '\\')
            snprintf(esc, sizeof(esc), "\\%c", c);
        else if (c < 0x20 || c == 0x7F)
            snprintf(esc, sizeof(esc), "\\u%04x", c);
        else
            snprintf(esc, sizeof(esc), "%c", c);
        size_t n = strlen(esc);
        if (j + n + 5 > size) {
            /* Back off any partly copied UTF-8 character (copied bytes map 1:1). */
            while (j > 1 && i > 0 && ((unsigned char)s[i] & 0xC0) == 0x80) {
                j--;
                i--;
            }
            memcpy(buf + j, "...", 3);
            j += 3;
            break;
        }
        memcpy(buf + j, esc, n);
        j += n;
    }
    buf[j++] = '"';
    buf[j] = '\0';
    return buf;
}

/* The current value's source text (e.g. a number as written), cut short if long. */
static const char *value_text(doc_t *doc, char *buf, size_t size)
{
    size_t off = 0;
    size_t n = 0;
    if (json_loc_find(doc->text, doc->len, doc->path, path_depth(doc), &off, NULL) == 0)
        n = json_loc_value_len(doc->text, doc->len, off);
    if (n < size) {
        memcpy(buf, doc->text + off, n);
        buf[n] = '\0';
    } else {
        memcpy(buf, doc->text + off, size - 4);
        memcpy(buf + size - 4, "...", 4);
    }
    return buf;
}

static const char *type_name(const cJSON *v)
{
    if (cJSON_IsString(v))
        return "a string";
    if (cJSON_IsNumber(v))
        return "a number";
    if (cJSON_IsObject(v))
        return "an object";
    if (cJSON_IsArray(v))
        return "an array";
    if (cJSON_IsTrue(v))
        return "true";
    if (cJSON_IsFalse(v))
        return "false";
    return "null";
}

/* ---- typed getters: each reports and returns NULL/false when the value is wrong ---- */

static const char *want_string(doc_t *doc, const cJSON *v, const char *what)
{
    if (cJSON_IsString(v) && v->valuestring != NULL)
        return v->valuestring;
    report(doc, AT_VALUE, "expected %s, found %s", what, type_name(v));
    return NULL;
}

static const char *want_nonempty(doc_t *doc, const cJSON *v, const char *what)
{
    const char *s = want_string(doc, v, what);
    if (s != NULL && s[0] == '\0') {
        report(doc, AT_VALUE, "must not be empty");
        return NULL;
    }
    return s;
}

static bool all_digits(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/* An integral number. Range checks are left to the caller, which knows the message. */
static bool want_integer(doc_t *doc, const cJSON *v, double *out)
{
    if (!cJSON_IsNumber(v)) {
        if (cJSON_IsString(v) && all_digits(v->valuestring, 9))
            report(doc, AT_VALUE, "expected an integer, found a string (write %s without quotes)",
                   v->valuestring);
        else
            report(doc, AT_VALUE, "expected an integer, found %s", type_name(v));
        return false;
    }
    double d = v->valuedouble;
    if (fabs(d) < 1e15 && d != floor(d)) {
        char text[48];
        report(doc, AT_VALUE, "expected an integer, found %s", value_text(doc, text, sizeof(text)));
        return false;
    }
    *out = d;
    return true;
}

static bool want_int_range(doc_t *doc, const cJSON *v, int lo, int hi, int *out)
{
    double d;
    if (!want_integer(doc, v, &d))
        return false;
    if (d < lo || d > hi) {
        char text[48];
        report(doc, AT_VALUE, "must be from %d to %d, found %s", lo, hi,
               value_text(doc, text, sizeof(text)));
        return false;
    }
    *out = (int)d;
    return true;
}

/* ---- objects ---- */

static const field_t *find_field(const field_t *fields, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(fields[i].key, key) == 0)
            return &fields[i];
    return NULL;
}

/* Checks an object against its fields: each known key goes to its check, unknown and
 * repeated keys are errors (cJSON would silently keep the first of a repeat), and
 * missing required keys are reported at the object's opening brace. */
static void walk_object(doc_t *doc, const cJSON *obj, const field_t *fields, size_t n,
                        void *target)
{
    if (!cJSON_IsObject(obj)) {
        report(doc, AT_VALUE, "expected an object, found %s", type_name(obj));
        return;
    }
    for (const cJSON *c = obj->child; c != NULL; c = c->next) {
        size_t occurrence = 0;
        for (const cJSON *p = obj->child; p != c; p = p->next)
            if (strcmp(p->string, c->string) == 0)
                occurrence++;
        char q[80];
        push_key(doc, c->string, occurrence);
        const field_t *f = find_field(fields, n, c->string);
        if (occurrence > 0) {
            report(doc, AT_KEY, "duplicate key %s; each key may appear only once",
                   quote(c->string, q, sizeof(q)));
        } else if (f == NULL) {
            strbuf_t list;
            strbuf_init(&list);
            for (size_t i = 0; i < n; i++)
                strbuf_printf(&list, "%s%s", i ? ", " : "", fields[i].key);
            report(doc, AT_KEY, "unknown key %s; expected one of: %s",
                   quote(c->string, q, sizeof(q)), list.data);
            strbuf_dispose(&list);
        } else {
            f->check(doc, c, target);
        }
        pop(doc);
    }
    for (size_t i = 0; i < n; i++)
        if (fields[i].required && cJSON_GetObjectItemCaseSensitive(obj, fields[i].key) == NULL)
            report(doc, AT_VALUE, "missing required key \"%s\"", fields[i].key);
}

/* ---- paths and addresses ---- */

/* Drops "." segments, repeated and trailing slashes: always safe, unlike resolving "..",
 * which symlinks can make mean something else. */
static void normalize_path(char *p)
{
    char *out = p;
    const char *in = p;
    while (*in != '\0') {
        if (*in != '/') {
            *out++ = *in++;
            continue;
        }
        while (in[1] == '/')
            in++;
        if (in[1] == '.' && (in[2] == '/' || in[2] == '\0')) {
            in += 2;
            continue;
        }
        *out++ = '/';
        in++;
    }
    if (out > p + 1 && out[-1] == '/')
        out--;
    if (out == p)
        *out++ = '/';
    *out = '\0';
}

/* A path from the config, made absolute against the config directory. */
static char *resolve(const loader_t *ld, const char *path)
{
    char *p = util_path_join(ld->dir_abs, path);
    normalize_path(p);
    return p;
}

static int parse_listen(const char *addr, char **host, int *port, char *why, size_t size)
{
    const char *colon = strrchr(addr, ':');
    if (colon == NULL) {
        snprintf(why, size, "expected \"HOST:PORT\" such as \"0.0.0.0:8080\", or \":PORT\"");
        return -EINVAL;
    }
    if (!all_digits(colon + 1, 5) || atoi(colon + 1) < 1 || atoi(colon + 1) > 65535) {
        snprintf(why, size, "port must be a number from 1 to 65535");
        return -EINVAL;
    }
    size_t n = (size_t)(colon - addr);
    char h[64];
    if (n >= sizeof(h))
        n = sizeof(h) - 1; /* too long for an address anyway; inet_pton will refuse it */
    memcpy(h, addr, n);
    h[n] = '\0';
    const char *use = h;
    struct in_addr in;
    if (n == 0)
        use = "0.0.0.0";
    else if (strcmp(h, "localhost") == 0)
        use = "127.0.0.1"; /* the HTTP server binds with uv_ip4_addr, which needs digits */
    else if (inet_pton(AF_INET, h, &in) != 1) {
        snprintf(why, size,
                 "host must be an IPv4 address like \"127.0.0.1\", \"localhost\", or empty "
                 "for all interfaces");
        return -EINVAL;
    }
    *host = xstrdup(use);
    *port = atoi(colon + 1);
    return 0;
}

/* Accepts ^[0-9]{1,4}(\.[0-9]{1,3})?$ and splits it into numbers for sorting. */
static bool parse_channel_number(const char *s, int *major, int *minor)
{
    size_t i = 0;
    int v = 0;
    while (s[i] >= '0' && s[i] <= '9' && i < 5)
        v = v * 10 + (s[i++] - '0');
    if (i == 0 || i > 4)
        return false;
    *major = v;
    *minor = -1;
    if (s[i] == '\0')
        return true;
    if (s[i] != '.')
        return false;
    size_t start = ++i;
    v = 0;
    while (s[i] >= '0' && s[i] <= '9' && i - start < 4)
        v = v * 10 + (s[i++] - '0');
    if (i == start || i - start > 3 || s[i] != '\0')
        return false;
    *minor = v;
    return true;
}

/* "YYYY-MM-DDTHH:MM:SS[.f...](Z|+HH:MM|-HH:MM)" exactly, with a real calendar date;
 * util_parse_iso8601 alone would let "2026-02-31" roll over into March. */
static bool strict_iso8601(const char *s)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:dd";
    size_t i;
    for (i = 0; shape[i] != '\0'; i++) {
        if (shape[i] == 'd' ? !(s[i] >= '0' && s[i] <= '9') : s[i] != shape[i])
            return false;
    }
    int y = atoi(s), mo = atoi(s + 5), d = atoi(s + 8), h = atoi(s + 11), mi = atoi(s + 14),
        sec = atoi(s + 17);
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || sec > 59)
        return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo == 2 && d == 29 && !leap)
        return false;
    if (s[i] == '.') {
        size_t start = ++i;
        while (s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == start)
            return false;
    }
    if (s[i] == 'Z')
        return s[i + 1] == '\0';
    if (s[i] != '+' && s[i] != '-')
        return false;
    const char *z = s + i + 1;
    for (i = 0; i < 5; i++)
        if (i == 2 ? z[i] != ':' : !(z[i] >= '0' && z[i] <= '9'))
            return false;
    return z[5] == '\0' && atoi(z) <= 23 && atoi(z + 3) <= 59;
}

static long long gcd(long long a, long long b)
{
    while (b != 0) {
        long long t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* A frame rate given as a plain number: whole, NTSC-style (29.97 means 30000/1001, the
 * rate every such source really has), or with up to 3 decimals. */
static int fps_from_double(double x, int *num, int *den)
{
    if (!(x > 0) || x > MAX_FPS)
        return -ERANGE;
    if (x == floor(x)) {
        *num = (int)x;
        *den = 1;
        return 0;
    }
    static const int ntsc[] = {24, 30, 48, 60, 120};
    for (size_t i = 0; i < RV_ARRAY_SIZE(ntsc); i++) {
        if (fabs(x - ntsc[i] * 1000.0 / 1001.0) < 0.001) {
            *num = ntsc[i] * 1000;
            *den = 1001;
            return 0;
        }
    }
    long long n = llround(x * 1000.0);
    if (fabs(x * 1000.0 - (double)n) > 1e-6)
        return -EINVAL;
    long long g = gcd(n, 1000);
    *num = (int)(n / g);
    *den = (int)(1000 / g);
    return 0;
}

/* "N/D", "N" or "N.NNN"; -EINVAL when malformed, -ERANGE when not in (0, MAX_FPS]. */
static int fps_from_text(const char *s, int *num, int *den)
{
    const char *slash = strchr(s, '/');
    if (slash != NULL) {
        char n[16];
        size_t len = (size_t)(slash - s);
        if (len >= sizeof(n))
            return -EINVAL;
        memcpy(n, s, len);
        n[len] = '\0';
        if (!all_digits(n, 9) || !all_digits(slash + 1, 9))
            return -EINVAL;
        long long a = atoll(n), b = atoll(slash + 1);
        if (b == 0)
            return -EINVAL;
        if (a == 0 || a > (long long)MAX_FPS * b)
            return -ERANGE;
        long long g = gcd(a, b);
        *num = (int)(a / g);
        *den = (int)(b / g);
        return 0;
    }
    size_t i = 0, digits = 0, dots = 0;
    for (; s[i] != '\0'; i++) {
        if (s[i] >= '0' && s[i] <= '9')
            digits++;
        else if (s[i] == '.' && dots == 0 && digits > 0 && s[i + 1] != '\0')
            dots++;
        else
            return -EINVAL;
    }
    if (digits == 0 || i > 12)
        return -EINVAL;
    return fps_from_double(strtod(s, NULL), num, den);
}

/* ---- retrovue.json ---- */

static void set_string(char **slot, char *value)
{
    free(*slot);
    *slot = value;
}

static void check_listen(doc_t *doc, const cJSON *v, void *target)
{
    config_t *cfg = target;
    const char *s = want_string(doc, v, "a string like \"0.0.0.0:8080\"");
    if (s == NULL)
        return;
    char why[160], q[80];
    char *host;
    int port;
    if (parse_listen(s, &host, &port, why, sizeof(why)) != 0) {
        report(doc, AT_VALUE, "invalid listen address %s: %s", quote(s, q, sizeof(q)), why);
        return;
    }
    set_string(&cfg->listen_host, host);
    cfg->listen_port = port;
}

static void check_state_dir(doc_t *doc, const cJSON *v, void *target)
{
    config_t *cfg = target;
    const char *s = want_nonempty(doc, v, "a string (a directory path)");
    if (s != NULL)
        set_string(&cfg->state_dir, resolve(doc->ld, s));
}

static void check_log_level(doc_t *doc, const cJSON *v, void *target)
{
    config_t *cfg = target;
    const char *s = want_string(doc, v, "a string (one of: debug, info, warn, error)");
    if (s == NULL)
        return;
    char q[80];
    if (log_level_parse(s) < 0) {
        report(doc, AT_VALUE, "expected one of: debug, info, warn, error; found %s",
               quote(s, q, sizeof(q)));
        return;
    }
    set_string(&cfg->log_level, xstrdup(s));
}

/* A program is looked up on PATH when it is a bare name; a relative path with a slash
 * is taken from the config directory like every other path in the config. */
static void check_program(doc_t *doc, const cJSON *v, char **slot)
{
    const char *s = want_nonempty(doc, v, "a string (a program name or path)");
    if (s != NULL)
        set_string(slot, strchr(s, '/') != NULL ? resolve(doc->ld, s) : xstrdup(s));
}

static void check_ffmpeg(doc_t *doc, const cJSON *v, void *target)
{
    check_program(doc, v, &((config_t *)target)->ffmpeg);
}

static void check_ffprobe(doc_t *doc, const cJSON *v, void *target)
{
    check_program(doc, v, &((config_t *)target)->ffprobe);
}

/* The URL clients are told to use: lineups, M3U, discovery replies. Behind NAT or a
 * container's port mapping only the person knows it. */
static void check_base_url(doc_t *doc, const cJSON *v, void *target)
{
    config_t *cfg = target;
    const char *s = want_nonempty(doc, v, "a string like \"http://192.168.1.20:8080\"");
    if (s == NULL)
        return;
    char q[80];
    size_t n = strlen(s);
    if ((strncmp(s, "http://", 7) != 0 && strncmp(s, "https://", 8) != 0) ||
        strchr(s, '?') != NULL || strchr(s, '#') != NULL || strchr(s, ' ') != NULL ||
        s[strlen(strncmp(s, "https", 5) == 0 ? "https://" : "http://")] == '\0') {
        report(doc, AT_VALUE,
               "expected an http:// or https:// URL with a host, such as "
               "\"http://192.168.1.20:8080\", found %s",
               quote(s, q, sizeof(q)));
        return;
    }
    while (n > 0 && s[n - 1] == '/')
        n--; /* paths are appended with their own '/' */
    set_string(&cfg->base_url, xasprintf("%.*s", (int)n, s));
}

static void check_api_token(doc_t *doc, const cJSON *v, void *target)
{
    const char *s = want_nonempty(doc, v, "a string (a secret)");
    if (s == NULL)
        return;
    if (strlen(s) < 16 || strpbrk(s, " \t\r\n") != NULL) {
        report(doc, AT_VALUE, "api_token must be at least 16 characters without spaces");
        return;
    }
    set_string(&((config_t *)target)->api_token, xstrdup(s));
}

static const field_t server_fields[] = {
    {"listen", false, check_listen},       {"state_dir", false, check_state_dir},
    {"log_level", false, check_log_level}, {"ffmpeg", false, check_ffmpeg},
    {"ffprobe", false, check_ffprobe},     {"base_url", false, check_base_url},
    {"api_token", false, check_api_token},
};

/* ---- the emulated tuner ---- */

static bool want_bool(doc_t *doc, const cJSON *v, int *out)
{
    if (!cJSON_IsBool(v)) {
        report(doc, AT_VALUE, "expected true or false, found %s", type_name(v));
        return false;
    }
    *out = cJSON_IsTrue(v) ? 1 : 0;
    return true;
}

static void check_tuner_count(doc_t *doc, const cJSON *v, void *target)
{
    want_int_range(doc, v, 1, 64, &((tuner_conf_t *)target)->count);
}

static void check_friendly_name(doc_t *doc, const cJSON *v, void *target)
{
    const char *s = want_nonempty(doc, v, "a string");
    if (s != NULL)
        set_string(&((tuner_conf_t *)target)->friendly_name, xstrdup(s));
}

static void check_tuner_discover(doc_t *doc, const cJSON *v, void *target)
{
    want_bool(doc, v, &((tuner_conf_t *)target)->discover);
}

static void check_tuner_ssdp(doc_t *doc, const cJSON *v, void *target)
{
    want_bool(doc, v, &((tuner_conf_t *)target)->ssdp);
}

static void check_tuner_bind(doc_t *doc, const cJSON *v, void *target)
{
    const char *s = want_string(doc, v, "a string like \"192.168.1.20\"");
    if (s == NULL)
        return;
    struct in_addr in;
    char q[80];
    if (inet_pton(AF_INET, s, &in) != 1) {
        report(doc, AT_VALUE, "expected an IPv4 address like \"192.168.1.20\", found %s",
               quote(s, q, sizeof(q)));
        return;
    }
    set_string(&((tuner_conf_t *)target)->bind_host, xstrdup(s));
}

static void check_discover_port(doc_t *doc, const cJSON *v, void *target)
{
    want_int_range(doc, v, 1, 65535, &((tuner_conf_t *)target)->discover_port);
}

static void check_ssdp_port(doc_t *doc, const cJSON *v, void *target)
{
    want_int_range(doc, v, 1, 65535, &((tuner_conf_t *)target)->ssdp_port);
}

static const field_t tuner_fields[] = {
    {"count", false, check_tuner_count},       {"friendly_name", false, check_friendly_name},
    {"discover", false, check_tuner_discover}, {"ssdp", false, check_tuner_ssdp},
    {"bind", false, check_tuner_bind},         {"discover_port", false, check_discover_port},
    {"ssdp_port", false, check_ssdp_port},
};

static void check_dimension(doc_t *doc, const cJSON *v, int *slot)
{
    double d;
    if (!want_integer(doc, v, &d))
        return;
    if (d < 16 || d > 4096 || (long long)d % 2 != 0) {
        char text[48];
        report(doc, AT_VALUE, "must be an even number from 16 to 4096, found %s",
               value_text(doc, text, sizeof(text)));
        return;
    }
    *slot = (int)d;
}

static void check_width(doc_t *doc, const cJSON *v, void *target)
{
    check_dimension(doc, v, &((house_format_t *)target)->width);
}

static void check_height(doc_t *doc, const cJSON *v, void *target)
{
    check_dimension(doc, v, &((house_format_t *)target)->height);
}

static void check_fps(doc_t *doc, const cJSON *v, void *target)
{
    house_format_t *house = target;
    int num = 0, den = 0, rc;
    char found[80];
    if (cJSON_IsString(v)) {
        rc = fps_from_text(v->valuestring, &num, &den);
        quote(v->valuestring, found, sizeof(found));
    } else if (cJSON_IsNumber(v)) {
        rc = fps_from_double(v->valuedouble, &num, &den);
        value_text(doc, found, sizeof(found));
    } else {
        report(doc, AT_VALUE, "expected a frame rate like \"30000/1001\" or 25, found %s",
               type_name(v));
        return;
    }
    if (rc == -ERANGE) {
        report(doc, AT_VALUE, "frame rate must be above 0 and at most %d, found %s", MAX_FPS,
               found);
        return;
    }
    if (rc != 0) {
        report(doc, AT_VALUE,
               "expected a frame rate like \"30000/1001\", \"25\" or 29.97, found %s", found);
        return;
    }
    house->fps_num = num;
    house->fps_den = den;
}

static void check_gop_frames(doc_t *doc, const cJSON *v, void *target)
{
    int n;
    if (want_int_range(doc, v, 1, 1000, &n))
        ((house_format_t *)target)->gop_frames = n;
}

static void check_audio_rate(doc_t *doc, const cJSON *v, void *target)
{
    double d;
    if (!want_integer(doc, v, &d))
        return;
    if (d != 32000 && d != 44100 && d != 48000) {
        char text[48];
        report(doc, AT_VALUE, "must be 32000, 44100 or 48000, found %s",
               value_text(doc, text, sizeof(text)));
        return;
    }
    ((house_format_t *)target)->audio_rate = (int)d;
}

static void check_audio_channels(doc_t *doc, const cJSON *v, void *target)
{
    double d;
    if (!want_integer(doc, v, &d))
        return;
    if (d != 1 && d != 2) {
        char text[48];
        report(doc, AT_VALUE, "must be 1 (mono) or 2 (stereo), found %s",
               value_text(doc, text, sizeof(text)));
        return;
    }
    ((house_format_t *)target)->audio_channels = (int)d;
}

static void check_video_kbps(doc_t *doc, const cJSON *v, void *target)
{
    int n;
    if (want_int_range(doc, v, 1, MAX_KBPS, &n))
        ((house_format_t *)target)->video_kbps = n;
}

static void check_audio_kbps(doc_t *doc, const cJSON *v, void *target)
{
    int n;
    if (want_int_range(doc, v, 1, MAX_KBPS, &n))
        ((house_format_t *)target)->audio_kbps = n;
}

static const field_t house_fields[] = {
    {"width", false, check_width},
    {"height", false, check_height},
    {"fps", false, check_fps},
    {"gop_frames", false, check_gop_frames},
    {"audio_rate", false, check_audio_rate},
    {"audio_channels", false, check_audio_channels},
    {"video_kbps", false, check_video_kbps},
    {"audio_kbps", false, check_audio_kbps},
};

/* ---- the library (retrovue.json) and schedules (channel files) ---- */

static void warn_at(doc_t *doc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Like report, but into the warnings: the load still succeeds. */
static void warn_at(doc_t *doc, const char *fmt, ...)
{
    size_t off = 0;
    size_t depth = path_depth(doc);
    if (json_loc_find(doc->text, doc->len, doc->path, depth, &off, NULL) != 0)
        off = 0;
    int line, col;
    json_loc_line_col(doc->text, doc->len, off, &line, &col);
    strbuf_t *w = &doc->ld->warnings;
    strbuf_printf(w, "%s:%d:%d: ", doc->file, line, col);
    json_loc_path_render(doc->path, depth, w);
    strbuf_puts(w, ": warning: ");
    va_list ap;
    va_start(ap, fmt);
    strbuf_vprintf(w, fmt, ap);
    va_end(ap);
    strbuf_puts(w, "\n");
}

/* A list of paths or glob patterns, relative to the config dir; each match becomes an
 * asset of the set, in name order. A pattern matching nothing is only a warning. */
static void add_files(doc_t *doc, const cJSON *v, sched_set_t *set, enum sched_asset_kind kind,
                      int promo)
{
    if (!cJSON_IsArray(v)) {
        report(doc, AT_VALUE, "expected an array of file paths or patterns, found %s",
               type_name(v));
        return;
    }
    size_t i = 0;
    for (const cJSON *item = v->child; item != NULL; item = item->next, i++) {
        push_index(doc, i);
        const char *s = want_nonempty(doc, item, "a string (a file path or a pattern like "
                                                 "\"media/shows/name-*.ts\")");
        if (s != NULL) {
            char *pattern = resolve(doc->ld, s);
            glob_t g;
            int rc = glob(pattern, 0, NULL, &g);
            if (rc == 0) {
                for (size_t j = 0; j < g.gl_pathc; j++)
                    sched_set_push(set, sched_library_asset(doc->ld->cfg->library, g.gl_pathv[j],
                                                            kind),
                                   promo);
            } else if (strpbrk(s, "*?[") == NULL) {
                /* A plain path: keep it (media may be mounted later), and say so. */
                sched_set_push(set, sched_library_asset(doc->ld->cfg->library, pattern, kind),
                               promo);
                warn_at(doc, "file not found: %s", pattern);
            } else {
                warn_at(doc, "pattern matches no files: %s", pattern);
            }
            globfree(&g);
            free(pattern);
        }
        pop(doc);
    }
}

static bool valid_name(const char *s)
{
    if (s[0] == '\0' || strlen(s) > 64)
        return false;
    for (const char *p = s; *p != '\0'; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_' || *p == '.'))
            return false;
    return true;
}

/* Library objects are maps from a name to a definition; the names are checked here. */
static bool check_set_name(doc_t *doc, const char *name)
{
    char q[80];
    if (!valid_name(name)) {
        report(doc, AT_KEY,
               "name %s must be 1 to 64 letters, digits, '-', '_' or '.'",
               quote(name, q, sizeof(q)));
        return false;
    }
    return true;
}

static void check_series_title(doc_t *doc, const cJSON *v, void *target)
{
    const char *s = want_nonempty(doc, v, "a string");
    if (s != NULL)
        set_string(&((sched_set_t *)target)->title, xstrdup(s));
}

static void check_series_rating(doc_t *doc, const cJSON *v, void *target)
{
    const char *s = want_nonempty(doc, v, "a string like \"TV-G\"");
    if (s != NULL)
        set_string(&((sched_set_t *)target)->rating, xstrdup(s));
}

static void check_series_genre(doc_t *doc, const cJSON *v, void *target)
{
    const char *s = want_nonempty(doc, v, "a string like \"comedy\"");
    if (s != NULL)
        set_string(&((sched_set_t *)target)->genre, xstrdup(s));
}

static void check_series_files(doc_t *doc, const cJSON *v, void *target)
{
    add_files(doc, v, target, SCHED_ASSET_EPISODE, 0);
}

static void check_series_promos(doc_t *doc, const cJSON *v, void *target)
{
    add_files(doc, v, target, SCHED_ASSET_CLIP, 1);
}

static void check_movie_files(doc_t *doc, const cJSON *v, void *target)
{
    add_files(doc, v, target, SCHED_ASSET_MOVIE, 0);
}

static void check_tags(doc_t *doc, const cJSON *v, void *target)
{
    sched_set_t *set = target;
    if (!cJSON_IsArray(v)) {
        report(doc, AT_VALUE, "expected an array of tag names, found %s", type_name(v));
        return;
    }
    size_t i = 0;
    for (const cJSON *t = v->child; t != NULL; t = t->next, i++) {
        push_index(doc, i);
        const char *s = want_nonempty(doc, t, "a string (a tag)");
        if (s != NULL) {
            set->tags = xrealloc(set->tags, (set->n_tags + 1) * sizeof(*set->tags));
            set->tags[set->n_tags++] = xstrdup(s);
        }
        pop(doc);
    }
}

static const field_t series_fields[] = {
    {"title", false, check_series_title}, {"files", true, check_series_files},
    {"promos", false, check_series_promos}, {"rating", false, check_series_rating},
    {"genre", false, check_series_genre},
};

static const field_t collection_fields[] = {
    {"files", true, check_movie_files},
    {"tags", false, check_tags},
};

/* Walks a name -> definition map, making one set per name. */
static void check_set_map(doc_t *doc, const cJSON *v, sched_set_t ***sets, size_t *n,
                          const field_t *fields, size_t n_fields, bool pool)
{
    if (!cJSON_IsObject(v)) {
        report(doc, AT_VALUE, "expected an object of named %s, found %s",
               pool ? "pools" : "definitions", type_name(v));
        return;
    }
    for (const cJSON *c = v->child; c != NULL; c = c->next) {
        size_t occurrence = 0;
        for (const cJSON *p = v->child; p != c; p = p->next)
            occurrence += strcmp(p->string, c->string) == 0;
        push_key(doc, c->string, occurrence);
        char q[80];
        if (occurrence > 0) {
            report(doc, AT_KEY, "duplicate name %s", quote(c->string, q, sizeof(q)));
        } else if (check_set_name(doc, c->string)) {
            sched_set_t *set = sched_set_add(sets, n, c->string);
            if (pool)
                add_files(doc, c, set, SCHED_ASSET_CLIP, 0);
            else
                walk_object(doc, c, fields, n_fields, set);
            if (!pool && fields == series_fields && set->title == NULL) {
                /* "nebula-patrol" reads as "Nebula Patrol" */
                char *path = xasprintf("%s.ts", c->string);
                set->title = playout_title_from_path(path);
                free(path);
            }
        }
        pop(doc);
    }
}

static void check_lib_series(doc_t *doc, const cJSON *v, void *target)
{
    sched_library_t *lib = target;
    check_set_map(doc, v, &lib->series, &lib->n_series, series_fields,
                  RV_ARRAY_SIZE(series_fields), false);
}

static void check_lib_collections(doc_t *doc, const cJSON *v, void *target)
{
    sched_library_t *lib = target;
    check_set_map(doc, v, &lib->collections, &lib->n_collections, collection_fields,
                  RV_ARRAY_SIZE(collection_fields), false);
}

static void check_lib_pools(doc_t *doc, const cJSON *v, void *target)
{
    sched_library_t *lib = target;
    check_set_map(doc, v, &lib->pools, &lib->n_pools, NULL, 0, true);
}

static const field_t library_fields[] = {
    {"series", false, check_lib_series},
    {"collections", false, check_lib_collections},
    {"pools", false, check_lib_pools},
};

static void check_library(doc_t *doc, const cJSON *v, void *target)
{
    config_t *cfg = target;
    walk_object(doc, v, library_fields, RV_ARRAY_SIZE(library_fields), cfg->library);
    char *text = cJSON_PrintUnformatted(v);
    doc->ld->library_hash = fnv1a_str(text, doc->ld->library_hash);
    free(text);
}

/* ---- channel identity ---- */

static void check_call_sign(doc_t *doc, const cJSON *v, void *target)
{
    channel_conf_t *ch = target;
    const char *s = want_string(doc, v, "a string like \"WRTV\"");
    if (s == NULL)
        return;
    size_t n = strlen(s);
    bool ok = n >= 3 && n <= 6;
    for (size_t i = 0; ok && i < n; i++)
        ok = (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
             (s[i] >= '0' && s[i] <= '9') || s[i] == '-';
    if (!ok) {
        char q[80];
        report(doc, AT_VALUE, "call sign must be 3 to 6 letters, digits or '-', found %s",
               quote(s, q, sizeof(q)));
        return;
    }
    set_string(&ch->call_sign, xstrdup(s));
}

static void check_timezone(doc_t *doc, const cJSON *v, void *target)
{
    channel_conf_t *ch = target;
    const char *s = want_nonempty(doc, v, "a string like \"America/New_York\"");
    if (s == NULL)
        return;
    if (!tz_name_valid(s)) {
        char q[80];
        report(doc, AT_VALUE,
               "unknown time zone %s; use an IANA name like \"America/New_York\" or \"UTC\" "
               "(see /usr/share/zoneinfo)",
               quote(s, q, sizeof(q)));
        return;
    }
    set_string(&ch->timezone, xstrdup(s));
}

static void check_logo(doc_t *doc, const cJSON *v, void *target)
{
    channel_conf_t *ch = target;
    const char *s = want_nonempty(doc, v, "a string (an image file path)");
    if (s == NULL)
        return;
    set_string(&ch->logo, resolve(doc->ld, s));
    if (!util_file_readable(ch->logo))
        warn_at(doc, "logo file not found: %s", ch->logo);
}

/* ---- schedule blocks ---- */

/* A block being read, with what was given so the combination can be checked after. */
typedef struct block_in {
    sched_block_t b;
    bool has_days, has_start, has_end, has_slots, has_slot, has_order, has_round;
    int fills;
    bool in_override;
} block_in_t;

static const char *const day_names[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

static int day_index(const char *s, size_t n)
{
    for (int i = 0; i < 7; i++)
        if (n == 3 && strncmp(s, day_names[i], 3) == 0)
            return i;
    return -1;
}

/* "daily", "weekdays", "weekends", "sat", "mon-fri", "fri-sun", "mon,wed,fri". */
static bool parse_days(const char *s, unsigned *out)
{
    if (strcmp(s, "daily") == 0) {
        *out = 0x7F;
        return true;
    }
    if (strcmp(s, "weekdays") == 0) {
        *out = 0x1F;
        return true;
    }
    if (strcmp(s, "weekends") == 0) {
        *out = 0x60;
        return true;
    }
    unsigned mask = 0;
    const char *p = s;
    while (*p != '\0') {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        const char *dash = memchr(p, '-', n);
        int a, b;
        if (dash != NULL) {
            a = day_index(p, (size_t)(dash - p));
            b = day_index(dash + 1, n - (size_t)(dash - p) - 1);
        } else {
            a = b = day_index(p, n);
        }
        if (a < 0 || b < 0)
            return false;
        for (int d = a;; d = (d + 1) % 7) { /* "fri-mon" wraps over the weekend */
            mask |= 1u << d;
            if (d == b)
                break;
        }
        p += n;
        if (*p == ',')
            p++;
        else if (*p != '\0')
            return false;
        if (end != NULL && *p == '\0')
            return false;
    }
    *out = mask;
    return mask != 0;
}

/* "HH:MM"; max_min is 1440 for an end time ("24:00"), 1439 for a start. */
static bool parse_hhmm(const char *s, int max_min, int *out)
{
    if (strlen(s) != 5 || s[2] != ':' || !all_digits((char[]){s[0], s[1], 0}, 2) ||
        !all_digits((char[]){s[3], s[4], 0}, 2))
        return false;
    int h = atoi(s), m = atoi(s + 3);
    if (m > 59 || h * 60 + m > max_min)
        return false;
    *out = h * 60 + m;
    return true;
}

/* "30m", "60m", "2h", "1h30m", "90m": whole minutes, at most a day. */
static bool parse_length(const char *s, sched_ms_t *out)
{
    long total = 0;
    const char *p = s;
    bool any = false, seen_h = false, seen_m = false;
    while (*p != '\0') {
        if (*p < '0' || *p > '9')
            return false;
        long v = 0;
        while (*p >= '0' && *p <= '9' && v < 100000)
            v = v * 10 + (*p++ - '0');
        if (*p == 'h' && !seen_h && !seen_m) {
            total += v * 60;
            seen_h = true;
        } else if (*p == 'm' && !seen_m) {
            total += v;
            seen_m = true;
        } else {
            return false;
        }
        p++;
        any = true;
    }
    if (!any || total <= 0 || total > 1440)
        return false;
    *out = (sched_ms_t)total * 60000;
    return true;
}

static void check_block_name(doc_t *doc, const cJSON *v, void *target)
{
    const char *s = want_nonempty(doc, v, "a string like \"Saturday Cartoons\"");
    if (s != NULL)
        set_string(&((block_in_t *)target)->b.name, xstrdup(s));
}

static void check_block_days(doc_t *doc, const cJSON *v, void *target)
{
    block_in_t *in = target;
    in->has_days = true;
    const char *s = want_string(doc, v, "a string like \"daily\" or \"mon-fri\"");
    if (s == NULL)
        return;
    char q[80];
    if (in->in_override) {
        report(doc, AT_KEY, "an override's blocks air on its date; remove \"days\"");
        return;
    }
    if (!parse_days(s, &in->b.days))
        report(doc, AT_VALUE,
               "expected days like \"daily\", \"weekdays\", \"weekends\", \"sat\", \"mon-fri\" "
               "or \"mon,wed,fri\", found %s",
               quote(s, q, sizeof(q)));
}

static void check_block_time(doc_t *doc, const cJSON *v, int max, int *slot, bool *has)
{
    *has = true;
    const char *s = want_string(doc, v, "a time like \"06:00\"");
    if (s == NULL)
        return;
    if (!parse_hhmm(s, max, slot)) {
        char q[80];
        report(doc, AT_VALUE, "expected a local time from \"00:00\" to \"%s\", found %s",
               max == 1440 ? "24:00" : "23:59", quote(s, q, sizeof(q)));
        *has = false;
    }
}

static void check_block_start(doc_t *doc, const cJSON *v, void *target)
{
    block_in_t *in = target;
    check_block_time(doc, v, 1439, &in->b.start_min, &in->has_start);
}

static void check_block_end(doc_t *doc, const cJSON *v, void *target)
{
    block_in_t *in = target;
    check_block_time(doc, v, 1440, &in->b.end_min, &in->has_end);
}

static void check_block_slots(doc_t *doc, const cJSON *v, void *target)
{
    block_in_t *in = target;
    in->has_slots = true;
    if (!want_int_range(doc, v, 1, 1440, &in->b.n_slots))
        in->has_slots = false;
}

static void check_length_value(doc_t *doc, const cJSON *v, sched_ms_t *out, bool *has)
{
    const char *s = want_string(doc, v, "a length like \"30m\", \"60m\" or \"2h\"");
    if (s == NULL)
        return;
    if (!parse_length(s, out)) {
        char q[80];
        report(doc, AT_VALUE,
               "expected a length in whole minutes like \"30m\", \"90m\", \"2h\" or \"1h30m\" "
               "(at most 24h), found %s",
               quote(s, q, sizeof(q)));
        return;
    }
    *has = true;
}

static void check_block_slot(doc_t *doc, const cJSON *v, void *target)
{
    block_in_t *in = target;
    check_length_value(doc, v, &in->b.slot, &in->has_slot);
}

static void check_block_round(doc_t *doc, const cJSON *v, void *target)
{
    block_in_t *in = target;
    check_length_value(doc, v, &in->b.round_up, &in->has_round);
}

static void check_block_order(doc_t *doc, const cJSON *v, void *target)
{
    static const char *const names[] = {"sequential", "shuffle", "random"};
    block_in_t *in = target;
    in->has_order = true;
    const char *s = want_string(doc, v, "a string (one of: sequential, shuffle, random)");
    if (s == NULL)
        return;
    for (size_t i = 0; i < RV_ARRAY_SIZE(names); i++)
        if (strcmp(s, names[i]) == 0) {
            in->b.order = (enum sched_order)i;
            return;
        }
    char q[80];
    report(doc, AT_VALUE, "expected one of: sequential, shuffle, random; found %s",
           quote(s, q, sizeof(q)));
}

/* A reference to a named set of the library, with the names it has when it is wrong. */
static const sched_set_t *want_set(doc_t *doc, const cJSON *v, sched_set_t *const *sets,
                                   size_t n, const char *what)
{
    char expect[64];
    snprintf(expect, sizeof(expect), "a string (the name of a %s in the library)", what);
    const char *s = want_nonempty(doc, v, expect);
    if (s == NULL)
        return NULL;
    const sched_set_t *set = sched_set_find(sets, n, s);
    if (set != NULL)
        return set;
    strbuf_t list;
    strbuf_init(&list);
    for (size_t i = 0; i < n && i < 20; i++)
        strbuf_printf(&list, "%s%s", i ? ", " : "", sets[i]->name);
    char q[80];
    report(doc, AT_VALUE, "unknown %s %s; retrovue.json's library has %s%s", what,
           quote(s, q, sizeof(q)), n ? "" : "none", n ? list.data : "");
    strbuf_dispose(&list);
    return NULL;
}

static void check_block_series(doc_t *doc, const cJSON *v, void *target)
{
    block_in_t *in = target;
    const sched_library_t *lib = doc->ld->cfg->library;
    in->fills++;
    in->b.fill = SCHED_FILL_SERIES;
    if (cJSON_IsArray(v)) {
        int n = cJSON_GetArraySize(v);
        if (n == 0) {
            report(doc, AT_VALUE, "list at least one series");
            return;
        }
        in->b.series = xcalloc((size_t)n, sizeof(*in->b.series));
        size_t i = 0;
        for (const cJSON *s = v->child; s != NULL; s = s->next, i++) {
            push_index(doc, i);
            const sched_set_t *set = want_set(doc, s, lib->series, lib->n_series, "series");
            if (set != NULL)
                in->b.series[in->b.n_series++] = set;
            pop(doc);
        }
        return;
    }
    const sched_set_t *set = want_set(doc, v, lib->series, lib->n_series, "series");
    if (set != NULL) {
        in->b.series = xcalloc(1, sizeof(*in->b.series));
        in->b.series[in->b.n_series++] = set;
    }
}

static void check_movies_collection(doc_t *doc, const cJSON *v, void *target)
{
    block_in_t *in = target;
    const sched_library_t *lib = doc->ld->cfg->library;
    const sched_set_t *set = want_set(doc, v, lib->collections, lib->n_collections, "collection");
    if (set == NULL || in->b.movies_key != NULL)
        return;
    in->b.movies = xcalloc(set->n_assets + 1, sizeof(*in->b.movies));
    for (size_t i = 0; i < set->n_assets; i++)
        in->b.movies[in->b.n_movies++] = set->assets[i];
    in->b.movies_key = xasprintf("collection:%s", set->name);
}

static void check_movies_tag(doc_t *doc, const cJSON *v, void *target)
{
    block_in_t *in = target;
    const sched_library_t *lib = doc->ld->cfg->library;
    const char *tag = want_nonempty(doc, v, "a string (a collection tag)");
    if (tag == NULL || in->b.movies_key != NULL)
        return;
    for (size_t i = 0; i < lib->n_collections; i++) {
        const sched_set_t *c = lib->collections[i];
        bool has = false;
        for (size_t j = 0; j < c->n_tags && !has; j++)
            has = strcmp(c->tags[j], tag) == 0;
        if (!has)
            continue;
        in->b.movies = xrealloc(in->b.movies, (in->b.n_movies + c->n_assets + 1) *
                                                  sizeof(*in->b.movies));
        for (size_t j = 0; j < c->n_assets; j++)
            in->b.movies[in->b.n_movies++] = c->assets[j];
    }
    char q[80];
    if (in->b.movies == NULL) {
        report(doc, AT_VALUE, "no collection in the library has the tag %s",
               quote(tag, q, sizeof(q)));
        return;
    }
    in->b.movies_key = xasprintf("tag:%s", tag);
}

static const field_t movies_fields[] = {
    {"collection", false, check_movies_collection},
    {"tag", false, check_movies_tag},
};

static void check_block_movies(doc_t *doc, const cJSON *v, void *target)
{
    block_in_t *in = target;
    in->fills++;
    in->b.fill = SCHED_FILL_MOVIES;
    walk_object(doc, v, movies_fields, RV_ARRAY_SIZE(movies_fields), in);
    if (cJSON_IsObject(v) && cJSON_GetArraySize(v) != 1)
        report(doc, AT_VALUE, "give exactly one of \"collection\" or \"tag\"");
}

static void check_pool_ref(doc_t *doc, const cJSON *v, const sched_set_t **slot)
{
    const sched_library_t *lib = doc->ld->cfg->library;
    *slot = want_set(doc, v, lib->pools, lib->n_pools, "pool");
}

static void check_off_sign_off(doc_t *doc, const cJSON *v, void *target)
{
    check_pool_ref(doc, v, &((block_in_t *)target)->b.sign_off);
}

static void check_off_pattern(doc_t *doc, const cJSON *v, void *target)
{
    check_pool_ref(doc, v, &((block_in_t *)target)->b.pattern);
}

static void check_off_sign_on(doc_t *doc, const cJSON *v, void *target)
{
    check_pool_ref(doc, v, &((block_in_t *)target)->b.sign_on);
}

static const field_t off_air_fields[] = {
    {"sign_off", false, check_off_sign_off},
    {"pattern", true, check_off_pattern},
    {"sign_on", false, check_off_sign_on},
};

static void check_block_off_air(doc_t *doc, const cJSON *v, void *target)
{
    block_in_t *in = target;
    in->fills++;
    in->b.fill = SCHED_FILL_OFF_AIR;
    walk_object(doc, v, off_air_fields, RV_ARRAY_SIZE(off_air_fields), in);
}

static const field_t block_fields[] = {
    {"name", false, check_block_name},     {"days", false, check_block_days},
    {"start", true, check_block_start},    {"end", false, check_block_end},
    {"slots", false, check_block_slots},   {"slot", false, check_block_slot},
    {"series", false, check_block_series}, {"order", false, check_block_order},
    {"movies", false, check_block_movies}, {"round_up", false, check_block_round},
    {"off_air", false, check_block_off_air},
};

/* One block; the combination of keys is checked once all are read. 0 when usable. */
static int read_block(doc_t *doc, const cJSON *v, bool in_override, sched_block_t *out)
{
    block_in_t in = {.in_override = in_override};
    int before = doc->ld->n_errors;
    walk_object(doc, v, block_fields, RV_ARRAY_SIZE(block_fields), &in);
    if (!cJSON_IsObject(v)) {
        sched_block_dispose(&in.b);
        return -EINVAL;
    }
    if (!in_override && !in.has_days)
        report(doc, AT_VALUE, "missing required key \"days\"");
    if (in.fills != 1)
        report(doc, AT_VALUE,
               "give exactly one of \"series\", \"movies\" or \"off_air\" (what fills the "
               "block)");
    if (in.has_end == in.has_slots)
        report(doc, AT_VALUE, "give exactly one of \"end\" (a time) or \"slots\" (a count)");
    if (!in.has_slot) {
        if (in.b.fill == SCHED_FILL_OFF_AIR && !in.has_slots)
            in.b.slot = 30 * 60000;
        else if (cJSON_GetObjectItemCaseSensitive(v, "slot") == NULL)
            report(doc, AT_VALUE, "missing required key \"slot\" (a length like \"30m\")");
    }
    if (in.has_order && in.b.fill == SCHED_FILL_OFF_AIR)
        report(doc, AT_VALUE, "\"order\" applies to series and movies, not to off-air");
    if (in.has_round && in.b.fill != SCHED_FILL_MOVIES)
        report(doc, AT_VALUE, "\"round_up\" applies to movie blocks only");
    if (in.b.fill == SCHED_FILL_MOVIES && !in.has_round)
        in.b.round_up = in.b.slot;
    if (in.has_start && in.has_end) {
        if (in.b.end_min <= in.b.start_min)
            in.b.end_min += 1440; /* "22:00" to "02:00" crosses midnight */
        if (in.b.end_min - in.b.start_min > 1440)
            report(doc, AT_VALUE, "a block lasts at most 24 hours");
    }
    if (in.has_slots && in.has_slot && (sched_ms_t)in.b.n_slots * in.b.slot > 86400000LL)
        report(doc, AT_VALUE, "a block lasts at most 24 hours (%d slots of %lld minutes)",
               in.b.n_slots, (long long)(in.b.slot / 60000));
    if (doc->ld->n_errors != before) {
        sched_block_dispose(&in.b);
        return -EINVAL;
    }
    *out = in.b;
    return 0;
}

static void read_blocks(doc_t *doc, const cJSON *v, bool in_override, sched_block_t **blocks,
                        size_t *n)
{
    if (!cJSON_IsArray(v)) {
        report(doc, AT_VALUE, "expected an array of blocks, found %s", type_name(v));
        return;
    }
    int count = cJSON_GetArraySize(v);
    if (count == 0) {
        report(doc, AT_VALUE, "list at least one block");
        return;
    }
    *blocks = xcalloc((size_t)count, sizeof(**blocks));
    size_t i = 0;
    for (const cJSON *b = v->child; b != NULL; b = b->next, i++) {
        push_index(doc, i);
        if (read_block(doc, b, in_override, &(*blocks)[*n]) == 0)
            (*n)++;
        pop(doc);
    }
}

/* ---- schedule ---- */

static void check_sched_seed(doc_t *doc, const cJSON *v, void *target)
{
    double d;
    if (!want_integer(doc, v, &d))
        return;
    if (d < 0 || d > 9007199254740991.0) {
        char text[48];
        report(doc, AT_VALUE, "must be from 0 to 9007199254740991, found %s",
               value_text(doc, text, sizeof(text)));
        return;
    }
    ((sched_channel_t *)target)->seed = (uint64_t)d;
}

static void check_sched_days(doc_t *doc, const cJSON *v, void *target)
{
    int n;
    if (want_int_range(doc, v, 3, 60, &n))
        ((sched_channel_t *)target)->days_ahead = n;
}

static void check_sched_blocks(doc_t *doc, const cJSON *v, void *target)
{
    sched_channel_t *ch = target;
    read_blocks(doc, v, false, &ch->blocks, &ch->n_blocks);
}

#define POOL_CHECK(field)                                                      \
    static void check_breaks_##field(doc_t *doc, const cJSON *v, void *target) \
    {                                                                          \
        check_pool_ref(doc, v, &((sched_breaks_t *)target)->field);            \
    }
POOL_CHECK(commercials)
POOL_CHECK(bumper_out)
POOL_CHECK(bumper_in)
POOL_CHECK(station_id)
POOL_CHECK(promo)
POOL_CHECK(filler)

static void check_breaks_per_half_hour(doc_t *doc, const cJSON *v, void *target)
{
    int n;
    if (want_int_range(doc, v, 1, 8, &n))
        ((sched_breaks_t *)target)->per_half_hour = n;
}

static const field_t breaks_fields[] = {
    {"commercials", false, check_breaks_commercials},
    {"bumper_out", false, check_breaks_bumper_out},
    {"bumper_in", false, check_breaks_bumper_in},
    {"station_id", false, check_breaks_station_id},
    {"promo", false, check_breaks_promo},
    {"filler", true, check_breaks_filler},
    {"per_half_hour", false, check_breaks_per_half_hour},
};

static void check_sched_breaks(doc_t *doc, const cJSON *v, void *target)
{
    walk_object(doc, v, breaks_fields, RV_ARRAY_SIZE(breaks_fields),
                &((sched_channel_t *)target)->breaks);
}

/* One override: a date and the blocks that replace the template where they overlap it. */
typedef struct override_in {
    sched_override_t o;
    bool has_date;
} override_in_t;

static void check_override_date(doc_t *doc, const cJSON *v, void *target)
{
    override_in_t *in = target;
    const char *s = want_string(doc, v, "a date like \"2026-12-25\"");
    if (s == NULL)
        return;
    if (schedule_parse_date(s, &in->o.day) != 0) {
        char q[80];
        report(doc, AT_VALUE, "expected a date like \"2026-12-25\", found %s",
               quote(s, q, sizeof(q)));
        return;
    }
    in->has_date = true;
}

static void check_override_blocks(doc_t *doc, const cJSON *v, void *target)
{
    override_in_t *in = target;
    read_blocks(doc, v, true, &in->o.blocks, &in->o.n_blocks);
}

static const field_t override_fields[] = {
    {"date", true, check_override_date},
    {"blocks", true, check_override_blocks},
};

static void check_sched_overrides(doc_t *doc, const cJSON *v, void *target)
{
    sched_channel_t *ch = target;
    if (!cJSON_IsArray(v)) {
        report(doc, AT_VALUE, "expected an array of overrides, found %s", type_name(v));
        return;
    }
    ch->overrides = xcalloc((size_t)cJSON_GetArraySize(v) + 1, sizeof(*ch->overrides));
    size_t i = 0;
    for (const cJSON *o = v->child; o != NULL; o = o->next, i++) {
        push_index(doc, i);
        override_in_t in = {0};
        walk_object(doc, o, override_fields, RV_ARRAY_SIZE(override_fields), &in);
        bool dup = false;
        for (size_t j = 0; j < ch->n_overrides && in.has_date; j++)
            dup = dup || ch->overrides[j].day == in.o.day;
        if (dup) {
            push_key(doc, "date", 0);
            report(doc, AT_VALUE, "another override already has this date; put all of a "
                                  "date's blocks in one override");
            pop(doc);
        }
        if (in.has_date && !dup) {
            ch->overrides[ch->n_overrides++] = in.o;
        } else {
            for (size_t j = 0; j < in.o.n_blocks; j++)
                sched_block_dispose(&in.o.blocks[j]);
            free(in.o.blocks);
        }
        pop(doc);
    }
}

static const field_t schedule_fields[] = {
    {"seed", false, check_sched_seed},       {"days_ahead", false, check_sched_days},
    {"breaks", true, check_sched_breaks},    {"blocks", true, check_sched_blocks},
    {"overrides", false, check_sched_overrides},
};

static void check_schedule(doc_t *doc, const cJSON *v, void *target)
{
    channel_conf_t *ch = target;
    sched_channel_t *s = xcalloc(1, sizeof(*s));
    s->library = doc->ld->cfg->library;
    s->days_ahead = 3;
    s->breaks.per_half_hour = 2;
    walk_object(doc, v, schedule_fields, RV_ARRAY_SIZE(schedule_fields), s);
    char *text = cJSON_PrintUnformatted(v);
    s->fingerprint = fnv1a_str(text, 0);
    free(text);
    sched_channel_free(ch->schedule);
    ch->schedule = s;
}

static void check_server(doc_t *doc, const cJSON *v, void *target)
{
    walk_object(doc, v, server_fields, RV_ARRAY_SIZE(server_fields), target);
}

static void check_house(doc_t *doc, const cJSON *v, void *target)
{
    walk_object(doc, v, house_fields, RV_ARRAY_SIZE(house_fields), &((config_t *)target)->house);
}

static void check_tuner(doc_t *doc, const cJSON *v, void *target)
{
    walk_object(doc, v, tuner_fields, RV_ARRAY_SIZE(tuner_fields), &((config_t *)target)->tuner);
}

/* ---- media roots and Plex ---- */

static const char *const media_kind_names[MEDIA_KIND_COUNT] = {
    "episodes", "movies", "commercials", "bumpers", "station_ids", "promos", "filler"};

const char *media_kind_name(enum media_kind kind)
{
    return kind < MEDIA_KIND_COUNT ? media_kind_names[kind] : "?";
}

static void check_root_path(doc_t *doc, const cJSON *v, void *target)
{
    const char *s = want_nonempty(doc, v, "a string (a folder path)");
    if (s == NULL)
        return;
    media_root_t *r = target;
    set_string(&r->path, resolve(doc->ld, s));
    struct stat sb;
    if (stat(r->path, &sb) != 0)
        warn_at(doc, "folder not found: %s (it is skipped until it appears)", r->path);
    else if (!S_ISDIR(sb.st_mode))
        report(doc, AT_VALUE, "not a folder: %s", r->path);
}

static void check_root_holds(doc_t *doc, const cJSON *v, void *target)
{
    const char *s = want_string(doc, v, "a string");
    if (s == NULL)
        return;
    for (int k = 0; k < MEDIA_KIND_COUNT; k++)
        if (strcmp(s, media_kind_names[k]) == 0) {
            ((media_root_t *)target)->kind = (enum media_kind)k;
            return;
        }
    char q[80];
    report(doc, AT_VALUE,
           "expected one of: episodes, movies, commercials, bumpers, station_ids, promos, "
           "filler; found %s",
           quote(s, q, sizeof(q)));
}

static const field_t media_root_fields[] = {
    {"path", true, check_root_path},
    {"holds", true, check_root_holds},
};

static void check_media(doc_t *doc, const cJSON *v, void *target)
{
    config_t *cfg = target;
    if (!cJSON_IsArray(v)) {
        report(doc, AT_VALUE, "expected an array of {\"path\": ..., \"holds\": ...}, found %s",
               type_name(v));
        return;
    }
    size_t n = (size_t)cJSON_GetArraySize(v), i = 0;
    cfg->media = xcalloc(n ? n : 1, sizeof(*cfg->media));
    for (const cJSON *item = v->child; item != NULL; item = item->next, i++) {
        push_index(doc, i);
        media_root_t *r = &cfg->media[cfg->n_media];
        walk_object(doc, item, media_root_fields, RV_ARRAY_SIZE(media_root_fields), r);
        if (r->path != NULL)
            cfg->n_media++;
        pop(doc);
    }
}

static void check_plex_url(doc_t *doc, const cJSON *v, void *target)
{
    const char *s = want_nonempty(doc, v, "a string like \"http://192.168.1.5:32400\"");
    if (s == NULL)
        return;
    char q[80];
    if (strncmp(s, "http://", 7) != 0 || s[7] == '\0') {
        report(doc, AT_VALUE, "expected an http:// URL like \"http://192.168.1.5:32400\", found %s",
               quote(s, q, sizeof(q)));
        return;
    }
    size_t n = strlen(s);
    while (n > 7 && s[n - 1] == '/')
        n--;
    set_string(&((plex_conf_t *)target)->url, xasprintf("%.*s", (int)n, s));
}

static void check_plex_token(doc_t *doc, const cJSON *v, void *target)
{
    const char *s = want_nonempty(doc, v, "a string (the X-Plex-Token)");
    if (s != NULL)
        set_string(&((plex_conf_t *)target)->token, xstrdup(s));
}

static void check_plex_sections(doc_t *doc, const cJSON *v, void *target)
{
    plex_conf_t *px = target;
    if (!cJSON_IsArray(v)) {
        report(doc, AT_VALUE, "expected an array of section titles, found %s", type_name(v));
        return;
    }
    size_t n = (size_t)cJSON_GetArraySize(v), i = 0;
    px->sections = xcalloc(n ? n : 1, sizeof(char *));
    for (const cJSON *item = v->child; item != NULL; item = item->next, i++) {
        push_index(doc, i);
        const char *s = want_nonempty(doc, item, "a string (a library section title)");
        if (s != NULL)
            px->sections[px->n_sections++] = xstrdup(s);
        pop(doc);
    }
}

static void check_plex_path_map(doc_t *doc, const cJSON *v, void *target)
{
    plex_conf_t *px = target;
    if (!cJSON_IsObject(v)) {
        report(doc, AT_VALUE,
               "expected an object mapping Plex's paths to ours, like {\"/data/tv\": "
               "\"/media/tv\"}, found %s",
               type_name(v));
        return;
    }
    size_t n = (size_t)cJSON_GetArraySize(v);
    px->path_map = xcalloc(n ? n : 1, sizeof(*px->path_map));
    for (const cJSON *item = v->child; item != NULL; item = item->next) {
        push_key(doc, item->string, 0);
        const char *s = want_nonempty(doc, item, "a string (the folder as Retrovue sees it)");
        if (s != NULL) {
            px->path_map[px->n_path_map].from = xstrdup(item->string);
            px->path_map[px->n_path_map].to = resolve(doc->ld, s);
            px->n_path_map++;
        }
        pop(doc);
    }
}

static void check_plex_ingest(doc_t *doc, const cJSON *v, void *target)
{
    want_bool(doc, v, &((plex_conf_t *)target)->ingest);
}

static void check_plex_reload_guide(doc_t *doc, const cJSON *v, void *target)
{
    want_bool(doc, v, &((plex_conf_t *)target)->reload_guide);
}

static void check_plex_reload_delay(doc_t *doc, const cJSON *v, void *target)
{
    int seconds;
    if (want_int_range(doc, v, 0, 3600, &seconds))
        ((plex_conf_t *)target)->reload_delay = seconds;
}

static const field_t plex_fields[] = {
    {"url", true, check_plex_url},
    {"token", true, check_plex_token},
    {"sections", false, check_plex_sections},
    {"path_map", false, check_plex_path_map},
    {"ingest", false, check_plex_ingest},
    {"reload_guide", false, check_plex_reload_guide},
    {"reload_guide_delay", false, check_plex_reload_delay},
};

static void check_plex(doc_t *doc, const cJSON *v, void *target)
{
    walk_object(doc, v, plex_fields, RV_ARRAY_SIZE(plex_fields), &((config_t *)target)->plex);
}

static void check_conform_jobs(doc_t *doc, const cJSON *v, void *target)
{
    want_int_range(doc, v, 0, 16, &((config_t *)target)->conform_jobs);
}

static void check_conform_nice(doc_t *doc, const cJSON *v, void *target)
{
    want_int_range(doc, v, 0, 19, &((config_t *)target)->conform_nice);
}

static const field_t conform_fields[] = {
    {"jobs", false, check_conform_jobs},
    {"nice", false, check_conform_nice},
};

static void check_conform(doc_t *doc, const cJSON *v, void *target)
{
    walk_object(doc, v, conform_fields, RV_ARRAY_SIZE(conform_fields), target);
}

static const field_t main_fields[] = {
    {"server", false, check_server},
    {"house", false, check_house},
    {"tuner", false, check_tuner},
    {"media", false, check_media},
    {"plex", false, check_plex},
    {"conform", false, check_conform},
    {"library", false, check_library},
};

/* ---- channel files ---- */

static void check_number(doc_t *doc, const cJSON *v, void *target)
{
    channel_conf_t *ch = target;
    int major, minor;
    char q[80], q2[80];
    if (cJSON_IsNumber(v)) {
        /* Numbers would lose "5.10" vs "5.1" and leading zeros; guide numbers are text. */
        char text[48];
        value_text(doc, text, sizeof(text));
        report(doc, AT_VALUE, "expected a string like \"%s\", found a number",
               parse_channel_number(text, &major, &minor) ? text : "3");
        return;
    }
    const char *s = want_string(doc, v, "a string like \"3\"");
    if (s == NULL)
        return;
    if (!parse_channel_number(s, &major, &minor)) {
        report(doc, AT_VALUE,
               "channel number must look like \"3\" or \"5.1\" (1 to 4 digits, optionally a dot "
               "and 1 to 3 digits), found %s",
               quote(s, q, sizeof(q)));
        return;
    }
    ch->number = xstrdup(s);
    loader_t *ld = doc->ld;
    for (size_t i = 0; i < ld->n_seen; i++) {
        const seen_number_t *seen = &ld->seen[i];
        if (seen->major != major || seen->minor != minor)
            continue;
        if (strcmp(seen->number, s) == 0)
            report(doc, AT_VALUE, "channel number %s is already used by %s",
                   quote(s, q, sizeof(q)), seen->file);
        else
            report(doc, AT_VALUE, "channel number %s is the same as %s in %s",
                   quote(s, q, sizeof(q)), quote(seen->number, q2, sizeof(q2)), seen->file);
        return;
    }
    ld->seen = xrealloc(ld->seen, (ld->n_seen + 1) * sizeof(*ld->seen));
    ld->seen[ld->n_seen++] = (seen_number_t){
        .major = major, .minor = minor, .number = xstrdup(s), .file = xstrdup(doc->file)};
}

static void check_name(doc_t *doc, const cJSON *v, void *target)
{
    channel_conf_t *ch = target;
    const char *s = want_nonempty(doc, v, "a string");
    if (s == NULL)
        return;
    size_t chars = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if (*p < 0x20 || *p == 0x7F) {
            report(doc, AT_VALUE, "must not contain control characters");
            return;
        }
        if ((*p & 0xC0) != 0x80)
            chars++;
    }
    if (chars > NAME_MAX_CHARS) {
        report(doc, AT_VALUE, "is too long (%zu characters; at most %d)", chars, NAME_MAX_CHARS);
        return;
    }
    set_string(&ch->name, xstrdup(s));
}

static void check_mode(doc_t *doc, const cJSON *v, void *target)
{
    static const char *const names[] = {"auto", "copy", "live"};
    static const enum encode_mode modes[] = {ENCODE_AUTO, ENCODE_COPY, ENCODE_LIVE};
    channel_conf_t *ch = target;
    const char *s = want_string(doc, v, "a string (one of: auto, copy, live)");
    if (s == NULL)
        return;
    for (size_t i = 0; i < RV_ARRAY_SIZE(names); i++) {
        if (strcmp(s, names[i]) == 0) {
            ch->mode = modes[i];
            return;
        }
    }
    char q[80];
    report(doc, AT_VALUE, "expected one of: auto, copy, live; found %s", quote(s, q, sizeof(q)));
}

static void check_epoch(doc_t *doc, const cJSON *v, void *target)
{
    channel_conf_t *ch = target;
    const char *s = want_string(doc, v, "a string like \"" DEFAULT_EPOCH "\"");
    if (s == NULL)
        return;
    double t;
    if (!strict_iso8601(s) || util_parse_iso8601(s, &t) != 0) {
        char q[80];
        report(doc, AT_VALUE,
               "expected an ISO 8601 time with Z or an offset, like \"" DEFAULT_EPOCH
               "\" or \"2026-01-01T00:00:00-05:00\", found %s",
               quote(s, q, sizeof(q)));
        return;
    }
    ch->epoch = t;
}

static void check_playlist(doc_t *doc, const cJSON *v, void *target)
{
    channel_conf_t *ch = target;
    if (!cJSON_IsArray(v)) {
        report(doc, AT_VALUE, "expected an array of media file paths, found %s", type_name(v));
        return;
    }
    int n = cJSON_GetArraySize(v);
    if (n == 0) {
        report(doc, AT_VALUE, "playlist is empty; list at least one media file");
        return;
    }
    ch->items = xcalloc((size_t)n, sizeof(*ch->items));
    size_t i = 0;
    for (const cJSON *item = v->child; item != NULL; item = item->next, i++) {
        push_index(doc, i);
        /* A missing file is fine here: media may be on a disk mounted later. */
        const char *s = want_nonempty(doc, item, "a string (a media file path)");
        if (s != NULL)
            ch->items[ch->n_items++] = resolve(doc->ld, s);
        pop(doc);
    }
}

static const field_t channel_fields[] = {
    {"number", true, check_number},       {"name", true, check_name},
    {"mode", false, check_mode},          {"epoch", false, check_epoch},
    {"playlist", false, check_playlist},  {"schedule", false, check_schedule},
    {"call_sign", false, check_call_sign}, {"timezone", false, check_timezone},
    {"logo", false, check_logo},
};

/* ---- loading ---- */

/* Checks syntax (with positions) and then parses; NULL after reporting a problem. */
static cJSON *parse_doc(doc_t *doc)
{
    json_loc_error_t err;
    if (json_loc_check(doc->text, doc->len, &err) != 0) {
        int line, col;
        json_loc_line_col(doc->text, doc->len, err.offset, &line, &col);
        strbuf_printf(doc->ld->errors, "%s:%d:%d: %s: %s\n", doc->file, line, col, err.path,
                      err.message);
        doc->ld->n_errors++;
        return NULL;
    }
    /* json_loc accepts a UTF-8 BOM; hand cJSON the text after it. */
    size_t bom = doc->len >= 3 && memcmp(doc->text, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
    cJSON *root = cJSON_ParseWithLength(doc->text + bom, doc->len - bom);
    if (root == NULL)
        report(doc, AT_VALUE, "could not parse the JSON");
    return root;
}

static void load_main(loader_t *ld)
{
    char *shown = util_path_join(ld->dir, "retrovue.json");
    char *path = util_path_join(ld->dir_abs, "retrovue.json");
    char *text = NULL;
    size_t len = 0;
    int rc = util_read_file(path, &text, &len);
    if (rc != 0 && rc != -ENOENT) /* the file is optional: no file means all defaults */
        file_error(ld, shown, "cannot read: %s", strerror(-rc));
    if (rc == 0) {
        doc_t doc = {.ld = ld, .file = shown, .text = text, .len = len};
        cJSON *root = parse_doc(&doc);
        if (root != NULL)
            walk_object(&doc, root, main_fields, RV_ARRAY_SIZE(main_fields), ld->cfg);
        cJSON_Delete(root);
    }
    free(text);
    free(path);
    free(shown);
}

static void channel_dispose(channel_conf_t *ch)
{
    free(ch->number);
    free(ch->name);
    free(ch->file);
    for (size_t i = 0; i < ch->n_items; i++)
        free(ch->items[i]);
    free(ch->items);
    free(ch->call_sign);
    free(ch->timezone);
    free(ch->logo);
    sched_channel_free(ch->schedule);
}

/* What can only be checked with the whole channel read: one form, and the zone loaded. */
static void finish_channel(doc_t *doc, const cJSON *root, channel_conf_t *ch, bool clean)
{
    const cJSON *pl = cJSON_GetObjectItemCaseSensitive(root, "playlist");
    const cJSON *sc = cJSON_GetObjectItemCaseSensitive(root, "schedule");
    if (pl == NULL && sc == NULL) {
        report(doc, AT_VALUE, "missing required key \"playlist\" (or \"schedule\")");
        return;
    }
    if (pl != NULL && sc != NULL) {
        push_key(doc, "schedule", 0);
        report(doc, AT_KEY, "a channel has either \"playlist\" or \"schedule\", not both");
        pop(doc);
        return;
    }
    if (ch->timezone == NULL)
        ch->timezone = xstrdup("UTC");
    if (ch->schedule == NULL || !clean)
        return;
    if (tz_load(ch->timezone, &ch->schedule->tz) != 0) {
        report(doc, AT_VALUE, "cannot load time zone \"%s\"", ch->timezone);
        return;
    }
    set_string(&ch->schedule->channel, xstrdup(ch->number ? ch->number : "?"));
    /* Zone and library are part of what the logs were built from. */
    uint64_t h = fnv1a_str(ch->timezone, ch->schedule->fingerprint);
    ch->schedule->fingerprint = h ^ (doc->ld->library_hash * 0x9E3779B97F4A7C15ULL);
}

static void load_channel(loader_t *ld, const char *shown, const char *path)
{
    char *text = NULL;
    size_t len = 0;
    int rc = util_read_file(path, &text, &len);
    if (rc != 0) {
        file_error(ld, shown, "cannot read: %s", strerror(-rc));
        return;
    }
    doc_t doc = {.ld = ld, .file = shown, .text = text, .len = len};
    cJSON *root = parse_doc(&doc);
    if (root != NULL) {
        channel_conf_t ch = {.file = xstrdup(path), .mode = ENCODE_AUTO};
        util_parse_iso8601(DEFAULT_EPOCH, &ch.epoch);
        int before = ld->n_errors;
        walk_object(&doc, root, channel_fields, RV_ARRAY_SIZE(channel_fields), &ch);
        if (cJSON_IsObject(root))
            finish_channel(&doc, root, &ch, ld->n_errors == before);
        if (ld->n_errors == before) {
            config_t *cfg = ld->cfg;
            cfg->channels = xrealloc(cfg->channels, (cfg->n_channels + 1) * sizeof(ch));
            cfg->channels[cfg->n_channels++] = ch;
        } else {
            channel_dispose(&ch);
        }
        cJSON_Delete(root);
    }
    free(text);
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void load_channels(loader_t *ld)
{
    char *shown_dir = util_path_join(ld->dir, "channels");
    char *dir = util_path_join(ld->dir_abs, "channels");
    DIR *d = opendir(dir);
    if (d == NULL) {
        if (errno == ENOENT)
            file_error(ld, shown_dir,
                       "channels directory not found; create it and add one JSON file per "
                       "channel");
        else
            file_error(ld, shown_dir, "cannot open the channels directory: %s", strerror(errno));
        free(dir);
        free(shown_dir);
        return;
    }
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        /* Dot files are editor leftovers (".#1.json" locks, swap files), never channels. */
        if (e->d_name[0] == '.' || len <= 5 || strcmp(e->d_name + len - 5, ".json") != 0)
            continue;
        char *path = util_path_join(dir, e->d_name);
        struct stat st;
        bool regular = stat(path, &st) == 0 && S_ISREG(st.st_mode);
        free(path);
        if (!regular)
            continue;
        names = xrealloc(names, (n + 1) * sizeof(*names));
        names[n++] = xstrdup(e->d_name);
    }
    closedir(d);
    if (n == 0)
        file_error(ld, shown_dir, "no channel files (*.json) found; add at least one channel");
    if (n > 1)
        qsort(names, n, sizeof(*names), compare_names);
    for (size_t i = 0; i < n; i++) {
        char *shown = util_path_join(shown_dir, names[i]);
        char *path = util_path_join(dir, names[i]);
        load_channel(ld, shown, path);
        free(shown);
        free(path);
        free(names[i]);
    }
    free(names);
    free(dir);
    free(shown_dir);
}

static int compare_channels(const void *a, const void *b)
{
    const channel_conf_t *x = a, *y = b;
    int xmaj = 0, xmin = 0, ymaj = 0, ymin = 0;
    parse_channel_number(x->number, &xmaj, &xmin);
    parse_channel_number(y->number, &ymaj, &ymin);
    if (xmaj != ymaj)
        return xmaj < ymaj ? -1 : 1;
    if (xmin != ymin)
        return xmin < ymin ? -1 : 1;
    return 0;
}

static config_t *config_defaults(char *dir_abs)
{
    config_t *cfg = xcalloc(1, sizeof(*cfg));
    cfg->dir = dir_abs;
    cfg->listen_host = xstrdup("0.0.0.0");
    cfg->listen_port = 8080;
    cfg->state_dir = util_path_join(dir_abs, "state");
    cfg->ffmpeg = xstrdup("ffmpeg");
    cfg->ffprobe = xstrdup("ffprobe");
    cfg->log_level = xstrdup("info");
    cfg->conform_jobs = 1;
    cfg->conform_nice = 10;
    cfg->plex.ingest = 1;
    cfg->plex.reload_guide = 1;
    cfg->plex.reload_delay = 30;
    cfg->tuner = (tuner_conf_t){.count = 4, .friendly_name = xstrdup("Retrovue"), .discover = 1,
                                .ssdp = 1, .discover_port = 65001, .ssdp_port = 1900};
    cfg->library = sched_library_new();
    cfg->house = (house_format_t){
        .width = 640,
        .height = 480,
        .fps_num = 30000,
        .fps_den = 1001,
        .gop_frames = 60,
        .audio_rate = 48000,
        .audio_channels = 2,
        .video_kbps = 1500,
        .audio_kbps = 128,
    };
    return cfg;
}

int config_load(const char *dir, config_t **out, strbuf_t *errors)
{
    strbuf_t scratch;
    strbuf_init(&scratch);
    loader_t ld = {.dir = dir, .errors = errors != NULL ? errors : &scratch};
    strbuf_init(&ld.warnings);
    char *dir_abs = realpath(dir, NULL);
    struct stat st;
    if (dir_abs == NULL) {
        file_error(&ld, dir, "cannot open the config directory: %s", strerror(errno));
    } else if (stat(dir_abs, &st) != 0 || !S_ISDIR(st.st_mode)) {
        file_error(&ld, dir, "the config location is not a directory");
        free(dir_abs);
    } else {
        ld.dir_abs = dir_abs;
        ld.cfg = config_defaults(dir_abs);
        load_main(&ld);
        load_channels(&ld);
    }
    for (size_t i = 0; i < ld.n_seen; i++) {
        free(ld.seen[i].number);
        free(ld.seen[i].file);
    }
    free(ld.seen);
    strbuf_dispose(&scratch);
    if (ld.n_errors > 0) {
        strbuf_dispose(&ld.warnings);
        config_free(ld.cfg);
        return -EINVAL;
    }
    config_t *cfg = ld.cfg;
    if (cfg->n_channels > 1)
        qsort(cfg->channels, cfg->n_channels, sizeof(*cfg->channels), compare_channels);
    cfg->segment_seconds =
        (double)cfg->house.gop_frames * cfg->house.fps_den / (double)cfg->house.fps_num;
    /* Act cuts land on keyframes: one every GOP in conformed (copy-mode) media. */
    for (size_t i = 0; i < cfg->n_channels; i++)
        if (cfg->channels[i].schedule != NULL)
            cfg->channels[i].schedule->gop = (sched_ms_t)llround(cfg->segment_seconds * 1000.0);
    cfg->warnings = ld.warnings.len > 0 ? strbuf_steal(&ld.warnings) : NULL;
    strbuf_dispose(&ld.warnings);
    *out = cfg;
    return 0;
}

void config_free(config_t *config)
{
    if (config == NULL)
        return;
    free(config->dir);
    free(config->listen_host);
    free(config->state_dir);
    free(config->ffmpeg);
    free(config->ffprobe);
    free(config->log_level);
    free(config->base_url);
    free(config->api_token);
    free(config->tuner.friendly_name);
    free(config->tuner.bind_host);
    for (size_t i = 0; i < config->n_media; i++)
        free(config->media[i].path);
    free(config->media);
    free(config->plex.url);
    free(config->plex.token);
    for (size_t i = 0; i < config->plex.n_sections; i++)
        free(config->plex.sections[i]);
    free(config->plex.sections);
    for (size_t i = 0; i < config->plex.n_path_map; i++) {
        free(config->plex.path_map[i].from);
        free(config->plex.path_map[i].to);
    }
    free(config->plex.path_map);
    for (size_t i = 0; i < config->n_channels; i++)
        channel_dispose(&config->channels[i]);
    free(config->channels);
    sched_library_free(config->library);
    free(config->warnings);
    free(config);
}

const channel_conf_t *config_find_channel(const config_t *config, const char *number)
{
    int major, minor;
    if (config == NULL || number == NULL || !parse_channel_number(number, &major, &minor))
        return NULL;
    /* Numeric match, so "03" finds "3"; loading refuses two channels that match so. */
    for (size_t i = 0; i < config->n_channels; i++) {
        int cmaj, cmin;
        if (parse_channel_number(config->channels[i].number, &cmaj, &cmin) && cmaj == major &&
            cmin == minor)
            return &config->channels[i];
    }
    return NULL;
}

int config_set_listen(config_t *config, const char *addr)
{
    if (config == NULL || addr == NULL)
        return -EINVAL;
    char why[160];
    char *host;
    int port;
    if (parse_listen(addr, &host, &port, why, sizeof(why)) != 0)
        return -EINVAL;
    set_string(&config->listen_host, host);
    config->listen_port = port;
    return 0;
}

static char *dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

int config_ingests_plex(const config_t *cfg)
{
    return cfg->plex.url != NULL && cfg->plex.ingest;
}

config_t *config_copy_content(const config_t *c)
{
    config_t *o = xcalloc(1, sizeof(*o));
    o->dir = xstrdup(c->dir);
    o->listen_host = xstrdup(c->listen_host);
    o->listen_port = c->listen_port;
    o->state_dir = xstrdup(c->state_dir);
    o->ffmpeg = xstrdup(c->ffmpeg);
    o->ffprobe = xstrdup(c->ffprobe);
    o->log_level = xstrdup(c->log_level);
    o->segment_seconds = c->segment_seconds;
    o->house = c->house;
    o->conform_jobs = c->conform_jobs;
    o->conform_nice = c->conform_nice;
    o->tuner.friendly_name = xstrdup(c->tuner.friendly_name);
    o->library = sched_library_new();
    o->media = xcalloc(c->n_media ? c->n_media : 1, sizeof(*o->media));
    for (size_t i = 0; i < c->n_media; i++)
        o->media[i] = (media_root_t){xstrdup(c->media[i].path), c->media[i].kind};
    o->n_media = c->n_media;
    o->plex.url = dup_or_null(c->plex.url);
    o->plex.token = dup_or_null(c->plex.token);
    o->plex.sections = xcalloc(c->plex.n_sections ? c->plex.n_sections : 1, sizeof(char *));
    for (size_t i = 0; i < c->plex.n_sections; i++)
        o->plex.sections[i] = xstrdup(c->plex.sections[i]);
    o->plex.n_sections = c->plex.n_sections;
    o->plex.path_map = xcalloc(c->plex.n_path_map ? c->plex.n_path_map : 1, sizeof(path_map_t));
    for (size_t i = 0; i < c->plex.n_path_map; i++)
        o->plex.path_map[i] = (path_map_t){xstrdup(c->plex.path_map[i].from),
                                           xstrdup(c->plex.path_map[i].to)};
    o->plex.n_path_map = c->plex.n_path_map;
    o->plex.ingest = c->plex.ingest;
    o->plex.reload_guide = c->plex.reload_guide;
    o->plex.reload_delay = c->plex.reload_delay;
    return o;
}
