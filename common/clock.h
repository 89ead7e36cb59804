/*
 * The station clock. Everything that asks "what time is it" asks here, so a test
 * can start the clock at any instant and run it faster than real time.
 */
#ifndef RV_CLOCK_H
#define RV_CLOCK_H

/** Runs the clock from start (UTC seconds) at rate times real speed; start 0 means now. */
void clock_set(double start, double rate);
/** The station's current time in UTC seconds. */
double clock_now(void);
/** How many station seconds pass per real second (1 unless warped). */
double clock_rate(void);
/** Monotonic real seconds, for timeouts that must not follow the warped clock. */
double clock_monotonic(void);

#endif
