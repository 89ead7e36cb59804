/*
 * A small TZif (RFC 8536, versions 1 to 4) reader with the POSIX TZ footer rule for
 * instants after the last transition. Each zone is a private table, so converting
 * local schedule times to UTC never touches the process-wide TZ or localtime().
 */
#include "tz.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define ZONEINFO_DIR "/usr/share/zoneinfo"
#define TZ_MAX_FILE (1 << 20)

/* A POSIX TZ rule date: Mm.w.d, Jn (1-365, no Feb 29) or n (0-365). */
typedef struct rule_date {
    char form; /* 'M', 'J' or 'n' */
    int m, w, d, n;
    int32_t time; /* seconds after local midnight the change happens */
} rule_date_t;

/* The footer: standard offset, optional DST offset and the yearly rule. */
typedef struct posix_rule {
    bool valid;
    int32_t std_off, dst_off; /* seconds east of UTC */
    bool has_dst;
    rule_date_t start, end;
} posix_rule_t;

struct tz {
    char *name;
    int64_t *times;    /* transition instants, ascending */
    uint8_t *idx;      /* type after each transition */
    size_t n_times;
    int32_t *offsets;  /* per type: seconds east of UTC */
    size_t n_types;
    int32_t first_off; /* before the first transition */
    posix_rule_t rule;
};

int64_t tz_days_from_civil(int y, int m, int d)
{
    /* Howard Hinnant's days_from_civil. */
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (unsigned)((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1);
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void tz_civil_from_days(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)((int64_t)yoe + era * 400 + (*m <= 2));
}

int tz_weekday(int64_t days)
{
    return (int)(((days % 7) + 7 + 3) % 7); /* 1970-01-01 was a Thursday */
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* ---- the POSIX TZ footer ---- */

static const char *parse_name(const char *s)
{
    if (*s == '<') {
        const char *e = strchr(s, '>');
        return e ? e + 1 : NULL;
    }
    const char *p = s;
    while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'))
        p++;
    return p - s >= 3 ? p : NULL;
}

/* [+-]hh[:mm[:ss]] into seconds (sign as written). */
static const char *parse_hms(const char *s, int32_t *out)
{
    int sign = 1;
    if (*s == '+' || *s == '-')
        sign = *s++ == '-' ? -1 : 1;
    int32_t parts[3] = {0, 0, 0};
    for (int i = 0; i < 3; i++) {
        if (*s < '0' || *s > '9')
            return i == 0 ? NULL : s;
        int v = 0;
        while (*s >= '0' && *s <= '9')
            v = v * 10 + (*s++ - '0');
        parts[i] = v;
        if (*s != ':' || i == 2)
            break;
        s++;
    }
    *out = sign * (parts[0] * 3600 + parts[1] * 60 + parts[2]);
    return s;
}

static const char *parse_int(const char *s, int *out)
{
    if (*s < '0' || *s > '9')
        return NULL;
    int v = 0;
    while (*s >= '0' && *s <= '9')
        v = v * 10 + (*s++ - '0');
    *out = v;
    return s;
}

static const char *parse_rule_date(const char *s, rule_date_t *r)
{
    r->time = 7200;
    if (*s == 'M') {
        r->form = 'M';
        if (!(s = parse_int(s + 1, &r->m)) || *s++ != '.' || !(s = parse_int(s, &r->w)) ||
            *s++ != '.' || !(s = parse_int(s, &r->d)))
            return NULL;
        if (r->m < 1 || r->m > 12 || r->w < 1 || r->w > 5 || r->d > 6)
            return NULL;
    } else if (*s == 'J') {
        r->form = 'J';
        if (!(s = parse_int(s + 1, &r->n)) || r->n < 1 || r->n > 365)
            return NULL;
    } else {
        r->form = 'n';
        if (!(s = parse_int(s, &r->n)) || r->n > 365)
            return NULL;
    }
    if (*s == '/')
        s = parse_hms(s + 1, &r->time);
    return s;
}

static void parse_posix(const char *s, posix_rule_t *r)
{
    memset(r, 0, sizeof(*r));
    int32_t off;
    if (!(s = parse_name(s)) || !(s = parse_hms(s, &off)))
        return;
    r->std_off = -off;
    if (*s == '\0') {
        r->valid = true;
        return;
    }
    if (!(s = parse_name(s)))
        return;
    r->has_dst = true;
    r->dst_off = r->std_off + 3600;
    if (*s != ',' && *s != '\0') {
        if (!(s = parse_hms(s, &off)))
            return;
        r->dst_off = -off;
    }
    if (*s == '\0') {
        /* No rule given: POSIX says implementation-defined; use the US rule. */
        r->start = (rule_date_t){.form = 'M', .m = 3, .w = 2, .d = 0, .time = 7200};
        r->end = (rule_date_t){.form = 'M', .m = 11, .w = 1, .d = 0, .time = 7200};
        r->valid = true;
        return;
    }
    if (*s++ != ',' || !(s = parse_rule_date(s, &r->start)) || *s++ != ',' ||
        !(s = parse_rule_date(s, &r->end)) || *s != '\0')
        return;
    r->valid = true;
}

static bool is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days since 1970 of a rule date in year y. */
static int64_t rule_day(const rule_date_t *r, int y)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int64_t jan1 = tz_days_from_civil(y, 1, 1);
    if (r->form == 'J')
        return jan1 + r->n - 1 + (is_leap(y) && r->n >= 60 ? 1 : 0);
    if (r->form == 'n')
        return jan1 + r->n;
    int64_t first = tz_days_from_civil(y, r->m, 1);
    int wd_sun = (tz_weekday(first) + 1) % 7; /* 0 = Sunday */
    int day = 1 + (r->d - wd_sun + 7) % 7 + (r->w - 1) * 7;
    int len = mdays[r->m - 1] + (r->m == 2 && is_leap(y) ? 1 : 0);
    while (day > len)
        day -= 7;
    return first + day - 1;
}

static int32_t rule_offset(const posix_rule_t *r, int64_t t)
{
    if (!r->has_dst)
        return r->std_off;
    int y, m, d;
    tz_civil_from_days(floor_div(t + r->std_off, 86400), &y, &m, &d);
    int64_t start = rule_day(&r->start, y) * 86400 + r->start.time - r->std_off;
    int64_t end = rule_day(&r->end, y) * 86400 + r->end.time - r->dst_off;
    bool dst = start < end ? (t >= start && t < end) : !(t >= end && t < start);
    return dst ? r->dst_off : r->std_off;
}

/* ---- TZif ---- */

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

int tz_load_data(const char *name, const unsigned char *data, size_t len, tz_t **out)
{
    if (len < 44 || memcmp(data, "TZif", 4) != 0)
        return -EINVAL;
    const unsigned char *h = data;
    size_t tsize = 4;
    uint32_t c[6];
    for (int i = 0; i < 6; i++)
        c[i] = be32(h + 20 + 4 * i);
    /* isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt */
    size_t block = (size_t)c[3] * 4 + c[3] + (size_t)c[4] * 6 + c[5] + (size_t)c[2] * 8 + c[1] + c[0];
    if (h[4] >= '2') {
        /* Skip the 32-bit block and read the 64-bit one. */
        if (44 + block + 44 > len || memcmp(data + 44 + block, "TZif", 4) != 0)
            return -EINVAL;
        h = data + 44 + block;
        tsize = 8;
        for (int i = 0; i < 6; i++)
            c[i] = be32(h + 20 + 4 * i);
        block = (size_t)c[3] * 8 + c[3] + (size_t)c[4] * 6 + c[5] + (size_t)c[2] * 12 + c[1] + c[0];
    }
    const unsigned char *p = h + 44;
    if (c[4] == 0 || (size_t)(p - data) + block > len)
        return -EINVAL;
    tz_t *tz = xcalloc(1, sizeof(*tz));
    tz->name = xstrdup(name);
    tz->n_times = c[3];
    tz->n_types = c[4];
    tz->times = xcalloc(tz->n_times + 1, sizeof(*tz->times));
    tz->idx = xcalloc(tz->n_times + 1, 1);
    tz->offsets = xcalloc(tz->n_types, sizeof(*tz->offsets));
    for (size_t i = 0; i < tz->n_times; i++)
        tz->times[i] = tsize == 8 ? be64(p + 8 * i) : (int32_t)be32(p + 4 * i);
    p += tz->n_times * tsize;
    for (size_t i = 0; i < tz->n_times; i++) {
        tz->idx[i] = p[i];
        if (p[i] >= tz->n_types) {
            tz_free(tz);
            return -EINVAL;
        }
    }
    p += tz->n_times;
    for (size_t i = 0; i < tz->n_types; i++)
        tz->offsets[i] = (int32_t)be32(p + 6 * i);
    p += tz->n_types * 6;
    /* RFC 8536: local time before the first transition is type 0. */
    tz->first_off = tz->offsets[0];
    const unsigned char *footer = h + 44 + block;
    const unsigned char *end = data + len;
    if (tsize == 8 && footer < end && *footer == '\n') {
        const unsigned char *nl = memchr(footer + 1, '\n', (size_t)(end - footer - 1));
        if (nl != NULL) {
            char *s = xmalloc((size_t)(nl - footer));
            memcpy(s, footer + 1, (size_t)(nl - footer - 1));
            s[nl - footer - 1] = '\0';
            parse_posix(s, &tz->rule);
            free(s);
        }
    }
    *out = tz;
    return 0;
}

int tz_name_valid(const char *name)
{
    if (name == NULL || name[0] == '\0' || name[0] == '/' || strstr(name, "..") != NULL)
        return 0;
    for (const char *p = name; *p != '\0'; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              *p == '/' || *p == '_' || *p == '-' || *p == '+'))
            return 0;
    tz_t *tz;
    if (tz_load(name, &tz) != 0)
        return 0;
    tz_free(tz);
    return 1;
}

int tz_load(const char *name, tz_t **out)
{
    if (name == NULL || name[0] == '\0' || name[0] == '/' || strstr(name, "..") != NULL)
        return -EINVAL;
    char *path = xasprintf("%s/%s", ZONEINFO_DIR, name);
    char *data = NULL;
    size_t len = 0;
    int rc = util_read_file(path, &data, &len);
    free(path);
    if (rc != 0)
        return rc == -EISDIR ? -ENOENT : rc;
    rc = len > TZ_MAX_FILE ? -EINVAL : tz_load_data(name, (const unsigned char *)data, len, out);
    free(data);
    return rc;
}

void tz_free(tz_t *tz)
{
    if (tz == NULL)
        return;
    free(tz->name);
    free(tz->times);
    free(tz->idx);
    free(tz->offsets);
    free(tz);
}

const char *tz_name(const tz_t *tz)
{
    return tz->name;
}

int32_t tz_utc_offset(const tz_t *tz, int64_t t)
{
    if (tz->n_times == 0 || t < tz->times[0])
        return tz->n_times == 0 && tz->rule.valid ? rule_offset(&tz->rule, t) : tz->first_off;
    if (t >= tz->times[tz->n_times - 1] && tz->rule.valid)
        return rule_offset(&tz->rule, t);
    size_t lo = 0, hi = tz->n_times; /* last transition <= t */
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (tz->times[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    return tz->offsets[tz->idx[lo]];
}

int64_t tz_local_to_utc(const tz_t *tz, int64_t local)
{
    /* Offsets change at most once in any two days, so the offsets a day either side
     * are the only candidates. */
    int32_t before = tz_utc_offset(tz, local - 86400 - 50400);
    int32_t after = tz_utc_offset(tz, local + 86400 + 50400);
    int64_t best = INT64_MAX;
    int32_t cands[2] = {before, after};
    for (int i = 0; i < 2; i++) {
        int64_t t = local - cands[i];
        if (tz_utc_offset(tz, t) == cands[i] && t < best)
            best = t;
    }
    if (best != INT64_MAX)
        return best;
    /* In a gap: read the time with the offset from before the gap, which lands the
     * same distance past the change; the change itself is where the day resumes. */
    int64_t t = local - before;
    int64_t lo = t - 86400, hi = t; /* offset(lo) == before, offset(hi) != before */
    while (hi - lo > 1) {
        int64_t mid = lo + (hi - lo) / 2;
        if (tz_utc_offset(tz, mid) == before)
            lo = mid;
        else
            hi = mid;
    }
    return hi;
}
