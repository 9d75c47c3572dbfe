-- schema 1.0
-- Mattermost's Systems table: named server-wide values (schema version,
-- cluster key, health check rows).
CREATE TABLE IF NOT EXISTS Systems (
    Name varchar(64) NOT NULL,
    Value text,
    PRIMARY KEY (Name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
