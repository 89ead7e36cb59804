/*
 * Station time = start + rate * (monotonic time since clock_set). Using the
 * monotonic clock for the elapsed part keeps station time steady when the host's
 * wall clock is stepped by NTP.
 */
#include "clock.h"

#include <time.h>

static double start_utc;
static double start_mono;
static double speed = 1.0;
static int warped;

double clock_monotonic(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double realtime(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void clock_set(double start, double rate)
{
    start_utc = start > 0 ? start : realtime();
    start_mono = clock_monotonic();
    speed = rate > 0 ? rate : 1.0;
    warped = 1;
}

double clock_now(void)
{
    if (!warped)
        return realtime();
    return start_utc + speed * (clock_monotonic() - start_mono);
}

double clock_rate(void)
{
    return speed;
}
