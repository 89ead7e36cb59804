/*
 * Unit tests for the .nfo reader: TinyMediaManager's show, episode, multi-episode and
 * movie files, a Kodi export, CDATA and entities, missing fields, Kodi's URL forms, a
 * broken file's warning (file and line) and finding the sidecars of a media file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "nfo.h"
#include "util.h"

static char *fixtures;

static char *fx(const char *rel)
{
    return xasprintf("%s/%s", fixtures, rel);
}

#define SHOW_DIR "TV/Harbor Lights (1984)"
#define S01 SHOW_DIR "/Season 01/Harbor Lights - "
#define S02 SHOW_DIR "/Season 02/Harbor Lights - "

/* Reads a fixture that must parse without a single warning. */
static int read_clean(const char *rel, nfo_meta_t *m)
{
    char *path = fx(rel);
    strbuf_t w;
    strbuf_init(&w);
    int rc = nfo_read(path, m, &w);
    if (w.len != 0)
        fprintf(stderr, "unexpected warnings for %s:\n%s", rel, w.data);
    CHECK(w.len == 0);
    strbuf_dispose(&w);
    free(path);
    return rc;
}

static void test_tvshow(void)
{
    nfo_meta_t m;
    CHECK(read_clean(SHOW_DIR "/tvshow.nfo", &m) == 0);
    CHECK(m.kind == NFO_SHOW);
    CHECK_STR(m.title, "Harbor Lights");
    CHECK_STR(m.originaltitle, "Harbor Lights");
    CHECK_STR(m.showtitle, "Harbor Lights");
    /* CRLF line ends are trimmed with the rest of the whitespace */
    CHECK_STR(m.plot, "The night crew of a small Maine ferry line keeps the boats running, "
                      "the coffee hot and the regulars out of trouble.");
    CHECK(m.tagline == NULL); /* <tagline/> is unset, not "" */
    CHECK(m.year == 1984);
    CHECK_STR(m.premiered, "1984-09-18");
    CHECK_STR(m.mpaa, "TV-PG");
    CHECK_STR(m.studio, "NBC");
    CHECK(m.runtime == 25);
    CHECK(m.season == -1 && m.episode == -1);
    CHECK(m.aired == NULL && m.set == NULL && m.url == NULL);
    CHECK(m.n_genres == 2);
    if (m.n_genres == 2) {
        CHECK_STR(m.genres[0], "Comedy");
        CHECK_STR(m.genres[1], "Drama");
    }
    /* the show's poster, not the banner, a season poster or an actor's picture */
    CHECK_STR(m.thumb, "https://artworks.thetvdb.com/banners/posters/78123-1.jpg");
    /* <uniqueid> wins over the legacy <id>/<imdbid>/<tmdbid>, which add nothing new */
    CHECK(m.n_ids == 3);
    CHECK_STR(nfo_uniqueid(&m, "tvdb"), "78123");
    CHECK_STR(nfo_uniqueid(&m, "imdb"), "tt0086712");
    CHECK_STR(nfo_uniqueid(&m, "tmdb"), "4123");
    for (size_t i = 0; i < m.n_ids; i++)
        CHECK(m.ids[i].is_default == (strcmp(m.ids[i].type, "tvdb") == 0));
    CHECK(m.next == NULL);
    CHECK(nfo_episode_count(&m) == 0);
    nfo_meta_dispose(&m);
    CHECK(m.title == NULL && m.kind == NFO_NONE);
}

static void test_episode(void)
{
    nfo_meta_t m;
    CHECK(read_clean(S01 "S01E03 - Fog Bound.nfo", &m) == 0);
    CHECK(m.kind == NFO_EPISODE);
    CHECK_STR(m.title, "Fog Bound");
    CHECK_STR(m.showtitle, "Harbor Lights");
    CHECK(m.season == 1);
    CHECK(m.episode == 3);
    CHECK_STR(m.aired, "1984-10-02");
    CHECK_STR(m.premiered, "1984-10-02");
    CHECK_STR(m.plot, "A fog bank strands the last ferry halfway across the bay, and the crew "
                      "must keep a wedding party calm until morning.");
    CHECK(m.runtime == 24);
    CHECK_STR(m.mpaa, "TV-PG");
    CHECK(m.year == -1);   /* TinyMediaManager writes no year for episodes */
    CHECK(m.n_genres == 0); /* ... and no genre */
    CHECK_STR(m.thumb, "https://artworks.thetvdb.com/banners/episodes/78123/301457.jpg");
    CHECK(m.n_ids == 2);
    CHECK_STR(nfo_uniqueid(&m, "tvdb"), "301457");
    CHECK_STR(nfo_uniqueid(&m, "IMDB"), "tt0567103");
    CHECK(nfo_uniqueid(&m, "tmdb") == NULL);
    CHECK(nfo_episode_count(&m) == 1);
    nfo_meta_dispose(&m);
}

static void test_cdata_and_entities(void)
{
    nfo_meta_t m;
    CHECK(read_clean(S01 "S01E04 - Salt & Vinegar.nfo", &m) == 0);
    CHECK_STR(m.title, "Salt & Vinegar");
    CHECK_STR(m.originaltitle, "Salt & Vinegar");
    /* CDATA: kept verbatim (markup and all), surrounding whitespace trimmed, UTF-8 intact */
    CHECK_STR(m.plot, "Frankie\xE2\x80\x99s fish & chips stand opens on the pier; "
                      "Ruth says \"no <deep fryers> on my dock.\"");
    CHECK(m.season == 1 && m.episode == 4);
    CHECK(m.thumb == NULL);
    CHECK(m.n_ids == 1);
    CHECK_STR(nfo_uniqueid(&m, "tvdb"), "301458");
    nfo_meta_dispose(&m);
}

static void test_multi_episode(void)
{
    nfo_meta_t m;
    CHECK(read_clean(S01 "S01E01E02 - Night Crossing.nfo", &m) == 0);
    CHECK(nfo_episode_count(&m) == 2);
    CHECK(m.kind == NFO_EPISODE);
    CHECK_STR(m.title, "Night Crossing (1)");
    CHECK(m.season == 1 && m.episode == 1);
    CHECK_STR(nfo_uniqueid(&m, "tvdb"), "301455");
    CHECK_STR(m.plot, "Ruth Dyer takes command of the night ferry on the worst night of the "
                      "year.");
    const nfo_meta_t *e2 = m.next;
    CHECK(e2 != NULL);
    if (e2 != NULL) {
        CHECK(e2->kind == NFO_EPISODE);
        CHECK_STR(e2->title, "Night Crossing (2)");
        CHECK_STR(e2->showtitle, "Harbor Lights");
        CHECK(e2->season == 1 && e2->episode == 2);
        CHECK_STR(e2->aired, "1984-09-18");
        CHECK(e2->runtime == 48);
        CHECK_STR(e2->mpaa, "TV-PG");
        CHECK_STR(e2->plot, "The storm passes, but the ferry's owner arrives with news that "
                            "could sink the whole line.");
        CHECK_STR(nfo_uniqueid(e2, "tvdb"), "301456");
        CHECK(e2->next == NULL);
    }
    nfo_meta_dispose(&m);
    CHECK(m.next == NULL);
}

/* Concatenated whole documents, each with its own declaration, read the same way. */
static void test_concatenated_documents(const char *tmpdir)
{
    char *path = xasprintf("%s/double.nfo", tmpdir);
    const char *one = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
                      "<episodedetails><title>A</title><season>2</season><episode>7</episode>"
                      "</episodedetails>\n";
    const char *two = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
                      "<!--created on 2024-03-09 14:23:04 - tinyMediaManager 4.3.14-->\n"
                      "<episodedetails><title>B</title><season>2</season><episode>8</episode>"
                      "</episodedetails>\n";
    char *text = xasprintf("%s%s", one, two);
    CHECK(util_write_file_atomic(path, text, strlen(text)) == 0);
    nfo_meta_t m;
    strbuf_t w;
    strbuf_init(&w);
    CHECK(nfo_read(path, &m, &w) == 0);
    CHECK(w.len == 0);
    CHECK(nfo_episode_count(&m) == 2);
    CHECK_STR(m.title, "A");
    CHECK(m.next && m.next->episode == 8);
    nfo_meta_dispose(&m);
    strbuf_dispose(&w);
    unlink(path);
    free(text);
    free(path);
}

static void test_kodi_export(void)
{
    nfo_meta_t m;
    CHECK(read_clean(S01 "S01E05 - Man Overboard.nfo", &m) == 0);
    CHECK(m.kind == NFO_EPISODE);
    CHECK_STR(m.title, "Man Overboard");
    CHECK_STR(m.plot, "A tourist's dog jumps ship and Frankie goes in after it.");
    CHECK(m.season == 1 && m.episode == 5);
    CHECK(m.year == 1984);
    CHECK(m.runtime == 24);
    /* the older single-element "A / B" genre list */
    CHECK(m.n_genres == 2);
    if (m.n_genres == 2) {
        CHECK_STR(m.genres[0], "Comedy");
        CHECK_STR(m.genres[1], "Drama");
    }
    CHECK(m.tagline == NULL); /* <tagline></tagline> */
    CHECK_STR(m.thumb, "https://artworks.thetvdb.com/banners/episodes/78123/301459.jpg");
    CHECK(m.n_ids == 1);
    CHECK_STR(nfo_uniqueid(&m, "tvdb"), "301459");
    nfo_meta_dispose(&m);
}

static void test_missing_fields(void)
{
    nfo_meta_t m;
    CHECK(read_clean(S02 "S02E01 - Dry Dock.nfo", &m) == 0);
    CHECK(m.kind == NFO_EPISODE);
    CHECK_STR(m.title, "Dry Dock");
    CHECK_STR(m.showtitle, "Harbor Lights");
    CHECK(m.originaltitle == NULL);
    CHECK(m.plot == NULL);
    CHECK(m.mpaa == NULL);
    CHECK(m.aired == NULL && m.premiered == NULL);
    CHECK(m.season == -1 && m.episode == -1);
    CHECK(m.runtime == -1); /* written as 0 */
    CHECK(m.year == -1);
    CHECK(m.n_genres == 0 && m.genres == NULL);
    CHECK(m.n_ids == 0); /* <id/> */
    CHECK(m.thumb == NULL && m.studio == NULL && m.set == NULL && m.url == NULL);
    nfo_meta_dispose(&m);
}

static void test_movie(void)
{
    nfo_meta_t m;
    CHECK(read_clean("Movies/Midnight Freeway (1987)/movie.nfo", &m) == 0);
    CHECK(m.kind == NFO_MOVIE);
    CHECK_STR(m.title, "Midnight Freeway");
    CHECK_STR(m.originaltitle, "Autobahn um Mitternacht");
    CHECK(m.year == 1987);
    CHECK_STR(m.premiered, "1987-11-06");
    CHECK_STR(m.plot, "A Munich taxi driver ends up with a stranger's briefcase \xE2\x80\x94 and "
                      "everyone on the night shift wants it.");
    CHECK_STR(m.tagline, "Some fares never get out.");
    CHECK(m.runtime == 94);
    CHECK(m.n_genres == 3);
    if (m.n_genres == 3) {
        CHECK_STR(m.genres[0], "Thriller");
        CHECK_STR(m.genres[1], "Crime");
        CHECK_STR(m.genres[2], "Action");
    }
    CHECK_STR(m.mpaa, "US:R");
    CHECK_STR(m.studio, "Bavaria Film");
    CHECK_STR(m.set, "Freeway Collection");
    CHECK_STR(m.thumb, "https://image.tmdb.org/t/p/original/6pQxBz1tY8sDqk2Ww9g3bS0aVnE.jpg");
    CHECK(m.n_ids == 2);
    CHECK_STR(nfo_uniqueid(&m, "imdb"), "tt0093552");
    CHECK_STR(nfo_uniqueid(&m, "tmdb"), "48211");
    CHECK(m.season == -1 && m.episode == -1 && m.showtitle == NULL);
    CHECK(m.url == NULL);
    nfo_meta_dispose(&m);
}

static void test_url_forms(void)
{
    nfo_meta_t m;
    /* XML followed by a URL line (the URL's own characters must not upset the parser) */
    CHECK(read_clean("Movies/Tin Star (1989)/Tin Star (1989).nfo", &m) == 0);
    CHECK(m.kind == NFO_MOVIE);
    CHECK_STR(m.title, "Tin Star");
    CHECK(m.year == 1989);
    CHECK_STR(m.url, "https://www.themoviedb.org/movie/40512-tin-star");
    CHECK(m.n_genres == 1);
    CHECK_STR(nfo_uniqueid(&m, "imdb"), "tt0098466");
    nfo_meta_dispose(&m);

    /* a file that is only a URL: nothing to read, no warning, the URL kept */
    char *path = fx("Movies/Static (1985)/Static (1985).nfo");
    strbuf_t w;
    strbuf_init(&w);
    CHECK(nfo_read(path, &m, &w) == -EINVAL);
    CHECK(m.kind == NFO_NONE);
    CHECK_STR(m.url, "https://www.imdb.com/title/tt0089111/");
    CHECK(w.len == 0);
    nfo_meta_dispose(&m);
    CHECK(m.url == NULL);
    strbuf_dispose(&w);
    free(path);
}

static void test_malformed(void)
{
    /* <plot> on line 9 is never closed; libxml2 notices at </episodedetails>, line 14 */
    char *path = fx(S02 "S02E02 - Overboard.nfo");
    nfo_meta_t m;
    strbuf_t w;
    strbuf_init(&w);
    CHECK(nfo_read(path, &m, &w) == 0);
    char *want = xasprintf("%s:14: nfo: Opening and ending tag mismatch: plot line 9 and "
                           "episodedetails\n",
                           path);
    CHECK_STR(w.data, want); /* one line: the recovery's follow-on errors are not shown */
    free(want);
    /* what came before the break is there; the fields swallowed by <plot> are not */
    CHECK(m.kind == NFO_EPISODE);
    CHECK_STR(m.title, "Overboard");
    CHECK(m.season == 2 && m.episode == 2);
    CHECK_STR(m.plot, "Frankie goes over the rail after a lost mooring line.");
    CHECK(m.runtime == -1 && m.mpaa == NULL && m.aired == NULL);
    nfo_meta_dispose(&m);
    strbuf_dispose(&w);
    free(path);
}

static void test_unreadable_and_empty(const char *tmpdir)
{
    nfo_meta_t m;
    strbuf_t w;
    strbuf_init(&w);
    char *missing = xasprintf("%s/nope.nfo", tmpdir);
    CHECK(nfo_read(missing, &m, &w) == -ENOENT);
    CHECK_CONTAINS(w.data, "nope.nfo: nfo: unable to read: No such file or directory");
    nfo_meta_dispose(&m);
    strbuf_dispose(&w);

    /* garbage, or a root that is not ours: one warning, nothing read, no crash */
    char *junk = xasprintf("%s/junk.nfo", tmpdir);
    const char *text = "\x01\x02 not xml <<<< &&& \n";
    CHECK(util_write_file_atomic(junk, text, strlen(text)) == 0);
    CHECK(nfo_read(junk, &m, &w) == -EINVAL);
    CHECK(m.kind == NFO_NONE && m.title == NULL && m.url == NULL);
    char *want = xasprintf("%s: nfo: no <tvshow>, <episodedetails> or <movie> and no URL; "
                           "ignored\n",
                           junk);
    CHECK_STR(w.data, want);
    free(want);
    nfo_meta_dispose(&m);
    strbuf_dispose(&w);

    text = "<?xml version=\"1.0\"?>\n<musicvideo>\n  <title>Song</title>\n</musicvideo>\n";
    CHECK(util_write_file_atomic(junk, text, strlen(text)) == 0);
    CHECK(nfo_read(junk, &m, &w) == -EINVAL);
    CHECK_CONTAINS(w.data, "junk.nfo: nfo: no <tvshow>, <episodedetails> or <movie>");
    nfo_meta_dispose(&m);
    strbuf_dispose(&w);

    /* beside one of ours, a foreign root is named and skipped */
    text = "<musicvideo>\n  <title>Song</title>\n</musicvideo>\n"
           "<movie><title>Film</title></movie>\n";
    CHECK(util_write_file_atomic(junk, text, strlen(text)) == 0);
    CHECK(nfo_read(junk, &m, &w) == 0);
    CHECK(m.kind == NFO_MOVIE);
    CHECK_STR(m.title, "Film");
    CHECK_CONTAINS(w.data, "junk.nfo:1: nfo: <musicvideo> is not a tvshow, episodedetails or "
                           "movie; ignored");
    nfo_meta_dispose(&m);
    strbuf_dispose(&w);

    /* a release group's ASCII-art .nfo (CP437, "<" and "&" in the art): its IMDb link is
       all there is to use, and nothing is worth a warning */
    text = "\xDB\xDB\xB2\xB1\xB0 <<< GROUP >>> \xB0\xB1\xB2\xDB\xDB\r\n"
           "  Static (1985) DVDRip XviD & AC3\r\n"
           "  IMDb ....: http://www.imdb.com/title/tt0089111/\r\n"
           "  Size ....: 700 MB\r\n";
    CHECK(util_write_file_atomic(junk, text, strlen(text)) == 0);
    CHECK(nfo_read(junk, &m, &w) == -EINVAL);
    CHECK_STR(m.url, "http://www.imdb.com/title/tt0089111/");
    CHECK(w.len == 0);
    nfo_meta_dispose(&m);
    strbuf_dispose(&w);

    /* a file cut short: what was read is kept, the open root is named */
    text = "<?xml version=\"1.0\"?>\n<movie>\n  <title>Half</title>\n  <year>19";
    CHECK(util_write_file_atomic(junk, text, strlen(text)) == 0);
    CHECK(nfo_read(junk, &m, &w) == 0);
    CHECK_STR(m.title, "Half");
    CHECK_CONTAINS(w.data, "junk.nfo:4: nfo: <year> opened on line 4 is not closed");
    CHECK_CONTAINS(w.data, "junk.nfo:4: nfo: Premature end of data in tag movie line 2");
    CHECK(strstr(w.data, "<nfo") == NULL && strstr(w.data, "tag nfo") == NULL);
    nfo_meta_dispose(&m);
    strbuf_dispose(&w);

    /* a declared Latin-1 file is converted to UTF-8 */
    text = "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<movie><title>Caf\xE9</title></movie>";
    CHECK(util_write_file_atomic(junk, text, strlen(text)) == 0);
    CHECK(nfo_read(junk, &m, &w) == 0);
    CHECK_STR(m.title, "Caf\xC3\xA9");
    CHECK(w.len == 0);
    nfo_meta_dispose(&m);
    strbuf_dispose(&w);

    /* undeclared (or falsely declared UTF-8) Windows-1252 from a hand-made file */
    text = "<movie>\n  <title>Caf\xE9 Society</title>\n  <plot>Ruth\x92s diner.</plot>\n</movie>\n";
    CHECK(util_write_file_atomic(junk, text, strlen(text)) == 0);
    CHECK(nfo_read(junk, &m, &w) == 0);
    CHECK_STR(m.title, "Caf\xC3\xA9 Society");
    CHECK_STR(m.plot, "Ruth\xE2\x80\x99s diner.");
    want = xasprintf("%s: nfo: not valid UTF-8; read as Windows-1252\n", junk);
    CHECK_STR(w.data, want);
    free(want);
    nfo_meta_dispose(&m);
    strbuf_dispose(&w);

    unlink(junk);
    free(junk);
    free(missing);
}

static void test_find_for_media(const char *tmpdir)
{
    char *item, *show;
    char *media = fx(S01 "S01E03 - Fog Bound.mkv");
    CHECK(nfo_find_for_media(media, &item, &show) == 0);
    char *want = fx(S01 "S01E03 - Fog Bound.nfo");
    CHECK_STR(item, want);
    free(want);
    want = fx(SHOW_DIR "/tvshow.nfo");
    CHECK_STR(show, want); /* one level up: the season folder's parent */
    free(item);
    free(show);
    free(media);

    /* a movie: Name.nfo first ... */
    media = fx("Movies/Tin Star (1989)/Tin Star (1989).avi");
    CHECK(nfo_find_for_media(media, &item, &show) == 0);
    char *w2 = fx("Movies/Tin Star (1989)/Tin Star (1989).nfo");
    CHECK_STR(item, w2);
    CHECK(show == NULL);
    free(w2);
    free(item);
    free(media);
    /* ... else movie.nfo */
    media = fx("Movies/Midnight Freeway (1987)/Midnight Freeway (1987).mkv");
    CHECK(nfo_find_for_media(media, &item, &show) == 0);
    w2 = fx("Movies/Midnight Freeway (1987)/movie.nfo");
    CHECK_STR(item, w2);
    CHECK(show == NULL);
    free(w2);
    free(item);
    free(media);

    /* an episode without its own nfo still finds the show's */
    media = fx(S02 "S02E09 - Not Scraped.mkv");
    CHECK(nfo_find_for_media(media, &item, &show) == 0);
    CHECK(item == NULL);
    CHECK_STR(show, want);
    free(show);
    free(media);
    free(want);

    /* episodes straight in the show folder; names in other cases; nothing at all */
    char *dir = xasprintf("%s/Flat Show", tmpdir);
    CHECK(util_mkdirs(dir, 0755) == 0);
    char *tv = xasprintf("%s/TVShow.NFO", dir), *ep = xasprintf("%s/flat s01e01.NFO", dir);
    CHECK(util_write_file_atomic(tv, "<tvshow/>", 9) == 0);
    CHECK(util_write_file_atomic(ep, "<episodedetails/>", 17) == 0);
    media = xasprintf("%s/flat s01e01.mp4", dir);
    CHECK(nfo_find_for_media(media, &item, &show) == 0);
    CHECK_STR(item, ep);
    CHECK_STR(show, tv);
    free(item);
    free(show);
    free(media);
    media = xasprintf("%s/empty/x.mkv", tmpdir);
    CHECK(nfo_find_for_media(media, &item, &show) == -ENOENT);
    CHECK(item == NULL && show == NULL);
    free(media);
    unlink(tv);
    unlink(ep);
    rmdir(dir);
    free(tv);
    free(ep);
    free(dir);
}

int main(void)
{
    const char *src = getenv("RETROVUE_SOURCE_DIR");
    fixtures = xasprintf("%s/tests/fixtures/nfo", src ? src : ".");
    char tmpdir[] = "/tmp/rv-nfo-XXXXXX";
    CHECK(mkdtemp(tmpdir) != NULL);

    test_tvshow();
    test_episode();
    test_cdata_and_entities();
    test_multi_episode();
    test_concatenated_documents(tmpdir);
    test_kodi_export();
    test_missing_fields();
    test_movie();
    test_url_forms();
    test_malformed();
    test_unreadable_and_empty(tmpdir);
    test_find_for_media(tmpdir);

    rmdir(tmpdir);
    free(fixtures);
    return CHECK_DONE();
}
