/*
 * Tests for config loading and json_loc: valid configs with defaults and with every
 * field set, and every kind of error with its exact "FILE:LINE:COL: PATH:" prefix.
 */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "json_loc.h"
#include "util.h"

static char root[] = "/tmp/rv-test-config-XXXXXX";
static int case_count;

/* Asserts errs holds the line "DIR/tail..." (tail starts with the file name). */
#define EXPECT(errs, dir, tail)                                                             \
    do {                                                                                    \
        char *want_ = xasprintf("%s/%s", (dir), (tail));                                    \
        CHECK_CONTAINS((errs), want_);                                                      \
        free(want_);                                                                        \
    } while (0)

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static char *new_case(void)
{
    char *dir = xasprintf("%s/case%02d", root, ++case_count);
    CHECK(mkdir(dir, 0755) == 0);
    return dir;
}

static void put(const char *dir, const char *rel, const char *text)
{
    char *path = util_path_join(dir, rel);
    char *parent = xstrdup(path);
    *strrchr(parent, '/') = '\0';
    CHECK(util_mkdirs(parent, 0755) == 0);
    CHECK(util_write_file_atomic(path, text, strlen(text)) == 0);
    free(parent);
    free(path);
}

static const char *const minimal_channel = "{\n"
                                           "  \"number\": \"1\",\n"
                                           "  \"name\": \"Retro One\",\n"
                                           "  \"playlist\": [\"media/a.ts\"]\n"
                                           "}\n";

/* Loads dir expecting failure; returns the error text (caller frees). */
static char *load_errs(const char *dir)
{
    strbuf_t errs;
    strbuf_init(&errs);
    config_t sentinel;
    config_t *cfg = &sentinel;
    int rc = config_load(dir, &cfg, &errs);
    CHECK(rc == -EINVAL);
    CHECK(cfg == &sentinel);
    if (rc == 0 && cfg != &sentinel)
        config_free(cfg);
    return strbuf_steal(&errs);
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s != '\0'; s++)
        n += *s == '\n';
    return n;
}

/* ---- json_loc ---- */

static void test_path_render(void)
{
    strbuf_t sb;
    strbuf_init(&sb);
    json_loc_path_render(NULL, 0, &sb);
    CHECK_STR(sb.data, "$");

    json_loc_step_t p1[] = {{"server", 0}, {"listen", 0}};
    sb.len = 0;
    json_loc_path_render(p1, 2, &sb);
    CHECK_STR(sb.data, "$.server.listen");

    json_loc_step_t p2[] = {{"playlist", 0}, {NULL, 2}};
    sb.len = 0;
    json_loc_path_render(p2, 2, &sb);
    CHECK_STR(sb.data, "$.playlist[2]");

    json_loc_step_t p3[] = {{"odd key", 0}, {"_ok1", 0}, {"1st", 0}, {"", 0}, {"a\"b\\c", 0}};
    sb.len = 0;
    json_loc_path_render(p3, 5, &sb);
    CHECK_STR(sb.data, "$[\"odd key\"]._ok1[\"1st\"][\"\"][\"a\\\"b\\\\c\"]");

    json_loc_step_t p4[] = {{NULL, 0}, {NULL, 11}, {"k\xc3\xa9", 0}, {"x\ny", 0}};
    sb.len = 0;
    json_loc_path_render(p4, 4, &sb);
    CHECK_STR(sb.data, "$[0][11][\"k\xc3\xa9\"][\"x\\ny\"]");
    strbuf_dispose(&sb);
}

static size_t off_of(const char *text, const char *needle)
{
    const char *p = strstr(text, needle);
    CHECK(p != NULL);
    return p ? (size_t)(p - text) : 0;
}

static void test_find(void)
{
    const char *t = "{\"a\": [1, {\"b\": [10, 20, {\"c\": \"x\"}]}],\n"
                    " \"d\\u00e9\": 5, \"\\ud83d\\ude00\": 6, \"e\": {\"f\": null},\n"
                    " \"e\": \"second\", \"q\\\"\": [ ], \"o\": { }}";
    size_t len = strlen(t), v, k;

    CHECK(json_loc_find(t, len, NULL, 0, &v, &k) == 0);
    CHECK(v == 0 && k == 0);

    json_loc_step_t p1[] = {{"a", 0}, {NULL, 1}, {"b", 0}, {NULL, 2}, {"c", 0}};
    CHECK(json_loc_find(t, len, p1, 5, &v, &k) == 0);
    CHECK(v == off_of(t, "\"x\""));
    CHECK(k == off_of(t, "\"c\""));
    CHECK(json_loc_value_len(t, len, v) == 3);

    /* the last step an index: key_off is the value itself */
    CHECK(json_loc_find(t, len, p1, 4, &v, &k) == 0);
    CHECK(v == off_of(t, "{\"c\"") && k == v);
    CHECK(json_loc_find(t, len, p1, 3, &v, &k) == 0);
    CHECK(v == off_of(t, "[10") && k == off_of(t, "\"b\""));
    CHECK(json_loc_value_len(t, len, v) == strlen("[10, 20, {\"c\": \"x\"}]"));

    json_loc_step_t p2[] = {{"d\xc3\xa9", 0}};
    CHECK(json_loc_find(t, len, p2, 1, &v, &k) == 0);
    CHECK(v == off_of(t, "5,") && k == off_of(t, "\"d\\u00e9\""));

    json_loc_step_t p3[] = {{"\xf0\x9f\x98\x80", 0}};
    CHECK(json_loc_find(t, len, p3, 1, &v, NULL) == 0);
    CHECK(v == off_of(t, "6,"));

    json_loc_step_t p4[] = {{"e", 1}};
    CHECK(json_loc_find(t, len, p4, 1, &v, &k) == 0);
    CHECK(v == off_of(t, "\"second\""));
    CHECK(k == off_of(t, "\"e\": \"second\""));
    json_loc_step_t p5[] = {{"e", 0}, {"f", 0}};
    CHECK(json_loc_find(t, len, p5, 2, &v, NULL) == 0);
    CHECK(v == off_of(t, "null"));

    json_loc_step_t p6[] = {{"q\"", 0}};
    CHECK(json_loc_find(t, len, p6, 1, &v, NULL) == 0);
    CHECK(v == off_of(t, "[ ]"));

    json_loc_step_t missing1[] = {{"zz", 0}};
    CHECK(json_loc_find(t, len, missing1, 1, &v, &k) == -ENOENT);
    json_loc_step_t missing2[] = {{"a", 0}, {NULL, 2}};
    CHECK(json_loc_find(t, len, missing2, 2, &v, &k) == -ENOENT);
    json_loc_step_t missing3[] = {{"a", 0}, {NULL, 0}, {"x", 0}};
    CHECK(json_loc_find(t, len, missing3, 3, &v, &k) == -ENOENT);
    json_loc_step_t missing4[] = {{"e", 2}};
    CHECK(json_loc_find(t, len, missing4, 1, &v, &k) == -ENOENT);
    json_loc_step_t missing5[] = {{"q\"", 0}, {NULL, 0}};
    CHECK(json_loc_find(t, len, missing5, 2, &v, &k) == -ENOENT);
    json_loc_step_t missing6[] = {{"o", 0}, {"x", 0}};
    CHECK(json_loc_find(t, len, missing6, 2, &v, &k) == -ENOENT);

    /* a BOM and leading whitespace are skipped */
    const char *b = "\xEF\xBB\xBF \n{\"k\": true}";
    json_loc_step_t pk[] = {{"k", 0}};
    CHECK(json_loc_find(b, strlen(b), NULL, 0, &v, NULL) == 0 && v == 5);
    CHECK(json_loc_find(b, strlen(b), pk, 1, &v, &k) == 0 && v == 11 && k == 6);
}

static void test_line_col(void)
{
    int line, col;
    const char *t = "a\r\n\tb\nc\xc3\xa9x\ry";
    size_t len = strlen(t);
    json_loc_line_col(t, len, 0, &line, &col);
    CHECK(line == 1 && col == 1);
    json_loc_line_col(t, len, 1, &line, &col); /* the \r of a CRLF is still on line 1 */
    CHECK(line == 1 && col == 2);
    json_loc_line_col(t, len, off_of(t, "\t"), &line, &col);
    CHECK(line == 2 && col == 1);
    json_loc_line_col(t, len, off_of(t, "b"), &line, &col); /* a tab is one column */
    CHECK(line == 2 && col == 2);
    json_loc_line_col(t, len, off_of(t, "c"), &line, &col);
    CHECK(line == 3 && col == 1);
    json_loc_line_col(t, len, off_of(t, "x"), &line, &col); /* é is one character */
    CHECK(line == 3 && col == 3);
    json_loc_line_col(t, len, off_of(t, "y"), &line, &col); /* a lone \r ends a line */
    CHECK(line == 4 && col == 1);
    json_loc_line_col(t, len, len + 10, &line, &col); /* past the end clamps */
    CHECK(line == 4 && col == 2);

    const char *b = "\xEF\xBB\xBF{}";
    json_loc_line_col(b, strlen(b), 3, &line, &col);
    CHECK(line == 1 && col == 1);
    json_loc_line_col(b, strlen(b), 4, &line, &col);
    CHECK(line == 1 && col == 2);
}

static void check_bad(int src_line, const char *text, size_t offset, const char *path,
                      const char *message)
{
    json_loc_error_t err;
    memset(&err, 0, sizeof(err));
    int rc = json_loc_check(text, strlen(text), &err);
    if (rc != -EINVAL || err.offset != offset || strcmp(err.path, path) != 0 ||
        strstr(err.message, message) == NULL) {
        fprintf(stderr,
                "%s:%d: json_loc_check(%s): rc %d offset %zu path %s message \"%s\"; "
                "expected offset %zu path %s message containing \"%s\"\n",
                __FILE__, src_line, text, rc, err.offset, err.path, err.message, offset, path,
                message);
        check_failures++;
    }
}

static void test_check(void)
{
    json_loc_error_t err;
    const char *good[] = {
        "{\"a\": [1, -0.5e+3, 0, 1E9, true, false, null, \"\\ud83d\\ude00\\n\\/\"]}",
        "\xEF\xBB\xBF {\"k\\u00e9\": \"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}\r\n",
        "[]",
        "\"just a string\"",
        "  42  ",
        "{ }",
    };
    for (size_t i = 0; i < RV_ARRAY_SIZE(good); i++) {
        int rc = json_loc_check(good[i], strlen(good[i]), &err);
        if (rc != 0)
            fprintf(stderr, "good[%zu] rejected at %zu: %s\n", i, err.offset, err.message);
        CHECK(rc == 0);
    }

    check_bad(__LINE__, "{\"a\": 1 \"b\": 2}", 8, "$", "expected ',' or '}' after object member");
    check_bad(__LINE__, "{\"a\": [1, 2,]}", 11, "$.a", "trailing comma is not allowed");
    check_bad(__LINE__, "{\"a\": 1,}", 7, "$", "trailing comma is not allowed");
    check_bad(__LINE__, "{\"a\": \"abc}", 6, "$.a", "unterminated string");
    check_bad(__LINE__, "{\"a\": \"abc\n\"}", 6, "$.a", "unterminated string");
    check_bad(__LINE__, "{\"a\": 1} x", 9, "$", "unexpected x after the end of the JSON value");
    check_bad(__LINE__, "{\"a\": 1}}", 8, "$", "unexpected '}' after the end");
    check_bad(__LINE__, "{\"a\": }", 6, "$.a", "expected a value, found '}'");
    check_bad(__LINE__, "{\"a\": ", 6, "$.a", "expected a value, found end of file");
    check_bad(__LINE__, " \n", 2, "$", "expected a value");
    check_bad(__LINE__, "", 0, "$", "expected a value");
    check_bad(__LINE__, "{\"a\": tru}", 6, "$.a", "expected a value, found tru");
    check_bad(__LINE__, "{\"a\": True}", 6, "$.a", "are lowercase");
    check_bad(__LINE__, "{\"a\": auto}", 6, "$.a", "strings need double quotes");
    check_bad(__LINE__, "{\"a\": 'x'}", 6, "$.a", "strings need double quotes");
    check_bad(__LINE__, "[01]", 1, "$[0]", "leading zeros");
    check_bad(__LINE__, "[1.]", 3, "$[0]", "expected a digit after '.'");
    check_bad(__LINE__, "[1e]", 3, "$[0]", "expected a digit in the exponent");
    check_bad(__LINE__, "[-x]", 2, "$[0]", "expected a digit after '-'");
    check_bad(__LINE__, "[+1]", 1, "$[0]", "leading '+'");
    check_bad(__LINE__, "[1, 2 3]", 6, "$", "expected ',' or ']' after array element");
    check_bad(__LINE__, "[\"\\x\"]", 2, "$[0]", "invalid escape '\\x'");
    check_bad(__LINE__, "[\"\\u12\"]", 2, "$[0]", "expected 4 hex digits");
    check_bad(__LINE__, "[\"\\ud800\"]", 2, "$[0]", "unpaired surrogate");
    check_bad(__LINE__, "[\"\\udc00\"]", 2, "$[0]", "unpaired surrogate");
    check_bad(__LINE__, "[\"\\u0000\"]", 2, "$[0]", "\\u0000 is not allowed");
    check_bad(__LINE__, "[\"a\tb\"]", 3, "$[0]", "control character");
    check_bad(__LINE__, "[\"\xff\"]", 2, "$[0]", "invalid UTF-8");
    check_bad(__LINE__, "[\"\xc0\xaf\"]", 2, "$[0]", "invalid UTF-8"); /* overlong '/' */
    check_bad(__LINE__, "// note\n{}", 0, "$", "comments are not allowed");
    check_bad(__LINE__, "{\"a\": 1 /* x */}", 8, "$", "comments are not allowed");
    check_bad(__LINE__, "{a: 1}", 1, "$", "expected a key in double quotes, found a");
    check_bad(__LINE__, "{\"a\" 1}", 5, "$", "expected ':' after object key");
    check_bad(__LINE__, "{1: 1}", 1, "$", "expected a string key or '}'");
    check_bad(__LINE__, "{\"k\\u00e9\": {\"x\": [1, 2 3]}}", 24, "$[\"k\xc3\xa9\"].x",
              "expected ',' or ']'");
    check_bad(__LINE__, "{\"a\": {\"b c\": [true, {\"d\": nul}]}}", 27, "$.a[\"b c\"][1].d",
              "expected a value, found nul");

    /* deeper than JSON_LOC_MAX_DEPTH */
    size_t n = JSON_LOC_MAX_DEPTH + 10;
    char *deep = xmalloc(n + 1);
    memset(deep, '[', n);
    deep[n] = '\0';
    CHECK(json_loc_check(deep, n, &err) == -EINVAL);
    CHECK_CONTAINS(err.message, "nesting is too deep");
    free(deep);

    /* a NULL err is allowed */
    CHECK(json_loc_check("[", 1, NULL) == -EINVAL);
}

/* ---- valid configs ---- */

static void test_defaults(void)
{
    char *dir = new_case();
    put(dir, "channels/1.json", minimal_channel);
    strbuf_t errs;
    strbuf_init(&errs);
    config_t *cfg = NULL;
    CHECK(config_load(dir, &cfg, &errs) == 0);
    CHECK(errs.len == 0);
    if (cfg != NULL) {
        char *abs = realpath(dir, NULL);
        char *state = xasprintf("%s/state", abs);
        char *file = xasprintf("%s/channels/1.json", abs);
        char *media = xasprintf("%s/media/a.ts", abs);
        CHECK_STR(cfg->dir, abs);
        CHECK_STR(cfg->listen_host, "0.0.0.0");
        CHECK(cfg->listen_port == 8080);
        CHECK_STR(cfg->state_dir, state);
        CHECK_STR(cfg->ffmpeg, "ffmpeg");
        CHECK_STR(cfg->ffprobe, "ffprobe");
        CHECK_STR(cfg->log_level, "info");
        CHECK(cfg->house.width == 640 && cfg->house.height == 480);
        CHECK(cfg->house.fps_num == 30000 && cfg->house.fps_den == 1001);
        CHECK(cfg->house.gop_frames == 60);
        CHECK(cfg->house.audio_rate == 48000 && cfg->house.audio_channels == 2);
        CHECK(cfg->house.video_kbps == 1500 && cfg->house.audio_kbps == 128);
        CHECK_NEAR(cfg->segment_seconds, 2.002, 1e-9);
        CHECK(cfg->n_channels == 1);
        const channel_conf_t *ch = &cfg->channels[0];
        CHECK_STR(ch->number, "1");
        CHECK_STR(ch->name, "Retro One");
        CHECK_STR(ch->file, file);
        CHECK(ch->mode == ENCODE_AUTO);
        CHECK_NEAR(ch->epoch, 1767225600.0, 1e-6);
        CHECK(ch->n_items == 1);
        CHECK_STR(ch->items[0], media);
        CHECK(config_find_channel(cfg, "1") == ch);
        free(abs);
        free(state);
        free(file);
        free(media);
    }
    config_free(cfg);
    strbuf_dispose(&errs);

    /* an empty object is all defaults too, and a BOM is fine */
    put(dir, "retrovue.json", "\xEF\xBB\xBF{ }\n");
    cfg = NULL;
    CHECK(config_load(dir, &cfg, NULL) == 0);
    CHECK(cfg != NULL && cfg->listen_port == 8080);
    config_free(cfg);
    free(dir);
}

static void test_everything_set(void)
{
    char *dir = new_case();
    put(dir, "retrovue.json",
        "{\n"
        "  \"server\": {\n"
        "    \"listen\": \"127.0.0.1:9090\",\n"
        "    \"state_dir\": \"./data//state/\",\n"
        "    \"log_level\": \"debug\",\n"
        "    \"ffmpeg\": \"/usr/local/bin/ffmpeg\",\n"
        "    \"ffprobe\": \"tools/ffprobe\"\n"
        "  },\n"
        "  \"house\": {\n"
        "    \"width\": 1280, \"height\": 720, \"fps\": \"25\", \"gop_frames\": 50,\n"
        "    \"audio_rate\": 44100, \"audio_channels\": 1, \"video_kbps\": 3000,\n"
        "    \"audio_kbps\": 96\n"
        "  }\n"
        "}\n");
    put(dir, "channels/b.json",
        "{\"number\": \"10\", \"name\": \"Ten\", \"playlist\": [\"/srv/x.ts\", \"y.ts\"]}");
    put(dir, "channels/a.json",
        "{\"number\": \"2.1\", \"name\": \"Two One\", \"mode\": \"live\",\n"
        " \"playlist\": [\"z.ts\"]}");
    /* CRLF, tabs and an escaped key: all still valid */
    put(dir, "channels/c.json",
        "{\r\n\t\"number\": \"2\",\r\n\t\"n\\u0061me\": \"Caf\\u00e9 \xe2\x98\x95\",\r\n"
        "\t\"mode\": \"copy\",\r\n\t\"epoch\": \"2026-03-01T12:00:00-05:00\",\r\n"
        "\t\"playlist\": [\"media/shows/one.ts\", \"./media/../ads/two.ts\", \"three.ts\"]\r\n}");
    put(dir, "channels/notes.txt", "not a channel");
    put(dir, "channels/.#b.json", "{ editor lock file");

    strbuf_t errs;
    strbuf_init(&errs);
    config_t *cfg = NULL;
    CHECK(config_load(dir, &cfg, &errs) == 0);
    if (errs.len)
        fprintf(stderr, "unexpected errors:\n%s", errs.data);
    strbuf_dispose(&errs);
    if (cfg == NULL) {
        free(dir);
        return;
    }
    char *abs = realpath(dir, NULL);
    char *s;
    CHECK_STR(cfg->listen_host, "127.0.0.1");
    CHECK(cfg->listen_port == 9090);
    CHECK_STR(cfg->state_dir, s = xasprintf("%s/data/state", abs));
    free(s);
    CHECK_STR(cfg->log_level, "debug");
    CHECK_STR(cfg->ffmpeg, "/usr/local/bin/ffmpeg");
    CHECK_STR(cfg->ffprobe, s = xasprintf("%s/tools/ffprobe", abs));
    free(s);
    CHECK(cfg->house.width == 1280 && cfg->house.height == 720);
    CHECK(cfg->house.fps_num == 25 && cfg->house.fps_den == 1);
    CHECK(cfg->house.gop_frames == 50);
    CHECK(cfg->house.audio_rate == 44100 && cfg->house.audio_channels == 1);
    CHECK(cfg->house.video_kbps == 3000 && cfg->house.audio_kbps == 96);
    CHECK_NEAR(cfg->segment_seconds, 2.0, 1e-9);

    CHECK(cfg->n_channels == 3);
    if (cfg->n_channels == 3) {
        const channel_conf_t *c2 = &cfg->channels[0], *c21 = &cfg->channels[1],
                             *c10 = &cfg->channels[2];
        CHECK_STR(c2->number, "2");
        CHECK_STR(c21->number, "2.1");
        CHECK_STR(c10->number, "10");
        CHECK_STR(c2->name, "Caf\xc3\xa9 \xe2\x98\x95");
        CHECK(c2->mode == ENCODE_COPY);
        CHECK(c21->mode == ENCODE_LIVE);
        CHECK(c10->mode == ENCODE_AUTO);
        CHECK_NEAR(c2->epoch, 1772384400.0, 1e-6);
        CHECK_STR(c2->file, s = xasprintf("%s/channels/c.json", abs));
        free(s);
        CHECK(c2->n_items == 3);
        CHECK_STR(c2->items[0], s = xasprintf("%s/media/shows/one.ts", abs));
        free(s);
        CHECK_STR(c2->items[1], s = xasprintf("%s/media/../ads/two.ts", abs));
        free(s);
        CHECK_STR(c2->items[2], s = xasprintf("%s/three.ts", abs));
        free(s);
        CHECK(c10->n_items == 2);
        CHECK_STR(c10->items[0], "/srv/x.ts");
        CHECK(config_find_channel(cfg, "2") == c2);
        CHECK(config_find_channel(cfg, "02") == c2);
        CHECK(config_find_channel(cfg, "2.1") == c21);
        CHECK(config_find_channel(cfg, "10") == c10);
        CHECK(config_find_channel(cfg, "5") == NULL);
        CHECK(config_find_channel(cfg, "two") == NULL);
        CHECK(config_find_channel(cfg, NULL) == NULL);
    }

    CHECK(config_set_listen(cfg, ":7000") == 0);
    CHECK_STR(cfg->listen_host, "0.0.0.0");
    CHECK(cfg->listen_port == 7000);
    CHECK(config_set_listen(cfg, "localhost:80") == 0);
    CHECK_STR(cfg->listen_host, "127.0.0.1");
    CHECK(cfg->listen_port == 80);
    CHECK(config_set_listen(cfg, "10.1.2.3:65535") == 0);
    CHECK_STR(cfg->listen_host, "10.1.2.3");
    CHECK(cfg->listen_port == 65535);
    const char *bad[] = {"8080", ":0", ":65536", ":", "host:80", "1.2.3:80", "1.2.3.4:8o",
                         "[::1]:80", ""};
    for (size_t i = 0; i < RV_ARRAY_SIZE(bad); i++)
        CHECK(config_set_listen(cfg, bad[i]) == -EINVAL);
    CHECK_STR(cfg->listen_host, "10.1.2.3");
    CHECK(cfg->listen_port == 65535);
    free(abs);
    config_free(cfg);
    config_free(NULL);
    free(dir);
}

/* The tuner section and base_url: defaults, every field, and each kind of error. */
static void test_tuner_and_base_url(void)
{
    char *dir = new_case();
    put(dir, "channels/1.json", minimal_channel);
    put(dir, "retrovue.json", "{}");
    strbuf_t errs;
    strbuf_init(&errs);
    config_t *cfg = NULL;
    CHECK(config_load(dir, &cfg, &errs) == 0);
    if (cfg != NULL) {
        CHECK(cfg->base_url == NULL);
        CHECK(cfg->tuner.count == 4 && cfg->tuner.discover && cfg->tuner.ssdp);
        CHECK_STR(cfg->tuner.friendly_name, "Retrovue");
        CHECK(cfg->tuner.bind_host == NULL);
        CHECK(cfg->tuner.discover_port == 65001 && cfg->tuner.ssdp_port == 1900);
        config_free(cfg);
    }
    put(dir, "retrovue.json",
        "{\"server\": {\"base_url\": \"http://tv.lan:8080//\"},\n"
        " \"tuner\": {\"count\": 2, \"friendly_name\": \"Den\", \"discover\": false,\n"
        "  \"ssdp\": false, \"bind\": \"192.168.1.20\", \"discover_port\": 16001,\n"
        "  \"ssdp_port\": 11900}}");
    cfg = NULL;
    CHECK(config_load(dir, &cfg, &errs) == 0);
    if (cfg != NULL) {
        CHECK_STR(cfg->base_url, "http://tv.lan:8080");
        CHECK(cfg->tuner.count == 2 && !cfg->tuner.discover && !cfg->tuner.ssdp);
        CHECK_STR(cfg->tuner.friendly_name, "Den");
        CHECK_STR(cfg->tuner.bind_host, "192.168.1.20");
        CHECK(cfg->tuner.discover_port == 16001 && cfg->tuner.ssdp_port == 11900);
        config_free(cfg);
    }
    strbuf_dispose(&errs);
    free(dir);

    static const struct {
        const char *json, *where;
    } bad[] = {
        {"{\"server\": {\"base_url\": \"tv.lan:8080\"}}",
         "retrovue.json:1:25: $.server.base_url: expected an http:// or https:// URL"},
        {"{\"server\": {\"base_url\": \"http://\"}}",
         "retrovue.json:1:25: $.server.base_url: expected an http:// or https:// URL"},
        {"{\"server\": {\"base_url\": \"http://a/?x=1\"}}",
         "retrovue.json:1:25: $.server.base_url: expected an http:// or https:// URL"},
        {"{\"tuner\": {\"count\": 0}}", "retrovue.json:1:21: $.tuner.count: must be from 1 to 64, "
                                        "found 0"},
        {"{\"tuner\": {\"discover\": \"yes\"}}",
         "retrovue.json:1:24: $.tuner.discover: expected true or false, found a string"},
        {"{\"tuner\": {\"bind\": \"eth0\"}}",
         "retrovue.json:1:20: $.tuner.bind: expected an IPv4 address like \"192.168.1.20\", "
         "found \"eth0\""},
        {"{\"tuner\": {\"ssdp_port\": 70000}}",
         "retrovue.json:1:25: $.tuner.ssdp_port: must be from 1 to 65535, found 70000"},
        {"{\"tuner\": {\"count\": 2, \"tuners\": 3}}",
         "retrovue.json:1:24: $.tuner.tuners: unknown key \"tuners\"; expected one of: count"},
    };
    for (size_t i = 0; i < RV_ARRAY_SIZE(bad); i++) {
        dir = new_case();
        put(dir, "channels/1.json", minimal_channel);
        put(dir, "retrovue.json", bad[i].json);
        char *e = load_errs(dir);
        EXPECT(e, dir, bad[i].where);
        free(e);
        free(dir);
    }
}

/* Media roots for the content manager and the Plex source. */
static void test_media_and_plex(void)
{
    char *dir = new_case();
    put(dir, "channels/1.json", minimal_channel);
    put(dir, "media/tv/.keep", "");
    put(dir, "media/ads/.keep", "");
    put(dir, "retrovue.json",
        "{\"media\": [{\"path\": \"media/tv\", \"holds\": \"episodes\"},\n"
        "           {\"path\": \"media/ads/\", \"holds\": \"commercials\"}],\n"
        " \"plex\": {\"url\": \"http://10.0.0.5:32400/\", \"token\": \"abc\",\n"
        "          \"sections\": [\"TV Shows\"], \"path_map\": {\"/data/tv\": \"media/tv\"}}}");
    strbuf_t errs;
    strbuf_init(&errs);
    config_t *cfg = NULL;
    CHECK(config_load(dir, &cfg, &errs) == 0);
    if (errs.len)
        fprintf(stderr, "unexpected errors:\n%s", errs.data);
    strbuf_dispose(&errs);
    char *abs = realpath(dir, NULL), *s;
    if (cfg != NULL) {
        CHECK(cfg->n_media == 2);
        CHECK_STR(cfg->media[0].path, s = xasprintf("%s/media/tv", abs));
        free(s);
        CHECK(cfg->media[0].kind == MEDIA_EPISODES && cfg->media[1].kind == MEDIA_COMMERCIALS);
        CHECK_STR(cfg->media[1].path, s = xasprintf("%s/media/ads", abs));
        free(s);
        CHECK_STR(media_kind_name(cfg->media[1].kind), "commercials");
        CHECK_STR(cfg->plex.url, "http://10.0.0.5:32400");
        CHECK_STR(cfg->plex.token, "abc");
        CHECK(cfg->plex.n_sections == 1 && strcmp(cfg->plex.sections[0], "TV Shows") == 0);
        CHECK(cfg->plex.n_path_map == 1);
        CHECK_STR(cfg->plex.path_map[0].from, "/data/tv");
        CHECK_STR(cfg->plex.path_map[0].to, s = xasprintf("%s/media/tv", abs));
        free(s);
        /* Defaults: Plex is a source, and is told when the guide changes, 30 s later. */
        CHECK(cfg->plex.ingest == 1 && config_ingests_plex(cfg));
        CHECK(cfg->plex.reload_guide == 1 && cfg->plex.reload_delay == 30);
        config_free(cfg);
    }
    free(abs);
    free(dir);

    /* Plex for Live TV only: its libraries are left alone. */
    dir = new_case();
    put(dir, "channels/1.json", minimal_channel);
    put(dir, "retrovue.json",
        "{\"plex\": {\"url\": \"http://h:32400\", \"token\": \"t\", \"ingest\": false,\n"
        "          \"reload_guide\": false, \"reload_guide_delay\": 0}}");
    cfg = NULL;
    CHECK(config_load(dir, &cfg, NULL) == 0);
    if (cfg != NULL) {
        CHECK(!config_ingests_plex(cfg) && cfg->plex.reload_guide == 0);
        CHECK(cfg->plex.reload_delay == 0);
        config_t *copy = config_copy_content(cfg);
        CHECK(!config_ingests_plex(copy) && copy->plex.reload_guide == 0);
        config_free(copy);
        config_free(cfg);
    }
    free(dir);

    static const struct {
        const char *json, *where;
    } bad[] = {
        {"{\"media\": [{\"path\": \"x\", \"holds\": \"shows\"}]}",
         "retrovue.json:1:35: $.media[0].holds: expected one of: episodes, movies, commercials"},
        {"{\"media\": [{\"holds\": \"movies\"}]}",
         "retrovue.json:1:12: $.media[0]: missing required key \"path\""},
        {"{\"media\": {\"path\": \"x\"}}", "retrovue.json:1:11: $.media: expected an array"},
        {"{\"plex\": {\"url\": \"https://plex.tv\", \"token\": \"t\"}}",
         "retrovue.json:1:18: $.plex.url: expected an http:// URL"},
        {"{\"plex\": {\"url\": \"http://h:32400\"}}",
         "retrovue.json:1:10: $.plex: missing required key \"token\""},
        {"{\"plex\": {\"url\": \"http://h\", \"token\": \"t\",\n  \"reload_guide\": \"yes\"}}",
         "retrovue.json:2:19: $.plex.reload_guide: expected true or false, found a string"},
        {"{\"plex\": {\"url\": \"http://h\", \"token\": \"t\", \"reload_guide_delay\": 7200}}",
         "retrovue.json:1:66: $.plex.reload_guide_delay: must be from 0 to 3600, found 7200"},
        {"{\"plex\": {\"url\": \"http://h\", \"token\": \"t\", \"ingest\": 0}}",
         "retrovue.json:1:54: $.plex.ingest: expected true or false, found a number"},
    };
    for (size_t i = 0; i < RV_ARRAY_SIZE(bad); i++) {
        dir = new_case();
        put(dir, "channels/1.json", minimal_channel);
        put(dir, "retrovue.json", bad[i].json);
        char *e = load_errs(dir);
        EXPECT(e, dir, bad[i].where);
        free(e);
        free(dir);
    }
}

static void test_fps_forms(void)
{
    static const struct {
        const char *json;
        int num, den;
    } cases[] = {
        {"\"30000/1001\"", 30000, 1001}, {"\"24000/1001\"", 24000, 1001}, {"\"50/2\"", 25, 1},
        {"\"25\"", 25, 1},               {"25", 25, 1},                   {"29.97", 30000, 1001},
        {"\"59.94\"", 60000, 1001},      {"12.5", 25, 2},                 {"0.5", 1, 2},
    };
    for (size_t i = 0; i < RV_ARRAY_SIZE(cases); i++) {
        char *dir = new_case();
        put(dir, "channels/1.json", minimal_channel);
        char *text = xasprintf("{\"house\": {\"fps\": %s}}", cases[i].json);
        put(dir, "retrovue.json", text);
        free(text);
        config_t *cfg = NULL;
        CHECK(config_load(dir, &cfg, NULL) == 0);
        if (cfg != NULL) {
            if (cfg->house.fps_num != cases[i].num || cfg->house.fps_den != cases[i].den)
                fprintf(stderr, "fps %s gave %d/%d\n", cases[i].json, cfg->house.fps_num,
                        cfg->house.fps_den);
            CHECK(cfg->house.fps_num == cases[i].num && cfg->house.fps_den == cases[i].den);
        }
        config_free(cfg);
        free(dir);
    }
}

/* ---- errors ---- */

static void test_syntax_errors(void)
{
    char *dir = new_case();
    put(dir, "channels/1.json",
        "{\n"
        "  \"number\": \"1\"\n"
        "  \"name\": \"x\",\n"
        "  \"playlist\": [\"a.ts\"]\n"
        "}\n");
    put(dir, "channels/2.json",
        "{\n"
        "  \"number\": \"2\",\n"
        "  \"name\": \"x\",\n"
        "  \"playlist\": [\"a.ts\", \"b.ts\",],\n"
        "}\n");
    put(dir, "channels/3.json",
        "{\n"
        "  \"number\": \"3\",\n"
        "  \"name\": \"Retro One,\n"
        "  \"playlist\": [\"a.ts\"]\n"
        "}\n");
    put(dir, "channels/4.json", "{\"number\": \"4\", \"name\": \"x\", \"playlist\": [\"a\"]}\n}\n");
    put(dir, "channels/5.json", "");
    put(dir, "channels/6.json", "{\r\n\t\"number\": \"6\",\r\n\t\"name\": oops\r\n}");
    put(dir, "retrovue.json", "{\"server\": {\"listen\": \":80\",}}");
    char *errs = load_errs(dir);
    EXPECT(errs, dir, "channels/1.json:3:3: $: expected ',' or '}' after object member");
    EXPECT(errs, dir, "channels/2.json:4:30: $.playlist: trailing comma is not allowed");
    EXPECT(errs, dir, "channels/3.json:3:11: $.name: unterminated string");
    EXPECT(errs, dir, "channels/4.json:2:1: $: unexpected '}' after the end of the JSON value");
    EXPECT(errs, dir, "channels/5.json:1:1: $: expected a value, found end of file");
    EXPECT(errs, dir, "channels/6.json:3:10: $.name: expected a value, found oops");
    EXPECT(errs, dir, "retrovue.json:1:28: $.server: trailing comma is not allowed");
    CHECK(count_lines(errs) == 7);
    free(errs);
    free(dir);
}

static void test_wrong_types(void)
{
    char *dir = new_case();
    put(dir, "retrovue.json",
        "{\n"
        "  \"server\": {\n"
        "    \"listen\": 8080,\n"
        "    \"state_dir\": false,\n"
        "    \"log_level\": 3,\n"
        "    \"ffmpeg\": null,\n"
        "    \"ffprobe\": []\n"
        "  },\n"
        "  \"house\": {\n"
        "    \"width\": \"640\",\n"
        "    \"height\": true,\n"
        "    \"fps\": [30],\n"
        "    \"gop_frames\": \"60\",\n"
        "    \"audio_rate\": null,\n"
        "    \"audio_channels\": {},\n"
        "    \"video_kbps\": \"1500\",\n"
        "    \"audio_kbps\": false\n"
        "  }\n"
        "}\n");
    put(dir, "channels/1.json",
        "{\n"
        "  \"number\": 3,\n"
        "  \"name\": 7,\n"
        "  \"mode\": true,\n"
        "  \"epoch\": 1767225600,\n"
        "  \"playlist\": \"a.ts\"\n"
        "}\n");
    put(dir, "channels/2.json",
        "{\"number\": 5.10, \"name\": \"\", \"playlist\": [\"a.ts\", 5, \"\", null]}");
    put(dir, "channels/3.json", "[\"number\", \"3\"]");
    put(dir, "channels/4.json", "{\"number\": [], \"name\": {}, \"playlist\": {}}");
    char *errs = load_errs(dir);
    const char *r = "retrovue.json";
    char *w;
#define EXPECT_R(tail)                                                                       \
    do {                                                                                     \
        w = xasprintf("%s:%s", r, tail);                                                     \
        EXPECT(errs, dir, w);                                                                \
        free(w);                                                                             \
    } while (0)
    EXPECT_R("3:15: $.server.listen: expected a string like \"0.0.0.0:8080\", found a number");
    EXPECT_R("4:18: $.server.state_dir: expected a string (a directory path), found false");
    EXPECT_R("5:18: $.server.log_level: expected a string (one of: debug, info, warn, error), "
             "found a number");
    EXPECT_R("6:15: $.server.ffmpeg: expected a string (a program name or path), found null");
    EXPECT_R("7:16: $.server.ffprobe: expected a string (a program name or path), found an "
             "array");
    EXPECT_R("10:14: $.house.width: expected an integer, found a string (write 640 without "
             "quotes)");
    EXPECT_R("11:15: $.house.height: expected an integer, found true");
    EXPECT_R("12:12: $.house.fps: expected a frame rate like \"30000/1001\" or 25, found an "
             "array");
    EXPECT_R("13:19: $.house.gop_frames: expected an integer, found a string");
    EXPECT_R("14:19: $.house.audio_rate: expected an integer, found null");
    EXPECT_R("15:23: $.house.audio_channels: expected an integer, found an object");
    EXPECT_R("16:19: $.house.video_kbps: expected an integer, found a string (write 1500");
    EXPECT_R("17:19: $.house.audio_kbps: expected an integer, found false");
#undef EXPECT_R
    EXPECT(errs, dir,
           "channels/1.json:2:13: $.number: expected a string like \"3\", found a number");
    EXPECT(errs, dir, "channels/1.json:3:11: $.name: expected a string, found a number");
    EXPECT(errs, dir,
           "channels/1.json:4:11: $.mode: expected a string (one of: auto, copy, live), found "
           "true");
    EXPECT(errs, dir,
           "channels/1.json:5:12: $.epoch: expected a string like \"2026-01-01T00:00:00Z\", "
           "found a number");
    EXPECT(errs, dir,
           "channels/1.json:6:15: $.playlist: expected an array of media file paths, found a "
           "string");
    EXPECT(errs, dir,
           "channels/2.json:1:12: $.number: expected a string like \"5.10\", found a number");
    EXPECT(errs, dir, "channels/2.json:1:26: $.name: must not be empty");
    EXPECT(errs, dir,
           "channels/2.json:1:51: $.playlist[1]: expected a string (a media file path), found "
           "a number");
    EXPECT(errs, dir, "channels/2.json:1:54: $.playlist[2]: must not be empty");
    EXPECT(errs, dir, "channels/2.json:1:58: $.playlist[3]: expected a string (a media file");
    EXPECT(errs, dir, "channels/3.json:1:1: $: expected an object, found an array");
    EXPECT(errs, dir, "channels/4.json:1:12: $.number: expected a string like \"3\", found an "
                      "array");
    EXPECT(errs, dir, "channels/4.json:1:24: $.name: expected a string, found an object");
    EXPECT(errs, dir, "channels/4.json:1:40: $.playlist: expected an array of media file paths, "
                      "found an object");
    CHECK(count_lines(errs) == 13 + 5 + 5 + 1 + 3);
    free(errs);

    put(dir, "retrovue.json", "{\"server\": \"x\", \"house\": 5}");
    put(dir, "channels/1.json", minimal_channel);
    put(dir, "channels/2.json", "{\"number\": \"2\", \"name\": \"x\", \"playlist\": [\"a\"]}");
    put(dir, "channels/3.json", "{\"number\": \"3\", \"name\": \"x\", \"playlist\": [\"a\"]}");
    put(dir, "channels/4.json", "{\"number\": \"4\", \"name\": \"x\", \"playlist\": [\"a\"]}");
    errs = load_errs(dir);
    EXPECT(errs, dir, "retrovue.json:1:12: $.server: expected an object, found a string");
    EXPECT(errs, dir, "retrovue.json:1:26: $.house: expected an object, found a number");
    CHECK(count_lines(errs) == 2);
    free(errs);

    put(dir, "retrovue.json", "\n  [1]");
    errs = load_errs(dir);
    EXPECT(errs, dir, "retrovue.json:2:3: $: expected an object, found an array");
    free(errs);
    free(dir);
}

static void test_out_of_range(void)
{
    char *dir = new_case();
    put(dir, "channels/1.json", minimal_channel);
    put(dir, "retrovue.json",
        "{\"house\": {\n"
        "\"width\": 641,\n"
        "\"height\": 8,\n"
        "\"gop_frames\": 0,\n"
        "\"audio_rate\": 22050,\n"
        "\"audio_channels\": 6,\n"
        "\"video_kbps\": 0,\n"
        "\"audio_kbps\": -5\n"
        "}}");
    char *errs = load_errs(dir);
    EXPECT(errs, dir, "retrovue.json:2:10: $.house.width: must be an even number from 16 to 4096, "
                      "found 641");
    EXPECT(errs, dir, "retrovue.json:3:11: $.house.height: must be an even number from 16 to "
                      "4096, found 8");
    EXPECT(errs, dir, "retrovue.json:4:15: $.house.gop_frames: must be from 1 to 1000, found 0");
    EXPECT(errs, dir, "retrovue.json:5:15: $.house.audio_rate: must be 32000, 44100 or 48000, "
                      "found 22050");
    EXPECT(errs, dir, "retrovue.json:6:19: $.house.audio_channels: must be 1 (mono) or 2 "
                      "(stereo), found 6");
    EXPECT(errs, dir, "retrovue.json:7:15: $.house.video_kbps: must be from 1 to 1000000, found 0");
    EXPECT(errs, dir,
           "retrovue.json:8:15: $.house.audio_kbps: must be from 1 to 1000000, found -5");
    CHECK(count_lines(errs) == 7);
    free(errs);

    put(dir, "retrovue.json",
        "{\"house\": {\"width\": 640.5, \"height\": 1e400, \"gop_frames\": 1001}}");
    errs = load_errs(dir);
    EXPECT(errs, dir, "retrovue.json:1:21: $.house.width: expected an integer, found 640.5");
    EXPECT(errs, dir, "retrovue.json:1:38: $.house.height: must be an even number from 16 to "
                      "4096, found 1e400");
    EXPECT(errs, dir, "retrovue.json:1:59: $.house.gop_frames: must be from 1 to 1000, found 1001");
    free(errs);

    /* channel number, name length */
    char longname[120];
    memset(longname, 'n', 101);
    longname[101] = '\0';
    char *text = xasprintf("{\"number\": \"12345\", \"name\": \"%s\", \"playlist\": [\"a\"]}",
                           longname);
    put(dir, "retrovue.json", "{}");
    put(dir, "channels/1.json", text);
    free(text);
    put(dir, "channels/2.json",
        "{\"number\": \"5.1234\", \"name\": \"a\\nb\", \"playlist\": [\"a\"]}");
    put(dir, "channels/3.json", "{\"number\": \"x\", \"name\": \"ok\", \"playlist\": [\"a\"]}");
    errs = load_errs(dir);
    EXPECT(errs, dir, "channels/1.json:1:12: $.number: channel number must look like \"3\" or "
                      "\"5.1\" (1 to 4 digits, optionally a dot and 1 to 3 digits), found "
                      "\"12345\"");
    EXPECT(errs, dir, "channels/1.json:1:29: $.name: is too long (101 characters; at most 100)");
    EXPECT(errs, dir, "channels/2.json:1:12: $.number: channel number must look like");
    EXPECT(errs, dir, "channels/2.json:1:30: $.name: must not contain control characters");
    EXPECT(errs, dir, "channels/3.json:1:12: $.number: channel number must look like \"3\" or "
                      "\"5.1\" (1 to 4 digits, optionally a dot and 1 to 3 digits), found \"x\"");
    CHECK(count_lines(errs) == 5);
    free(errs);
    free(dir);
}

static void test_bad_listen_fps_epoch_mode(void)
{
    static const struct {
        const char *value, *message;
    } listens[] = {
        {"\"8080\"", "invalid listen address \"8080\": expected \"HOST:PORT\""},
        {"\"0.0.0.0:99999\"", "invalid listen address \"0.0.0.0:99999\": port must be a number "
                              "from 1 to 65535"},
        {"\":0\"", "invalid listen address \":0\": port must be a number from 1 to 65535"},
        {"\"example.com:80\"", "invalid listen address \"example.com:80\": host must be an IPv4 "
                               "address"},
    };
    for (size_t i = 0; i < RV_ARRAY_SIZE(listens); i++) {
        char *dir = new_case();
        put(dir, "channels/1.json", minimal_channel);
        char *text = xasprintf("{\"server\": {\"listen\": %s}}", listens[i].value);
        put(dir, "retrovue.json", text);
        free(text);
        char *errs = load_errs(dir);
        char *want = xasprintf("retrovue.json:1:23: $.server.listen: %s", listens[i].message);
        EXPECT(errs, dir, want);
        free(want);
        free(errs);
        free(dir);
    }

    static const struct {
        const char *value, *message;
    } fpss[] = {
        {"\"abc\"", "expected a frame rate like \"30000/1001\", \"25\" or 29.97, found \"abc\""},
        {"\"30/0\"", "expected a frame rate like \"30000/1001\", \"25\" or 29.97, found \"30/0\""},
        {"\"30/\"", "expected a frame rate like"},
        {"\"-30\"", "expected a frame rate like"},
        {"\"0/1\"", "frame rate must be above 0 and at most 1000, found \"0/1\""},
        {"0", "frame rate must be above 0 and at most 1000, found 0"},
        {"-25", "frame rate must be above 0 and at most 1000, found -25"},
        {"2000", "frame rate must be above 0 and at most 1000, found 2000"},
        {"12.3456", "expected a frame rate like \"30000/1001\", \"25\" or 29.97, found 12.3456"},
    };
    for (size_t i = 0; i < RV_ARRAY_SIZE(fpss); i++) {
        char *dir = new_case();
        put(dir, "channels/1.json", minimal_channel);
        char *text = xasprintf("{\"house\": {\"fps\": %s}}", fpss[i].value);
        put(dir, "retrovue.json", text);
        free(text);
        char *errs = load_errs(dir);
        char *want = xasprintf("retrovue.json:1:19: $.house.fps: %s", fpss[i].message);
        EXPECT(errs, dir, want);
        free(want);
        free(errs);
        free(dir);
    }

    static const char *const epochs[] = {"yesterday", "2026-02-30T00:00:00Z",
                                         "2026-01-01T00:00:00", "2026-01-01 00:00:00Z",
                                         "2026-01-01T00:00:00+5:00", "2025-02-29T00:00:00Z"};
    for (size_t i = 0; i < RV_ARRAY_SIZE(epochs); i++) {
        char *dir = new_case();
        char *text = xasprintf("{\"number\": \"1\", \"name\": \"x\", \"epoch\": \"%s\", "
                               "\"playlist\": [\"a\"]}",
                               epochs[i]);
        put(dir, "channels/1.json", text);
        free(text);
        char *errs = load_errs(dir);
        char *want = xasprintf("channels/1.json:1:39: $.epoch: expected an ISO 8601 time with Z "
                               "or an offset, like \"2026-01-01T00:00:00Z\" or "
                               "\"2026-01-01T00:00:00-05:00\", found \"%s\"",
                               epochs[i]);
        EXPECT(errs, dir, want);
        CHECK(count_lines(errs) == 1);
        free(want);
        free(errs);
        free(dir);
    }

    char *dir = new_case();
    put(dir, "channels/1.json",
        "{\"number\": \"1\", \"name\": \"x\", \"mode\": \"fast\", \"playlist\": [\"a\"]}");
    char *errs = load_errs(dir);
    EXPECT(errs, dir,
           "channels/1.json:1:38: $.mode: expected one of: auto, copy, live; found \"fast\"");
    free(errs);
    put(dir, "retrovue.json", "{\"server\": {\"log_level\": \"verbose\"}}");
    errs = load_errs(dir);
    EXPECT(errs, dir, "retrovue.json:1:26: $.server.log_level: expected one of: debug, info, "
                      "warn, error; found \"verbose\"");
    EXPECT(errs, dir, "channels/1.json:1:38: $.mode:");
    CHECK(count_lines(errs) == 2);
    free(errs);
    free(dir);
}

static void test_unknown_and_missing_keys(void)
{
    char *dir = new_case();
    put(dir, "retrovue.json", "{\"sever\": {},\n \"server\": {\"listne\": \":80\"}}");
    put(dir, "channels/1.json",
        "{\n"
        "  \"number\": \"1\",\n"
        "  \"name\": \"x\",\n"
        "  \"playlsit\": [\"a.ts\"]\n"
        "}\n");
    put(dir, "channels/2.json", "\n\n   {\"number\": \"2\"}");
    put(dir, "channels/3.json",
        "{\"number\": \"3\", \"name\": \"a\", \"name\": \"b\", \"playl\\u00efst\": 1, "
        "\"odd key\": 2, \"playlist\": [\"x\"]}");
    char *errs = load_errs(dir);
    EXPECT(errs, dir, "retrovue.json:1:2: $.sever: unknown key \"sever\"; expected one of: "
                      "server, house");
    EXPECT(errs, dir, "retrovue.json:2:13: $.server.listne: unknown key \"listne\"; expected one "
                      "of: listen, state_dir, log_level, ffmpeg, ffprobe");
    EXPECT(errs, dir, "channels/1.json:4:3: $.playlsit: unknown key \"playlsit\"; expected one "
                      "of: number, name, mode, epoch, playlist");
    EXPECT(errs, dir, "channels/1.json:1:1: $: missing required key \"playlist\"");
    EXPECT(errs, dir, "channels/2.json:3:4: $: missing required key \"name\"");
    EXPECT(errs, dir, "channels/2.json:3:4: $: missing required key \"playlist\"");
    EXPECT(errs, dir, "channels/3.json:1:30: $.name: duplicate key \"name\"; each key may appear "
                      "only once");
    EXPECT(errs, dir, "channels/3.json:1:43: $[\"playl\xc3\xafst\"]: unknown key "
                      "\"playl\xc3\xafst\"; expected one of");
    EXPECT(errs, dir, "channels/3.json:1:63: $[\"odd key\"]: unknown key \"odd key\"");
    CHECK(count_lines(errs) == 9);
    free(errs);
    free(dir);
}

static void test_playlist_and_duplicates(void)
{
    char *dir = new_case();
    put(dir, "channels/a.json", "{\"number\": \"3\", \"name\": \"x\", \"playlist\": [\"a\"]}");
    put(dir, "channels/b.json", "{\"number\": \"3\", \"name\": \"y\", \"playlist\": [\"b\"]}");
    put(dir, "channels/c.json", "{\"number\": \"03\", \"name\": \"z\", \"playlist\": []}");
    put(dir, "channels/d.json", "{\"number\": \"3.0\", \"name\": \"w\", \"playlist\": [\"d\"]}");
    char *errs = load_errs(dir);
    char *want = xasprintf("channels/b.json:1:12: $.number: channel number \"3\" is already used "
                           "by %s/channels/a.json",
                           dir);
    EXPECT(errs, dir, want);
    free(want);
    want = xasprintf("channels/c.json:1:12: $.number: channel number \"03\" is the same as \"3\" "
                     "in %s/channels/a.json",
                     dir);
    EXPECT(errs, dir, want);
    free(want);
    EXPECT(errs, dir, "channels/c.json:1:43: $.playlist: playlist is empty; list at least one "
                      "media file");
    CHECK(count_lines(errs) == 3); /* "3.0" is a different channel from "3" */
    free(errs);
    free(dir);
}

static void test_directories(void)
{
    char *dir = new_case();
    char *errs = load_errs(dir);
    EXPECT(errs, dir, "channels: channels directory not found");
    CHECK(count_lines(errs) == 1);
    free(errs);

    char *channels = xasprintf("%s/channels", dir);
    CHECK(mkdir(channels, 0755) == 0);
    put(dir, "channels/readme.txt", "channels go here");
    put(dir, "retrovue.json", "{\"server\": {\"log_level\": \"loud\"}}");
    errs = load_errs(dir);
    EXPECT(errs, dir, "channels: no channel files (*.json) found");
    EXPECT(errs, dir, "retrovue.json:1:26: $.server.log_level:");
    CHECK(count_lines(errs) == 2);
    free(errs);
    free(channels);

    char *missing = xasprintf("%s/nope", dir);
    errs = load_errs(missing);
    char *want = xasprintf("%s: cannot open the config directory", missing);
    CHECK_CONTAINS(errs, want);
    free(want);
    free(errs);
    free(missing);

    char *file = xasprintf("%s/retrovue.json", dir);
    errs = load_errs(file);
    want = xasprintf("%s: the config location is not a directory", file);
    CHECK_CONTAINS(errs, want);
    free(want);
    free(errs);
    free(file);

    /* errors == NULL is allowed and nothing leaks */
    config_t *cfg = NULL;
    CHECK(config_load(dir, &cfg, NULL) == -EINVAL);
    CHECK(cfg == NULL);
    free(dir);
}

static void test_many_errors_one_file(void)
{
    char *dir = new_case();
    put(dir, "channels/1.json",
        "{\n"
        "  \"number\": 7,\n"
        "  \"nmae\": \"Seven\",\n"
        "  \"mode\": \"turbo\",\n"
        "  \"epoch\": \"soon\",\n"
        "  \"playlist\": [\"ok.ts\", 42, \"\"]\n"
        "}\n");
    char *errs = load_errs(dir);
    EXPECT(errs, dir, "channels/1.json:2:13: $.number: expected a string like \"7\"");
    EXPECT(errs, dir, "channels/1.json:3:3: $.nmae: unknown key \"nmae\"");
    EXPECT(errs, dir, "channels/1.json:4:11: $.mode: expected one of: auto, copy, live");
    EXPECT(errs, dir, "channels/1.json:5:12: $.epoch: expected an ISO 8601 time");
    EXPECT(errs, dir, "channels/1.json:6:25: $.playlist[1]: expected a string");
    EXPECT(errs, dir, "channels/1.json:6:29: $.playlist[2]: must not be empty");
    EXPECT(errs, dir, "channels/1.json:1:1: $: missing required key \"name\"");
    CHECK(count_lines(errs) == 7);
    /* reported in document order, the missing key last */
    char *first = xasprintf("%s/channels/1.json:2:13:", dir);
    CHECK(strncmp(errs, first, strlen(first)) == 0);
    free(first);
    free(errs);
    free(dir);
}


/* ---- schedules: the library in retrovue.json and "schedule" in channel files ---- */

static const char *const sched_main =
    "{\"library\": {\n"
    "  \"series\": {\n"
    "    \"nebula\": {\"files\": [\"media/n-*.ts\"], \"title\": 5},\n"
    "    \"bad name!\": {\"files\": []},\n"
    "    \"carol\": {\"files\": [\"media/c1.ts\"], \"ratin\": \"G\"}\n"
    "  },\n"
    "  \"collections\": {\"films\": {\"files\": [\"media/m-*.ts\"], \"tags\": [\"night\", 3]}},\n"
    "  \"pools\": {\"ads\": [\"media/ad-*.ts\"], \"fill\": [\"media/f.ts\"], \"ids\": \"media/id.ts\"}\n"
    "}}\n";

static void test_schedule_errors(void)
{
    char *dir = new_case();
    put(dir, "retrovue.json", sched_main);
    put(dir, "channels/1.json",
        "{\"number\": \"1\", \"name\": \"One\", \"call_sign\": \"W\",\n"
        " \"timezone\": \"Mars/Base\", \"logo\": 7,\n"
        " \"schedule\": {\n"
        "  \"seed\": -1, \"days_ahead\": 1,\n"
        "  \"breaks\": {\"commercials\": \"adz\", \"per_half_hour\": 0},\n"
        "  \"blocks\": [\n"
        "   {\"days\": \"mon-fry\", \"start\": \"25:00\", \"end\": \"24:01\", \"slot\": \"30s\",\n"
        "    \"series\": \"nebular\", \"order\": \"backwards\"},\n"
        "   {\"days\": \"daily\", \"start\": \"06:00\", \"slot\": \"30m\", \"series\": [\"nebula\"],\n"
        "    \"movies\": {\"collection\": \"films\"}},\n"
        "   {\"days\": \"sat\", \"start\": \"20:00\", \"end\": \"22:00\", \"slot\": \"30m\",\n"
        "    \"movies\": {\"tag\": \"day\"}, \"round_up\": \"1x\"},\n"
        "   {\"days\": \"daily\", \"start\": \"00:00\", \"end\": \"06:00\", \"off_air\": {\"signoff\": \"ids\"}}\n"
        "  ],\n"
        "  \"overrides\": [{\"date\": \"2026-02-30\", \"blocks\": [\n"
        "   {\"days\": \"sun\", \"start\": \"10:00\", \"slots\": 100, \"slot\": \"30m\", \"series\": \"carol\"}]}]\n"
        " }}\n");
    put(dir, "channels/2.json",
        "{\"number\": \"2\", \"name\": \"Two\", \"playlist\": [\"a.ts\"],\n"
        " \"schedule\": {\"breaks\": {\"filler\": \"fill\"}, \"blocks\": []}}\n");
    char *errs = load_errs(dir);
    EXPECT(errs, dir, "retrovue.json:3:52: $.library.series.nebula.title: expected a string, found a number");
    EXPECT(errs, dir, "retrovue.json:4:5: $.library.series[\"bad name!\"]: name \"bad name!\" must be 1 to 64 letters, digits, '-', '_' or '.'");
    EXPECT(errs, dir, "retrovue.json:5:41: $.library.series.carol.ratin: unknown key \"ratin\"; expected one of: title, files, promos, rating, genre");
    EXPECT(errs, dir, "retrovue.json:7:74: $.library.collections.films.tags[1]: expected a string (a tag), found a number");
    EXPECT(errs, dir, "retrovue.json:8:70: $.library.pools.ids: expected an array of file paths or patterns, found a string");
    EXPECT(errs, dir, "channels/1.json:1:45: $.call_sign: call sign must be 3 to 6 letters, digits or '-', found \"W\"");
    EXPECT(errs, dir, "channels/1.json:2:14: $.timezone: unknown time zone \"Mars/Base\"; use an IANA name like \"America/New_York\" or \"UTC\" (see /usr/share/zoneinfo)");
    EXPECT(errs, dir, "channels/1.json:2:35: $.logo: expected a string (an image file path), found a number");
    EXPECT(errs, dir, "channels/1.json:4:11: $.schedule.seed: must be from 0 to 9007199254740991, found -1");
    EXPECT(errs, dir, "channels/1.json:4:29: $.schedule.days_ahead: must be from 3 to 60, found 1");
    EXPECT(errs, dir, "channels/1.json:5:29: $.schedule.breaks.commercials: unknown pool \"adz\"; retrovue.json's library has ads, fill, ids");
    EXPECT(errs, dir, "channels/1.json:5:53: $.schedule.breaks.per_half_hour: must be from 1 to 8, found 0");
    EXPECT(errs, dir, "channels/1.json:5:13: $.schedule.breaks: missing required key \"filler\"");
    EXPECT(errs, dir, "channels/1.json:7:13: $.schedule.blocks[0].days: expected days like \"daily\", \"weekdays\", \"weekends\", \"sat\", \"mon-fri\" or \"mon,wed,fri\", found \"mon-fry\"");
    EXPECT(errs, dir, "channels/1.json:7:33: $.schedule.blocks[0].start: expected a local time from \"00:00\" to \"23:59\", found \"25:00\"");
    EXPECT(errs, dir, "channels/1.json:7:49: $.schedule.blocks[0].end: expected a local time from \"00:00\" to \"24:00\", found \"24:01\"");
    EXPECT(errs, dir, "channels/1.json:7:66: $.schedule.blocks[0].slot: expected a length in whole minutes like \"30m\", \"90m\", \"2h\" or \"1h30m\" (at most 24h), found \"30s\"");
    EXPECT(errs, dir, "channels/1.json:8:15: $.schedule.blocks[0].series: unknown series \"nebular\"; retrovue.json's library has nebula, carol");
    EXPECT(errs, dir, "channels/1.json:8:35: $.schedule.blocks[0].order: expected one of: sequential, shuffle, random; found \"backwards\"");
    EXPECT(errs, dir, "channels/1.json:7:4: $.schedule.blocks[0]: give exactly one of \"end\" (a time) or \"slots\" (a count)");
    EXPECT(errs, dir, "channels/1.json:9:4: $.schedule.blocks[1]: give exactly one of \"series\", \"movies\" or \"off_air\" (what fills the block)");
    EXPECT(errs, dir, "channels/1.json:9:4: $.schedule.blocks[1]: give exactly one of \"end\" (a time) or \"slots\" (a count)");
    EXPECT(errs, dir, "channels/1.json:12:23: $.schedule.blocks[2].movies.tag: no collection in the library has the tag \"day\"");
    EXPECT(errs, dir, "channels/1.json:12:43: $.schedule.blocks[2].round_up: expected a length in whole minutes like \"30m\", \"90m\", \"2h\" or \"1h30m\" (at most 24h), found \"1x\"");
    EXPECT(errs, dir, "channels/1.json:13:68: $.schedule.blocks[3].off_air.signoff: unknown key \"signoff\"; expected one of: sign_off, pattern, sign_on");
    EXPECT(errs, dir, "channels/1.json:13:67: $.schedule.blocks[3].off_air: missing required key \"pattern\"");
    EXPECT(errs, dir, "channels/1.json:15:26: $.schedule.overrides[0].date: expected a date like \"2026-12-25\", found \"2026-02-30\"");
    EXPECT(errs, dir, "channels/1.json:16:5: $.schedule.overrides[0].blocks[0].days: an override's blocks air on its date; remove \"days\"");
    EXPECT(errs, dir, "channels/1.json:16:4: $.schedule.overrides[0].blocks[0]: a block lasts at most 24 hours (100 slots of 30 minutes)");
    EXPECT(errs, dir, "channels/2.json:2:55: $.schedule.blocks: list at least one block");
    EXPECT(errs, dir, "channels/2.json:2:2: $.schedule: a channel has either \"playlist\" or \"schedule\", not both");
    CHECK(count_lines(errs) == 31);
    free(errs);
    free(dir);
}

int main(void)
{
    if (mkdtemp(root) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    test_path_render();
    test_find();
    test_line_col();
    test_check();
    test_defaults();
    test_everything_set();
    test_tuner_and_base_url();
    test_media_and_plex();
    test_fps_forms();
    test_syntax_errors();
    test_wrong_types();
    test_out_of_range();
    test_bad_listen_fps_epoch_mode();
    test_unknown_and_missing_keys();
    test_playlist_and_duplicates();
    test_schedule_errors();
    test_directories();
    test_many_errors_one_file();
    nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return CHECK_DONE();
}
