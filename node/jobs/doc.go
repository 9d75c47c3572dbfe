// Package jobs runs the node's scheduled jobs on the cluster's leader, as
// Mattermost's job server does: expired-session cleanup, ClusterDiscovery
// cleanup and data retention ([ExpiredSessionsCleanup],
// [ClusterDiscoveryCleanup], [DataRetention]). Each run is a row of the
// Jobs table, and a run is claimed in the database, so a job never runs
// twice at once, not even while two nodes both believe they lead (during
// a leader change, or a partition).
//
// # Claiming
//
// The runs of one job type form a chain: the id of a run is derived from
// the type and the id of the run before it, and a scheduler creates the
// next run only once the newest one has ended. Two schedulers that both
// see the newest run ended derive the same id, so only one insert
// succeeds; a run is then moved from pending to in_progress by one
// conditional UPDATE, which only one scheduler wins. A run in progress
// refreshes its LastActivityAt every HeartbeatInterval; one whose node
// stopped refreshing it for StaleAfter is declared abandoned (status
// error) by a conditional UPDATE that fails if it showed a sign of life,
// and a runner that cannot refresh its run for StaleAfter/2 cancels
// itself, so the abandoned run has stopped before the next one starts.
//
// Entry type: [Scheduler], built by [New] from a [Config], [Deps] and
// the [Job]s to run, then [Scheduler.Start]ed and [Scheduler.Stop]ped;
// [Scheduler.List] is GET /api/v4/jobs. jobs imports node/store (the Jobs
// accessor and the cleanup statements, through the small interfaces it
// declares) and node/config, and must not import node/app, node/api or
// node/cluster: the leadership comes through [Leadership].
package jobs
