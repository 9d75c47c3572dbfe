-- schema 1.1
-- Mattermost's Jobs table: background jobs and their progress.
-- Unquoted names fold to lower case, as in Mattermost's PostgreSQL schema.
CREATE TABLE IF NOT EXISTS Jobs (
    Id             varchar(26) NOT NULL,
    Type           varchar(32) NOT NULL DEFAULT '',
    Priority       bigint NOT NULL DEFAULT 0,
    CreateAt       bigint NOT NULL DEFAULT 0,
    StartAt        bigint NOT NULL DEFAULT 0,
    LastActivityAt bigint NOT NULL DEFAULT 0,
    Status         varchar(32) NOT NULL DEFAULT '',
    Progress       bigint NOT NULL DEFAULT 0,
    Data           text NOT NULL DEFAULT '',
    PRIMARY KEY (Id)
);
CREATE INDEX IF NOT EXISTS idx_jobs_type ON Jobs (Type);
CREATE INDEX IF NOT EXISTS idx_jobs_status_type ON Jobs (Status, Type);
