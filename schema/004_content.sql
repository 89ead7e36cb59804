-- The content manager: where each asset came from and whether it is still there,
-- the metadata the guide needs (with its source), break points, and conformed copies.
-- Only playback-relevant facts are kept; the media files stay the source of truth.
ALTER TABLE assets ADD COLUMN kind TEXT;         -- what its media root holds ("episodes", ...)
ALTER TABLE assets ADD COLUMN root TEXT;         -- the media root or "plex:URL" it came from
ALTER TABLE assets ADD COLUMN seen_at REAL;      -- the last scan that found it
ALTER TABLE assets ADD COLUMN gone_at REAL;      -- a scan found it missing (history is kept)
ALTER TABLE assets ADD COLUMN profile TEXT;      -- H.264 profile, e.g. "Main"
ALTER TABLE assets ADD COLUMN field_order TEXT;  -- progressive, tt, bb, tb, bt
ALTER TABLE assets ADD COLUMN sar TEXT;          -- sample aspect ratio "10:11"
ALTER TABLE assets ADD COLUMN dar TEXT;          -- display aspect ratio "4:3"
ALTER TABLE assets ADD COLUMN audio_layout TEXT; -- "stereo", "5.1(side)"
ALTER TABLE assets ADD COLUMN chapters INTEGER;  -- number of chapter markers
ALTER TABLE assets ADD COLUMN breaks_at REAL;    -- when break points were last found

CREATE TABLE asset_meta (
    asset_id INTEGER PRIMARY KEY REFERENCES assets (id) ON DELETE CASCADE,
    source TEXT NOT NULL,          -- "nfo" or "plex"
    source_ref TEXT NOT NULL,      -- the .nfo path, or the Plex ratingKey
    show TEXT,
    season INTEGER,
    episode INTEGER,
    episode_last INTEGER,          -- a multi-episode file's last episode
    title TEXT,
    aired TEXT,                    -- YYYY-MM-DD
    plot TEXT,
    runtime REAL,                  -- seconds, as the metadata says
    genre TEXT,                    -- " / "-joined
    year INTEGER,
    rating TEXT,                   -- e.g. "TV-PG"
    updated_at REAL NOT NULL
);
CREATE INDEX asset_meta_show ON asset_meta (show, season, episode);

CREATE TABLE asset_breaks (
    asset_id INTEGER NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
    at REAL NOT NULL,              -- seconds into the file
    source TEXT NOT NULL,          -- "chapters", "detected", "manual"
    confidence REAL NOT NULL,      -- 0..1
    PRIMARY KEY (asset_id, source, at)
);

-- One transcode of a source (by fingerprint) into one house format.
CREATE TABLE conforms (
    fingerprint TEXT NOT NULL,     -- the source's path, size and mtime, hashed
    house TEXT NOT NULL,           -- the house format, as a key
    asset_id INTEGER NOT NULL,
    state TEXT NOT NULL,           -- queued, running, done, failed
    path TEXT,                     -- the conformed file under the state dir
    start_time REAL,               -- its first timestamp (s): inpoints are offset by it
    duration REAL,                 -- its length (s)
    keyframes TEXT,                -- JSON array of keyframe times (s), for cuts
    error TEXT,
    updated_at REAL NOT NULL,
    PRIMARY KEY (fingerprint, house)
);
CREATE INDEX conforms_asset ON conforms (asset_id);
