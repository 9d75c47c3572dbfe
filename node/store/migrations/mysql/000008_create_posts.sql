-- schema 1.1
-- Mattermost's Posts table. A channel page reads the newest posts of one
-- channel that are not deleted: idx_posts_channel_id_delete_at_create_at.
-- Indexes are declared in CREATE TABLE, so the migration is one statement
-- that IF NOT EXISTS makes safe to run again (MySQL commits DDL at once).
CREATE TABLE IF NOT EXISTS Posts (
    Id           varchar(26) NOT NULL,
    CreateAt     bigint NOT NULL DEFAULT 0,
    UpdateAt     bigint NOT NULL DEFAULT 0,
    EditAt       bigint NOT NULL DEFAULT 0,
    DeleteAt     bigint NOT NULL DEFAULT 0,
    IsPinned     boolean NOT NULL DEFAULT false,
    UserId       varchar(26) NOT NULL DEFAULT '',
    ChannelId    varchar(26) NOT NULL DEFAULT '',
    RootId       varchar(26) NOT NULL DEFAULT '',
    OriginalId   varchar(26) NOT NULL DEFAULT '',
    Message      text NOT NULL,
    Type         varchar(26) NOT NULL DEFAULT '',
    Props        text NOT NULL,
    Hashtags     varchar(1000) NOT NULL DEFAULT '',
    FileIds      varchar(300) NOT NULL DEFAULT '',
    HasReactions boolean NOT NULL DEFAULT false,
    PRIMARY KEY (Id),
    KEY idx_posts_update_at (UpdateAt),
    KEY idx_posts_create_at (CreateAt),
    KEY idx_posts_delete_at (DeleteAt),
    KEY idx_posts_root_id (RootId),
    KEY idx_posts_user_id (UserId),
    KEY idx_posts_channel_id_update_at (ChannelId, UpdateAt),
    KEY idx_posts_channel_id_delete_at_create_at (ChannelId, DeleteAt, CreateAt)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
