/*
 * Command-line commands that work on the catalog rather than the running station:
 * `retrovue ingest` and `retrovue assets list|show`.
 */
#ifndef RV_COMMANDS_H
#define RV_COMMANDS_H

/** `retrovue ingest --config DIR [--state DIR] [--no-breaks] [--conform]`; returns the exit status. */
int cmd_ingest(int argc, char **argv);
/** `retrovue assets list|show ...`; returns the exit status. */
int cmd_assets(int argc, char **argv);

#endif
