-- schema 1.1
-- Mattermost's Posts table. A channel page reads the newest posts of one
-- channel that are not deleted: idx_posts_channel_id_delete_at_create_at.
-- Unquoted names fold to lower case, as in Mattermost's PostgreSQL schema.
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
    Message      text NOT NULL DEFAULT '',
    Type         varchar(26) NOT NULL DEFAULT '',
    Props        text NOT NULL DEFAULT '',
    Hashtags     varchar(1000) NOT NULL DEFAULT '',
    FileIds      varchar(300) NOT NULL DEFAULT '',
    HasReactions boolean NOT NULL DEFAULT false,
    PRIMARY KEY (Id)
);
CREATE INDEX IF NOT EXISTS idx_posts_update_at ON Posts (UpdateAt);
CREATE INDEX IF NOT EXISTS idx_posts_create_at ON Posts (CreateAt);
CREATE INDEX IF NOT EXISTS idx_posts_delete_at ON Posts (DeleteAt);
CREATE INDEX IF NOT EXISTS idx_posts_root_id ON Posts (RootId);
CREATE INDEX IF NOT EXISTS idx_posts_user_id ON Posts (UserId);
CREATE INDEX IF NOT EXISTS idx_posts_channel_id_update_at ON Posts (ChannelId, UpdateAt);
CREATE INDEX IF NOT EXISTS idx_posts_channel_id_delete_at_create_at ON Posts (ChannelId, DeleteAt, CreateAt);
