/*
 * A tiny assertion header for the unit tests: each CHECK prints the failing
 * expression with file and line, and the test's exit status says whether all held.
 */
#ifndef RV_CHECK_H
#define RV_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_failures;

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (!(cond)) {                                                               \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
            check_failures++;                                                        \
        }                                                                            \
    } while (0)

#define CHECK_STR(a, b)                                                               \
    do {                                                                              \
        const char *a_ = (a), *b_ = (b);                                              \
        if (a_ == NULL || b_ == NULL || strcmp(a_, b_) != 0) {                        \
            fprintf(stderr, "%s:%d: CHECK_STR failed: %s == \"%s\", expected \"%s\"\n", \
                    __FILE__, __LINE__, #a, a_ ? a_ : "(null)", b_ ? b_ : "(null)");    \
            check_failures++;                                                         \
        }                                                                             \
    } while (0)

#define CHECK_NEAR(a, b, eps)                                                          \
    do {                                                                               \
        double a_ = (a), b_ = (b);                                                     \
        if (!(a_ - b_ <= (eps) && b_ - a_ <= (eps))) {                                 \
            fprintf(stderr, "%s:%d: CHECK_NEAR failed: %s == %.6f, expected %.6f\n",   \
                    __FILE__, __LINE__, #a, a_, b_);                                   \
            check_failures++;                                                          \
        }                                                                              \
    } while (0)

#define CHECK_CONTAINS(hay, needle)                                                    \
    do {                                                                               \
        const char *h_ = (hay), *n_ = (needle);                                        \
        if (h_ == NULL || strstr(h_, n_) == NULL) {                                    \
            fprintf(stderr, "%s:%d: CHECK_CONTAINS failed: \"%s\" not in \"%s\"\n",    \
                    __FILE__, __LINE__, n_, h_ ? h_ : "(null)");                       \
            check_failures++;                                                          \
        }                                                                              \
    } while (0)

/** Ends a test's main: prints a summary and returns the exit status. */
#define CHECK_DONE()                                                                  \
    (check_failures ? (fprintf(stderr, "%d check(s) failed\n", check_failures), 1)    \
                    : (fprintf(stderr, "all checks passed\n"), 0))

#endif
