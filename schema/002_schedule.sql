-- Retrovue schema, version 2: the schedule engine's logs and state. Times are integer
-- milliseconds since 1970 UTC so that item lengths add up to slot lengths exactly.

-- Show level: which program fills each slot (an entry may span several slots).
-- rot_key/rot_count record which rotation counter an entry consumed, so a rebuild can
-- roll the counters back to the boundary.
CREATE TABLE coarse_log (
    channel TEXT NOT NULL,
    slot_start INTEGER NOT NULL,
    slot_end INTEGER NOT NULL,
    kind TEXT NOT NULL,
    block TEXT,
    series TEXT,
    title TEXT,
    path TEXT,
    season INTEGER NOT NULL DEFAULT 0,
    episode INTEGER NOT NULL DEFAULT 0,
    rot_key TEXT,
    rot_count INTEGER,
    PRIMARY KEY (channel, slot_start)
) WITHOUT ROWID;

-- File paths once, so the fine log stores small integers.
CREATE TABLE sched_assets (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE
);

-- Break level: every item with its exact start and end and the part of the file it airs.
CREATE TABLE fine_log (
    channel TEXT NOT NULL,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    slot_start INTEGER NOT NULL,
    kind TEXT NOT NULL,
    asset INTEGER NOT NULL, -- sched_assets.id (no FOREIGN KEY: a check per row costs 20%)
    inpoint INTEGER NOT NULL,
    outpoint INTEGER NOT NULL,
    title TEXT,
    PRIMARY KEY (channel, start)
) WITHOUT ROWID;

-- Rotation: how many episodes (or movies) a channel has aired from each series or
-- collection; the next one follows from the count and the order.
CREATE TABLE rotation (
    channel TEXT NOT NULL,
    key TEXT NOT NULL,
    next_count INTEGER NOT NULL,
    PRIMARY KEY (channel, key)
) WITHOUT ROWID;

-- How far each channel's logs are built, and from which template.
CREATE TABLE schedule_state (
    channel TEXT PRIMARY KEY,
    built_until INTEGER NOT NULL,
    fingerprint TEXT NOT NULL
);
