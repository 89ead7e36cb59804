/*
 * Probing media with ffprobe and caching the answer. ffprobe runs as a child with
 * JSON output parsed by cJSON; this file blocks, so the server calls it from
 * uv_queue_work and stores the result on the loop thread.
 */
#include "catalog.h"

#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conform.h"
#include "log.h"
#include "util.h"

extern char **environ;

void asset_dispose(asset_t *a)
{
    free(a->path);
    free(a->format);
    free(a->video_codec);
    free(a->fps);
    free(a->pix_fmt);
    free(a->audio_codec);
    free(a->error);
    memset(a, 0, sizeof(*a));
}

static char *col_text(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? xstrdup((const char *)t) : NULL;
}

int catalog_get(sqlite3 *db, const char *path, asset_t *out)
{
    struct stat sb;
    if (stat(path, &sb) != 0)
        return -ENOENT;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "SELECT size, mtime, duration, start_time, format, video_codec, width,"
                           " height, fps, has_b_frames, pix_fmt, audio_codec, audio_rate,"
                           " audio_channels, error FROM assets WHERE path = ?",
                           -1, &st, NULL) != SQLITE_OK)
        return -EIO;
    sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
    int rc = -ENOENT;
    if (sqlite3_step(st) == SQLITE_ROW) {
        if (sqlite3_column_int64(st, 0) != (long long)sb.st_size ||
            sqlite3_column_int64(st, 1) != (long long)sb.st_mtime) {
            rc = -ESTALE;
        } else {
            memset(out, 0, sizeof(*out));
            out->path = xstrdup(path);
            out->size = sqlite3_column_int64(st, 0);
            out->mtime = sqlite3_column_int64(st, 1);
            out->duration = sqlite3_column_double(st, 2);
            out->start_time = sqlite3_column_double(st, 3);
            out->format = col_text(st, 4);
            out->video_codec = col_text(st, 5);
            out->width = sqlite3_column_int(st, 6);
            out->height = sqlite3_column_int(st, 7);
            out->fps = col_text(st, 8);
            out->has_b_frames = sqlite3_column_int(st, 9);
            out->pix_fmt = col_text(st, 10);
            out->audio_codec = col_text(st, 11);
            out->audio_rate = sqlite3_column_int(st, 12);
            out->audio_channels = sqlite3_column_int(st, 13);
            out->error = col_text(st, 14);
            rc = 0;
        }
    }
    sqlite3_finalize(st);
    return rc;
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *s)
{
    if (s != NULL)
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

int catalog_store(sqlite3 *db, const asset_t *a)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(
            db,
            "INSERT INTO assets (path, size, mtime, duration, start_time, format, video_codec,"
            " width, height, fps, has_b_frames, pix_fmt, audio_codec, audio_rate, audio_channels,"
            " error, probed_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?, unixepoch('now'))"
            " ON CONFLICT(path) DO UPDATE SET size=excluded.size, mtime=excluded.mtime,"
            " duration=excluded.duration, start_time=excluded.start_time, format=excluded.format,"
            " video_codec=excluded.video_codec, width=excluded.width, height=excluded.height,"
            " fps=excluded.fps, has_b_frames=excluded.has_b_frames, pix_fmt=excluded.pix_fmt,"
            " audio_codec=excluded.audio_codec, audio_rate=excluded.audio_rate,"
            " audio_channels=excluded.audio_channels, error=excluded.error,"
            " probed_at=excluded.probed_at",
            -1, &st, NULL) != SQLITE_OK) {
        log_error(NULL, "unable to store asset %s: %s", a->path, sqlite3_errmsg(db));
        return -EIO;
    }
    sqlite3_bind_text(st, 1, a->path, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, a->size);
    sqlite3_bind_int64(st, 3, a->mtime);
    sqlite3_bind_double(st, 4, a->duration);
    sqlite3_bind_double(st, 5, a->start_time);
    bind_text_or_null(st, 6, a->format);
    bind_text_or_null(st, 7, a->video_codec);
    sqlite3_bind_int(st, 8, a->width);
    sqlite3_bind_int(st, 9, a->height);
    bind_text_or_null(st, 10, a->fps);
    sqlite3_bind_int(st, 11, a->has_b_frames);
    bind_text_or_null(st, 12, a->pix_fmt);
    bind_text_or_null(st, 13, a->audio_codec);
    sqlite3_bind_int(st, 14, a->audio_rate);
    sqlite3_bind_int(st, 15, a->audio_channels);
    bind_text_or_null(st, 16, a->error);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
    if (rc != 0)
        log_error(NULL, "unable to store asset %s: %s", a->path, sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return rc;
}

static char *read_all(int fd)
{
    strbuf_t sb;
    strbuf_init(&sb);
    char buf[8192];
    ssize_t n;
    while ((n = read(fd, buf, sizeof(buf))) != 0) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        strbuf_append(&sb, buf, (size_t)n);
    }
    close(fd);
    return strbuf_steal(&sb);
}

/* Runs ffprobe and collects its stdout (JSON) and stderr (the reason when it fails).
   posix_spawn rather than popen: no shell, so a file name with quotes or spaces needs
   no escaping. With -v error stderr stays far below a pipe's capacity, so reading
   stdout to the end first cannot deadlock. */
static int run_ffprobe(const char *ffprobe, const char *path, char **out, char **err)
{
    int ofd[2], efd[2];
    if (pipe2(ofd, O_CLOEXEC) != 0)
        return -errno;
    if (pipe2(efd, O_CLOEXEC) != 0) {
        int e = -errno;
        close(ofd[0]);
        close(ofd[1]);
        return e;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, ofd[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&fa, efd[1], STDERR_FILENO);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    char *argv[] = {(char *)ffprobe, "-v",           "error",        "-print_format",
                    "json",          "-show_format", "-show_streams", (char *)path,
                    NULL};
    pid_t pid;
    int rc = posix_spawnp(&pid, ffprobe, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(ofd[1]);
    close(efd[1]);
    if (rc != 0) {
        close(ofd[0]);
        close(efd[0]);
        return -rc;
    }
    *out = read_all(ofd[0]);
    *err = read_all(efd[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EINVAL;
}

/* ffprobe's last message line, without the file name it starts with. */
static char *probe_reason(const char *stderr_text, const char *path)
{
    const char *s = stderr_text;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
        n--;
    const char *line = s + n;
    while (line > s && line[-1] != '\n')
        line--;
    size_t plen = strlen(path);
    if (strncmp(line, path, plen) == 0 && line[plen] == ':')
        line += plen + 1;
    while (*line == ' ')
        line++;
    if (line >= s + n)
        return xstrdup("ffprobe cannot read it (not a media file, or damaged)");
    return xasprintf("ffprobe: %.*s", (int)(s + n - line), line);
}

static const char *jstr(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double jnum_str(const cJSON *o, const char *key, double dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (cJSON_IsString(v))
        return strtod(v->valuestring, NULL);
    if (cJSON_IsNumber(v))
        return v->valuedouble;
    return dflt;
}

int catalog_probe(const char *ffprobe, const char *path, asset_t *a)
{
    memset(a, 0, sizeof(*a));
    a->path = xstrdup(path);
    struct stat sb;
    if (stat(path, &sb) != 0) {
        int err = -errno;
        a->error = xasprintf("unable to read file: %s", strerror(errno));
        return err;
    }
    a->size = (long long)sb.st_size;
    a->mtime = (long long)sb.st_mtime;
    char *text = NULL, *errtext = NULL;
    int rc = run_ffprobe(ffprobe, path, &text, &errtext);
    if (rc == -ENOENT) {
        a->error = xasprintf("unable to run %s: not installed (apt-get install ffmpeg)", ffprobe);
        return rc;
    }
    cJSON *root = text ? cJSON_Parse(text) : NULL;
    free(text);
    const cJSON *format = cJSON_GetObjectItemCaseSensitive(root, "format");
    if (rc != 0 || format == NULL) {
        a->error = probe_reason(errtext ? errtext : "", path);
        free(errtext);
        cJSON_Delete(root);
        return -EINVAL;
    }
    free(errtext);
    a->format = xstrdup(jstr(format, "format_name"));
    a->duration = jnum_str(format, "duration", 0);
    a->start_time = jnum_str(format, "start_time", 0);
    const cJSON *s;
    cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(root, "streams"))
    {
        const char *type = jstr(s, "codec_type");
        if (type == NULL)
            continue;
        if (strcmp(type, "video") == 0 && a->video_codec == NULL) {
            a->video_codec = xstrdup(jstr(s, "codec_name"));
            a->width = (int)jnum_str(s, "width", 0);
            a->height = (int)jnum_str(s, "height", 0);
            a->fps = xstrdup(jstr(s, "r_frame_rate"));
            a->has_b_frames = (int)jnum_str(s, "has_b_frames", 0);
            a->pix_fmt = xstrdup(jstr(s, "pix_fmt"));
        } else if (strcmp(type, "audio") == 0 && a->audio_codec == NULL) {
            a->audio_codec = xstrdup(jstr(s, "codec_name"));
            a->audio_rate = (int)jnum_str(s, "sample_rate", 0);
            a->audio_channels = (int)jnum_str(s, "channels", 0);
        }
    }
    cJSON_Delete(root);
    if (a->duration <= 0.1) {
        a->error = xstrdup("no usable duration (empty or truncated file)");
        return -EINVAL;
    }
    if (a->video_codec == NULL) {
        a->error = xstrdup("no video stream");
        return -EINVAL;
    }
    return 0;
}

int catalog_is_house(const asset_t *a, const house_format_t *h, const char **why)
{
    char fps[32];
    snprintf(fps, sizeof(fps), "%d/%d", h->fps_num, h->fps_den);
    const char *w = NULL;
    if (a->format == NULL || strcmp(a->format, "mpegts") != 0)
        w = "container is not MPEG-TS";
    else if (a->video_codec == NULL || strcmp(a->video_codec, "h264") != 0)
        w = "video is not H.264";
    else if (a->width != h->width || a->height != h->height)
        w = "frame size differs from the house format";
    else if (a->fps == NULL || strcmp(a->fps, fps) != 0)
        w = "frame rate differs from the house format";
    else if (a->has_b_frames)
        w = "has B-frames (cuts would not be clean)";
    else if (a->pix_fmt == NULL || strcmp(a->pix_fmt, "yuv420p") != 0)
        w = "pixel format is not yuv420p";
    else if (a->audio_codec == NULL || strcmp(a->audio_codec, "aac") != 0)
        w = "audio is missing or not AAC";
    else if (a->audio_rate != h->audio_rate || a->audio_channels != h->audio_channels)
        w = "audio rate or layout differs from the house format";
    if (why != NULL)
        *why = w;
    return w == NULL;
}

int catalog_conformed(sqlite3 *db, const char *path, const char *house_key, char **file,
                      double *start_time)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "SELECT c.path, c.start_time FROM conforms c JOIN assets a"
                           " ON a.id = c.asset_id WHERE a.path = ? AND c.house = ?"
                           " AND c.state = 'done' AND a.gone_at IS NULL",
                           -1, &st, NULL) != SQLITE_OK)
        return -EIO;
    sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, house_key, -1, SQLITE_STATIC);
    int rc = -ENOENT;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) != NULL) {
        const char *p = (const char *)sqlite3_column_text(st, 0);
        /* A conformed file someone deleted is as good as none: read the source. */
        if (util_file_readable(p)) {
            *file = xstrdup(p);
            *start_time = sqlite3_column_double(st, 1);
            rc = 0;
        }
    }
    sqlite3_finalize(st);
    return rc;
}

int catalog_airs_as_house(sqlite3 *db, const asset_t *a, const house_format_t *house,
                          const char **why)
{
    if (catalog_is_house(a, house, why))
        return 1;
    char *key = conform_house_key(house), *file = NULL;
    double start;
    int ok = catalog_conformed(db, a->path, key, &file, &start) == 0;
    free(key);
    free(file);
    return ok;
}
