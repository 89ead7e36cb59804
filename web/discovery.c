/*
 * The tuner's discovery responders. SiliconDust's protocol answers a DISCOVER_REQ frame
 * (UDP 65001, sent by Plex and hdhomerun_config as a broadcast or to one address) with
 * our DeviceID and base URL; SSDP answers M-SEARCH and announces the device with NOTIFY
 * on 239.255.255.250. Both sockets listen on 0.0.0.0 even when a bind address is
 * configured, because broadcasts and multicasts never reach a socket bound to a unicast
 * address; IP_PKTINFO then tells us where each packet was sent and which interface it
 * came in on, which both filters out other interfaces and gives the address the
 * requester reached us by (the one to put in the URLs we hand out).
 *
 * Sockets are plain non-blocking fds watched with uv_poll, since uv_udp does not pass
 * IP_PKTINFO up. Sends are single sendto calls; a datagram that would block is dropped,
 * which every discovery client tolerates because it asks more than once.
 */
#include "discovery.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "log.h"
#include "station.h"
#include "util.h"

/* SiliconDust's frame types and tags (hdhomerun_pkt.h). */
#define HDHR_DISCOVER_REQ 0x0002
#define HDHR_DISCOVER_RPY 0x0003
#define HDHR_TAG_DEVICE_TYPE 0x01
#define HDHR_TAG_DEVICE_ID 0x02
#define HDHR_TAG_TUNER_COUNT 0x10
#define HDHR_TAG_LINEUP_URL 0x27
#define HDHR_TAG_BASE_URL 0x2A
#define HDHR_TAG_DEVICE_AUTH_STR 0x2B
#define HDHR_TAG_MULTI_TYPE 0x2D
#define HDHR_TYPE_TUNER 0x00000001u
#define HDHR_WILDCARD 0xFFFFFFFFu
#define HDHR_MAX_PACKET 1460

#define SSDP_GROUP "239.255.255.250"
#define SSDP_DEVICE_TYPE "urn:schemas-upnp-org:device:MediaServer:1"
#define SSDP_MAX_AGE 1800                  /* seconds a client may cache us */
#define SSDP_NOTIFY_EVERY (10 * 60 * 1000) /* a third of max-age: one lost NOTIFY is fine */
#define SSDP_MAX_DELAY_MS 1000             /* reply delay cap, see on_ssdp_packet */
#define SSDP_MAX_PENDING 32                /* delayed replies held at once */

#define MAX_IFACES 16

/* What an M-SEARCH asked for, as bits: ssdp:all is all three. */
enum { ST_ROOT = 1, ST_UUID = 2, ST_TYPE = 4, ST_ALL = 7 };

/* An interface we join the SSDP group on and announce on. */
typedef struct iface {
    int index;
    struct in_addr addr;
    bool loopback;
} iface_t;

/* A received datagram with where it was sent and where it came from. */
typedef struct packet {
    char buf[1501]; /* one Ethernet payload, plus a NUL so SSDP can be read as text */
    size_t len;
    struct sockaddr_in from;
    struct in_pktinfo info;
} packet_t;

typedef struct responder responder_t;
typedef void (*packet_cb)(responder_t *r, const packet_t *p);

/* Every handle's struct starts with the handle and has data = the discovery, so one
   close callback frees any of them. */
struct responder {
    uv_poll_t poll;
    int fd;
    discovery_t *d;
    packet_cb on_packet;
};

typedef struct pending {
    uv_timer_t timer;
    discovery_t *d;
    struct pending *next;
    struct sockaddr_in to;
    struct in_addr local;
    int which;
} pending_t;

struct discovery {
    uv_loop_t *loop;
    station_t *st;
    struct in_addr bind;       /* INADDR_ANY, or the one address we answer on */
    struct in_addr bind_bcast; /* that address's subnet broadcast, if any */
    int bind_index;            /* the interface that address is on */
    iface_t ifaces[MAX_IFACES];
    size_t n_ifaces;
    int ssdp_port;
    responder_t *hdhr, *ssdp;
    uv_timer_t *notify;
    pending_t *pending;
    int n_pending;
    int handles; /* open handles; the struct is freed after the last one closes */
    bool stopping;
    char server[160]; /* SSDP SERVER header */
};

/* ---------------------------------------------------------------- small helpers */

static void on_closed(uv_handle_t *h)
{
    discovery_t *d = h->data;
    free(h);
    if (--d->handles == 0 && d->stopping)
        free(d);
}

static uint32_t random_u32(void)
{
    uint32_t r;
    if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
        r = (uint32_t)uv_hrtime();
    return r;
}

static const char *addr_str(struct in_addr a, char *buf)
{
    return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

/* The URL clients should use: server.base_url when configured (NAT, proxies, container
   port maps), else the address the requester reached us on and the real HTTP port. */
static void base_url(const discovery_t *d, struct in_addr local, char *buf, size_t size)
{
    const config_t *c = station_config(d->st);
    if (c->base_url != NULL) {
        snprintf(buf, size, "%s", c->base_url);
        return;
    }
    char ip[INET_ADDRSTRLEN];
    snprintf(buf, size, "http://%s:%d", addr_str(local, ip), station_http_port(d->st));
}

/* The local address a packet reached: the bound one, or what the kernel reports. */
static struct in_addr local_addr(const discovery_t *d, const packet_t *p)
{
    return d->bind.s_addr != htonl(INADDR_ANY) ? d->bind : p->info.ipi_spec_dst;
}

/* Unicast to the bound address, or a broadcast or multicast on its interface. A
   unicast to another address of the same interface is not for us. */
static bool accepted(const discovery_t *d, const packet_t *p)
{
    struct in_addr dst = p->info.ipi_addr;
    if (d->bind.s_addr == htonl(INADDR_ANY) || dst.s_addr == d->bind.s_addr)
        return true;
    if (p->info.ipi_ifindex != d->bind_index)
        return false;
    return IN_MULTICAST(ntohl(dst.s_addr)) || dst.s_addr == htonl(INADDR_BROADCAST) ||
           (d->bind_bcast.s_addr != 0 && dst.s_addr == d->bind_bcast.s_addr);
}

static void send_to(responder_t *r, const void *buf, size_t len, const struct sockaddr_in *to)
{
    if (sendto(r->fd, buf, len, MSG_DONTWAIT, (const struct sockaddr *)to, sizeof(*to)) < 0) {
        char ip[INET_ADDRSTRLEN];
        log_debug(NULL, "tuner: unable to send to %s:%d: %s", addr_str(to->sin_addr, ip),
                  ntohs(to->sin_port), strerror(errno));
    }
}

/* ---------------------------------------------------------------- sockets */

static int open_udp(int port, bool shared, int *out)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int on = 1;
    if (shared)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof(on));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_ANY);
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        int rc = -errno;
        close(fd);
        return rc;
    }
    *out = fd;
    return 0;
}

/* One datagram with its IP_PKTINFO; 0, or -1 when there is nothing (more) to read. */
static int recv_packet(int fd, packet_t *p)
{
    char control[CMSG_SPACE(sizeof(struct in_pktinfo))];
    struct iovec iov = {p->buf, sizeof(p->buf) - 1};
    struct msghdr msg = {.msg_name = &p->from, .msg_namelen = sizeof(p->from), .msg_iov = &iov,
                         .msg_iovlen = 1, .msg_control = control,
                         .msg_controllen = sizeof(control)};
    ssize_t n = recvmsg(fd, &msg, MSG_DONTWAIT);
    if (n < 0)
        return -1;
    memset(&p->info, 0, sizeof(p->info));
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c))
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO)
            memcpy(&p->info, CMSG_DATA(c), sizeof(p->info));
    p->len = (msg.msg_flags & MSG_TRUNC) ? 0 : (size_t)n; /* a cut datagram is no request */
    p->buf[p->len] = '\0';
    return 0;
}

static void on_readable(uv_poll_t *h, int status, int events)
{
    responder_t *r = (responder_t *)h;
    packet_t p;
    if (status < 0) {
        /* libuv stops polling when the socket reports an error; clear it and go on, so
           one stray ICMP error cannot silence the responder for good. */
        int err;
        socklen_t len = sizeof(err);
        getsockopt(r->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        log_debug(NULL, "tuner: discovery socket error: %s", uv_strerror(status));
        uv_poll_start(h, UV_READABLE, on_readable);
        return;
    }
    /* A bounded batch, so a flood cannot hold the loop. */
    for (int i = 0; i < 32 && recv_packet(r->fd, &p) == 0; i++)
        if (p.len > 0 && accepted(r->d, &p))
            r->on_packet(r, &p);
}

static responder_t *responder_open(discovery_t *d, int fd, packet_cb on_packet)
{
    responder_t *r = xcalloc(1, sizeof(*r));
    r->fd = fd;
    r->d = d;
    r->on_packet = on_packet;
    uv_poll_init(d->loop, &r->poll, fd);
    r->poll.data = d;
    d->handles++;
    uv_poll_start(&r->poll, UV_READABLE, on_readable);
    uv_unref((uv_handle_t *)&r->poll); /* never what keeps the station's loop running */
    return r;
}

static void responder_close(responder_t *r)
{
    if (r == NULL)
        return;
    /* uv_close takes the fd out of epoll at once, so closing it now frees the port
       straight away (a reload may bind it again in the same breath). */
    uv_close((uv_handle_t *)&r->poll, on_closed);
    close(r->fd);
}

/* ---------------------------------------------------------------- SiliconDust protocol */

/* Ethernet CRC-32 (reflected 0xEDB88320), which the frame trailer carries. */
static uint32_t crc32_eth(const uint8_t *p, size_t n)
{
    uint32_t crc = 0xFFFFFFFFu;
    while (n--) {
        crc ^= *p++;
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

static uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t get_le32(const uint8_t *p)
{
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/* Checks the frame (type, length, payload, CRC) and finds its payload; 0 or -1. */
static int frame_open(const uint8_t *buf, size_t len, uint16_t *type, const uint8_t **payload,
                      size_t *plen)
{
    if (len < 8)
        return -1;
    size_t n = (size_t)buf[2] << 8 | buf[3];
    if (n + 8 != len)
        return -1;
    if (crc32_eth(buf, 4 + n) != get_le32(buf + 4 + n))
        return -1;
    *type = (uint16_t)(buf[0] << 8 | buf[1]);
    *payload = buf + 4;
    *plen = n;
    return 0;
}

/* The next tag: 1 and its value, 0 at the end, -1 when malformed. Lengths over 127
   take two bytes, the low seven bits first with the top bit set. */
static int tlv_next(const uint8_t **pos, const uint8_t *end, uint8_t *tag, const uint8_t **val,
                    size_t *len)
{
    const uint8_t *p = *pos;
    if (p == end)
        return 0;
    if (end - p < 2)
        return -1;
    *tag = *p++;
    size_t n = *p++;
    if (n & 0x80) {
        if (p == end)
            return -1;
        n = (n & 0x7F) | (size_t)*p++ << 7;
    }
    if ((size_t)(end - p) < n)
        return -1;
    *val = p;
    *len = n;
    *pos = p + n;
    return 1;
}

/* A request names device types (one, or several in MULTI_TYPE) and maybe a DeviceID;
   a missing tag places no constraint, as newer libhdhomerun omits a wildcard ID. */
static bool request_matches(const uint8_t *p, size_t n, uint32_t our_id)
{
    const uint8_t *end = p + n, *val;
    uint8_t tag;
    size_t len;
    int r;
    bool typed = false, type_ok = false, id_ok = true;
    while ((r = tlv_next(&p, end, &tag, &val, &len)) == 1) {
        if (tag == HDHR_TAG_DEVICE_TYPE || tag == HDHR_TAG_MULTI_TYPE) {
            typed = true;
            for (size_t i = 0; i + 4 <= len; i += 4) {
                uint32_t t = get_be32(val + i);
                type_ok |= t == HDHR_WILDCARD || t == HDHR_TYPE_TUNER;
            }
        } else if (tag == HDHR_TAG_DEVICE_ID) {
            id_ok = len == 4 && (get_be32(val) == HDHR_WILDCARD || get_be32(val) == our_id);
        }
    }
    return r == 0 && (!typed || type_ok) && id_ok;
}

/* Appends one tag; false when the packet would overflow. */
static bool tlv_put(uint8_t *buf, size_t *at, uint8_t tag, const void *val, size_t len)
{
    size_t head = len > 127 ? 3 : 2;
    if (len > 0x3FFF || *at + head + len > HDHR_MAX_PACKET - 4)
        return false;
    buf[(*at)++] = tag;
    if (len > 127) {
        buf[(*at)++] = (uint8_t)(0x80 | (len & 0x7F));
        buf[(*at)++] = (uint8_t)(len >> 7);
    } else {
        buf[(*at)++] = (uint8_t)len;
    }
    memcpy(buf + *at, val, len);
    *at += len;
    return true;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (24 - 8 * i));
}

/* Frames a payload that was written at buf + 4; returns the frame length. */
static size_t frame_seal(uint8_t *buf, uint16_t type, size_t plen)
{
    buf[0] = (uint8_t)(type >> 8), buf[1] = (uint8_t)type;
    buf[2] = (uint8_t)(plen >> 8), buf[3] = (uint8_t)plen;
    uint32_t crc = crc32_eth(buf, 4 + plen);
    for (int i = 0; i < 4; i++)
        buf[4 + plen + i] = (uint8_t)(crc >> (8 * i)); /* the CRC alone is little-endian */
    return 8 + plen;
}

static size_t build_reply(const discovery_t *d, struct in_addr local, uint8_t *buf)
{
    const device_identity_t *dev = station_device(d->st);
    char base[512], lineup[600];
    base_url(d, local, base, sizeof(base));
    snprintf(lineup, sizeof(lineup), "%s/lineup.json", base);
    uint8_t type[4], id[4], count = (uint8_t)station_config(d->st)->tuner.count;
    put_be32(type, HDHR_TYPE_TUNER);
    put_be32(id, dev->id);
    size_t at = 4;
    tlv_put(buf, &at, HDHR_TAG_DEVICE_TYPE, type, 4);
    tlv_put(buf, &at, HDHR_TAG_DEVICE_ID, id, 4);
    tlv_put(buf, &at, HDHR_TAG_TUNER_COUNT, &count, 1);
    tlv_put(buf, &at, HDHR_TAG_DEVICE_AUTH_STR, dev->auth, strlen(dev->auth));
    tlv_put(buf, &at, HDHR_TAG_BASE_URL, base, strlen(base));
    tlv_put(buf, &at, HDHR_TAG_LINEUP_URL, lineup, strlen(lineup));
    return frame_seal(buf, HDHR_DISCOVER_RPY, at - 4);
}

static void on_hdhr_packet(responder_t *r, const packet_t *p)
{
    uint16_t type;
    const uint8_t *payload;
    size_t plen;
    char ip[INET_ADDRSTRLEN];
    const char *from = addr_str(p->from.sin_addr, ip);
    if (frame_open((const uint8_t *)p->buf, p->len, &type, &payload, &plen) != 0) {
        log_debug(NULL, "tuner: ignored a malformed discovery frame from %s", from);
        return;
    }
    if (type != HDHR_DISCOVER_REQ || !request_matches(payload, plen, station_device(r->d->st)->id))
        return;
    uint8_t reply[HDHR_MAX_PACKET];
    size_t n = build_reply(r->d, local_addr(r->d, p), reply);
    send_to(r, reply, n, &p->from);
    log_debug(NULL, "tuner: answered HDHomeRun discovery from %s:%d", from,
              ntohs(p->from.sin_port));
}

/* ---------------------------------------------------------------- SSDP */

/* The NT/ST and USN of one of the three things a root device advertises. */
static void ssdp_names(const discovery_t *d, int kind, char *nt, size_t nt_size, char *usn,
                       size_t usn_size)
{
    const char *udn = station_device(d->st)->udn;
    const char *t = kind == ST_ROOT ? "upnp:rootdevice" : kind == ST_UUID ? udn : SSDP_DEVICE_TYPE;
    snprintf(nt, nt_size, "%s", t);
    if (kind == ST_UUID)
        snprintf(usn, usn_size, "%s", udn);
    else
        snprintf(usn, usn_size, "%s::%s", udn, t);
}

static void ssdp_send_reply(discovery_t *d, const struct sockaddr_in *to, struct in_addr local,
                            int which)
{
    char base[512], nt[128], usn[200], msg[2048];
    base_url(d, local, base, sizeof(base));
    for (int kind = ST_ROOT; kind <= ST_TYPE; kind <<= 1) {
        if (!(which & kind))
            continue;
        ssdp_names(d, kind, nt, sizeof(nt), usn, sizeof(usn));
        int n = snprintf(msg, sizeof(msg),
                         "HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=%d\r\nEXT:\r\n"
                         "LOCATION: %s/device.xml\r\nSERVER: %s\r\nST: %s\r\nUSN: %s\r\n\r\n",
                         SSDP_MAX_AGE, base, d->server, nt, usn);
        if (n > 0 && (size_t)n < sizeof(msg))
            send_to(d->ssdp, msg, (size_t)n, to);
    }
}

static void notify_one(discovery_t *d, const iface_t *f, int kind, bool alive,
                       const struct sockaddr_in *group)
{
    char base[512], nt[128], usn[200], msg[2048];
    base_url(d, f->addr, base, sizeof(base));
    ssdp_names(d, kind, nt, sizeof(nt), usn, sizeof(usn));
    int n = alive ? snprintf(msg, sizeof(msg),
                             "NOTIFY * HTTP/1.1\r\nHOST: %s:%d\r\nCACHE-CONTROL: max-age=%d\r\n"
                             "LOCATION: %s/device.xml\r\nNT: %s\r\nNTS: ssdp:alive\r\n"
                             "SERVER: %s\r\nUSN: %s\r\n\r\n",
                             SSDP_GROUP, d->ssdp_port, SSDP_MAX_AGE, base, nt, d->server, usn)
                  : snprintf(msg, sizeof(msg),
                             "NOTIFY * HTTP/1.1\r\nHOST: %s:%d\r\nNT: %s\r\n"
                             "NTS: ssdp:byebye\r\nUSN: %s\r\n\r\n",
                             SSDP_GROUP, d->ssdp_port, nt, usn);
    if (n > 0 && (size_t)n < sizeof(msg))
        send_to(d->ssdp, msg, (size_t)n, group);
}

/* Announces (alive) or withdraws (byebye) all three names on every interface, each
   through that interface only, never by the routing table's choice. */
static void ssdp_notify(discovery_t *d, bool alive)
{
    struct sockaddr_in group = {.sin_family = AF_INET, .sin_port = htons((uint16_t)d->ssdp_port)};
    inet_pton(AF_INET, SSDP_GROUP, &group.sin_addr);
    for (size_t i = 0; i < d->n_ifaces; i++) {
        const iface_t *f = &d->ifaces[i];
        struct ip_mreqn via = {.imr_address = f->addr, .imr_ifindex = f->index};
        if (setsockopt(d->ssdp->fd, IPPROTO_IP, IP_MULTICAST_IF, &via, sizeof(via)) != 0)
            continue;
        for (int kind = ST_ROOT; kind <= ST_TYPE; kind <<= 1)
            notify_one(d, f, kind, alive, &group);
    }
}

static void on_notify_timer(uv_timer_t *t)
{
    ssdp_notify(t->data, true);
}

/* Copies the value of header `name` (case-insensitive) from an SSDP message, trimmed;
   false when it is absent. */
static bool ssdp_header(const char *msg, const char *name, char *out, size_t size)
{
    size_t name_len = strlen(name);
    for (const char *line = strchr(msg, '\n'); line != NULL; line = strchr(line, '\n')) {
        line++;
        if (strncasecmp(line, name, name_len) != 0 || line[name_len] != ':')
            continue;
        const char *v = line + name_len + 1;
        v += strspn(v, " \t");
        size_t n = strcspn(v, "\r\n");
        while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
            n--;
        snprintf(out, size, "%.*s", (int)n, v);
        return true;
    }
    return false;
}

static int ssdp_wanted(const discovery_t *d, const char *st)
{
    if (strcmp(st, "ssdp:all") == 0)
        return ST_ALL;
    if (strcmp(st, "upnp:rootdevice") == 0)
        return ST_ROOT;
    if (strcasecmp(st, station_device(d->st)->udn) == 0)
        return ST_UUID;
    if (strcmp(st, SSDP_DEVICE_TYPE) == 0)
        return ST_TYPE;
    return 0;
}

static void pending_remove(discovery_t *d, pending_t *p)
{
    for (pending_t **pp = &d->pending; *pp != NULL; pp = &(*pp)->next)
        if (*pp == p) {
            *pp = p->next;
            d->n_pending--;
            return;
        }
}

static void on_pending_timer(uv_timer_t *t)
{
    pending_t *p = (pending_t *)t;
    discovery_t *d = p->d;
    pending_remove(d, p);
    ssdp_send_reply(d, &p->to, p->local, p->which);
    uv_close((uv_handle_t *)&p->timer, on_closed);
}

static void ssdp_reply_later(discovery_t *d, const packet_t *pkt, int which, uint64_t delay_ms)
{
    if (d->n_pending >= SSDP_MAX_PENDING)
        return; /* a searcher flooding us gets no more than this many answers queued */
    pending_t *p = xcalloc(1, sizeof(*p));
    p->d = d;
    p->to = pkt->from;
    p->local = local_addr(d, pkt);
    p->which = which;
    p->next = d->pending;
    d->pending = p;
    d->n_pending++;
    uv_timer_init(d->loop, &p->timer);
    p->timer.data = d;
    d->handles++;
    uv_timer_start(&p->timer, on_pending_timer, delay_ms, 0);
    uv_unref((uv_handle_t *)&p->timer);
}

/*
 * M-SEARCH. A multicast search carries MX, the seconds over which devices should
 * spread their answers; we wait a random time below MX but at most a second: enough
 * to keep a crowd of devices from answering in one burst, while a client that listens
 * only briefly (many give up after one or two seconds) still hears us. A unicast
 * search has no MX and is answered at once.
 */
static void on_ssdp_packet(responder_t *r, const packet_t *p)
{
    char man[64], st[200], mx[16];
    bool start_line = strncmp(p->buf, "M-SEARCH * HTTP/1.1", 19) == 0 &&
                      (p->buf[19] == '\r' || p->buf[19] == '\n');
    if (!start_line || !ssdp_header(p->buf, "MAN", man, sizeof(man)) ||
        strstr(man, "ssdp:discover") == NULL ||
        !ssdp_header(p->buf, "ST", st, sizeof(st)))
        return;
    int which = ssdp_wanted(r->d, st);
    if (which == 0)
        return;
    char ip[INET_ADDRSTRLEN];
    log_debug(NULL, "tuner: SSDP search for %s from %s:%d", st, addr_str(p->from.sin_addr, ip),
              ntohs(p->from.sin_port));
    long wait = 0;
    if (IN_MULTICAST(ntohl(p->info.ipi_addr.s_addr)) && ssdp_header(p->buf, "MX", mx, sizeof(mx)))
        wait = strtol(mx, NULL, 10);
    if (wait <= 0) {
        ssdp_send_reply(r->d, &p->from, local_addr(r->d, p), which);
        return;
    }
    uint64_t cap = wait >= SSDP_MAX_DELAY_MS / 1000 ? SSDP_MAX_DELAY_MS : (uint64_t)wait * 1000;
    ssdp_reply_later(r->d, p, which, random_u32() % cap);
}

/* ---------------------------------------------------------------- interfaces */

/* Where a bound address lives: its interface and subnet broadcast address. */
static void find_bind_iface(discovery_t *d, const struct ifaddrs *list)
{
    for (const struct ifaddrs *a = list; a != NULL; a = a->ifa_next) {
        if (a->ifa_addr == NULL || a->ifa_addr->sa_family != AF_INET ||
            ((struct sockaddr_in *)a->ifa_addr)->sin_addr.s_addr != d->bind.s_addr)
            continue;
        d->bind_index = (int)if_nametoindex(a->ifa_name);
        if ((a->ifa_flags & IFF_BROADCAST) && a->ifa_broadaddr != NULL)
            d->bind_bcast = ((struct sockaddr_in *)a->ifa_broadaddr)->sin_addr;
        d->ifaces[0] = (iface_t){d->bind_index, d->bind, (a->ifa_flags & IFF_LOOPBACK) != 0};
        d->n_ifaces = 1;
        return;
    }
    char ip[INET_ADDRSTRLEN];
    log_warn(NULL, "tuner: %s is not an address of this machine; discovery will not hear "
                   "anything. Change \"tuner\": {\"bind\": ...} in retrovue.json",
             addr_str(d->bind, ip));
}

/* Listening everywhere: every interface that is up and can multicast, plus loopback so
   a client on this machine finds us too; the first IPv4 address of each. */
static void find_all_ifaces(discovery_t *d, const struct ifaddrs *list)
{
    for (const struct ifaddrs *a = list; a != NULL && d->n_ifaces < MAX_IFACES; a = a->ifa_next) {
        if (a->ifa_addr == NULL || a->ifa_addr->sa_family != AF_INET || !(a->ifa_flags & IFF_UP) ||
            !(a->ifa_flags & (IFF_MULTICAST | IFF_LOOPBACK)))
            continue;
        int index = (int)if_nametoindex(a->ifa_name);
        bool seen = false;
        for (size_t i = 0; i < d->n_ifaces; i++)
            seen |= d->ifaces[i].index == index;
        struct in_addr addr = ((struct sockaddr_in *)a->ifa_addr)->sin_addr;
        if (!seen && index > 0)
            d->ifaces[d->n_ifaces++] = (iface_t){index, addr, (a->ifa_flags & IFF_LOOPBACK) != 0};
    }
}

static void find_ifaces(discovery_t *d)
{
    struct ifaddrs *list;
    if (getifaddrs(&list) != 0) {
        log_warn(NULL, "tuner: unable to list network interfaces: %s", strerror(errno));
        return;
    }
    if (d->bind.s_addr == htonl(INADDR_ANY))
        find_all_ifaces(d, list);
    else
        find_bind_iface(d, list);
    freeifaddrs(list);
}

/* Joins the SSDP group on every interface we answer on. Loopback often has no
   multicast, and nothing outside the machine could reach it anyway, so a refusal
   there is only worth a debug line. */
static void ssdp_join(discovery_t *d, int fd)
{
#ifdef IP_MULTICAST_ALL
    int off = 0; /* only the memberships made here, not every group this host joined */
    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_ALL, &off, sizeof(off));
#endif
    int ttl = 2; /* UDA 1.1's default: the local network, maybe one router */
    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof(ttl));
    for (size_t i = 0; i < d->n_ifaces; i++) {
        const iface_t *f = &d->ifaces[i];
        struct ip_mreqn m = {.imr_address = f->addr, .imr_ifindex = f->index};
        inet_pton(AF_INET, SSDP_GROUP, &m.imr_multiaddr);
        char ip[INET_ADDRSTRLEN];
        if (setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof(m)) == 0)
            log_debug(NULL, "tuner: SSDP joined %s on %s", SSDP_GROUP, addr_str(f->addr, ip));
        else if (f->loopback)
            log_debug(NULL, "tuner: SSDP cannot join %s on loopback: %s", SSDP_GROUP,
                      strerror(errno));
        else
            log_warn(NULL, "tuner: SSDP cannot join %s on %s (searches there go unanswered): %s",
                     SSDP_GROUP, addr_str(f->addr, ip), strerror(errno));
    }
}

/* ---------------------------------------------------------------- start and stop */

static void start_hdhr(discovery_t *d, int port)
{
    int fd, rc = open_udp(port, false, &fd);
    if (rc != 0) {
        log_warn(NULL,
                 "tuner: unable to answer HDHomeRun discovery on UDP port %d: %s. Stop the "
                 "program holding the port, or set \"tuner\": {\"discover\": false} in "
                 "retrovue.json; Plex can still add the tuner by its address",
                 port, uv_strerror(rc));
        return;
    }
    d->hdhr = responder_open(d, fd, on_hdhr_packet);
}

static void start_ssdp(discovery_t *d, int port)
{
    /* Shared (SO_REUSEADDR): every UPnP stack on a host listens on 1900 this way and
       each gets its own copy of a multicast search. */
    int fd, rc = open_udp(port, true, &fd);
    if (rc != 0) {
        log_warn(NULL,
                 "tuner: unable to answer SSDP on UDP port %d: %s. Another UPnP or DLNA "
                 "server holds it without sharing; stop it, or set \"tuner\": {\"ssdp\": "
                 "false} in retrovue.json (HDHomeRun discovery works without SSDP)",
                 port, uv_strerror(rc));
        return;
    }
    d->ssdp_port = port;
    ssdp_join(d, fd);
    d->ssdp = responder_open(d, fd, on_ssdp_packet);
    d->notify = xcalloc(1, sizeof(*d->notify));
    uv_timer_init(d->loop, d->notify);
    d->notify->data = d;
    d->handles++;
    uv_timer_start(d->notify, on_notify_timer, SSDP_NOTIFY_EVERY, SSDP_NOTIFY_EVERY);
    uv_unref((uv_handle_t *)d->notify);
    ssdp_notify(d, true);
}

static void set_server_header(discovery_t *d)
{
    struct utsname u;
    if (uname(&u) != 0) {
        snprintf(u.sysname, sizeof(u.sysname), "Linux");
        snprintf(u.release, sizeof(u.release), "0");
    }
    snprintf(d->server, sizeof(d->server), "%s/%s UPnP/1.0 Retrovue/%s", u.sysname, u.release,
             RETROVUE_VERSION);
}

int discovery_start(uv_loop_t *loop, station_t *st, discovery_t **out)
{
    const config_t *c = station_config(st);
    const tuner_conf_t *t = &c->tuner;
    *out = NULL;
    if (!t->discover && !t->ssdp)
        return 0;
    const char *host = t->bind_host != NULL ? t->bind_host : c->listen_host;
    discovery_t *d = xcalloc(1, sizeof(*d));
    d->loop = loop;
    d->st = st;
    if (host == NULL || *host == '\0' || inet_pton(AF_INET, host, &d->bind) != 1)
        d->bind.s_addr = htonl(INADDR_ANY); /* both are numeric when set; none is everywhere */
    /* Discovery hands out this machine's address with the HTTP port: if HTTP listens
       only on one address and discovery answers on others, clients find a tuner they
       cannot reach. */
    int http_any = strcmp(c->listen_host, "0.0.0.0") == 0 || c->listen_host[0] == '\0';
    if (!http_any && c->base_url == NULL && strcmp(host, c->listen_host) != 0)
        log_warn(NULL, "tuner: discovery answers on %s but HTTP listens only on %s, so clients "
                       "that find the tuner cannot reach it; set \"tuner\": {\"bind\": \"%s\"}, "
                       "listen on 0.0.0.0, or set server.base_url",
                 host, c->listen_host, c->listen_host);
    set_server_header(d);
    find_ifaces(d);
    if (t->discover)
        start_hdhr(d, t->discover_port);
    if (t->ssdp)
        start_ssdp(d, t->ssdp_port);
    if (d->hdhr == NULL && d->ssdp == NULL) {
        free(d);
        return 0;
    }
    char ip[INET_ADDRSTRLEN];
    log_info(NULL, "tuner %s: answering discovery on %s (HDHomeRun: %s, SSDP: %s)",
             station_device(st)->id_hex, addr_str(d->bind, ip), d->hdhr ? "yes" : "no",
             d->ssdp ? "yes" : "no");
    *out = d;
    return 0;
}

int discovery_complete(const discovery_t *d, const tuner_conf_t *t)
{
    return (!t->discover || (d != NULL && d->hdhr != NULL)) &&
           (!t->ssdp || (d != NULL && d->ssdp != NULL));
}

void discovery_stop(discovery_t *d)
{
    if (d == NULL)
        return;
    d->stopping = true;
    if (d->ssdp != NULL)
        ssdp_notify(d, false);
    responder_close(d->hdhr);
    responder_close(d->ssdp);
    d->hdhr = d->ssdp = NULL;
    if (d->notify != NULL)
        uv_close((uv_handle_t *)d->notify, on_closed);
    d->notify = NULL;
    for (pending_t *p = d->pending; p != NULL; p = p->next)
        uv_close((uv_handle_t *)&p->timer, on_closed);
    d->pending = NULL;
    if (d->handles == 0)
        free(d);
}
