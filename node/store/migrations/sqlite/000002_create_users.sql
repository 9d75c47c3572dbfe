-- schema 1.1
-- Mattermost's Users table: accounts. Usernames are lower case (the app
-- enforces it), so a prefix search can use the unique index.
-- SQLite does not enforce varchar lengths.
CREATE TABLE IF NOT EXISTS Users (
    Id                 varchar(26) NOT NULL,
    CreateAt           bigint NOT NULL DEFAULT 0,
    UpdateAt           bigint NOT NULL DEFAULT 0,
    DeleteAt           bigint NOT NULL DEFAULT 0,
    Username           varchar(64) NOT NULL DEFAULT '',
    Password           varchar(128) NOT NULL DEFAULT '',
    AuthService        varchar(32) NOT NULL DEFAULT '',
    Email              varchar(128) NOT NULL DEFAULT '',
    EmailVerified      boolean NOT NULL DEFAULT 0,
    Nickname           varchar(64) NOT NULL DEFAULT '',
    FirstName          varchar(64) NOT NULL DEFAULT '',
    LastName           varchar(64) NOT NULL DEFAULT '',
    Position           varchar(128) NOT NULL DEFAULT '',
    Roles              varchar(256) NOT NULL DEFAULT '',
    AllowMarketing     boolean NOT NULL DEFAULT 0,
    Props              text NOT NULL DEFAULT '',
    NotifyProps        text NOT NULL DEFAULT '',
    Timezone           text NOT NULL DEFAULT '',
    LastPasswordUpdate bigint NOT NULL DEFAULT 0,
    LastPictureUpdate  bigint NOT NULL DEFAULT 0,
    FailedAttempts     integer NOT NULL DEFAULT 0,
    Locale             varchar(5) NOT NULL DEFAULT '',
    MfaActive          boolean NOT NULL DEFAULT 0,
    MfaSecret          varchar(128) NOT NULL DEFAULT '',
    PRIMARY KEY (Id),
    UNIQUE (Username),
    UNIQUE (Email)
);
CREATE INDEX IF NOT EXISTS idx_users_update_at ON Users (UpdateAt);
CREATE INDEX IF NOT EXISTS idx_users_create_at ON Users (CreateAt);
CREATE INDEX IF NOT EXISTS idx_users_delete_at ON Users (DeleteAt);
