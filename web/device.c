/*
 * The emulated tuner's identity, generated from the kernel's random source on first
 * start and stored in station_meta. The DeviceID check digit follows libhdhomerun:
 * alternate nibbles pass through a lookup table, and all eight XOR to zero, so the last
 * nibble can always be chosen to make any prefix valid.
 */
#include "device.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "log.h"

static const uint8_t check_table[16] = {0xA, 0x5, 0xF, 0x6, 0x7, 0xC, 0x1, 0xB,
                                        0x9, 0x2, 0x8, 0xD, 0x4, 0x3, 0xE, 0x0};

/* XOR of the first seven nibbles' contributions (the last passes through as is). */
static uint8_t check_prefix(uint32_t id)
{
    uint8_t c = 0;
    for (int shift = 28; shift >= 4; shift -= 4) {
        uint8_t n = (id >> shift) & 0xF;
        c ^= (shift / 4) % 2 == 1 ? check_table[n] : n;
    }
    return c;
}

bool device_id_valid(uint32_t id)
{
    return (check_prefix(id) ^ (id & 0xF)) == 0;
}

uint32_t device_id_fix(uint32_t id)
{
    return (id & ~0xFu) | check_prefix(id);
}

static void random_bytes(void *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = getrandom((char *)buf + got, n - got, 0);
        if (r > 0)
            got += (size_t)r;
        else if (errno != EINTR)
            break; /* getrandom only fails this way on very old kernels */
    }
}

static int meta_get(sqlite3 *db, const char *key, char *buf, size_t size)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(db, "SELECT value FROM station_meta WHERE key = ?", -1, &q, NULL) !=
        SQLITE_OK)
        return -EIO;
    sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
    int rc = -ENOENT;
    if (sqlite3_step(q) == SQLITE_ROW) {
        snprintf(buf, size, "%s", (const char *)sqlite3_column_text(q, 0));
        rc = 0;
    }
    sqlite3_finalize(q);
    return rc;
}

static int meta_put(sqlite3 *db, const char *key, const char *value)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO station_meta (key, value) VALUES (?, ?)",
                           -1, &q, NULL) != SQLITE_OK)
        return -EIO;
    sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, value, -1, SQLITE_STATIC);
    int rc = sqlite3_step(q) == SQLITE_DONE ? 0 : -EIO;
    sqlite3_finalize(q);
    if (rc != 0)
        log_error(NULL, "database: cannot store %s: %s", key, sqlite3_errmsg(db));
    return rc;
}

static void make_identity(device_identity_t *d)
{
    uint8_t r[4 + 24];
    random_bytes(r, sizeof(r));
    uint32_t id = (uint32_t)r[0] << 24 | (uint32_t)r[1] << 16 | (uint32_t)r[2] << 8 | r[3];
    /* The 0x105 prefix of current units: libhdhomerun treats some other 0x1xx prefixes
       as legacy models, and it is never 0xFFFFFFFF, the wildcard. */
    id = device_id_fix((id & 0x000FFFFFu) | 0x10500000u);
    snprintf(d->id_hex, sizeof(d->id_hex), "%08X", id);
    static const char alnum[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    for (size_t i = 0; i < 24; i++)
        d->auth[i] = alnum[r[4 + i] % 62];
    d->auth[24] = '\0';
    uint8_t u[16];
    random_bytes(u, sizeof(u));
    u[6] = (u[6] & 0x0F) | 0x40; /* version 4 */
    u[8] = (u[8] & 0x3F) | 0x80; /* RFC 4122 variant */
    snprintf(d->udn, sizeof(d->udn),
             "uuid:%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0],
             u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13],
             u[14], u[15]);
}

int device_identity_load(sqlite3 *db, device_identity_t *out)
{
    memset(out, 0, sizeof(*out));
    char id[16];
    if (meta_get(db, "device_id", id, sizeof(id)) == 0 &&
        meta_get(db, "device_auth", out->auth, sizeof(out->auth)) == 0 &&
        meta_get(db, "device_udn", out->udn, sizeof(out->udn)) == 0) {
        unsigned v;
        if (sscanf(id, "%8X", &v) == 1 && device_id_valid(v)) {
            out->id = v;
            snprintf(out->id_hex, sizeof(out->id_hex), "%08X", v);
            return 0;
        }
        log_warn(NULL, "database: stored DeviceID %s is not valid; making a new one", id);
    }
    make_identity(out);
    unsigned v;
    sscanf(out->id_hex, "%8X", &v);
    out->id = v;
    if (meta_put(db, "device_id", out->id_hex) != 0 || meta_put(db, "device_auth", out->auth) != 0 ||
        meta_put(db, "device_udn", out->udn) != 0)
        return -EIO;
    log_info(NULL, "tuner: made DeviceID %s (kept in the database from now on)", out->id_hex);
    return 0;
}
