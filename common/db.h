/*
 * The station database: one SQLite file in WAL mode under the state dir, brought
 * to the newest schema on open by the numbered migrations in schema/.
 */
#ifndef RV_DB_H
#define RV_DB_H

#include <sqlite3.h>

/** Opens (creating if needed) and migrates the database; 0 or a negative errno. */
int db_open(const char *path, sqlite3 **out);
/** Applies any migrations newer than the file's PRAGMA user_version; 0 or -EIO. */
int db_migrate(sqlite3 *db);
/** The schema version this binary migrates to. */
int db_schema_version(void);
/** Closes the database (NULL is fine). */
void db_close(sqlite3 *db);
/** Runs SQL that returns no rows; 0 or -EIO with the reason logged. */
int db_exec(sqlite3 *db, const char *sql);
/** Records a station event (kind is a short word, e.g. "restart"). */
void db_event(sqlite3 *db, double at, const char *channel, const char *kind, const char *message);

#endif
