-- Retrovue schema, version 1: assets as probed, per-channel output state that must
-- survive restarts, the as-run log and the event log.
CREATE TABLE assets (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    size INTEGER NOT NULL,
    mtime INTEGER NOT NULL,
    duration REAL,
    start_time REAL NOT NULL DEFAULT 0,
    format TEXT,
    video_codec TEXT,
    width INTEGER,
    height INTEGER,
    fps TEXT,
    has_b_frames INTEGER,
    pix_fmt TEXT,
    audio_codec TEXT,
    audio_rate INTEGER,
    audio_channels INTEGER,
    error TEXT,
    probed_at REAL NOT NULL
);

-- What a channel's output must continue from after a restart of ffmpeg or of
-- retrovue: the next HLS media sequence number, the timestamp offset that keeps
-- PTS continuous, and the discontinuity sequence.
CREATE TABLE channel_state (
    channel TEXT PRIMARY KEY,
    next_seq INTEGER NOT NULL DEFAULT 0,
    ts_offset REAL NOT NULL DEFAULT 0,
    disc_seq INTEGER NOT NULL DEFAULT 0,
    updated_at REAL NOT NULL DEFAULT 0
);

-- Every item handed to a channel's ffmpeg, with when it was due and when it went out.
CREATE TABLE as_run (
    id INTEGER PRIMARY KEY,
    channel TEXT NOT NULL,
    path TEXT NOT NULL,
    scheduled_start REAL NOT NULL,
    actual_start REAL NOT NULL,
    inpoint REAL NOT NULL DEFAULT 0,
    duration REAL NOT NULL,
    note TEXT
);
CREATE INDEX as_run_channel_start ON as_run (channel, actual_start);

CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    at REAL NOT NULL,
    channel TEXT,
    kind TEXT NOT NULL,
    message TEXT NOT NULL
);
