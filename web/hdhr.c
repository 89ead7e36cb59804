/*
 * The tuner's HTTP documents. Field names and shapes follow what real HDHomeRun units
 * serve and what Plex reads: GuideNumber is a string, lineup URLs carry no query (Plex
 * appends its own), and device.xml has URLBase directly under <root> (Plex rejects it
 * nested in <device>). Links are built on the configured base URL or, when none is
 * configured, on the Host the client used to reach us.
 */
#include "hdhr.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "channel.h"
#include "config.h"
#include "device.h"
#include "reply.h"
#include "station.h"
#include "util.h"
#include "xmltv.h"

static int method_is(h2o_req_t *req, const char *m)
{
    return h2o_memis(req->method.base, req->method.len, m, strlen(m));
}

static int is_get(h2o_req_t *req)
{
    return method_is(req, "GET") || method_is(req, "HEAD");
}

static const char *base_url(h2o_req_t *req, station_t *st)
{
    return reply_base_url(req, station_config(st)->base_url);
}

static void serve_discover(h2o_req_t *req, station_t *st)
{
    const config_t *cfg = station_config(st);
    const device_identity_t *dev = station_device(st);
    const char *base = base_url(req, st);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "FriendlyName", cfg->tuner.friendly_name);
    cJSON_AddStringToObject(o, "Manufacturer", "Silicondust");
    cJSON_AddStringToObject(o, "ModelNumber", HDHR_MODEL);
    cJSON_AddStringToObject(o, "FirmwareName", HDHR_FIRMWARE_NAME);
    cJSON_AddStringToObject(o, "FirmwareVersion", HDHR_FIRMWARE_VERSION);
    cJSON_AddStringToObject(o, "DeviceID", dev->id_hex);
    cJSON_AddStringToObject(o, "DeviceAuth", dev->auth);
    cJSON_AddStringToObject(o, "BaseURL", base);
    char *lineup = xasprintf("%s/lineup.json", base);
    cJSON_AddStringToObject(o, "LineupURL", lineup);
    free(lineup);
    cJSON_AddNumberToObject(o, "TunerCount", cfg->tuner.count);
    reply_json(req, 200, o);
}

/* A scan finds the configured channels at once, so a scan is never in progress;
   Plex polls this after lineup.post?scan=start until ScanInProgress is 0. */
static void serve_lineup_status(h2o_req_t *req)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "ScanInProgress", 0);
    cJSON_AddNumberToObject(o, "ScanPossible", 1);
    cJSON_AddStringToObject(o, "Source", "Cable");
    cJSON *list = cJSON_AddArrayToObject(o, "SourceList");
    cJSON_AddItemToArray(list, cJSON_CreateString("Cable"));
    reply_json(req, 200, o);
}

static void serve_lineup(h2o_req_t *req, station_t *st)
{
    const config_t *cfg = station_config(st);
    const char *base = base_url(req, st);
    int hd = cfg->house.height >= 720;
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < cfg->n_channels; i++) {
        const channel_conf_t *c = &cfg->channels[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "GuideNumber", c->number);
        cJSON_AddStringToObject(o, "GuideName", c->name);
        cJSON_AddStringToObject(o, "VideoCodec", "H264");
        cJSON_AddStringToObject(o, "AudioCodec", "AAC");
        if (hd)
            cJSON_AddNumberToObject(o, "HD", 1);
        char *url = xasprintf("%s/auto/v%s", base, c->number);
        cJSON_AddStringToObject(o, "URL", url);
        free(url);
        cJSON_AddItemToArray(arr, o);
    }
    reply_json(req, 200, arr);
}

static void serve_lineup_post(h2o_req_t *req)
{
    char scan[16];
    reply_query_param(req, "scan", scan, sizeof(scan));
    if (strcmp(scan, "start") == 0 || strcmp(scan, "abort") == 0) {
        reply_text(req, 200, "text/plain; charset=utf-8", "no-cache", "", 0);
        return;
    }
    reply_error(req, 400, "lineup.post takes ?scan=start or ?scan=abort");
}

static void serve_device_xml(h2o_req_t *req, station_t *st)
{
    const config_t *cfg = station_config(st);
    const device_identity_t *dev = station_device(st);
    strbuf_t sb;
    strbuf_init(&sb);
    strbuf_puts(&sb, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                     "<root xmlns=\"urn:schemas-upnp-org:device-1-0\">\n"
                     "  <specVersion><major>1</major><minor>0</minor></specVersion>\n"
                     "  <URLBase>");
    strbuf_put_xml(&sb, base_url(req, st));
    strbuf_puts(&sb, "</URLBase>\n"
                     "  <device>\n"
                     "    <deviceType>urn:schemas-upnp-org:device:MediaServer:1</deviceType>\n"
                     "    <friendlyName>");
    strbuf_put_xml(&sb, cfg->tuner.friendly_name);
    strbuf_printf(&sb,
                  "</friendlyName>\n"
                  "    <manufacturer>Silicondust</manufacturer>\n"
                  "    <modelName>%s</modelName>\n"
                  "    <modelNumber>%s</modelNumber>\n"
                  "    <serialNumber>%s</serialNumber>\n"
                  "    <UDN>%s</UDN>\n"
                  "  </device>\n"
                  "</root>\n",
                  HDHR_MODEL, HDHR_MODEL, dev->id_hex, dev->udn);
    reply_text(req, 200, "text/xml; charset=utf-8", "no-cache", sb.data, sb.len);
    strbuf_dispose(&sb);
}

/* M3U attribute values are double-quoted and cannot escape a quote; names with one
   get it replaced, as other IPTV servers do. */
static void m3u_attr(strbuf_t *sb, const char *name, const char *value)
{
    strbuf_printf(sb, " %s=\"", name);
    for (const char *p = value; *p; p++)
        strbuf_append(sb, *p == '"' ? "'" : (*p == '\n' || *p == '\r') ? " " : p, 1);
    strbuf_puts(sb, "\"");
}

static void serve_m3u(h2o_req_t *req, station_t *st)
{
    const char *base = base_url(req, st);
    char format[8];
    reply_query_param(req, "format", format, sizeof(format));
    int hls = strcmp(format, "hls") == 0;
    if (format[0] != '\0' && !hls && strcmp(format, "ts") != 0) {
        reply_error(req, 400, "format must be ts or hls");
        return;
    }
    strbuf_t sb;
    strbuf_init(&sb);
    strbuf_printf(&sb, "#EXTM3U url-tvg=\"%s/xmltv.xml\" x-tvg-url=\"%s/xmltv.xml\"\n", base, base);
    const config_t *cfg = station_config(st);
    for (size_t i = 0; i < cfg->n_channels; i++) {
        const channel_conf_t *c = &cfg->channels[i];
        char id[64];
        xmltv_channel_id(c->number, id, sizeof(id));
        strbuf_puts(&sb, "#EXTINF:-1");
        m3u_attr(&sb, "tvg-id", id);
        m3u_attr(&sb, "tvg-name", c->name);
        if (c->logo != NULL) {
            char *logo = xasprintf("%s/logos/%s", base, c->number);
            m3u_attr(&sb, "tvg-logo", logo);
            free(logo);
        }
        m3u_attr(&sb, "tvg-chno", c->number);
        m3u_attr(&sb, "channel-number", c->number);
        m3u_attr(&sb, "group-title", cfg->tuner.friendly_name);
        strbuf_printf(&sb, ",%s\n%s/channel/%s.%s\n", c->name, base, c->number, hls ? "m3u8" : "ts");
    }
    reply_text(req, 200, "audio/x-mpegurl; charset=utf-8", "no-cache", sb.data, sb.len);
    strbuf_dispose(&sb);
}

/* /logos/N: the channel's configured logo file; the type comes from its extension. */
static void serve_logo(h2o_req_t *req, station_t *st, const char *number)
{
    const channel_conf_t *c = config_find_channel(station_config(st), number);
    if (c == NULL || c->logo == NULL) {
        reply_error(req, 404, "channel %s has no logo", number);
        return;
    }
    static const struct {
        const char *ext, *type;
    } types[] = {{".png", "image/png"}, {".jpg", "image/jpeg"}, {".jpeg", "image/jpeg"},
                 {".svg", "image/svg+xml"}, {".gif", "image/gif"}, {".webp", "image/webp"}};
    const char *type = "application/octet-stream";
    const char *dot = strrchr(c->logo, '.');
    for (size_t i = 0; dot != NULL && i < sizeof(types) / sizeof(types[0]); i++)
        if (strcasecmp(dot, types[i].ext) == 0)
            type = types[i].type;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL,
                   H2O_STRLIT("max-age=3600"));
    if (h2o_file_send(req, 200, "OK", c->logo, h2o_iovec_init(type, strlen(type)), 0) != 0) {
        req->res.headers = (h2o_headers_t){NULL};
        reply_error(req, 404, "logo of channel %s is missing: %s", number, c->logo);
    }
}

int hdhr_handle(h2o_req_t *req, station_t *st, const char *path)
{
    if (strcmp(path, "/lineup.post") == 0) {
        if (!method_is(req, "POST") && !is_get(req)) {
            reply_header(req, "allow", "POST, GET");
            reply_error(req, 405, "method not allowed");
        } else {
            serve_lineup_post(req);
        }
        return 1;
    }
    static const char *const routes[] = {"/discover.json", "/lineup_status.json", "/lineup.json",
                                         "/device.xml", "/iptv.m3u"};
    size_t which = 0;
    while (which < sizeof(routes) / sizeof(routes[0]) && strcmp(path, routes[which]) != 0)
        which++;
    int logo = strncmp(path, "/logos/", 7) == 0;
    if (which == sizeof(routes) / sizeof(routes[0]) && !logo)
        return 0;
    if (!is_get(req)) {
        reply_header(req, "allow", "GET, HEAD");
        reply_error(req, 405, "method not allowed");
        return 1;
    }
    if (logo) {
        serve_logo(req, st, path + 7);
        return 1;
    }
    switch (which) {
    case 0: serve_discover(req, st); break;
    case 1: serve_lineup_status(req); break;
    case 2: serve_lineup(req, st); break;
    case 3: serve_device_xml(req, st); break;
    default: serve_m3u(req, st); break;
    }
    return 1;
}
