-- Values the station makes up once and must keep: the emulated tuner's DeviceID,
-- DeviceAuth and UPnP UDN (Plex keys its channel map on the DeviceID).
CREATE TABLE station_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
