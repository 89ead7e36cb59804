/*
 * The station's configuration: DIR/retrovue.json (server settings and the house
 * format) plus one DIR/channels/<anything>.json per channel. Loading validates all
 * of it and reports every problem with file, line, column and JSON path.
 */
#ifndef RV_CONFIG_H
#define RV_CONFIG_H

#include <stddef.h>

#include "schedule.h"
#include "util.h"

/** How a channel's ffmpeg produces its stream. */
enum encode_mode {
    ENCODE_AUTO, /* copy when every item is already in the house format, else live */
    ENCODE_COPY, /* stream copy; items must be conformed */
    ENCODE_LIVE  /* encode in the channel's ffmpeg */
};

/** The house format every conformed asset shares, and what live channels encode to. */
typedef struct house_format {
    int width, height;      /* pixels, e.g. 640x480 */
    int fps_num, fps_den;   /* e.g. 30000/1001 */
    int gop_frames;         /* keyframe interval; one HLS segment per GOP */
    int audio_rate;         /* Hz, e.g. 48000 */
    int audio_channels;     /* e.g. 2 */
    int video_kbps;         /* live encode video bitrate */
    int audio_kbps;         /* AAC bitrate */
} house_format_t;

/** One channel as configured. */
typedef struct channel_conf {
    char *number;      /* guide number as written: "3" or "5.1" */
    char *name;        /* display name */
    char *file;        /* path of the JSON file it came from */
    enum encode_mode mode;
    double epoch;      /* UTC seconds at which the loop's first item first aired */
    char **items;      /* absolute media paths, played in order and looped (playlist form) */
    size_t n_items;
    char *call_sign;   /* e.g. "WRTV", or NULL */
    char *timezone;    /* IANA zone name, default "UTC" */
    char *logo;        /* absolute path, or NULL */
    sched_channel_t *schedule; /* the schedule form, or NULL for a playlist channel */
} channel_conf_t;

/** The emulated HDHomeRun tuner ("tuner" in retrovue.json). */
typedef struct tuner_conf {
    int count;             /* TunerCount: simultaneous /auto/vN and /channel/N.ts viewers */
    char *friendly_name;   /* shown by Plex, default "Retrovue" */
    int discover;          /* answer SiliconDust discovery (UDP discover_port) */
    int ssdp;              /* answer SSDP M-SEARCH (UDP ssdp_port) */
    char *bind_host;       /* address discovery binds to; default: the listen host */
    int discover_port;     /* default 65001 */
    int ssdp_port;         /* default 1900 */
} tuner_conf_t;

/** What a media root holds, which decides how its files are used and described. */
enum media_kind {
    MEDIA_EPISODES, MEDIA_MOVIES, MEDIA_COMMERCIALS, MEDIA_BUMPERS, MEDIA_STATION_IDS,
    MEDIA_PROMOS, MEDIA_FILLER, MEDIA_KIND_COUNT
};

/** A folder the content manager ingests ("media" in retrovue.json). */
typedef struct media_root {
    char *path;            /* absolute */
    enum media_kind kind;
} media_root_t;

/** One Plex path mapping: what Plex calls a folder, and where we see it. */
typedef struct path_map {
    char *from, *to;
} path_map_t;

/** Plex as a source of media and metadata ("plex" in retrovue.json), or url NULL. */
typedef struct plex_conf {
    char *url;             /* "http://192.168.1.5:32400" */
    char *token;           /* X-Plex-Token */
    char **sections;       /* library section titles to take; none = every show/movie section */
    size_t n_sections;
    path_map_t *path_map;
    size_t n_path_map;
    int ingest;            /* take media and metadata from Plex's libraries (default 1) */
    int reload_guide;      /* ask Plex's DVRs on this tuner to reload the guide (default 1) */
    double reload_delay;   /* seconds from a guide change to asking (default 30) */
} plex_conf_t;

/** The name of a media kind as written in the config ("episodes", ...). */
const char *media_kind_name(enum media_kind kind);

/** The whole configuration. */
typedef struct config {
    char *dir;          /* the config directory, absolute */
    char *listen_host;  /* e.g. "0.0.0.0" */
    int listen_port;    /* e.g. 8080 */
    char *state_dir;    /* absolute; segments, database */
    char *ffmpeg;       /* program to run, default "ffmpeg" */
    char *ffprobe;      /* default "ffprobe" */
    char *log_level;    /* "debug", "info", "warn", "error" */
    char *base_url;     /* public URL clients reach us by ("http://192.168.1.20:8080", no
                           trailing slash), or NULL: taken from each request's Host */
    char *api_token;    /* bearer token for API writes, or NULL: writes from loopback only */
    tuner_conf_t tuner;
    media_root_t *media;  /* folders to ingest, in config order */
    size_t n_media;
    plex_conf_t plex;
    int conform_jobs;   /* conforms run at once in the background (0: never conform) */
    int conform_nice;   /* niceness of conform and analysis ffmpegs */
    double segment_seconds; /* derived: gop_frames * fps_den / fps_num */
    house_format_t house;
    channel_conf_t *channels; /* sorted by number (numeric, then minor) */
    size_t n_channels;
    sched_library_t *library; /* media the schedules draw from (never NULL after a load) */
    char *warnings;     /* "FILE:LINE:COL: PATH: warning: ..." lines (e.g. globs matching
                           nothing), or NULL; loading still succeeds */
} config_t;

/** Whether media and metadata come from Plex (a Plex url, and "ingest" not false). */
int config_ingests_plex(const config_t *cfg);

/**
 * Loads and validates DIR. Returns 0 and sets *out, or a negative errno with every
 * problem appended to errors, one per line, each "FILE:LINE:COL: PATH: message".
 */
int config_load(const char *dir, config_t **out, strbuf_t *errors);
/** Frees a loaded configuration (NULL is fine). */
void config_free(config_t *config);
/** Finds a channel by its number string; NULL when there is none. */
const channel_conf_t *config_find_channel(const config_t *config, const char *number);
/**
 * A copy of what the content manager needs (paths, programs, house format, media roots,
 * Plex) without channels or schedules, for a worker thread to own while the station
 * may reload its configuration. Free with config_free.
 */
config_t *config_copy_content(const config_t *config);
/** Overrides the listen address from "HOST:PORT" or ":PORT"; 0 or -EINVAL. */
int config_set_listen(config_t *config, const char *addr);

#endif
