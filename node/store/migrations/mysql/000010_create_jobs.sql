-- schema 1.1
-- Mattermost's Jobs table: background jobs and their progress.
-- Indexes are declared in CREATE TABLE, so the migration is one statement
-- that IF NOT EXISTS makes safe to run again (MySQL commits DDL at once).
CREATE TABLE IF NOT EXISTS Jobs (
    Id             varchar(26) NOT NULL,
    Type           varchar(32) NOT NULL DEFAULT '',
    Priority       bigint NOT NULL DEFAULT 0,
    CreateAt       bigint NOT NULL DEFAULT 0,
    StartAt        bigint NOT NULL DEFAULT 0,
    LastActivityAt bigint NOT NULL DEFAULT 0,
    Status         varchar(32) NOT NULL DEFAULT '',
    Progress       bigint NOT NULL DEFAULT 0,
    Data           text NOT NULL,
    PRIMARY KEY (Id),
    KEY idx_jobs_type (Type),
    KEY idx_jobs_status_type (Status, Type)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
