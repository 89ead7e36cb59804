/*
 * Tests for the XMLTV guide: time and episode-number formatting, escaping, and whole
 * guides over a real database for the example schedule channels and three playlist
 * channels (a show with its commercials, a loop of short clips, a movie followed by
 * music videos): contiguous programmes, the horizon, how short items are merged, and
 * that the programme at any instant is the one the guide lists.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "catalog.h"
#include "check.h"
#include "config.h"
#include "db.h"
#include "schedule.h"
#include "util.h"
#include "xmltv.h"

static char tmpdir[] = "/tmp/rv-test-xmltv-XXXXXX";

static void test_formats(void)
{
    char buf[64];
    xmltv_format_time(0, 0, buf, sizeof(buf));
    CHECK_STR(buf, "19700101000000 +0000");
    xmltv_format_time(1795546800, 0, buf, sizeof(buf)); /* 2026-11-24T19:00:00Z */
    CHECK_STR(buf, "20261124190000 +0000");
    xmltv_format_time(1795546800, -5 * 3600, buf, sizeof(buf));
    CHECK_STR(buf, "20261124140000 -0500");
    xmltv_format_time(1795546800, 5 * 3600 + 1800, buf, sizeof(buf));
    CHECK_STR(buf, "20261125003000 +0530");
    xmltv_format_time(-1, 0, buf, sizeof(buf));
    CHECK_STR(buf, "19691231235959 +0000");
    xmltv_format_time(951782400, 0, buf, sizeof(buf)); /* a leap day */
    CHECK_STR(buf, "20000229000000 +0000");

    /* xmltv_ns counts from zero; what is unknown is left empty. */
    xmltv_episode_ns(1, 1, buf, sizeof(buf));
    CHECK_STR(buf, "0.0.");
    xmltv_episode_ns(3, 12, buf, sizeof(buf));
    CHECK_STR(buf, "2.11.");
    xmltv_episode_ns(0, 5, buf, sizeof(buf));
    CHECK_STR(buf, ".4.");
    xmltv_episode_ns(0, 0, buf, sizeof(buf));
    CHECK_STR(buf, "..");

    xmltv_channel_id("3", buf, sizeof(buf));
    CHECK_STR(buf, "retrovue.3");
    xmltv_channel_id("5.1", buf, sizeof(buf));
    CHECK_STR(buf, "retrovue.5.1");
}

static char *escaped(const char *s)
{
    strbuf_t sb;
    strbuf_init(&sb);
    strbuf_put_xml(&sb, s);
    return strbuf_steal(&sb);
}

#define CHECK_ESCAPE(in, out)       \
    do {                            \
        char *e_ = escaped(in);     \
        CHECK_STR(e_, out);         \
        free(e_);                   \
    } while (0)

static void test_escape(void)
{
    CHECK_ESCAPE("", "");
    CHECK_ESCAPE("plain", "plain");
    CHECK_ESCAPE("Tom & Jerry's <Show> \"live\"",
                 "Tom &amp; Jerry&apos;s &lt;Show&gt; &quot;live&quot;");
    /* Control characters XML 1.0 forbids are dropped; tab and newline stay. */
    CHECK_ESCAPE("a\x01" "b\x1f" "c\td\ne\x7f", "abc\td\ne\x7f");
    CHECK_ESCAPE("caf\xc3\xa9 \xe2\x80\x94 \xf0\x9f\x93\xba", "caf\xc3\xa9 \xe2\x80\x94 \xf0\x9f\x93\xba");
    /* Not UTF-8 (a Latin-1 name, an overlong, a surrogate, a cut sequence): U+FFFD. */
    CHECK_ESCAPE("caf\xe9", "caf\xef\xbf\xbd");
    CHECK_ESCAPE("\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd");
    CHECK_ESCAPE("\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
    CHECK_ESCAPE("x\xe2\x82", "x\xef\xbf\xbd\xef\xbf\xbd");
    CHECK_ESCAPE("\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
    /* U+FFFE and U+FFFF are not XML characters. */
    CHECK_ESCAPE("a\xef\xbf\xbe" "b\xef\xbf\xbf" "c\xef\xbf\xbd", "abc\xef\xbf\xbd");
}

/* ---- a station on disk: the example schedule channels plus three playlists ---- */

static void write_file(const char *path, const char *text)
{
    char *dir = xstrdup(path);
    *strrchr(dir, '/') = '\0';
    CHECK(util_mkdirs(dir, 0755) == 0);
    CHECK(util_write_file_atomic(path, text, strlen(text)) == 0);
    free(dir);
}

static void copy_in(const char *src_dir, const char *dst_dir, const char *rel)
{
    char *from = xasprintf("%s/%s", src_dir, rel), *to = xasprintf("%s/%s", dst_dir, rel);
    char *text = NULL;
    size_t len = 0;
    CHECK(util_read_file(from, &text, &len) == 0);
    if (text != NULL)
        write_file(to, text);
    free(text);
    free(from);
    free(to);
}

/* A media file the catalog knows, with a duration (an empty file: nothing probes it). */
static char *known_file(sqlite3 *db, const char *dir, const char *name, double duration)
{
    char *path = xasprintf("%s/%s", dir, name);
    write_file(path, "");
    struct stat sb;
    CHECK(stat(path, &sb) == 0);
    asset_t a = {.path = path, .size = sb.st_size, .mtime = sb.st_mtime, .duration = duration};
    CHECK(catalog_store(db, &a) == 0);
    return path;
}

static void playlist_channel(const char *cfgdir, const char *number, const char *name,
                             const char *logo, char **paths, size_t n)
{
    strbuf_t sb;
    strbuf_init(&sb);
    strbuf_printf(&sb, "{\"number\": \"%s\", \"name\": \"%s\", \"epoch\": \"2026-01-01T00:00:00Z\",",
                  number, name);
    if (logo != NULL)
        strbuf_printf(&sb, " \"logo\": \"%s\",", logo);
    strbuf_puts(&sb, " \"playlist\": [");
    for (size_t i = 0; i < n; i++)
        strbuf_printf(&sb, "%s\"%s\"", i ? ", " : "", paths[i]);
    strbuf_puts(&sb, "]}\n");
    char *path = xasprintf("%s/channels/%s.json", cfgdir, number);
    write_file(path, sb.data);
    free(path);
    strbuf_dispose(&sb);
}

/* ---- reading the guide back ---- */

typedef struct prog {
    char channel[32];
    char start[32], stop[32];
    long long a, b;          /* UTC seconds */
    char title[256];
    const char *body;        /* the element's text in the document */
    size_t body_len;
} prog_t;

static long long parse_time(const char *s)
{
    int y, mo, d, h, mi, se;
    if (sscanf(s, "%4d%2d%2d%2d%2d%2d", &y, &mo, &d, &h, &mi, &se) != 6)
        return -1;
    struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
                    .tm_hour = h, .tm_min = mi, .tm_sec = se};
    return (long long)timegm(&tm);
}

static size_t attr(const char *p, const char *name, char *out, size_t size)
{
    char key[32];
    snprintf(key, sizeof(key), " %s=\"", name);
    const char *s = strstr(p, key);
    out[0] = '\0';
    if (s == NULL)
        return 0;
    s += strlen(key);
    size_t n = strcspn(s, "\"");
    if (n >= size)
        n = size - 1;
    memcpy(out, s, n);
    out[n] = '\0';
    return n;
}

static prog_t *parse_programmes(const char *doc, size_t *count)
{
    prog_t *v = NULL;
    size_t n = 0;
    for (const char *p = strstr(doc, "<programme "); p != NULL; p = strstr(p + 1, "<programme ")) {
        v = xrealloc(v, (n + 1) * sizeof(*v));
        prog_t *g = &v[n++];
        memset(g, 0, sizeof(*g));
        const char *end = strstr(p, "</programme>");
        CHECK(end != NULL);
        g->body = p;
        g->body_len = end ? (size_t)(end - p) : strlen(p);
        char head[512];
        size_t hl = strcspn(p, ">");
        snprintf(head, sizeof(head), "%.*s", (int)(hl < sizeof(head) - 1 ? hl : sizeof(head) - 1), p);
        attr(head, "start", g->start, sizeof(g->start));
        attr(head, "stop", g->stop, sizeof(g->stop));
        attr(head, "channel", g->channel, sizeof(g->channel));
        g->a = parse_time(g->start);
        g->b = parse_time(g->stop);
        const char *t = strstr(p, "<title>");
        if (t != NULL && (end == NULL || t < end)) {
            t += 7;
            size_t tl = strcspn(t, "<");
            snprintf(g->title, sizeof(g->title), "%.*s", (int)tl, t);
        }
    }
    *count = n;
    return v;
}

static int has(const prog_t *p, const char *text)
{
    size_t n = strlen(text);
    for (size_t i = 0; i + n <= p->body_len; i++)
        if (memcmp(p->body + i, text, n) == 0)
            return 1;
    return 0;
}

typedef struct collect {
    strbuf_t doc;
    int pieces;
    size_t largest;
    int stop_after; /* returns an error after this many pieces (0: never) */
} collect_t;

static int collect(void *arg, const char *data, size_t len)
{
    collect_t *c = arg;
    strbuf_append(&c->doc, data, len);
    c->pieces++;
    if (len > c->largest)
        c->largest = len;
    return c->stop_after > 0 && c->pieces >= c->stop_after ? -ECANCELED : 0;
}

/* The programmes of one channel, in document order. */
static size_t channel_progs(const prog_t *all, size_t n, const char *id, const prog_t **out)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(all[i].channel, id) == 0)
            out[k++] = &all[i];
    return k;
}

static void test_guide(void)
{
    const char *src = getenv("RETROVUE_SOURCE_DIR");
    char *ex = xasprintf("%s/examples/schedule", src ? src : ".");
    char *root = xasprintf("%s/station", tmpdir);
    char *cfgdir = xasprintf("%s/schedule", root);
    char *media = xasprintf("%s/demo/media", root);
    char *pl = xasprintf("%s/playlist-media", root);
    copy_in(ex, cfgdir, "retrovue.json");
    copy_in(ex, cfgdir, "channels/4.json");
    copy_in(ex, cfgdir, "channels/5.json");
    const char *files[] = {
        "shows/nebula-patrol-s01e01.ts", "shows/nebula-patrol-s01e02.ts",
        "shows/retro-racers-s01e01.ts", "shows/retro-racers-s01e02.ts",
        "shows/cooking-with-carol-s01e01.ts", "shows/cooking-with-carol-s01e02.ts",
        "movies/space-movie.ts", "ads/super-suds-30.ts", "ads/zap-cola-30.ts",
        "ads/glow-gum-15.ts", "bumpers/right-back.ts", "bumpers/back-to-show.ts",
        "bumpers/coming-up-next.ts", "ids/retrovue-id.ts", "filler/color-bars.ts"};
    for (size_t i = 0; i < RV_ARRAY_SIZE(files); i++) {
        char *p = xasprintf("%s/%s", media, files[i]);
        write_file(p, "");
        free(p);
    }
    char *dbpath = xasprintf("%s/guide.db", tmpdir);
    sqlite3 *db = NULL;
    CHECK(db_open(dbpath, &db) == 0);

    /* 1: a show and its break; 2: short clips only; 3: a movie, then music videos. */
    char *p1[6];
    p1[0] = known_file(db, pl, "space-show-s02e05-the-last-orbit.ts", 1320.32);
    p1[1] = known_file(db, pl, "right-back.ts", 6.006);
    p1[2] = known_file(db, pl, "zap-cola-30.ts", 30.03);
    p1[3] = known_file(db, pl, "glow-gum-15.ts", 15.015);
    p1[4] = known_file(db, pl, "broken.ts", 0); /* not playable: skipped, as the channel does */
    p1[5] = known_file(db, pl, "back-to-show.ts", 6.006);
    playlist_channel(cfgdir, "1", "Tom & Jerry's <Retro>", "logos/one.png", p1, 6);
    char *p2[3];
    p2[0] = known_file(db, pl, "ad-a.ts", 15.015);
    p2[1] = known_file(db, pl, "ad-b.ts", 15.015);
    p2[2] = known_file(db, pl, "ad-c.ts", 10.01);
    playlist_channel(cfgdir, "2", "Ad Loop", NULL, p2, 3);
    char *p3[31];
    p3[0] = known_file(db, pl, "Big Heist (1987).ts", 7200);
    for (int i = 1; i <= 30; i++) {
        char name[32];
        snprintf(name, sizeof(name), "video-%02d.ts", i);
        p3[i] = known_file(db, pl, name, 180 + i);
    }
    playlist_channel(cfgdir, "3", "Music Box", NULL, p3, 31);

    strbuf_t errs;
    strbuf_init(&errs);
    config_t *cfg = NULL;
    CHECK(config_load(cfgdir, &cfg, &errs) == 0);
    if (errs.len)
        fputs(errs.data, stderr);
    strbuf_dispose(&errs);
    if (cfg == NULL)
        goto out;
    CHECK(cfg->n_channels == 5);
    for (size_t i = 0; i < cfg->library->n_assets; i++) {
        sched_asset_t *a = cfg->library->assets[i];
        double d = strstr(a->path, "/shows/") ? 22 * 60 + 0.1 * (double)i
                   : strstr(a->path, "/movies/") ? 95 * 60
                   : strstr(a->path, "-30.ts") ? 30.03
                   : strstr(a->path, "-15.ts") ? 16.016
                   : strstr(a->path, "/bumpers/") ? 6.006
                                                  : 10.01;
        sched_library_set_duration(cfg->library, a->path, d, 1.4);
    }
    double now;
    CHECK(util_parse_iso8601("2026-11-24T19:07:13Z", &now) == 0);
    for (size_t i = 0; i < cfg->n_channels; i++)
        if (cfg->channels[i].schedule != NULL)
            CHECK(schedule_extend(db, cfg->channels[i].schedule, (sched_ms_t)(now * 1000), 0) == 0);

    collect_t c = {0};
    strbuf_init(&c.doc);
    CHECK(xmltv_write(db, cfg, "http://tv.example:8080", now, collect, &c) == 0);
    const char *doc = c.doc.data;
    CHECK(doc != NULL);
    if (doc == NULL)
        goto out_cfg;
    const char *head = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                       "<!DOCTYPE tv SYSTEM \"xmltv.dtd\">\n<tv ";
    CHECK(strncmp(doc, head, strlen(head)) == 0);
    CHECK_CONTAINS(doc, "generator-info-name=\"Retrovue\"");
    CHECK(c.doc.len > 6 && strcmp(doc + c.doc.len - 6, "</tv>\n") == 0);
    /* Pieces, not one document: a channel-day at most (here 5 channels x 3+ days). */
    CHECK(c.pieces > 15);
    CHECK(c.largest < 256 * 1024);

    /* Channels: the ids the M3U uses, every name a lineup may match on. */
    CHECK_CONTAINS(doc, "<channel id=\"retrovue.4\">\n"
                        "    <display-name>Retro Four</display-name>\n"
                        "    <display-name>4</display-name>\n"
                        "    <display-name>4 Retro Four</display-name>\n"
                        "    <display-name>WRTV</display-name>\n"
                        "  </channel>");
    CHECK_CONTAINS(doc, "<display-name>Tom &amp; Jerry&apos;s &lt;Retro&gt;</display-name>");
    CHECK_CONTAINS(doc, "<display-name>1 Tom &amp; Jerry&apos;s &lt;Retro&gt;</display-name>");
    CHECK(strstr(doc, "Jerry's") == NULL && strstr(doc, "<Retro>") == NULL);
    /* A logo is served by the station itself, at the address the client used. */
    CHECK_CONTAINS(doc, "<display-name>1</display-name>\n"
                        "    <display-name>1 Tom &amp; Jerry&apos;s &lt;Retro&gt;</display-name>\n"
                        "    <icon src=\"http://tv.example:8080/logos/1\"/>\n  </channel>");
    CHECK(strstr(doc, "/logos/2") == NULL);

    size_t n = 0;
    prog_t *all = parse_programmes(doc, &n);
    const prog_t **mine = xcalloc(n ? n : 1, sizeof(*mine));
    const char *ids[] = {"retrovue.1", "retrovue.2", "retrovue.3", "retrovue.4", "retrovue.5"};
    long long from = (long long)now - 2 * 3600;
    for (size_t k = 0; k < RV_ARRAY_SIZE(ids); k++) {
        size_t m = channel_progs(all, n, ids[k], mine);
        CHECK(m > 0);
        if (m == 0)
            continue;
        /* From the programme on air two hours ago, with no gap and no overlap. */
        CHECK(mine[0]->a <= from && mine[0]->b > from);
        for (size_t i = 0; i + 1 < m; i++) {
            CHECK(mine[i]->a < mine[i]->b);
            if (strcmp(mine[i]->stop, mine[i + 1]->start) != 0) {
                fprintf(stderr, "%s: %s ends %s, next starts %s\n", ids[k], mine[i]->title,
                        mine[i]->stop, mine[i + 1]->start);
                CHECK(0);
                break;
            }
        }
        /* At least three days ahead (the schedules' horizon; playlists follow it). */
        CHECK(mine[m - 1]->b >= (long long)now + 3 * 86400 - 3600);
        if (k < 3) {
            for (size_t i = 0; i < m; i++)
                CHECK(mine[i]->b - mine[i]->a >= 120 || i == 0 || i == m - 1);
            CHECK((double)m <= 720.0 * 3.2); /* the cap: at most 720 a day */
        }
        /* The programme the API reports at any instant is the one listed. */
        const channel_conf_t *conf = config_find_channel(cfg, ids[k] + 9);
        for (int s = 0; s < 97; s++) {
            double t = now - 3600 + s * (3 * 86400.0 - 7200) / 96 + 0.37 * s;
            xmltv_programme_t p;
            int rc = xmltv_programme_at(db, cfg, conf, t, &p);
            CHECK(rc == 0);
            if (rc != 0)
                continue;
            CHECK(p.start <= t + 1e-6 && t < p.stop);
            char a[32], b[32];
            xmltv_format_time((long long)floor(p.start + 0.0005), 0, a, sizeof(a));
            xmltv_format_time((long long)floor(p.stop + 0.0005), 0, b, sizeof(b));
            char *title = escaped(p.title);
            int found = 0;
            for (size_t i = 0; i < m && !found; i++)
                found = strcmp(mine[i]->start, a) == 0 && strcmp(mine[i]->stop, b) == 0 &&
                        strcmp(mine[i]->title, title) == 0;
            if (!found)
                fprintf(stderr, "%s at %.3f: %s %s-%s is not in the guide\n", ids[k], t, p.title,
                        a, b);
            CHECK(found);
            free(title);
            xmltv_programme_dispose(&p);
        }
    }

    /* Channel 4: programs from the coarse log, with what the library knows. */
    size_t m = channel_progs(all, n, "retrovue.4", mine);
    CHECK(m >= 3 * 30);
    int episodes = 0, off_air = 0;
    for (size_t i = 0; i < m; i++) {
        if (strcmp(mine[i]->title, "Nebula Patrol") == 0) {
            episodes++;
            CHECK(has(mine[i], "<sub-title>Nebula Patrol S01E0"));
            CHECK(has(mine[i], "<episode-num system=\"onscreen\">S01E0"));
            CHECK(has(mine[i], "<episode-num system=\"xmltv_ns\">0."));
            CHECK(has(mine[i], "<category>Sci-fi</category>"));
            CHECK(has(mine[i], "<category>Series</category>"));
            CHECK(has(mine[i], "<rating system=\"VCHIP\"><value>TV-Y7</value></rating>"));
            CHECK(has(mine[i], "<previously-shown/>"));
        }
        if (strcmp(mine[i]->title, "Off Air") == 0) {
            off_air++;
            CHECK(mine[i]->b - mine[i]->a == 6 * 3600);
        }
        CHECK(!has(mine[i], "Zap Cola")); /* commercials are not programmes */
    }
    CHECK(episodes > 10);
    CHECK(off_air >= 3);

    /* Channel 1: the show and its break are one programme, titled from the file. */
    m = channel_progs(all, n, "retrovue.1", mine);
    double cycle1 = 1320.32 + 6.006 + 30.03 + 15.015 + 6.006;
    for (size_t i = 1; i + 1 < m; i++) {
        CHECK_STR(mine[i]->title, "Space Show");
        CHECK(llabs((mine[i]->b - mine[i]->a) - (long long)cycle1) <= 1);
        CHECK(has(mine[i], "<sub-title>The Last Orbit</sub-title>"));
        CHECK(has(mine[i], "<episode-num system=\"xmltv_ns\">1.4.</episode-num>"));
        CHECK(has(mine[i], "<episode-num system=\"onscreen\">S02E05</episode-num>"));
    }
    {
        /* During the commercials, the programme is still the show, from its start. */
        const channel_conf_t *conf = config_find_channel(cfg, "1");
        double epoch = conf->epoch;
        double k = floor((now - epoch) / cycle1);
        double show_start = epoch + k * cycle1;
        xmltv_programme_t p;
        CHECK(xmltv_programme_at(db, cfg, conf, show_start + 1320.32 + 20, &p) == 0);
        CHECK_STR(p.title, "Space Show");
        CHECK_STR(p.kind, "playlist");
        CHECK_NEAR(p.start, show_start, 1e-3);
        CHECK_NEAR(p.stop, show_start + cycle1, 1e-3);
        xmltv_programme_dispose(&p);
    }

    /* Channel 2: 40-second loop of clips, merged into programmes of 2 minutes or more. */
    m = channel_progs(all, n, "retrovue.2", mine);
    CHECK(m >= 3 * 200 && m <= 3 * 720 + 30);
    for (size_t i = 1; i + 1 < m; i++) {
        CHECK_STR(mine[i]->title, "Ad Loop");
        CHECK(mine[i]->b - mine[i]->a >= 120);
        CHECK(has(mine[i], "<desc>Ad A, Ad B, Ad C.</desc>"));
    }

    /* Channel 3: the movie alone; the videos after it in programmes of 5 minutes or
       more, none named after one video. */
    m = channel_progs(all, n, "retrovue.3", mine);
    int movies = 0, blocks = 0;
    for (size_t i = 0; i < m; i++) {
        if (strcmp(mine[i]->title, "Big Heist") == 0) {
            movies++;
            CHECK(has(mine[i], "<date>1987</date>"));
            CHECK(mine[i]->b - mine[i]->a == 7200 || i == 0 || i == m - 1);
        } else {
            blocks++;
            CHECK_STR(mine[i]->title, "Music Box");
            CHECK(mine[i]->b - mine[i]->a >= 300 || i == 0 || i == m - 1);
            CHECK(has(mine[i], "<desc>Video "));
        }
    }
    CHECK(movies >= 4);
    CHECK(blocks >= movies * 10);

    {
        /* An item the catalog does not know yet (its probe is due) is left out, and
           shows up as soon as the probe is stored. */
        char *later = xasprintf("%s/not-probed-yet.ts", pl);
        write_file(later, "");
        char *items[] = {p1[0], later};
        channel_conf_t conf = {.number = "9", .name = "Nine", .items = items, .n_items = 2,
                               .epoch = 0};
        xmltv_programme_t p;
        CHECK(xmltv_programme_at(db, cfg, &conf, now, &p) == 0);
        CHECK_NEAR(p.stop - p.start, 1320.32, 1e-3);
        xmltv_programme_dispose(&p);
        free(known_file(db, pl, "not-probed-yet.ts", 200));
        CHECK(xmltv_programme_at(db, cfg, &conf, now, &p) == 0);
        CHECK_NEAR(p.stop - p.start, 1320.32 + 200, 1e-3);
        CHECK_STR(p.title, "Space Show");
        xmltv_programme_dispose(&p);
        free(later);
    }

    /* An emitter that fails stops the guide at once. */
    collect_t c2 = {.stop_after = 3};
    strbuf_init(&c2.doc);
    CHECK(xmltv_write(db, cfg, "", now, collect, &c2) == -ECANCELED);
    CHECK(c2.pieces == 3);
    strbuf_dispose(&c2.doc);

    /* The guide's copy of the configuration outlives the configuration (a reload
       while a guide is being sent). */
    xmltv_guide_t *g = xmltv_guide_new(db, cfg, "http://x", now);
    strbuf_t piece;
    strbuf_init(&piece);
    CHECK(xmltv_guide_next(g, &piece) == 1);
    config_free(cfg);
    cfg = NULL;
    size_t before = piece.len;
    while (xmltv_guide_next(g, &piece))
        ;
    CHECK(piece.len > before + 100000);
    CHECK(strstr(piece.data, "<title>Nebula Patrol</title>") != NULL);
    strbuf_dispose(&piece);
    xmltv_guide_free(g);

    free(mine);
    free(all);
out_cfg:
    strbuf_dispose(&c.doc);
    config_free(cfg);
out:
    for (size_t i = 0; i < 6; i++)
        free(p1[i]);
    for (size_t i = 0; i < 3; i++)
        free(p2[i]);
    for (size_t i = 0; i < 31; i++)
        free(p3[i]);
    db_close(db);
    free(dbpath);
    free(ex);
    free(root);
    free(cfgdir);
    free(media);
    free(pl);
}

int main(void)
{
    CHECK(mkdtemp(tmpdir) != NULL);
    test_formats();
    test_escape();
    test_guide();
    char *cmd = xasprintf("rm -rf %s", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    free(cmd);
    return CHECK_DONE();
}
