-- schema 1.1
-- Mattermost's Sessions table: login sessions, found by Token.
-- SQLite does not enforce varchar lengths.
CREATE TABLE IF NOT EXISTS Sessions (
    Id             varchar(26) NOT NULL,
    Token          varchar(26) NOT NULL DEFAULT '',
    CreateAt       bigint NOT NULL DEFAULT 0,
    ExpiresAt      bigint NOT NULL DEFAULT 0,
    LastActivityAt bigint NOT NULL DEFAULT 0,
    UserId         varchar(26) NOT NULL DEFAULT '',
    DeviceId       varchar(512) NOT NULL DEFAULT '',
    Roles          varchar(256) NOT NULL DEFAULT '',
    IsOAuth        boolean NOT NULL DEFAULT 0,
    ExpiredNotify  boolean NOT NULL DEFAULT 0,
    Props          text NOT NULL DEFAULT '',
    PRIMARY KEY (Id)
);
CREATE INDEX IF NOT EXISTS idx_sessions_user_id ON Sessions (UserId);
CREATE INDEX IF NOT EXISTS idx_sessions_token ON Sessions (Token);
CREATE INDEX IF NOT EXISTS idx_sessions_expires_at ON Sessions (ExpiresAt);
CREATE INDEX IF NOT EXISTS idx_sessions_last_activity_at ON Sessions (LastActivityAt);
