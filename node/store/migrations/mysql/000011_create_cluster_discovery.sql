-- schema 1.1
-- Mattermost's ClusterDiscovery table: one row per live node, refreshed
-- every minute (LastPingAt); peers find each other through it.
-- Indexes are declared in CREATE TABLE, so the migration is one statement
-- that IF NOT EXISTS makes safe to run again (MySQL commits DDL at once).
CREATE TABLE IF NOT EXISTS ClusterDiscovery (
    Id          varchar(26) NOT NULL,
    Type        varchar(64) NOT NULL DEFAULT '',
    ClusterName varchar(64) NOT NULL DEFAULT '',
    Hostname    varchar(512) NOT NULL DEFAULT '',
    GossipPort  integer NOT NULL DEFAULT 0,
    Port        integer NOT NULL DEFAULT 0,
    CreateAt    bigint NOT NULL DEFAULT 0,
    LastPingAt  bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (Id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
