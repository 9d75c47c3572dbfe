-- schema 1.1
-- Mattermost's TeamMembers table: who belongs to which team.
-- Indexes are declared in CREATE TABLE, so the migration is one statement
-- that IF NOT EXISTS makes safe to run again (MySQL commits DDL at once).
CREATE TABLE IF NOT EXISTS TeamMembers (
    TeamId      varchar(26) NOT NULL,
    UserId      varchar(26) NOT NULL,
    Roles       varchar(256) NOT NULL DEFAULT '',
    DeleteAt    bigint NOT NULL DEFAULT 0,
    SchemeUser  boolean NOT NULL DEFAULT false,
    SchemeAdmin boolean NOT NULL DEFAULT false,
    SchemeGuest boolean NOT NULL DEFAULT false,
    CreateAt    bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (TeamId, UserId),
    KEY idx_teammembers_user_id (UserId),
    KEY idx_teammembers_delete_at (DeleteAt)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
