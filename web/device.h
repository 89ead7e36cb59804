/*
 * The emulated HDHomeRun's identity: DeviceID (8 hex digits with SiliconDust's check
 * digit), DeviceAuth and the UPnP UDN. Made up once and kept in the database, because
 * Plex keys its channel map on the DeviceID: a new one would orphan the user's DVR.
 */
#ifndef RV_DEVICE_H
#define RV_DEVICE_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct device_identity {
    uint32_t id;          /* DeviceID as a number */
    char id_hex[9];       /* "1053A4C2" */
    char auth[25];        /* DeviceAuth: 24 characters */
    char udn[42];         /* "uuid:xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" */
} device_identity_t;

/** True when id passes libhdhomerun's device ID check. */
bool device_id_valid(uint32_t id);
/** Turns any number into a valid DeviceID by fixing its last hex digit. */
uint32_t device_id_fix(uint32_t id);
/** Loads the identity, making and storing it on first use; 0 or -EIO. */
int device_identity_load(sqlite3 *db, device_identity_t *out);

#endif
