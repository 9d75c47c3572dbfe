-- schema 1.1
-- Mattermost's Channels table. A channel's name is unique in its team.
-- Indexes are declared in CREATE TABLE, so the migration is one statement
-- that IF NOT EXISTS makes safe to run again (MySQL commits DDL at once).
CREATE TABLE IF NOT EXISTS Channels (
    Id                varchar(26) NOT NULL,
    CreateAt          bigint NOT NULL DEFAULT 0,
    UpdateAt          bigint NOT NULL DEFAULT 0,
    DeleteAt          bigint NOT NULL DEFAULT 0,
    TeamId            varchar(26) NOT NULL DEFAULT '',
    Type              varchar(1) NOT NULL DEFAULT '',
    DisplayName       varchar(64) NOT NULL DEFAULT '',
    Name              varchar(64) NOT NULL DEFAULT '',
    Header            varchar(1024) NOT NULL DEFAULT '',
    Purpose           varchar(250) NOT NULL DEFAULT '',
    LastPostAt        bigint NOT NULL DEFAULT 0,
    TotalMsgCount     bigint NOT NULL DEFAULT 0,
    ExtraUpdateAt     bigint NOT NULL DEFAULT 0,
    CreatorId         varchar(26) NOT NULL DEFAULT '',
    SchemeId          varchar(26) NOT NULL DEFAULT '',
    GroupConstrained  boolean NOT NULL DEFAULT false,
    Shared            boolean NOT NULL DEFAULT false,
    TotalMsgCountRoot bigint NOT NULL DEFAULT 0,
    LastRootPostAt    bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (Id),
    UNIQUE (Name, TeamId),
    KEY idx_channels_team_id (TeamId),
    KEY idx_channels_update_at (UpdateAt),
    KEY idx_channels_create_at (CreateAt),
    KEY idx_channels_delete_at (DeleteAt)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
