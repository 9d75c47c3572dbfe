-- schema 1.1
-- Mattermost's ChannelMembers table: who is in which channel, and what
-- they have read.
-- SQLite does not enforce varchar lengths.
CREATE TABLE IF NOT EXISTS ChannelMembers (
    ChannelId          varchar(26) NOT NULL,
    UserId             varchar(26) NOT NULL,
    Roles              varchar(256) NOT NULL DEFAULT '',
    LastViewedAt       bigint NOT NULL DEFAULT 0,
    MsgCount           bigint NOT NULL DEFAULT 0,
    MentionCount       bigint NOT NULL DEFAULT 0,
    MentionCountRoot   bigint NOT NULL DEFAULT 0,
    MsgCountRoot       bigint NOT NULL DEFAULT 0,
    UrgentMentionCount bigint NOT NULL DEFAULT 0,
    NotifyProps        text NOT NULL DEFAULT '',
    LastUpdateAt       bigint NOT NULL DEFAULT 0,
    SchemeUser         boolean NOT NULL DEFAULT 0,
    SchemeAdmin        boolean NOT NULL DEFAULT 0,
    SchemeGuest        boolean NOT NULL DEFAULT 0,
    PRIMARY KEY (ChannelId, UserId)
);
CREATE INDEX IF NOT EXISTS idx_channelmembers_user_id ON ChannelMembers (UserId);
