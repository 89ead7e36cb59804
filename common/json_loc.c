/*
 * A strict JSON syntax checker that says where and what was expected, plus a path
 * finder and offset-to-line/column mapping, so config errors can point into the file.
 */
#include "json_loc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NO_POS SIZE_MAX

/* cJSON copies a number into a 64-byte buffer before strtod, so a longer number fails
 * there; rejecting it here keeps "json_loc_check passed" meaning "cJSON will parse". */
#define MAX_NUMBER_LEN 63

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static size_t skip_bom(const char *text, size_t len)
{
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        return 3;
    return 0;
}

static size_t skip_ws(const char *text, size_t len, size_t pos)
{
    while (pos < len && is_ws(text[pos]))
        pos++;
    return pos;
}

/* Reads 4 hex digits at text[pos]; -1 when they are not there. */
static long hex4(const char *text, size_t len, size_t pos)
{
    if (pos + 4 > len)
        return -1;
    long v = 0;
    for (int i = 0; i < 4; i++) {
        int h = util_hex_value(text[pos + (size_t)i]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

/* Length of the valid UTF-8 sequence at text[pos], or 0 when it is not one. Rejects
 * overlong forms, surrogates and code points above U+10FFFF. */
static size_t utf8_seq_len(const char *text, size_t len, size_t pos)
{
    const unsigned char *s = (const unsigned char *)text + pos;
    size_t avail = len - pos;
    unsigned c = s[0];
    size_t n;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (avail < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

static void put_utf8(strbuf_t *out, uint32_t cp)
{
    char b[4];
    size_t n;
    if (cp < 0x80) {
        b[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (char)(0xC0 | (cp >> 6));
        b[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (char)(0xE0 | (cp >> 12));
        b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        b[0] = (char)(0xF0 | (cp >> 18));
        b[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        b[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    strbuf_append(out, b, n);
}

/*
 * Decodes the string whose opening quote is at text[pos] into out (when not NULL) and
 * returns the offset just past its closing quote, or NO_POS when it is malformed. It is
 * lenient about what json_loc_check rejects (a lone surrogate becomes U+FFFD) because
 * it only ever runs on text that was checked, or to find positions best-effort.
 */
static size_t decode_string(const char *text, size_t len, size_t pos, strbuf_t *out)
{
    if (pos >= len || text[pos] != '"')
        return NO_POS;
    pos++;
    while (pos < len) {
        char c = text[pos];
        if (c == '"')
            return pos + 1;
        if (c != '\\') {
            size_t run = pos;
            while (run < len && text[run] != '"' && text[run] != '\\')
                run++;
            if (out != NULL)
                strbuf_append(out, text + pos, run - pos);
            pos = run;
            continue;
        }
        if (pos + 1 >= len)
            return NO_POS;
        char e = text[pos + 1];
        const char *simple = "\"\\/bfnrt";
        const char *plain = "\"\\/\b\f\n\r\t";
        const char *hit = strchr(simple, e);
        if (e != '\0' && hit != NULL) {
            if (out != NULL)
                strbuf_append(out, plain + (hit - simple), 1);
            pos += 2;
            continue;
        }
        if (e != 'u')
            return NO_POS;
        long cp = hex4(text, len, pos + 2);
        if (cp < 0)
            return NO_POS;
        pos += 6;
        if (cp >= 0xD800 && cp <= 0xDBFF && pos + 1 < len && text[pos] == '\\' &&
            text[pos + 1] == 'u') {
            long lo = hex4(text, len, pos + 2);
            if (lo >= 0xDC00 && lo <= 0xDFFF) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                pos += 6;
            }
        }
        if (cp >= 0xD800 && cp <= 0xDFFF)
            cp = 0xFFFD;
        if (out != NULL)
            put_utf8(out, (uint32_t)cp);
    }
    return NO_POS;
}

/* Offset just past the value starting at text[pos] (after any whitespace is skipped by
 * the caller), or NO_POS when it is malformed. Containers are skipped by counting
 * brackets outside strings, which is enough for text that was checked. */
static size_t skip_value(const char *text, size_t len, size_t pos)
{
    if (pos >= len)
        return NO_POS;
    char c = text[pos];
    if (c == '"')
        return decode_string(text, len, pos, NULL);
    if (c == '{' || c == '[') {
        size_t depth = 0;
        while (pos < len) {
            c = text[pos];
            if (c == '"') {
                pos = decode_string(text, len, pos, NULL);
                if (pos == NO_POS)
                    return NO_POS;
                continue;
            }
            if (c == '{' || c == '[')
                depth++;
            else if (c == '}' || c == ']')
                depth--;
            pos++;
            if (depth == 0)
                return pos;
        }
        return NO_POS;
    }
    if (c == ',' || c == '}' || c == ']' || c == ':' || is_ws(c))
        return NO_POS;
    while (pos < len && !is_ws(text[pos]) && strchr(",:]}[{\"", text[pos]) == NULL)
        pos++;
    return pos;
}

/* ---- path rendering ---- */

static bool is_identifier(const char *key, size_t n)
{
    if (n == 0 || !(is_alpha(key[0]) || key[0] == '_'))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!(is_alpha(key[i]) || is_digit(key[i]) || key[i] == '_'))
            return false;
    return true;
}

static void append_key(strbuf_t *out, const char *key, size_t n)
{
    if (is_identifier(key, n)) {
        strbuf_puts(out, ".");
        strbuf_append(out, key, n);
        return;
    }
    strbuf_puts(out, "[\"");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)key[i];
        if (c == '"' || c == '\\')
            strbuf_printf(out, "\\%c", c);
        else if (c == '\n')
            strbuf_puts(out, "\\n");
        else if (c == '\t')
            strbuf_puts(out, "\\t");
        else if (c < 0x20 || c == 0x7F)
            strbuf_printf(out, "\\u%04x", c);
        else
            strbuf_append(out, key + i, 1);
    }
    strbuf_puts(out, "\"]");
}

void json_loc_path_render(const json_loc_step_t *path, size_t depth, strbuf_t *out)
{
    strbuf_puts(out, "$");
    for (size_t i = 0; i < depth; i++) {
        if (path[i].key != NULL)
            append_key(out, path[i].key, strlen(path[i].key));
        else
            strbuf_printf(out, "[%zu]", path[i].index);
    }
}

/* ---- the syntax check ---- */

/* What the checker is inside of, so an error can name the path it happened at. */
typedef struct frame {
    size_t key_off; /* opening quote of the member's key; NO_POS for an array element */
    size_t index;   /* the element's index in an array */
} frame_t;

typedef struct checker {
    const char *text;
    size_t len;
    size_t pos;
    size_t depth;
    frame_t frames[JSON_LOC_MAX_DEPTH];
    json_loc_error_t *err;
} checker_t;

static int fail(checker_t *ck, size_t offset, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(checker_t *ck, size_t offset, const char *fmt, ...)
{
    json_loc_error_t *err = ck->err;
    if (err == NULL)
        return -EINVAL;
    err->offset = offset;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);

    strbuf_t path, key;
    strbuf_init(&path);
    strbuf_init(&key);
    strbuf_puts(&path, "$");
    for (size_t i = 0; i < ck->depth; i++) {
        if (ck->frames[i].key_off == NO_POS) {
            strbuf_printf(&path, "[%zu]", ck->frames[i].index);
            continue;
        }
        key.len = 0;
        decode_string(ck->text, ck->len, ck->frames[i].key_off, &key);
        append_key(&path, key.data ? key.data : "", key.len);
    }
    if (path.len < sizeof(err->path)) {
        memcpy(err->path, path.data, path.len + 1);
    } else {
        /* A path this long is unreadable anyway; keep its start and say it was cut. */
        size_t keep = sizeof(err->path) - 4;
        memcpy(err->path, path.data, keep);
        memcpy(err->path + keep, "...", 4);
    }
    strbuf_dispose(&path);
    strbuf_dispose(&key);
    return -EINVAL;
}

/* Describes what sits at pos, for "expected X, found Y". */
static void describe(const checker_t *ck, size_t pos, char *buf, size_t size)
{
    if (pos >= ck->len) {
        snprintf(buf, size, "end of file");
        return;
    }
    unsigned char c = (unsigned char)ck->text[pos];
    if (is_alpha((char)c)) {
        /* A bare word is usually an unquoted string; show the word, not its letter. */
        size_t end = pos;
        while (end < ck->len && end - pos < 24 &&
               (is_alpha(ck->text[end]) || is_digit(ck->text[end]) || ck->text[end] == '_' ||
                ck->text[end] == '-'))
            end++;
        snprintf(buf, size, "%.*s", (int)(end - pos), ck->text + pos);
    } else if (c == '\'') {
        snprintf(buf, size, "\"'\"");
    } else if (c >= 0x20 && c < 0x7F) {
        snprintf(buf, size, "'%c'", c);
    } else if (c >= 0x80) {
        snprintf(buf, size, "a non-ASCII character");
    } else {
        snprintf(buf, size, "a control character (byte 0x%02x)", c);
    }
}

static int fail_expected(checker_t *ck, size_t pos, const char *what)
{
    const char *t = ck->text;
    if (pos + 1 < ck->len && t[pos] == '/' && (t[pos + 1] == '/' || t[pos + 1] == '*'))
        return fail(ck, pos, "comments are not allowed in JSON");
    char found[48];
    describe(ck, pos, found, sizeof(found));
    const char *hint = "";
    if (pos < ck->len && t[pos] == '\'')
        hint = " (strings need double quotes)";
    else if (pos < ck->len && is_alpha(t[pos]))
        hint = strncasecmp(found, "true", 5) == 0 || strncasecmp(found, "false", 6) == 0 ||
                       strncasecmp(found, "null", 5) == 0
                   ? " (true, false and null are lowercase)"
                   : " (strings need double quotes)";
    return fail(ck, pos, "expected %s, found %s%s", what, found, hint);
}

static int check_value(checker_t *ck);

static int check_string(checker_t *ck)
{
    const char *t = ck->text;
    size_t start = ck->pos;
    size_t pos = start + 1;
    for (;;) {
        if (pos >= ck->len || t[pos] == '\n' || t[pos] == '\r')
            return fail(ck, start, "unterminated string");
        unsigned char c = (unsigned char)t[pos];
        if (c == '"')
            break;
        if (c < 0x20)
            return fail(ck, pos,
                        "control character (byte 0x%02x) in string; write it as an escape "
                        "such as \\t",
                        c);
        if (c >= 0x80) {
            size_t n = utf8_seq_len(t, ck->len, pos);
            if (n == 0)
                return fail(ck, pos, "invalid UTF-8 in string");
            pos += n;
            continue;
        }
        if (c != '\\') {
            pos++;
            continue;
        }
        if (pos + 1 >= ck->len)
            return fail(ck, start, "unterminated string");
        char e = t[pos + 1];
        if (e != '\0' && strchr("\"\\/bfnrt", e) != NULL) {
            pos += 2;
            continue;
        }
        if (e != 'u') {
            if (e > 0x20 && e < 0x7F)
                return fail(ck, pos, "invalid escape '\\%c' in string", e);
            return fail(ck, pos, "invalid escape in string");
        }
        long cp = hex4(t, ck->len, pos + 2);
        if (cp < 0)
            return fail(ck, pos, "invalid \\u escape; expected 4 hex digits");
        if (cp == 0)
            /* cJSON would cut the string short at the NUL, silently changing the value. */
            return fail(ck, pos, "\\u0000 is not allowed in strings");
        if (cp >= 0xDC00 && cp <= 0xDFFF)
            return fail(ck, pos, "invalid \\u escape: unpaired surrogate");
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            long lo = -1;
            if (pos + 7 < ck->len && t[pos + 6] == '\\' && t[pos + 7] == 'u')
                lo = hex4(t, ck->len, pos + 8);
            if (lo < 0xDC00 || lo > 0xDFFF)
                return fail(ck, pos, "invalid \\u escape: unpaired surrogate");
            pos += 6;
        }
        pos += 6;
    }
    ck->pos = pos + 1;
    return 0;
}

static int check_number(checker_t *ck)
{
    const char *t = ck->text;
    size_t start = ck->pos;
    size_t pos = start;
    if (t[pos] == '-')
        pos++;
    if (pos < ck->len && t[pos] == '0') {
        pos++;
        if (pos < ck->len && is_digit(t[pos]))
            return fail(ck, start, "invalid number: leading zeros are not allowed");
    } else if (pos < ck->len && is_digit(t[pos])) {
        while (pos < ck->len && is_digit(t[pos]))
            pos++;
    } else {
        return fail(ck, pos, "invalid number: expected a digit after '-'");
    }
    if (pos < ck->len && t[pos] == '.') {
        pos++;
        if (pos >= ck->len || !is_digit(t[pos]))
            return fail(ck, pos, "invalid number: expected a digit after '.'");
        while (pos < ck->len && is_digit(t[pos]))
            pos++;
    }
    if (pos < ck->len && (t[pos] == 'e' || t[pos] == 'E')) {
        pos++;
        if (pos < ck->len && (t[pos] == '+' || t[pos] == '-'))
            pos++;
        if (pos >= ck->len || !is_digit(t[pos]))
            return fail(ck, pos, "invalid number: expected a digit in the exponent");
        while (pos < ck->len && is_digit(t[pos]))
            pos++;
    }
    if (pos - start > MAX_NUMBER_LEN)
        return fail(ck, start, "number is too long (more than %d characters)", MAX_NUMBER_LEN);
    ck->pos = pos;
    return 0;
}

static int check_word(checker_t *ck)
{
    static const char *const words[] = {"true", "false", "null"};
    size_t start = ck->pos;
    size_t end = start;
    while (end < ck->len && (is_alpha(ck->text[end]) || is_digit(ck->text[end]) ||
                             ck->text[end] == '_'))
        end++;
    for (size_t i = 0; i < RV_ARRAY_SIZE(words); i++) {
        size_t n = strlen(words[i]);
        if (end - start == n && memcmp(ck->text + start, words[i], n) == 0) {
            ck->pos = end;
            return 0;
        }
    }
    return fail_expected(ck, start, "a value");
}

/* Pushes a frame for the member or element about to be checked. */
static int push(checker_t *ck, size_t key_off, size_t index)
{
    if (ck->depth >= JSON_LOC_MAX_DEPTH)
        return fail(ck, ck->pos, "nesting is too deep (more than %d levels)", JSON_LOC_MAX_DEPTH);
    ck->frames[ck->depth].key_off = key_off;
    ck->frames[ck->depth].index = index;
    ck->depth++;
    return 0;
}

static int check_object(checker_t *ck)
{
    const char *t = ck->text;
    ck->pos = skip_ws(t, ck->len, ck->pos + 1);
    if (ck->pos < ck->len && t[ck->pos] == '}') {
        ck->pos++;
        return 0;
    }
    size_t comma = NO_POS;
    for (;;) {
        ck->pos = skip_ws(t, ck->len, ck->pos);
        if (ck->pos >= ck->len || t[ck->pos] != '"') {
            if (comma != NO_POS && ck->pos < ck->len && t[ck->pos] == '}')
                return fail(ck, comma, "trailing comma is not allowed");
            if (ck->pos < ck->len && is_alpha(t[ck->pos])) {
                char found[48];
                describe(ck, ck->pos, found, sizeof(found));
                return fail(ck, ck->pos, "expected a key in double quotes, found %s", found);
            }
            return fail_expected(ck, ck->pos, comma == NO_POS ? "a string key or '}'"
                                                              : "a string key");
        }
        size_t key_off = ck->pos;
        int rc = check_string(ck);
        if (rc != 0)
            return rc;
        ck->pos = skip_ws(t, ck->len, ck->pos);
        if (ck->pos >= ck->len || t[ck->pos] != ':')
            return fail_expected(ck, ck->pos, "':' after object key");
        ck->pos++;
        rc = push(ck, key_off, 0);
        if (rc != 0)
            return rc;
        rc = check_value(ck);
        if (rc != 0)
            return rc;
        ck->depth--;
        ck->pos = skip_ws(t, ck->len, ck->pos);
        if (ck->pos < ck->len && t[ck->pos] == ',') {
            comma = ck->pos++;
            continue;
        }
        if (ck->pos < ck->len && t[ck->pos] == '}') {
            ck->pos++;
            return 0;
        }
        return fail_expected(ck, ck->pos, "',' or '}' after object member");
    }
}

static int check_array(checker_t *ck)
{
    const char *t = ck->text;
    ck->pos = skip_ws(t, ck->len, ck->pos + 1);
    if (ck->pos < ck->len && t[ck->pos] == ']') {
        ck->pos++;
        return 0;
    }
    size_t comma = NO_POS;
    for (size_t index = 0;; index++) {
        ck->pos = skip_ws(t, ck->len, ck->pos);
        if (comma != NO_POS && ck->pos < ck->len && t[ck->pos] == ']')
            return fail(ck, comma, "trailing comma is not allowed");
        int rc = push(ck, NO_POS, index);
        if (rc != 0)
            return rc;
        rc = check_value(ck);
        if (rc != 0)
            return rc;
        ck->depth--;
        ck->pos = skip_ws(t, ck->len, ck->pos);
        if (ck->pos < ck->len && t[ck->pos] == ',') {
            comma = ck->pos++;
            continue;
        }
        if (ck->pos < ck->len && t[ck->pos] == ']') {
            ck->pos++;
            return 0;
        }
        return fail_expected(ck, ck->pos, "',' or ']' after array element");
    }
}

static int check_value(checker_t *ck)
{
    const char *t = ck->text;
    ck->pos = skip_ws(t, ck->len, ck->pos);
    if (ck->pos >= ck->len)
        return fail_expected(ck, ck->pos, "a value");
    char c = t[ck->pos];
    if (c == '{')
        return check_object(ck);
    if (c == '[')
        return check_array(ck);
    if (c == '"')
        return check_string(ck);
    if (c == '-' || is_digit(c))
        return check_number(ck);
    if (is_alpha(c))
        return check_word(ck);
    if (c == '+')
        return fail(ck, ck->pos, "invalid number: a leading '+' is not allowed");
    if (c == '.' && ck->pos + 1 < ck->len && is_digit(t[ck->pos + 1]))
        return fail(ck, ck->pos, "invalid number: write a digit before '.', as in 0.5");
    return fail_expected(ck, ck->pos, "a value");
}

int json_loc_check(const char *text, size_t len, json_loc_error_t *err)
{
    /* The checker holds a frame per nesting level; too big for some thread stacks. */
    checker_t *ck = xcalloc(1, sizeof(*ck));
    ck->text = text;
    ck->len = len;
    ck->err = err;
    ck->pos = skip_bom(text, len);
    int rc;
    if (skip_ws(text, len, ck->pos) >= len) {
        rc = fail(ck, len, "expected a value, found end of file (the text is empty)");
    } else {
        rc = check_value(ck);
        if (rc == 0) {
            ck->pos = skip_ws(text, len, ck->pos);
            if (ck->pos < len) {
                char found[48];
                describe(ck, ck->pos, found, sizeof(found));
                rc = fail(ck, ck->pos,
                          "unexpected %s after the end of the JSON value; "
                          "expected only one value",
                          found);
            }
        }
    }
    free(ck);
    return rc;
}

/* ---- finding paths ---- */

int json_loc_find(const char *text, size_t len, const json_loc_step_t *path, size_t depth,
                  size_t *value_off, size_t *key_off)
{
    size_t pos = skip_ws(text, len, skip_bom(text, len));
    size_t kpos = pos;
    strbuf_t key;
    strbuf_init(&key);
    int rc = 0;
    for (size_t d = 0; d < depth && rc == 0; d++) {
        const json_loc_step_t *step = &path[d];
        char open = step->key != NULL ? '{' : '[';
        char close = step->key != NULL ? '}' : ']';
        if (pos >= len || text[pos] != open) {
            rc = -ENOENT; /* the value there is not the container the path needs */
            break;
        }
        pos = skip_ws(text, len, pos + 1);
        if (pos < len && text[pos] == close) {
            rc = -ENOENT;
            break;
        }
        size_t seen = 0;
        for (size_t i = 0;; i++) {
            pos = skip_ws(text, len, pos);
            bool hit;
            if (step->key != NULL) {
                kpos = pos;
                key.len = 0;
                pos = decode_string(text, len, pos, &key);
                if (pos == NO_POS) {
                    rc = -EINVAL;
                    break;
                }
                pos = skip_ws(text, len, pos);
                if (pos >= len || text[pos] != ':') {
                    rc = -EINVAL;
                    break;
                }
                pos = skip_ws(text, len, pos + 1);
                hit = key.len == strlen(step->key) &&
                      memcmp(key.data ? key.data : "", step->key, key.len) == 0 &&
                      seen++ == step->index;
            } else {
                kpos = pos;
                hit = i == step->index;
            }
            if (hit)
                break;
            pos = skip_value(text, len, pos);
            if (pos == NO_POS) {
                rc = -EINVAL;
                break;
            }
            pos = skip_ws(text, len, pos);
            if (pos < len && text[pos] == ',') {
                pos++;
                continue;
            }
            rc = pos < len && text[pos] == close ? -ENOENT : -EINVAL;
            break;
        }
    }
    strbuf_dispose(&key);
    if (rc == 0 && pos >= len)
        rc = -EINVAL;
    if (rc != 0)
        return rc;
    if (value_off != NULL)
        *value_off = pos;
    if (key_off != NULL)
        *key_off = depth > 0 && path[depth - 1].key != NULL ? kpos : pos;
    return 0;
}

size_t json_loc_value_len(const char *text, size_t len, size_t offset)
{
    size_t end = skip_value(text, len, offset);
    return end == NO_POS ? 0 : end - offset;
}

void json_loc_line_col(const char *text, size_t len, size_t offset, int *line, int *col)
{
    int l = 1, c = 1;
    if (offset > len)
        offset = len;
    size_t i = skip_bom(text, len);
    for (; i < offset; i++) {
        unsigned char b = (unsigned char)text[i];
        if (b == '\n' || (b == '\r' && !(i + 1 < len && text[i + 1] == '\n'))) {
            l++;
            c = 1;
        } else if (b == '\r') {
            /* the '\n' that follows ends the line */
        } else if ((b & 0xC0) != 0x80) {
            c++;
        }
    }
    *line = l;
    *col = c;
}
