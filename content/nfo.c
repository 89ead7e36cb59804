/*
 * Reading Kodi / TinyMediaManager .nfo sidecars with libxml2, and finding the ones that
 * belong to a media file. Tolerant by design: the files are written by many tools and
 * edited by hand, and a bad one must cost its metadata, never the asset.
 */
#include "nfo.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlversion.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "log.h"

/* libxml2 2.12 made the error it passes to handlers const. */
#if LIBXML_VERSION >= 21200
typedef const xmlError xml_error_t;
#else
typedef xmlError xml_error_t;
#endif

/* The synthetic root every document is wrapped in (see wrap_document). */
#define WRAP_NAME "nfo"
/* A hopelessly broken file would otherwise produce one warning per byte. */
#define MAX_WARNINGS 5
/* Real nfo files are a few KiB; anything this big is something else named .nfo. */
#define MAX_SIZE (4 << 20)

/* ---- warnings ---- */

typedef struct warn_state {
    const char *path;
    strbuf_t *out; /* the caller's buffer, or NULL to log */
    int count;
    int xml_errors; /* libxml2's alone */
} warn_state_t;

static void warn_at(warn_state_t *ws, long line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void warn_at(warn_state_t *ws, long line, const char *fmt, ...)
{
    if (ws->count++ >= MAX_WARNINGS)
        return;
    strbuf_t sb;
    strbuf_init(&sb);
    if (line > 0)
        strbuf_printf(&sb, "%s:%ld: nfo: ", ws->path, line);
    else
        strbuf_printf(&sb, "%s: nfo: ", ws->path);
    va_list ap;
    va_start(ap, fmt);
    strbuf_vprintf(&sb, fmt, ap);
    va_end(ap);
    if (ws->out != NULL) {
        strbuf_append(ws->out, sb.data, sb.len);
        strbuf_puts(ws->out, "\n");
    } else {
        log_warn(NULL, "%s", sb.data);
    }
    strbuf_dispose(&sb);
}

static int is_wrapper(const char *name)
{
    return name != NULL && strcmp(name, WRAP_NAME) == 0;
}

/* libxml2 reports through the parser context, which carries our state in _private;
   a per-context handler (unlike xmlSetStructuredErrorFunc) leaves other threads and
   other users of libxml2 alone. */
static void on_xml_error(void *ctx, xml_error_t *err)
{
    xmlParserCtxtPtr ctxt = ctx;
    if (ctxt == NULL || ctxt->_private == NULL || err == NULL)
        return;
    warn_state_t *ws = ctxt->_private;
    int first = ws->xml_errors++ == 0;
    /* Errors about the synthetic wrapper (see wrap_document) are ours, not the file's:
       they follow from a real error already reported, or mean a root is never closed. */
    if (err->code == XML_ERR_TAG_NOT_FINISHED && is_wrapper(err->str1))
        return;
    if (err->code == XML_ERR_TAG_NAME_MISMATCH && is_wrapper(err->str2)) {
        if (first)
            warn_at(ws, err->line, "<%s> opened on line %d is not closed by the end of the file",
                    err->str1 ? err->str1 : "?", err->int1);
        return;
    }
    char *msg = xstrdup(err->message ? err->message : "unknown XML error");
    size_t n = strlen(msg);
    while (n > 0 && isspace((unsigned char)msg[n - 1]))
        n--;
    for (size_t i = 0; i < n; i++) /* some messages run over two lines */
        if (msg[i] == '\n' || msg[i] == '\r')
            msg[i] = ' ';
    warn_at(ws, err->line, "%.*s", (int)n, msg);
    free(msg);
}

static void finish_warnings(warn_state_t *ws)
{
    if (ws->count > MAX_WARNINGS) {
        int more = ws->count - MAX_WARNINGS;
        ws->count = 0; /* let this one line through */
        warn_at(ws, 0, "%d more problem%s not shown", more, more == 1 ? "" : "s");
    }
}

/* ---- preparing the text ---- */

static void blank(char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != '\n' && s[i] != '\r')
            s[i] = ' ';
}

/* The first "scheme://..." token in s[0..n), copied, or NULL. */
static char *find_url(const char *s, size_t n)
{
    for (size_t i = 0; i + 3 <= n; i++) {
        if (memcmp(s + i, "://", 3) != 0)
            continue;
        size_t b = i, e = i + 3;
        while (b > 0 && (isalnum((unsigned char)s[b - 1]) || s[b - 1] == '+' || s[b - 1] == '.' ||
                         s[b - 1] == '-'))
            b--;
        while (e < n && !isspace((unsigned char)s[e]))
            e++;
        if (b < i && e > i + 3)
            return xasprintf("%.*s", (int)(e - b), s + b);
    }
    return NULL;
}

/* Text before the first tag or after the last one is where Kodi puts a scraper URL
   (a URL-only nfo, or XML followed by a URL line). It is taken out before parsing,
   because a URL's '&' would read as a broken entity. */
static void take_url(char *s, size_t n, char **url)
{
    char *lt = memchr(s, '<', n);
    size_t lead = lt ? (size_t)(lt - s) : n;
    char *u = find_url(s, lead);
    if (u != NULL) {
        blank(s, lead);
    } else if (lt != NULL) {
        size_t last = n;
        while (last > 0 && s[last - 1] != '>')
            last--;
        u = find_url(s + last, n - last);
        if (u != NULL)
            blank(s + last, n - last);
    }
    if (u != NULL && *url == NULL)
        *url = u;
    else
        free(u);
}

/* Markup that is only legal at the very start of a document: a multi-episode file
   that was made by concatenating whole files repeats it between the roots. */
static void blank_prologs(char *s, size_t n)
{
    static const char *const opens[] = {"<?xml", "<!DOCTYPE"};
    for (size_t k = 0; k < RV_ARRAY_SIZE(opens); k++) {
        size_t ol = strlen(opens[k]);
        for (char *p = s; (p = memmem(p, n - (size_t)(p - s), opens[k], ol)) != NULL;) {
            char *end = memchr(p, '>', n - (size_t)(p - s));
            size_t len = end ? (size_t)(end - p) + 1 : n - (size_t)(p - s);
            blank(p, len);
            p += len;
        }
    }
}

/*
 * Why the wrapping: TinyMediaManager writes a multi-episode nfo as several
 * <episodedetails> documents one after another, which is not well-formed XML (one root
 * only), and libxml2 stops at the end of the first. Wrapping the whole text in one
 * synthetic element makes every root a child of it. The XML declaration has to stay
 * first (it names the encoding), so the wrapper opens right after it, on the same line,
 * which keeps libxml2's line numbers equal to the file's.
 */
static void wrap_document(const char *data, size_t len, strbuf_t *out, char **url)
{
    const char *p = data, *end = data + len;
    if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) {
        strbuf_append(out, p, 3);
        p += 3;
    }
    if (end - p > 5 && memcmp(p, "<?xml", 5) == 0 && isspace((unsigned char)p[5])) {
        const char *q = memmem(p, (size_t)(end - p), "?>", 2);
        if (q != NULL) {
            strbuf_append(out, p, (size_t)(q + 2 - p));
            p = q + 2;
        }
    }
    strbuf_puts(out, "<" WRAP_NAME ">");
    size_t body = out->len;
    strbuf_append(out, p, (size_t)(end - p));
    take_url(out->data + body, out->len - body, url);
    blank_prologs(out->data + body, out->len - body);
    strbuf_puts(out, "</" WRAP_NAME ">");
}

/* ---- reading elements ---- */

static int is_element(const xmlNode *n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

/* The element's own text (text and CDATA children, not nested elements), trimmed; NULL
   when empty. Nested elements are skipped so that a tag left open by mistake does not
   swallow the fields after it into its value. */
static char *own_text(const xmlNode *el)
{
    strbuf_t sb;
    strbuf_init(&sb);
    for (const xmlNode *c = el->children; c != NULL; c = c->next)
        if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) && c->content)
            strbuf_puts(&sb, (const char *)c->content);
    size_t b = 0, e = sb.len;
    while (b < e && isspace((unsigned char)sb.data[b]))
        b++;
    while (e > b && isspace((unsigned char)sb.data[e - 1]))
        e--;
    char *s = e > b ? xasprintf("%.*s", (int)(e - b), sb.data + b) : NULL;
    strbuf_dispose(&sb);
    return s;
}

static char *attr(const xmlNode *el, const char *name)
{
    xmlChar *v = xmlGetProp(el, (const xmlChar *)name);
    char *s = xstrdup((const char *)v);
    xmlFree(v);
    return s;
}

static int attr_is(const xmlNode *el, const char *name, const char *want)
{
    char *v = attr(el, name);
    int yes = v != NULL && strcasecmp(v, want) == 0;
    free(v);
    return yes;
}

/* A leading integer ("24", "24 min"); -1 when there is none. */
static int parse_int(const char *s)
{
    if (s == NULL)
        return -1;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || errno != 0 || v < -1 || v > 1000000)
        return -1;
    return (int)v;
}

static void add_genres(nfo_meta_t *m, const char *text)
{
    /* Older Kodi wrote every genre into one element, joined by " / ". */
    for (const char *p = text; *p;) {
        const char *sep = strstr(p, " / ");
        size_t n = sep ? (size_t)(sep - p) : strlen(p);
        size_t b = 0;
        while (b < n && isspace((unsigned char)p[b]))
            b++;
        while (n > b && isspace((unsigned char)p[n - 1]))
            n--;
        if (n > b) {
            m->genres = xrealloc(m->genres, (m->n_genres + 1) * sizeof(char *));
            m->genres[m->n_genres++] = xasprintf("%.*s", (int)(n - b), p + b);
        }
        p = sep ? sep + 3 : p + strlen(p);
    }
}

static int has_id(const nfo_meta_t *m, const char *type)
{
    return nfo_uniqueid(m, type) != NULL;
}

static void add_id(nfo_meta_t *m, char *type, char *value, int is_default)
{
    m->ids = xrealloc(m->ids, (m->n_ids + 1) * sizeof(*m->ids));
    m->ids[m->n_ids++] = (nfo_uniqueid_t){type, value, is_default};
}

/* Legacy ids are kept only until a <uniqueid> of the same type says otherwise, so they
   are collected apart and merged at the end of the element. */
typedef struct parse_state {
    nfo_meta_t legacy; /* ids only */
    int thumb_is_poster;
} parse_state_t;

static void read_uniqueid(nfo_meta_t *m, const xmlNode *el)
{
    char *value = own_text(el);
    char *type = attr(el, "type");
    if (value == NULL) {
        free(type);
        return;
    }
    if (type == NULL)
        type = xstrdup("unknown");
    add_id(m, type, value, attr_is(el, "default", "true"));
}

static void read_legacy_id(parse_state_t *ps, enum nfo_kind kind, const xmlNode *el)
{
    char *value = own_text(el);
    if (value == NULL)
        return;
    const char *name = (const char *)el->name, *type;
    if (strcmp(name, "id") != 0)
        type = strcmp(name, "imdbid") == 0 ? "imdb" : strcmp(name, "tmdbid") == 0 ? "tmdb" : "tvdb";
    else if (strncmp(value, "tt", 2) == 0)
        type = "imdb";
    else
        type = kind == NFO_MOVIE ? "tmdb" : "tvdb"; /* what Kodi's scrapers put in <id> */
    if (has_id(&ps->legacy, type)) {
        free(value);
        return;
    }
    add_id(&ps->legacy, xstrdup(type), value, 0);
}

static void read_thumb(nfo_meta_t *m, parse_state_t *ps, const xmlNode *el)
{
    if (attr_is(el, "type", "season"))
        return;
    int poster = attr_is(el, "aspect", "poster");
    if (m->thumb != NULL && (ps->thumb_is_poster || !poster))
        return;
    char *url = own_text(el);
    if (url == NULL)
        return;
    free(m->thumb);
    m->thumb = url;
    ps->thumb_is_poster = poster;
}

static void read_set(nfo_meta_t *m, const xmlNode *el)
{
    if (m->set != NULL)
        return;
    for (const xmlNode *c = el->children; c != NULL; c = c->next)
        if (is_element(c, "name"))
            m->set = own_text(c);
    if (m->set == NULL)
        m->set = own_text(el); /* the older <set>Name</set> form */
}

enum field_type { F_TEXT, F_INT, F_POSITIVE };

static const struct field {
    const char *name;
    enum field_type type;
    size_t offset;
} fields[] = {
    {"title", F_TEXT, offsetof(nfo_meta_t, title)},
    {"originaltitle", F_TEXT, offsetof(nfo_meta_t, originaltitle)},
    {"showtitle", F_TEXT, offsetof(nfo_meta_t, showtitle)},
    {"plot", F_TEXT, offsetof(nfo_meta_t, plot)},
    {"tagline", F_TEXT, offsetof(nfo_meta_t, tagline)},
    {"premiered", F_TEXT, offsetof(nfo_meta_t, premiered)},
    {"aired", F_TEXT, offsetof(nfo_meta_t, aired)},
    {"mpaa", F_TEXT, offsetof(nfo_meta_t, mpaa)},
    {"studio", F_TEXT, offsetof(nfo_meta_t, studio)},
    /* TinyMediaManager writes 0 for an unknown year or runtime, and -1 for an unknown
       season or episode; season 0 and episode 0 are real (specials). */
    {"year", F_POSITIVE, offsetof(nfo_meta_t, year)},
    {"runtime", F_POSITIVE, offsetof(nfo_meta_t, runtime)},
    {"season", F_INT, offsetof(nfo_meta_t, season)},
    {"episode", F_INT, offsetof(nfo_meta_t, episode)},
};

static int read_field(nfo_meta_t *m, const xmlNode *el)
{
    for (size_t i = 0; i < RV_ARRAY_SIZE(fields); i++) {
        const struct field *f = &fields[i];
        if (strcmp((const char *)el->name, f->name) != 0)
            continue;
        void *slot = (char *)m + f->offset;
        if (f->type == F_TEXT) {
            char **s = slot;
            if (*s == NULL) /* the first of repeated elements wins */
                *s = own_text(el);
        } else {
            int *v = slot;
            if (*v == -1) {
                char *text = own_text(el);
                *v = parse_int(text);
                if (f->type == F_POSITIVE && *v <= 0)
                    *v = -1;
                free(text);
            }
        }
        return 1;
    }
    return 0;
}

static void meta_init(nfo_meta_t *m, enum nfo_kind kind)
{
    memset(m, 0, sizeof(*m));
    m->kind = kind;
    m->year = m->season = m->episode = m->runtime = -1;
}

static void read_root(nfo_meta_t *m, const xmlNode *root)
{
    parse_state_t ps;
    memset(&ps, 0, sizeof(ps));
    for (const xmlNode *el = root->children; el != NULL; el = el->next) {
        if (el->type != XML_ELEMENT_NODE || read_field(m, el))
            continue;
        const char *name = (const char *)el->name;
        if (strcmp(name, "genre") == 0) {
            char *text = own_text(el);
            if (text != NULL)
                add_genres(m, text);
            free(text);
        } else if (strcmp(name, "uniqueid") == 0) {
            read_uniqueid(m, el);
        } else if (strcmp(name, "id") == 0 || strcmp(name, "imdbid") == 0 ||
                   strcmp(name, "tmdbid") == 0 || strcmp(name, "tvdbid") == 0) {
            read_legacy_id(&ps, m->kind, el);
        } else if (strcmp(name, "thumb") == 0) {
            read_thumb(m, &ps, el);
        } else if (strcmp(name, "set") == 0) {
            read_set(m, el);
        }
        /* everything else (ratings, actors, fileinfo, tmm's own data) is not ours */
    }
    for (size_t i = 0; i < ps.legacy.n_ids; i++) {
        nfo_uniqueid_t *id = &ps.legacy.ids[i];
        if (has_id(m, id->type)) {
            free(id->type);
            free(id->value);
        } else {
            add_id(m, id->type, id->value, 0);
        }
    }
    free(ps.legacy.ids);
}

static enum nfo_kind kind_of(const xmlNode *el)
{
    if (is_element(el, "tvshow"))
        return NFO_SHOW;
    if (is_element(el, "episodedetails"))
        return NFO_EPISODE;
    if (is_element(el, "movie"))
        return NFO_MOVIE;
    return NFO_NONE;
}

/* Fills out (and its chain) from the roots under the synthetic wrapper; 0, or -EINVAL
   when none is a show, episode or movie. */
static int read_roots(const xmlNode *wrapper, nfo_meta_t *out, warn_state_t *ws)
{
    nfo_meta_t **tail = &out;
    int found = 0;
    for (const xmlNode *el = wrapper->children; el != NULL; el = el->next) {
        if (el->type != XML_ELEMENT_NODE)
            continue;
        enum nfo_kind kind = kind_of(el);
        if (kind == NFO_NONE) {
            warn_at(ws, xmlGetLineNo(el), "<%s> is not a tvshow, episodedetails or movie; ignored",
                    (const char *)el->name);
            continue;
        }
        if (found && (kind != NFO_EPISODE || out->kind != NFO_EPISODE)) {
            warn_at(ws, xmlGetLineNo(el), "a second <%s> after <%s>; ignored",
                    (const char *)el->name, out->kind == NFO_SHOW ? "tvshow"
                                            : out->kind == NFO_MOVIE ? "movie" : "episodedetails");
            continue;
        }
        nfo_meta_t *m = out; /* the first root fills out, which nfo_read has cleared */
        if (found) {
            m = xmalloc(sizeof(*m));
            meta_init(m, kind);
        }
        m->kind = kind;
        read_root(m, el);
        *tail = m;
        tail = &m->next;
        found = 1;
    }
    return found ? 0 : -EINVAL;
}

static int valid_utf8(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        size_t len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3
                   : (c & 0xF8) == 0xF0 ? 4 : 0;
        if (len == 0 || (len == 2 && c < 0xC2) || (len == 4 && c > 0xF4) || len > n - i)
            return 0;
        for (size_t k = 1; k < len; k++)
            if ((s[i + k] & 0xC0) != 0x80)
                return 0;
        i += len;
    }
    return 1;
}

/* The encoding a declaration names ("UTF-8" when there is none, as XML says), copied. */
static char *declared_encoding(const char *s, size_t n)
{
    if (n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
        s += 3;
        n -= 3;
    }
    const char *end = n >= 5 && memcmp(s, "<?xml", 5) == 0 ? memmem(s, n, "?>", 2) : NULL;
    const char *e = end ? memmem(s, (size_t)(end - s), "encoding", 8) : NULL;
    if (e == NULL)
        return xstrdup("UTF-8");
    e += 8;
    while (e < end && (isspace((unsigned char)*e) || *e == '='))
        e++;
    char q = *e;
    const char *v = e + 1, *close = q == '"' || q == '\'' ? memchr(v, q, (size_t)(end - v)) : NULL;
    return close ? xasprintf("%.*s", (int)(close - v), v) : xstrdup("UTF-8");
}

/* Hand-made nfo files from Windows machines are often Windows-1252 that claim (or are
   assumed to be) UTF-8; libxml2 would keep their bytes as they are and hand us invalid
   UTF-8. Such text is read as Windows-1252 instead, the likeliest truth. */
static const char *forced_encoding(const char *data, size_t len, warn_state_t *ws)
{
    char *declared = declared_encoding(data, len);
    int utf8 = strcasecmp(declared, "UTF-8") == 0 || strcasecmp(declared, "UTF8") == 0;
    free(declared);
    if (!utf8 || valid_utf8((const unsigned char *)data, len))
        return NULL;
    warn_at(ws, 0, "not valid UTF-8; read as Windows-1252");
    return "WINDOWS-1252";
}

/* Whether the text holds one of the roots we read; anything else (a release group's
   ASCII-art .nfo, a bare URL) is plain text, where Kodi looks for a URL only. */
static int has_known_root(const char *s, size_t n)
{
    static const char *const roots[] = {"<tvshow", "<episodedetails", "<movie"};
    for (size_t k = 0; k < RV_ARRAY_SIZE(roots); k++) {
        size_t rl = strlen(roots[k]);
        for (const char *p = s; (p = memmem(p, n - (size_t)(p - s), roots[k], rl)) != NULL;) {
            p += rl;
            if (p < s + n && (*p == '>' || *p == '/' || isspace((unsigned char)*p)))
                return 1;
        }
    }
    return 0;
}

static void init_once(void)
{
    xmlInitParser();
}

int nfo_read(const char *path, nfo_meta_t *out, strbuf_t *warnings)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, init_once);
    meta_init(out, NFO_NONE);
    warn_state_t ws = {.path = path, .out = warnings};

    struct stat st;
    if (stat(path, &st) == 0 && st.st_size > MAX_SIZE) {
        warn_at(&ws, 0, "%lld bytes is too big for an nfo; ignored", (long long)st.st_size);
        return -EFBIG;
    }
    char *data;
    size_t len;
    int rc = util_read_file(path, &data, &len);
    if (rc != 0) {
        warn_at(&ws, 0, "unable to read: %s", strerror(-rc));
        return rc;
    }
    if (!has_known_root(data, len)) {
        out->url = find_url(data, len);
        if (out->url == NULL)
            warn_at(&ws, 0, "no <tvshow>, <episodedetails> or <movie> and no URL; ignored");
        free(data);
        return -EINVAL;
    }
    const char *encoding = forced_encoding(data, len, &ws);
    strbuf_t doc_text;
    strbuf_init(&doc_text);
    wrap_document(data, len, &doc_text, &out->url);
    free(data);

    xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
    if (ctxt == NULL) {
        strbuf_dispose(&doc_text);
        return -ENOMEM;
    }
    ctxt->_private = &ws;
    ctxt->sax->serror = on_xml_error;
    /* RECOVER keeps whatever parsed before an error; NONET and no NOENT/DTDLOAD mean a
       hostile file cannot make us fetch or expand anything. */
    xmlDocPtr doc = xmlCtxtReadMemory(ctxt, doc_text.data, (int)doc_text.len, path, encoding,
                                      XML_PARSE_RECOVER | XML_PARSE_NONET | XML_PARSE_BIG_LINES);
    rc = -EINVAL;
    xmlNode *wrapper = doc ? xmlDocGetRootElement(doc) : NULL;
    if (wrapper != NULL && strcmp((const char *)wrapper->name, WRAP_NAME) == 0)
        rc = read_roots(wrapper, out, &ws);
    if (rc != 0 && out->url == NULL && ws.count == 0)
        warn_at(&ws, 0, "no <tvshow>, <episodedetails> or <movie> in the file");
    finish_warnings(&ws);
    xmlFreeDoc(doc);
    xmlFreeParserCtxt(ctxt);
    strbuf_dispose(&doc_text);
    return rc;
}

static void meta_free_fields(nfo_meta_t *m)
{
    char **strings[] = {&m->title, &m->originaltitle, &m->showtitle, &m->plot, &m->tagline,
                        &m->premiered, &m->aired, &m->mpaa, &m->studio, &m->set,
                        &m->thumb, &m->url};
    for (size_t i = 0; i < RV_ARRAY_SIZE(strings); i++)
        free(*strings[i]);
    for (size_t i = 0; i < m->n_genres; i++)
        free(m->genres[i]);
    free(m->genres);
    for (size_t i = 0; i < m->n_ids; i++) {
        free(m->ids[i].type);
        free(m->ids[i].value);
    }
    free(m->ids);
}

void nfo_meta_dispose(nfo_meta_t *meta)
{
    nfo_meta_t *next = meta->next;
    meta_free_fields(meta);
    while (next != NULL) {
        nfo_meta_t *m = next;
        next = m->next;
        meta_free_fields(m);
        free(m);
    }
    meta_init(meta, NFO_NONE);
}

const char *nfo_uniqueid(const nfo_meta_t *meta, const char *type)
{
    for (size_t i = 0; i < meta->n_ids; i++)
        if (strcasecmp(meta->ids[i].type, type) == 0)
            return meta->ids[i].value;
    return NULL;
}

size_t nfo_episode_count(const nfo_meta_t *meta)
{
    size_t n = 0;
    for (const nfo_meta_t *m = meta; m != NULL; m = m->next)
        n += m->kind == NFO_EPISODE;
    return n;
}

/* ---- finding sidecars ---- */

/* The folder part of path ("." when there is none, "/" for the root), or NULL for "/". */
static char *dir_of(const char *path)
{
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/')
        n--;
    while (n > 0 && path[n - 1] != '/')
        n--;
    if (n == 0)
        return strcmp(path, ".") == 0 ? NULL : xstrdup(".");
    while (n > 1 && path[n - 1] == '/')
        n--;
    if (n == 1 && strcmp(path, "/") == 0)
        return NULL;
    return xasprintf("%.*s", (int)n, path);
}

/* dir/name when it is a readable file, matching name case-insensitively when the exact
   spelling is absent (libraries copied from Windows shares come as "TVShow.nfo"). */
static char *find_in_dir(const char *dir, const char *name)
{
    char *p = util_path_join(dir, name);
    if (util_file_readable(p))
        return p;
    free(p);
    DIR *d = opendir(dir);
    if (d == NULL)
        return NULL;
    char *found = NULL;
    struct dirent *e;
    while (found == NULL && (e = readdir(d)) != NULL) {
        if (strcasecmp(e->d_name, name) != 0)
            continue;
        p = util_path_join(dir, e->d_name);
        if (util_file_readable(p))
            found = p;
        else
            free(p);
    }
    closedir(d);
    return found;
}

int nfo_find_for_media(const char *media_path, char **item_nfo, char **tvshow_nfo)
{
    *item_nfo = NULL;
    *tvshow_nfo = NULL;
    char *dir = dir_of(media_path);
    if (dir == NULL)
        return -ENOENT;
    const char *base = strrchr(media_path, '/');
    base = base ? base + 1 : media_path;
    const char *dot = strrchr(base, '.');
    size_t stem = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    char *name = xasprintf("%.*s.nfo", (int)stem, base);
    *item_nfo = find_in_dir(dir, name);
    free(name);
    if (*item_nfo == NULL)
        *item_nfo = find_in_dir(dir, "movie.nfo");

    *tvshow_nfo = find_in_dir(dir, "tvshow.nfo");
    if (*tvshow_nfo == NULL) {
        char *parent = dir_of(dir);
        if (parent != NULL && strcmp(parent, dir) != 0)
            *tvshow_nfo = find_in_dir(parent, "tvshow.nfo");
        free(parent);
    }
    free(dir);
    return *item_nfo || *tvshow_nfo ? 0 : -ENOENT;
}
