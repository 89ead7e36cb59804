/*
 * The one logger: every line is "TIME LEVEL [ch N] message" on stderr, so a person
 * can grep one channel's story out of a busy station.
 */
#ifndef RV_LOG_H
#define RV_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/** Sets the lowest level that is printed. */
void log_set_level(enum log_level level);
/** Parses "debug", "info", "warn" or "error"; -1 when unknown. */
int log_level_parse(const char *name);
/** Logs a line; channel may be NULL for station-wide messages. */
void log_msg(enum log_level level, const char *channel, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_debug(ch, ...) log_msg(LOG_DEBUG, ch, __VA_ARGS__)
#define log_info(ch, ...) log_msg(LOG_INFO, ch, __VA_ARGS__)
#define log_warn(ch, ...) log_msg(LOG_WARN, ch, __VA_ARGS__)
#define log_error(ch, ...) log_msg(LOG_ERROR, ch, __VA_ARGS__)

#endif
