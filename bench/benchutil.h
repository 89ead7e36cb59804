/*
 * What every C benchmark needs: a monotonic clock, and sorting a run's figures so
 * the median (and min, max) can be read off.
 */
#ifndef RV_BENCHUTIL_H
#define RV_BENCHUTIL_H

#include <stddef.h>

/** Seconds on the monotonic clock. */
double bench_now(void);

/** Sorts v ascending: v[n / 2] is then the median, v[0] and v[n - 1] the extremes. */
void bench_sort(double *v, size_t n);

#endif
