-- schema 1.0
-- Mattermost's Systems table: named server-wide values (schema version,
-- cluster key, health check rows). SQLite does not enforce varchar lengths.
CREATE TABLE IF NOT EXISTS Systems (
    Name varchar(64) NOT NULL,
    Value text,
    PRIMARY KEY (Name)
);
