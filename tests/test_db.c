/*
 * Unit tests for the database: migrations on an empty file and on an existing one,
 * WAL mode, refusal of a newer schema, and the asset cache keyed by size and mtime.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog.h"
#include "check.h"
#include "db.h"

static int scalar_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    int v = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
}

static char *scalar_text(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    char *v = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        v = xstrdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return v;
}

int main(void)
{
    char dir[] = "/tmp/rv-db-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char *path = xasprintf("%s/retrovue.db", dir);

    /* Empty file: every migration applies. */
    sqlite3 *db = NULL;
    CHECK(db_open(path, &db) == 0);
    CHECK(scalar_int(db, "PRAGMA user_version") == db_schema_version());
    char *mode = scalar_text(db, "PRAGMA journal_mode");
    CHECK_STR(mode, "wal");
    free(mode);
    CHECK(scalar_int(db, "SELECT count(*) FROM sqlite_master WHERE name IN"
                         " ('assets','channel_state','as_run','events')") == 4);
    CHECK(db_exec(db, "INSERT INTO channel_state (channel, next_seq) VALUES ('1', 42)") == 0);
    db_close(db);

    /* Existing file: nothing re-applied, data kept. */
    db = NULL;
    CHECK(db_open(path, &db) == 0);
    CHECK(scalar_int(db, "SELECT next_seq FROM channel_state WHERE channel='1'") == 42);
    CHECK(db_migrate(db) == 0);
    CHECK(scalar_int(db, "PRAGMA user_version") == db_schema_version());

    /* The asset cache: a stored probe is found while the file is unchanged. */
    char *media = xasprintf("%s/clip.ts", dir);
    FILE *fp = fopen(media, "w");
    fputs("not really media", fp);
    fclose(fp);
    asset_t a = {0};
    CHECK(catalog_probe("ffprobe", media, &a) != 0);
    /* The reason is ffprobe's own message, after the file name. */
    CHECK_CONTAINS(a.error, "clip.ts: ffprobe: Invalid data found when processing input");
    CHECK(catalog_store(db, &a) == 0);
    asset_dispose(&a);
    CHECK(catalog_get(db, media, &a) == 0);
    CHECK(a.error != NULL);
    asset_dispose(&a);
    fp = fopen(media, "a");
    fputs(" and now longer", fp);
    fclose(fp);
    CHECK(catalog_get(db, media, &a) == -ESTALE);
    unlink(media);
    CHECK(catalog_get(db, media, &a) == -ENOENT);
    free(media);

    /* A database from a newer retrovue is refused, not downgraded. */
    char pragma[64];
    snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", db_schema_version() + 1);
    CHECK(db_exec(db, pragma) == 0);
    db_close(db);
    db = NULL;
    CHECK(db_open(path, &db) != 0);
    CHECK(db == NULL);

    char *cmd = xasprintf("rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
    free(cmd);
    free(path);
    return CHECK_DONE();
}
