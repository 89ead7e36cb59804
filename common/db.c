/*
 * Opening and migrating the SQLite file. Migrations are the schema/NNN_*.sql files
 * compiled into the binary; PRAGMA user_version records how many have been applied,
 * and each one runs in its own transaction so a crash never leaves half a schema.
 */
#include "db.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>

#include "log.h"

extern const char *const schema_migrations[];
extern const size_t schema_migration_count;

int db_schema_version(void)
{
    return (int)schema_migration_count;
}

int db_exec(sqlite3 *db, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
        log_error(NULL, "database: %s", err ? err : sqlite3_errmsg(db));
        sqlite3_free(err);
        return -EIO;
    }
    return 0;
}

static int user_version(sqlite3 *db)
{
    sqlite3_stmt *st;
    int v = -1;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW)
            v = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
    }
    return v;
}

int db_migrate(sqlite3 *db)
{
    int have = user_version(db);
    if (have < 0)
        return -EIO;
    if (have > (int)schema_migration_count) {
        log_error(NULL, "database schema version %d is newer than this retrovue (%d)", have,
                  (int)schema_migration_count);
        return -EPROTO;
    }
    for (int v = have; v < (int)schema_migration_count; v++) {
        if (db_exec(db, "BEGIN IMMEDIATE") != 0)
            return -EIO;
        char pragma[64];
        snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", v + 1);
        if (db_exec(db, schema_migrations[v]) != 0 || db_exec(db, pragma) != 0) {
            db_exec(db, "ROLLBACK");
            log_error(NULL, "database migration %d failed", v + 1);
            return -EIO;
        }
        if (db_exec(db, "COMMIT") != 0)
            return -EIO;
        log_info(NULL, "database migrated to schema version %d", v + 1);
    }
    return 0;
}

int db_open(const char *path, sqlite3 **out)
{
    sqlite3 *db;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        log_error(NULL, "unable to open database %s: %s", path, sqlite3_errmsg(db));
        sqlite3_close(db);
        return -EIO;
    }
    sqlite3_busy_timeout(db, 2000);
    /* WAL lets readers (the API, `retrovue schedule`) run while the server writes;
       synchronous=NORMAL is durable across process crashes, which is what matters. */
    if (db_exec(db, "PRAGMA journal_mode=WAL") != 0 ||
        db_exec(db, "PRAGMA synchronous=NORMAL") != 0 ||
        db_exec(db, "PRAGMA foreign_keys=ON") != 0 || db_migrate(db) != 0) {
        sqlite3_close(db);
        return -EIO;
    }
    *out = db;
    return 0;
}

void db_close(sqlite3 *db)
{
    if (db != NULL)
        sqlite3_close(db);
}

void db_event(sqlite3 *db, double at, const char *channel, const char *kind, const char *message)
{
    sqlite3_stmt *st;
    if (db == NULL ||
        sqlite3_prepare_v2(db, "INSERT INTO events (at, channel, kind, message) VALUES (?,?,?,?)",
                           -1, &st, NULL) != SQLITE_OK)
        return;
    sqlite3_bind_double(st, 1, at);
    if (channel != NULL)
        sqlite3_bind_text(st, 2, channel, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, message, -1, SQLITE_STATIC);
    sqlite3_step(st);
    sqlite3_finalize(st);
}
