/*
 * Time zones from the system's TZif files (/usr/share/zoneinfo), read once per zone
 * and then asked without any global state: many channels in many zones can turn
 * schedule (local) times into UTC in one process, from any thread.
 */
#ifndef RV_TZ_H
#define RV_TZ_H

#include <stddef.h>
#include <stdint.h>

/** A loaded zone (opaque). */
typedef struct tz tz_t;

/** Loads an IANA zone such as "America/New_York" or "UTC"; 0, -ENOENT, -EINVAL (not TZif). */
int tz_load(const char *name, tz_t **out);
/** Loads a zone from a TZif file's bytes (for tests); 0 or -EINVAL. */
int tz_load_data(const char *name, const unsigned char *data, size_t len, tz_t **out);
/** Frees a zone (NULL is fine). */
void tz_free(tz_t *tz);
/** The zone's name as loaded. */
const char *tz_name(const tz_t *tz);
/** True when name is a safe zone name whose file exists and is TZif (config validation). */
int tz_name_valid(const char *name);

/** Seconds east of UTC in effect at UTC instant t (seconds since 1970). */
int32_t tz_utc_offset(const tz_t *tz, int64_t t);
/**
 * UTC seconds for a local wall-clock time given as seconds since 1970-01-01T00:00 local.
 * An ambiguous time (fall back) maps to its first occurrence; a time in a gap (spring
 * forward) maps to the instant the gap ends (02:30 → 03:00 on a US spring-forward day).
 */
int64_t tz_local_to_utc(const tz_t *tz, int64_t local);

/** Days since 1970-01-01 for a proleptic Gregorian date. */
int64_t tz_days_from_civil(int y, int m, int d);
/** The date for days since 1970-01-01. */
void tz_civil_from_days(int64_t days, int *y, int *m, int *d);
/** Day of the week for days since 1970-01-01: 0 = Monday ... 6 = Sunday. */
int tz_weekday(int64_t days);

#endif
