/*
 * Unit tests for the Plex source and its HTTP client. A small HTTP server on a thread
 * (127.0.0.1, ephemeral port) answers like a Plex server from recorded responses in
 * tests/fixtures/plex: it checks the token, pages with X-Plex-Container-Start/Size and
 * sends one answer chunked. Also: path mapping, token, refused and timed-out errors.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "http_client.h"
#include "plex.h"
#include "util.h"

#define TOKEN "pLeX-t0ken-9f3a"
#define PAGE 3

/* ---- the fake Plex server ---- */

static const struct route {
    const char *path;
    int start; /* X-Plex-Container-Start it answers; -1: not a paged request */
    const char *file;
    int chunked;
} routes[] = {
    {"/library/sections", -1, "sections.json", 0},
    {"/library/sections/1/all", 0, "section-1-all-0.json", 0},
    {"/library/sections/1/all", 3, "section-1-all-3.json", 0},
    {"/library/sections/1/all", 6, "section-1-all-6.json", 0},
    {"/library/sections/2/all", 0, "section-2-all-0.json", 0},
    {"/library/metadata/2001/allLeaves", 0, "metadata-2001-allLeaves.json", 0},
    {"/library/metadata/2002/allLeaves", 0, "metadata-2002-allLeaves.json", 1},
    /* for the client's own tests: */
    {"/raw/chunked", -1, "sections.json", 1},
    {"/raw/until-close", -1, "sections.json", 2},
};

typedef struct server {
    int fd;
    int port;
    pthread_t thread;
    const char *dir;
    pthread_mutex_t lock;
    char *log[64]; /* request targets, in order */
    int n_log;
} server_t;

static int listen_local(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 16) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        perror("test server socket");
        exit(2);
    }
    *port = ntohs(a.sin_port);
    return fd;
}

static void send_text(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

static void reply(int fd, int status, const char *reason, const char *type, const char *body,
                  size_t len, int chunked)
{
    char *head = xasprintf("HTTP/1.1 %d %s\r\nContent-Type: %s\r\nX-Plex-Protocol: 1.0\r\n"
                           "Cache-Control: no-cache\r\nConnection: close\r\n",
                           status, reason, type);
    send_text(fd, head, strlen(head));
    free(head);
    if (chunked == 2) { /* no length at all: the body ends when the connection does */
        send_text(fd, "\r\n", 2);
        send_text(fd, body, len);
        return;
    }
    if (!chunked) {
        char *cl = xasprintf("Content-Length: %zu\r\n\r\n", len);
        send_text(fd, cl, strlen(cl));
        free(cl);
        send_text(fd, body, len);
        return;
    }
    /* Odd chunk sizes, upper- and lower-case hex, an extension and a trailer, as the
       grammar allows. */
    const char *te = "Transfer-Encoding: chunked\r\n\r\n";
    send_text(fd, te, strlen(te));
    size_t off = 0;
    for (int i = 0; off < len; i++) {
        size_t n = len - off < 97 ? len - off : 97 + (size_t)(i % 3) * 200;
        if (n > len - off)
            n = len - off;
        char *size = xasprintf(i % 2 ? "%zX;ext=1\r\n" : "%zx\r\n", n);
        send_text(fd, size, strlen(size));
        free(size);
        send_text(fd, body + off, n);
        send_text(fd, "\r\n", 2);
        off += n;
    }
    const char *last = "0\r\nX-Trailer: done\r\n\r\n";
    send_text(fd, last, strlen(last));
}

/* Value of a query parameter or a header (Plex takes X-Plex-* as either). */
static const char *param(const char *query, const char *headers, const char *name, char *buf,
                         size_t size)
{
    size_t nl = strlen(name);
    for (const char *p = query; p && *p; p += strcspn(p, "&"), p += *p == '&') {
        if (strncmp(p, name, nl) == 0 && p[nl] == '=') {
            snprintf(buf, size, "%.*s", (int)strcspn(p + nl + 1, "&"), p + nl + 1);
            return buf;
        }
    }
    for (const char *p = headers; (p = strcasestr(p, name)) != NULL; p += nl) {
        if ((p == headers || p[-1] == '\n') && p[nl] == ':') {
            const char *v = p + nl + 1;
            while (*v == ' ')
                v++;
            snprintf(buf, size, "%.*s", (int)strcspn(v, "\r\n"), v);
            return buf;
        }
    }
    return NULL;
}

static void serve_one(server_t *srv, int fd)
{
    char req[16384];
    size_t len = 0;
    while (len < sizeof(req) - 1) {
        ssize_t n = recv(fd, req + len, sizeof(req) - 1 - len, 0);
        if (n <= 0)
            return;
        len += (size_t)n;
        req[len] = '\0';
        if (strstr(req, "\r\n\r\n"))
            break;
    }
    char target[4096];
    if (sscanf(req, "GET %4095s HTTP/1.1", target) != 1) {
        reply(fd, 400, "Bad Request", "text/plain", "", 0, 0);
        return;
    }
    pthread_mutex_lock(&srv->lock);
    if (srv->n_log < (int)RV_ARRAY_SIZE(srv->log))
        srv->log[srv->n_log++] = xstrdup(target);
    pthread_mutex_unlock(&srv->lock);

    char *query = strchr(target, '?');
    if (query)
        *query++ = '\0';
    const char *headers = strstr(req, "\r\n") + 2;
    char tok[128], acc[128], st[32], sz[32];
    if (!param(query, headers, "X-Plex-Token", tok, sizeof(tok)) || strcmp(tok, TOKEN) != 0) {
        char *page, *path = xasprintf("%s/unauthorized.html", srv->dir);
        size_t n;
        util_read_file(path, &page, &n);
        reply(fd, 401, "Unauthorized", "text/html", page, n, 0);
        free(page);
        free(path);
        return;
    }
    if (!param(query, headers, "Accept", acc, sizeof(acc)) || strcmp(acc, "application/json")) {
        reply(fd, 406, "Not Acceptable", "text/plain", "", 0, 0); /* Plex would send XML */
        return;
    }
    const char *start = param(query, headers, "X-Plex-Container-Start", st, sizeof(st));
    const char *size = param(query, headers, "X-Plex-Container-Size", sz, sizeof(sz));
    for (size_t i = 0; i < RV_ARRAY_SIZE(routes); i++) {
        const struct route *r = &routes[i];
        if (strcmp(r->path, target) != 0)
            continue;
        if (r->start >= 0 && (!start || atoi(start) != r->start || !size || atoi(size) != PAGE))
            continue;
        char *body, *path = xasprintf("%s/%s", srv->dir, r->file);
        size_t n;
        if (util_read_file(path, &body, &n) != 0) {
            fprintf(stderr, "fixture missing: %s\n", path);
            exit(2);
        }
        reply(fd, 200, "OK", "application/json", body, n, r->chunked);
        free(body);
        free(path);
        return;
    }
    reply(fd, 404, "Not Found", "text/html", "<html><body>404</body></html>", 29, 0);
}

static void *server_main(void *arg)
{
    server_t *srv = arg;
    for (;;) {
        int c = accept4(srv->fd, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            return NULL; /* shut down by server_stop */
        }
        serve_one(srv, c);
        close(c);
    }
}

static void server_start(server_t *srv, const char *dir)
{
    memset(srv, 0, sizeof(*srv));
    srv->dir = dir;
    pthread_mutex_init(&srv->lock, NULL);
    srv->fd = listen_local(&srv->port);
    pthread_create(&srv->thread, NULL, server_main, srv);
}

static void server_clear_log(server_t *srv)
{
    pthread_mutex_lock(&srv->lock);
    for (int i = 0; i < srv->n_log; i++)
        free(srv->log[i]);
    srv->n_log = 0;
    pthread_mutex_unlock(&srv->lock);
}

static int server_count(server_t *srv, const char *prefix)
{
    int n = 0;
    pthread_mutex_lock(&srv->lock);
    for (int i = 0; i < srv->n_log; i++)
        n += strncmp(srv->log[i], prefix, strlen(prefix)) == 0;
    pthread_mutex_unlock(&srv->lock);
    return n;
}

static int server_exact(server_t *srv, const char *target)
{
    int n = 0;
    pthread_mutex_lock(&srv->lock);
    for (int i = 0; i < srv->n_log; i++)
        n += strcmp(srv->log[i], target) == 0;
    pthread_mutex_unlock(&srv->lock);
    return n;
}

static void server_stop(server_t *srv)
{
    shutdown(srv->fd, SHUT_RDWR); /* wakes the accept */
    pthread_join(srv->thread, NULL);
    close(srv->fd);
    server_clear_log(srv);
    pthread_mutex_destroy(&srv->lock);
}

/* ---- collecting items ---- */

typedef struct item {
    enum plex_kind kind;
    char *section, *show, *title, *aired, *summary, *rating, *path, *plex_path, *rating_key;
    char *genres; /* joined with "|" */
    int season, episode, year, mapped, part, n_parts;
    long long duration_ms;
} item_t;

typedef struct items {
    item_t v[64];
    int n;
    int stop_after; /* 0: never */
} items_t;

static int collect(void *arg, const plex_item_t *it)
{
    items_t *items = arg;
    if (items->n >= (int)RV_ARRAY_SIZE(items->v))
        return 1;
    item_t *c = &items->v[items->n++];
    strbuf_t g;
    strbuf_init(&g);
    for (size_t i = 0; i < it->n_genres; i++)
        strbuf_printf(&g, "%s%s", i ? "|" : "", it->genres[i]);
    *c = (item_t){.kind = it->kind,
                  .section = xstrdup(it->section),
                  .show = xstrdup(it->show),
                  .title = xstrdup(it->title),
                  .aired = xstrdup(it->aired),
                  .summary = xstrdup(it->summary),
                  .rating = xstrdup(it->rating),
                  .path = xstrdup(it->path),
                  .plex_path = xstrdup(it->plex_path),
                  .rating_key = xstrdup(it->rating_key),
                  .genres = strbuf_steal(&g),
                  .season = it->season,
                  .episode = it->episode,
                  .year = it->year,
                  .mapped = it->mapped,
                  .part = it->part,
                  .n_parts = it->n_parts,
                  .duration_ms = (long long)it->duration_ms};
    return items->stop_after > 0 && items->n >= items->stop_after;
}

static void items_dispose(items_t *items)
{
    for (int i = 0; i < items->n; i++) {
        item_t *c = &items->v[i];
        char *s[] = {c->section, c->show, c->title, c->aired, c->summary, c->rating,
                     c->path, c->plex_path, c->rating_key, c->genres};
        for (size_t k = 0; k < RV_ARRAY_SIZE(s); k++)
            free(s[k]);
    }
    items->n = 0;
}

static const item_t *find(const items_t *items, const char *rating_key, int part)
{
    for (int i = 0; i < items->n; i++)
        if (strcmp(items->v[i].rating_key, rating_key) == 0 && items->v[i].part == part)
            return &items->v[i];
    fprintf(stderr, "no item with ratingKey %s part %d\n", rating_key, part);
    return NULL;
}

/* ---- tests ---- */

static const plex_path_map_t maps[] = {
    {"/data/tv", "/media/tv"},
    {"/data/", "/srv/plexdata/"},
    {"/data/movies/Foreign", "/mnt/foreign"},
};

static void check_map(const char *in, const char *want, int want_mapped)
{
    int mapped = -1;
    char *out = plex_map_path(maps, RV_ARRAY_SIZE(maps), in, &mapped);
    CHECK_STR(out, want);
    CHECK(mapped == want_mapped);
    free(out);
}

static void test_map_path(void)
{
    check_map("/data/tv/Show/S01E01.mkv", "/media/tv/Show/S01E01.mkv", 1);
    /* whole folders only, and the longest prefix wins */
    check_map("/data/tvshows/Show/a.mkv", "/srv/plexdata/tvshows/Show/a.mkv", 1);
    check_map("/data/movies/Foreign/X/x.mkv", "/mnt/foreign/X/x.mkv", 1);
    check_map("/data/movies/Foreigners.mkv", "/srv/plexdata/movies/Foreigners.mkv", 1);
    check_map("/data/tv", "/media/tv", 1);
    check_map("/volume1/video/a.mp4", "/volume1/video/a.mp4", 0);
    check_map("/dat/a.mkv", "/dat/a.mkv", 0);
    int mapped;
    char *out = plex_map_path(NULL, 0, "/x/y.mkv", &mapped);
    CHECK_STR(out, "/x/y.mkv");
    CHECK(mapped == 0);
    free(out);
    /* Plex on Windows: drive letters, backslashes, any case */
    const plex_path_map_t win[] = {{"D:\\Media\\TV\\", "/mnt/nas/tv"},
                                   {"\\\\nas\\movies", "/mnt/movies"}};
    out = plex_map_path(win, 2, "d:\\media\\tv\\Show\\Season 1\\e1.mkv", &mapped);
    CHECK_STR(out, "/mnt/nas/tv/Show/Season 1/e1.mkv");
    CHECK(mapped == 1);
    free(out);
    out = plex_map_path(win, 2, "\\\\nas\\movies\\Film (1980)\\Film.avi", &mapped);
    CHECK_STR(out, "/mnt/movies/Film (1980)/Film.avi");
    free(out);
    /* mapping to the root, and from it */
    const plex_path_map_t root[] = {{"/share", "/"}};
    out = plex_map_path(root, 1, "/share/a/b.mkv", &mapped);
    CHECK_STR(out, "/a/b.mkv");
    free(out);
    const plex_path_map_t from_root[] = {{"/", "/mnt/plex"}};
    out = plex_map_path(from_root, 1, "/a/b.mkv", &mapped);
    CHECK_STR(out, "/mnt/plex/a/b.mkv");
    free(out);
}

static void test_http_get(server_t *srv)
{
    const char *hdr[] = {"X-Plex-Token", TOKEN, "Accept", "application/json", NULL};
    char *expect, *path = xasprintf("%s/sections.json", srv->dir);
    size_t expect_len;
    CHECK(util_read_file(path, &expect, &expect_len) == 0);
    free(path);
    const char *raw[] = {"/raw/chunked", "/raw/until-close"};
    for (size_t i = 0; i < RV_ARRAY_SIZE(raw); i++) {
        char *url = xasprintf("http://127.0.0.1:%d%s", srv->port, raw[i]);
        http_response_t res;
        char *err = NULL;
        CHECK(http_get(url, hdr, 2000, &res, &err) == 0);
        CHECK(err == NULL);
        CHECK(res.status == 200);
        CHECK_STR(res.reason, "OK");
        CHECK_STR(http_response_header(&res, "content-type"), "application/json");
        CHECK(res.body_len == expect_len);
        CHECK(res.body != NULL && memcmp(res.body, expect, expect_len) == 0);
        http_response_dispose(&res);
        free(url);
    }
    free(expect);

    /* a 404 is an answer, not an error */
    char *url = xasprintf("http://127.0.0.1:%d/nothing?x=1", srv->port);
    http_response_t res;
    char *err = NULL;
    CHECK(http_get(url, hdr, 2000, &res, &err) == 0);
    CHECK(res.status == 404);
    CHECK_STR(res.body, "<html><body>404</body></html>");
    http_response_dispose(&res);
    free(url);

    CHECK(http_get("https://plex.example:32400/", NULL, 100, &res, &err) == -EPROTONOSUPPORT);
    CHECK_CONTAINS(err, "plain http only");
    free(err);
    CHECK(http_get("ftp://x/", NULL, 100, &res, &err) == -EINVAL);
    free(err);
    CHECK(http_get("http://127.0.0.1:notaport/", NULL, 100, &res, &err) == -EINVAL);
    free(err);
    const char *bad[] = {"X-Plex-Token", "abc\r\nX-Evil: 1", NULL};
    url = xasprintf("http://127.0.0.1:%d/raw/chunked", srv->port);
    CHECK(http_get(url, bad, 100, &res, &err) == -EINVAL);
    CHECK_CONTAINS(err, "line break");
    free(err);
    free(url);
}

static void test_scan(server_t *srv)
{
    char *base = xasprintf("http://127.0.0.1:%d/", srv->port); /* trailing '/' is dropped */
    plex_source_t src = {.url = base,
                         .token = TOKEN,
                         .path_map = maps,
                         .n_path_map = RV_ARRAY_SIZE(maps),
                         .page_size = PAGE,
                         .timeout_ms = 3000};
    static items_t items;
    char *err = NULL;
    server_clear_log(srv);
    int rc = plex_scan(&src, collect, &items, &err);
    CHECK(rc == 0);
    if (rc != 0)
        fprintf(stderr, "plex_scan: %s\n", err);
    CHECK(err == NULL);

    /* Movies: 7 in pages of 3 (three requests), one of them in two parts; shows: one
       page, two allLeaves (the second sent chunked); music: not read. */
    CHECK(server_exact(srv, "/library/sections") == 1);
    CHECK(server_count(srv, "/library/sections/1/all?") == 3);
    CHECK(server_exact(srv, "/library/sections/1/all"
                            "?X-Plex-Container-Start=6&X-Plex-Container-Size=3") == 1);
    CHECK(server_count(srv, "/library/sections/2/all?") == 1);
    CHECK(server_count(srv, "/library/sections/3") == 0);
    CHECK(server_count(srv, "/library/metadata/") == 2);
    CHECK(srv->n_log == 7);
    CHECK(items.n == 13);

    const item_t *e = find(&items, "2111", 0);
    if (e != NULL) {
        CHECK(e->kind == PLEX_EPISODE);
        CHECK_STR(e->section, "TV Shows");
        CHECK_STR(e->show, "Harbor Lights");
        CHECK(e->season == 1 && e->episode == 1);
        CHECK_STR(e->title, "Night Crossing");
        CHECK_STR(e->aired, "1984-09-18");
        CHECK_STR(e->summary, "Ruth Dyer takes command of the night ferry on the worst night of "
                              "the year.");
        CHECK(e->year == 1984);
        CHECK_STR(e->genres, "Comedy|Drama"); /* the show's */
        CHECK_STR(e->rating, "TV-PG");
        CHECK(e->duration_ms == 2891000);
        CHECK_STR(e->plex_path, "/data/tv/Harbor Lights (1984)/Season 01/Harbor Lights - "
                                "S01E01E02 - Night Crossing.mkv");
        CHECK_STR(e->path, "/media/tv/Harbor Lights (1984)/Season 01/Harbor Lights - "
                           "S01E01E02 - Night Crossing.mkv");
        CHECK(e->mapped == 1 && e->part == 0 && e->n_parts == 1);
    }
    e = find(&items, "2113", 0); /* no contentRating of its own: the show's */
    if (e != NULL)
        CHECK_STR(e->rating, "TV-PG");
    e = find(&items, "2114", 0); /* Plex knows little: unset, not empty */
    if (e != NULL) {
        CHECK_STR(e->title, "Salt & Vinegar");
        CHECK(e->summary == NULL && e->aired == NULL && e->year == -1);
        CHECK(e->duration_ms == 1440000);
    }
    e = find(&items, "2211", 0); /* from the chunked answer; "/data/tv" must not take tvshows */
    if (e != NULL) {
        CHECK_STR(e->show, "Arcade Kids");
        CHECK_STR(e->summary, "The machine at Joe's Pizza starts talking \xE2\x80\x94 and it has "
                              "opinions.");
        CHECK_STR(e->path, "/srv/plexdata/tvshows/Arcade Kids/Season 1/Arcade Kids - s01e01 - "
                           "Tilt!.mkv");
        CHECK_STR(e->rating, "TV-Y7");
        CHECK_STR(e->genres, "Animation|Children");
    }
    e = find(&items, "2212", 0); /* an episode's own genre beats the show's */
    if (e != NULL)
        CHECK_STR(e->genres, "Sports");

    const item_t *m = find(&items, "3101", 0);
    if (m != NULL) {
        CHECK(m->kind == PLEX_MOVIE);
        CHECK_STR(m->section, "Movies");
        CHECK(m->show == NULL && m->season == -1 && m->episode == -1);
        CHECK_STR(m->title, "Midnight Freeway");
        CHECK(m->year == 1987);
        CHECK_STR(m->rating, "R");
        CHECK_STR(m->genres, "Thriller|Crime");
        CHECK_STR(m->aired, "1987-11-06");
        CHECK(m->duration_ms == 5642000);
        CHECK_STR(m->path, "/srv/plexdata/movies/Midnight Freeway (1987)/"
                           "Midnight Freeway (1987).mkv");
    }
    const item_t *cd1 = find(&items, "3104", 0), *cd2 = find(&items, "3104", 1);
    if (cd1 && cd2) {
        CHECK(cd1->n_parts == 2 && cd2->n_parts == 2);
        CHECK(cd1->duration_ms == 3631000 && cd2->duration_ms == 3631000);
        CHECK_CONTAINS(cd2->path, "The Long Haul (1986) - cd2.avi");
    }
    m = find(&items, "3106", 0);
    if (m != NULL)
        CHECK_STR(m->path, "/mnt/foreign/Blue Harvest Moon (1988)/Blue Harvest Moon (1988).mkv");
    m = find(&items, "3107", 0); /* outside every mapping: kept, and flagged */
    if (m != NULL) {
        CHECK_STR(m->path, "/volume1/video/Home Video 1990-12-25.mp4");
        CHECK(m->mapped == 0);
        CHECK(m->year == -1 && m->rating == NULL && m->summary == NULL && m->genres[0] == '\0');
        CHECK(m->duration_ms == 1804000); /* the Part has none: the Media's */
    }
    items_dispose(&items);

    /* Only the sections asked for (by title, any case); an unknown one is just logged. */
    const char *const only[] = {"tv shows", "Cartoons"};
    src.sections = only;
    src.n_sections = 2;
    server_clear_log(srv);
    CHECK(plex_scan(&src, collect, &items, &err) == 0);
    CHECK(items.n == 5);
    CHECK(server_count(srv, "/library/sections/1/") == 0);
    for (int i = 0; i < items.n; i++)
        CHECK(items.v[i].kind == PLEX_EPISODE);
    items_dispose(&items);

    /* The callback can stop the scan. */
    items.stop_after = 2;
    CHECK(plex_scan(&src, collect, &items, &err) == -ECANCELED);
    CHECK(items.n == 2);
    items_dispose(&items);
    items.stop_after = 0;
    free(base);
}

static void test_token_refused(server_t *srv)
{
    char *base = xasprintf("http://127.0.0.1:%d", srv->port);
    plex_source_t src = {.url = base, .token = "wrong-token", .timeout_ms = 3000};
    items_t items = {.n = 0};
    char *err = NULL;
    CHECK(plex_scan(&src, collect, &items, &err) == -EACCES);
    char *want = xasprintf("Plex at %s refused the token (401 Unauthorized)", base);
    CHECK_CONTAINS(err, want);
    free(want);
    free(err);
    CHECK(items.n == 0);

    src.token = NULL;
    CHECK(plex_scan(&src, collect, &items, &err) == -EACCES);
    CHECK_CONTAINS(err, "wants a token (401 Unauthorized) and none is configured");
    free(err);
    free(base);
}

static void test_unreachable(void)
{
    /* refused: a port that was just free */
    int port;
    int fd = listen_local(&port);
    close(fd);
    char *base = xasprintf("http://127.0.0.1:%d", port);
    plex_source_t src = {.url = base, .token = TOKEN, .timeout_ms = 2000};
    items_t items = {.n = 0};
    char *err = NULL;
    CHECK(plex_scan(&src, collect, &items, &err) == -ECONNREFUSED);
    char *want = xasprintf("Plex at %s: unable to connect to 127.0.0.1:%d: Connection refused",
                           base, port);
    CHECK_STR(err, want);
    free(want);
    free(err);
    free(base);

    /* silent: the kernel completes the handshake, nobody ever answers */
    fd = listen_local(&port);
    base = xasprintf("http://127.0.0.1:%d", port);
    src.url = base;
    src.timeout_ms = 300;
    CHECK(plex_scan(&src, collect, &items, &err) == -ETIMEDOUT);
    want = xasprintf("Plex at %s: 127.0.0.1:%d stopped answering (nothing for 300 ms)", base, port);
    CHECK_STR(err, want);
    free(want);
    free(err);
    close(fd);
    free(base);

    /* a name that does not resolve */
    src.url = "http://plex.invalid:32400";
    CHECK(plex_scan(&src, collect, &items, &err) == -EHOSTUNREACH);
    CHECK_CONTAINS(err, "Plex at http://plex.invalid:32400: unable to resolve plex.invalid");
    free(err);
    CHECK(items.n == 0);
}

int main(void)
{
    const char *src = getenv("RETROVUE_SOURCE_DIR");
    char *dir = xasprintf("%s/tests/fixtures/plex", src ? src : ".");
    server_t srv;
    server_start(&srv, dir);

    test_map_path();
    test_http_get(&srv);
    test_scan(&srv);
    test_token_refused(&srv);
    test_unreachable();

    server_stop(&srv);
    free(dir);
    return CHECK_DONE();
}
