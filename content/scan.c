/*
 * The folder walk. It follows symlinks, because media libraries are often assembled
 * from links into several disks, and remembers each folder's (device, inode) so a
 * link back up the tree cannot loop. Sidecars, artwork and dot-files are not media.
 */
#include "scan.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

static const char *const media_exts[] = {".mkv", ".mp4", ".m4v", ".avi", ".ts",  ".m2ts",
                                         ".mts", ".mov", ".mpg", ".mpeg", ".wmv", ".webm",
                                         ".flv", ".vob", ".ogv", ".divx", ".3gp"};

int scan_is_media_name(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (dot == NULL || name[0] == '.')
        return 0;
    for (size_t i = 0; i < sizeof(media_exts) / sizeof(media_exts[0]); i++)
        if (strcasecmp(dot, media_exts[i]) == 0)
            return 1;
    return 0;
}

typedef struct visited {
    dev_t dev;
    ino_t ino;
} visited_t;

typedef struct walk {
    scan_list_t *list;
    strbuf_t *warnings;
    visited_t *seen;
    size_t n_seen, cap_seen;
} walk_t;

static int seen_before(walk_t *w, const struct stat *sb)
{
    for (size_t i = 0; i < w->n_seen; i++)
        if (w->seen[i].dev == sb->st_dev && w->seen[i].ino == sb->st_ino)
            return 1;
    if (w->n_seen == w->cap_seen) {
        w->cap_seen = w->cap_seen ? w->cap_seen * 2 : 16;
        w->seen = xrealloc(w->seen, w->cap_seen * sizeof(*w->seen));
    }
    w->seen[w->n_seen++] = (visited_t){sb->st_dev, sb->st_ino};
    return 0;
}

static void push(scan_list_t *list, char *path, const struct stat *sb)
{
    if (list->n == list->cap) {
        list->cap = list->cap ? list->cap * 2 : 64;
        list->files = xrealloc(list->files, list->cap * sizeof(*list->files));
    }
    list->files[list->n++] = (scan_file_t){path, (long long)sb->st_size, (long long)sb->st_mtime};
}

static void walk_dir(walk_t *w, const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        if (w->warnings != NULL)
            strbuf_printf(w->warnings, "%s: cannot read folder: %s\n", dir, strerror(errno));
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue; /* ".", "..", and hidden files such as .DS_Store or .actors */
        char *path = util_path_join(dir, e->d_name);
        struct stat sb;
        if (stat(path, &sb) != 0) {
            free(path); /* a dangling link: nothing to ingest */
            continue;
        }
        if (S_ISDIR(sb.st_mode)) {
            if (!seen_before(w, &sb))
                walk_dir(w, path);
            free(path);
        } else if (S_ISREG(sb.st_mode) && scan_is_media_name(e->d_name)) {
            push(w->list, path, &sb);
        } else {
            free(path);
        }
    }
    closedir(d);
}

static int by_path(const void *a, const void *b)
{
    return strcmp(((const scan_file_t *)a)->path, ((const scan_file_t *)b)->path);
}

void scan_sort(scan_list_t *list)
{
    if (list->n > 1)
        qsort(list->files, list->n, sizeof(*list->files), by_path);
}

int scan_root(const char *root, scan_list_t *list, strbuf_t *warnings)
{
    struct stat sb;
    if (stat(root, &sb) != 0)
        return -errno;
    if (!S_ISDIR(sb.st_mode))
        return -ENOTDIR;
    walk_t w = {.list = list, .warnings = warnings};
    seen_before(&w, &sb);
    walk_dir(&w, root);
    free(w.seen);
    scan_sort(list);
    return 0;
}

void scan_list_dispose(scan_list_t *list)
{
    for (size_t i = 0; i < list->n; i++)
        free(list->files[i].path);
    free(list->files);
    *list = (scan_list_t){0};
}
