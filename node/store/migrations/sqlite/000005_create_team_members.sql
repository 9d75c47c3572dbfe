-- schema 1.1
-- Mattermost's TeamMembers table: who belongs to which team.
-- SQLite does not enforce varchar lengths.
CREATE TABLE IF NOT EXISTS TeamMembers (
    TeamId      varchar(26) NOT NULL,
    UserId      varchar(26) NOT NULL,
    Roles       varchar(256) NOT NULL DEFAULT '',
    DeleteAt    bigint NOT NULL DEFAULT 0,
    SchemeUser  boolean NOT NULL DEFAULT 0,
    SchemeAdmin boolean NOT NULL DEFAULT 0,
    SchemeGuest boolean NOT NULL DEFAULT 0,
    CreateAt    bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (TeamId, UserId)
);
CREATE INDEX IF NOT EXISTS idx_teammembers_user_id ON TeamMembers (UserId);
CREATE INDEX IF NOT EXISTS idx_teammembers_delete_at ON TeamMembers (DeleteAt);
