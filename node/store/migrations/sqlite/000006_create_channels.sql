-- schema 1.1
-- Mattermost's Channels table. A channel's name is unique in its team.
-- SQLite does not enforce varchar lengths.
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
    GroupConstrained  boolean NOT NULL DEFAULT 0,
    Shared            boolean NOT NULL DEFAULT 0,
    TotalMsgCountRoot bigint NOT NULL DEFAULT 0,
    LastRootPostAt    bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (Id),
    UNIQUE (Name, TeamId)
);
CREATE INDEX IF NOT EXISTS idx_channels_team_id ON Channels (TeamId);
CREATE INDEX IF NOT EXISTS idx_channels_update_at ON Channels (UpdateAt);
CREATE INDEX IF NOT EXISTS idx_channels_create_at ON Channels (CreateAt);
CREATE INDEX IF NOT EXISTS idx_channels_delete_at ON Channels (DeleteAt);
