/*
 * Unit tests for the emulated tuner's identity: the DeviceID check digit (against
 * libhdhomerun's rule, restated here), and that the identity is made
 * once and then read back unchanged from the database, as Plex needs.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "db.h"
#include "device.h"
#include "util.h"

/* The rule restated independently: nibbles 0, 2, 4, 6 (from the top) go through the
   table, 1, 3, 5, 7 as they are, and the XOR of all eight is zero. */
static int reference_valid(uint32_t id)
{
    static const uint8_t t[16] = {0xA, 0x5, 0xF, 0x6, 0x7, 0xC, 0x1, 0xB,
                                  0x9, 0x2, 0x8, 0xD, 0x4, 0x3, 0xE, 0x0};
    uint8_t c = 0;
    for (int i = 0; i < 8; i++) {
        uint8_t n = (id >> (28 - 4 * i)) & 0xF;
        c ^= i % 2 == 0 ? t[n] : n;
    }
    return c == 0;
}

static void test_check_digit(void)
{
    /* Every prefix has exactly one valid last digit, and fix finds it. */
    uint32_t seed = 0x12345678;
    for (int i = 0; i < 100000; i++) {
        seed = seed * 1664525u + 1013904223u;
        uint32_t fixed = device_id_fix(seed);
        CHECK((fixed & ~0xFu) == (seed & ~0xFu));
        CHECK(device_id_valid(fixed) && reference_valid(fixed));
        int valid = 0;
        for (uint32_t d = 0; d < 16; d++)
            valid += device_id_valid((seed & ~0xFu) | d);
        CHECK(valid == 1);
        CHECK(device_id_valid(seed) == reference_valid(seed));
    }
    /* The wildcard passes the check; made IDs start with 0x105, so they never equal it. */
    CHECK(device_id_valid(0xFFFFFFFFu));
}

static void test_identity_kept(void)
{
    char dir[] = "/tmp/rv-device-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char *path = xasprintf("%s/retrovue.db", dir);
    device_identity_t a, b;
    sqlite3 *db = NULL;
    CHECK(db_open(path, &db) == 0);
    CHECK(device_identity_load(db, &a) == 0);
    db_close(db);
    CHECK(db_open(path, &db) == 0);
    CHECK(device_identity_load(db, &b) == 0);
    db_close(db);
    CHECK(device_id_valid(a.id));
    CHECK(a.id >> 20 == 0x105);
    CHECK(strlen(a.id_hex) == 8);
    char hex[9];
    snprintf(hex, sizeof(hex), "%08X", a.id);
    CHECK_STR(a.id_hex, hex);
    CHECK(strlen(a.auth) == 24);
    for (size_t i = 0; i < 24; i++)
        CHECK(isalnum((unsigned char)a.auth[i]));
    CHECK(strlen(a.udn) == 41 && strncmp(a.udn, "uuid:", 5) == 0 && a.udn[19] == '4');
    CHECK(a.id == b.id);
    CHECK_STR(a.id_hex, b.id_hex);
    CHECK_STR(a.auth, b.auth);
    CHECK_STR(a.udn, b.udn);

    /* A damaged stored ID is replaced by a valid one rather than served. */
    CHECK(db_open(path, &db) == 0);
    CHECK(db_exec(db, "UPDATE station_meta SET value = '12345678' WHERE key = 'device_id'") == 0);
    CHECK(device_identity_load(db, &b) == 0);
    CHECK(device_id_valid(b.id));
    db_close(db);

    char *wal = xasprintf("%s-wal", path), *shm = xasprintf("%s-shm", path);
    unlink(path);
    unlink(wal);
    unlink(shm);
    rmdir(dir);
    free(wal);
    free(shm);
    free(path);
}

int main(void)
{
    test_check_digit();
    test_identity_kept();
    return CHECK_DONE();
}
