-- schema 1.0
-- Mattermost's Systems table: named server-wide values (schema version,
-- cluster key, health check rows). Unquoted names fold to lower case,
-- as in Mattermost's PostgreSQL schema.
CREATE TABLE IF NOT EXISTS Systems (
    Name varchar(64) NOT NULL,
    Value text,
    PRIMARY KEY (Name)
);
