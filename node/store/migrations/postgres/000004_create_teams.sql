-- schema 1.1
-- Mattermost's Teams table.
-- Unquoted names fold to lower case, as in Mattermost's PostgreSQL schema.
CREATE TABLE IF NOT EXISTS Teams (
    Id                 varchar(26) NOT NULL,
    CreateAt           bigint NOT NULL DEFAULT 0,
    UpdateAt           bigint NOT NULL DEFAULT 0,
    DeleteAt           bigint NOT NULL DEFAULT 0,
    DisplayName        varchar(64) NOT NULL DEFAULT '',
    Name               varchar(64) NOT NULL DEFAULT '',
    Description        varchar(255) NOT NULL DEFAULT '',
    Email              varchar(128) NOT NULL DEFAULT '',
    Type               varchar(255) NOT NULL DEFAULT '',
    CompanyName        varchar(64) NOT NULL DEFAULT '',
    AllowedDomains     varchar(1000) NOT NULL DEFAULT '',
    InviteId           varchar(32) NOT NULL DEFAULT '',
    AllowOpenInvite    boolean NOT NULL DEFAULT false,
    LastTeamIconUpdate bigint NOT NULL DEFAULT 0,
    SchemeId           varchar(26) NOT NULL DEFAULT '',
    GroupConstrained   boolean NOT NULL DEFAULT false,
    PRIMARY KEY (Id),
    UNIQUE (Name)
);
CREATE INDEX IF NOT EXISTS idx_teams_invite_id ON Teams (InviteId);
CREATE INDEX IF NOT EXISTS idx_teams_update_at ON Teams (UpdateAt);
CREATE INDEX IF NOT EXISTS idx_teams_create_at ON Teams (CreateAt);
CREATE INDEX IF NOT EXISTS idx_teams_delete_at ON Teams (DeleteAt);
