-- schema 1.1
-- Mattermost's Status table: each user's presence.
-- Indexes are declared in CREATE TABLE, so the migration is one statement
-- that IF NOT EXISTS makes safe to run again (MySQL commits DDL at once).
CREATE TABLE IF NOT EXISTS Status (
    UserId         varchar(26) NOT NULL,
    Status         varchar(32) NOT NULL DEFAULT '',
    Manual         boolean NOT NULL DEFAULT false,
    LastActivityAt bigint NOT NULL DEFAULT 0,
    DNDEndTime     bigint NOT NULL DEFAULT 0,
    PrevStatus     varchar(32) NOT NULL DEFAULT '',
    PRIMARY KEY (UserId),
    KEY idx_status_status (Status)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
