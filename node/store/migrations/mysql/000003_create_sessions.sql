-- schema 1.1
-- Mattermost's Sessions table: login sessions, found by Token.
-- Indexes are declared in CREATE TABLE, so the migration is one statement
-- that IF NOT EXISTS makes safe to run again (MySQL commits DDL at once).
CREATE TABLE IF NOT EXISTS Sessions (
    Id             varchar(26) NOT NULL,
    Token          varchar(26) NOT NULL DEFAULT '',
    CreateAt       bigint NOT NULL DEFAULT 0,
    ExpiresAt      bigint NOT NULL DEFAULT 0,
    LastActivityAt bigint NOT NULL DEFAULT 0,
    UserId         varchar(26) NOT NULL DEFAULT '',
    DeviceId       varchar(512) NOT NULL DEFAULT '',
    Roles          varchar(256) NOT NULL DEFAULT '',
    IsOAuth        boolean NOT NULL DEFAULT false,
    ExpiredNotify  boolean NOT NULL DEFAULT false,
    Props          text NOT NULL,
    PRIMARY KEY (Id),
    KEY idx_sessions_user_id (UserId),
    KEY idx_sessions_token (Token),
    KEY idx_sessions_expires_at (ExpiresAt),
    KEY idx_sessions_last_activity_at (LastActivityAt)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
