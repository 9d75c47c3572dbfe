-- schema 1.1
-- Mattermost's Status table: each user's presence.
-- Unquoted names fold to lower case, as in Mattermost's PostgreSQL schema.
CREATE TABLE IF NOT EXISTS Status (
    UserId         varchar(26) NOT NULL,
    Status         varchar(32) NOT NULL DEFAULT '',
    Manual         boolean NOT NULL DEFAULT false,
    LastActivityAt bigint NOT NULL DEFAULT 0,
    DNDEndTime     bigint NOT NULL DEFAULT 0,
    PrevStatus     varchar(32) NOT NULL DEFAULT '',
    PRIMARY KEY (UserId)
);
CREATE INDEX IF NOT EXISTS idx_status_status ON Status (Status);
