package store

import (
	"context"
	"database/sql"
	"errors"
)

// ClusterDiscovery is one row of Mattermost's ClusterDiscovery table: a
// live app node announcing where its peers can reach its gossip. Field
// names follow Go style; each column is the Mattermost name (ID is Id).
// Times are Unix milliseconds.
type ClusterDiscovery struct {
	ID          string // 26-character id, chosen by the caller
	Type        string // the kind of node; Mattermost's app nodes write "mattermost_app"
	ClusterName string // ClusterSettings.ClusterName; nodes only see rows of their own
	Hostname    string // the address peers dial
	GossipPort  int    // the gossip port at Hostname (TCP and UDP)
	CreateAt    int64
	LastPingAt  int64 // refreshed by the node's heartbeat; stale rows are ignored
}

// clusterDiscoveryColumns lists the columns in the order of
// [ClusterDiscovery.fields]. Port, Mattermost's legacy streaming port, is
// left at its default.
const clusterDiscoveryColumns = "Id, Type, ClusterName, Hostname, GossipPort, CreateAt, LastPingAt"

// fields returns pointers to d's fields in clusterDiscoveryColumns order.
func (d *ClusterDiscovery) fields() []any {
	return []any{&d.ID, &d.Type, &d.ClusterName, &d.Hostname, &d.GossipPort, &d.CreateAt, &d.LastPingAt}
}

// identity is the WHERE clause and arguments naming d's node: Mattermost
// keys Delete, Exists and SetLastPingAt by (Type, ClusterName, Hostname);
// Chorus adds GossipPort, so that several nodes on one host (the demo, the
// tests) do not delete each other's rows.
func (d *ClusterDiscovery) identity() (string, []any) {
	return "Type = ? AND ClusterName = ? AND Hostname = ? AND GossipPort = ?",
		[]any{d.Type, d.ClusterName, d.Hostname, d.GossipPort}
}

// ClusterDiscoveryStore reads and writes the ClusterDiscovery table. Every
// call goes to the master, replicas or not, as in Mattermost: a node must
// see the row a peer wrote a moment ago. It is safe for concurrent use.
type ClusterDiscoveryStore struct {
	s *Store
}

// Save inserts d, which is not modified or kept. d.ID, d.Type,
// d.ClusterName and d.Hostname must be set (an [*InvalidError] names the
// first missing); a row with the same id gives a [*ConflictError].
func (cs *ClusterDiscoveryStore) Save(ctx context.Context, d *ClusterDiscovery) error {
	s := cs.s
	for _, f := range []struct{ name, value string }{
		{"Id", d.ID}, {"Type", d.Type}, {"ClusterName", d.ClusterName}, {"Hostname", d.Hostname},
	} {
		if f.value == "" {
			return &InvalidError{Table: "ClusterDiscovery", Field: f.name, Problem: "empty"}
		}
	}
	query := "INSERT INTO ClusterDiscovery (" + clusterDiscoveryColumns + ") VALUES (?, ?, ?, ?, ?, ?, ?)"
	if _, err := s.exec(ctx, query, d.fields()...); err != nil {
		if isUniqueViolation(err) {
			err = &ConflictError{Table: "ClusterDiscovery", ID: d.ID, Err: err}
		}
		return s.errorf("saving cluster discovery row %s: %w", d.ID, err)
	}
	return nil
}

// Delete deletes the rows of d's node (its Type, ClusterName, Hostname and
// GossipPort; d.ID is ignored) and reports whether there were any.
func (cs *ClusterDiscoveryStore) Delete(ctx context.Context, d *ClusterDiscovery) (bool, error) {
	s := cs.s
	where, args := d.identity()
	res, err := s.exec(ctx, "DELETE FROM ClusterDiscovery WHERE "+where, args...)
	if err != nil {
		return false, s.errorf("deleting cluster discovery row of %s:%d: %w", d.Hostname, d.GossipPort, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, s.errorf("deleting cluster discovery row of %s:%d: %w", d.Hostname, d.GossipPort, err)
	}
	return n > 0, nil
}

// Exists reports whether a row of d's node (its Type, ClusterName,
// Hostname and GossipPort) exists, however old.
func (cs *ClusterDiscoveryStore) Exists(ctx context.Context, d *ClusterDiscovery) (bool, error) {
	s := cs.s
	where, args := d.identity()
	var n int64
	if err := s.queryRow(ctx, toMaster, "SELECT COUNT(*) FROM ClusterDiscovery WHERE "+where, args, &n); err != nil {
		return false, s.errorf("looking up cluster discovery row of %s:%d: %w", d.Hostname, d.GossipPort, err)
	}
	return n > 0, nil
}

// SetLastPingAt sets LastPingAt of the rows of d's node to at (Unix
// milliseconds) and reports whether there were any: false means the row
// is gone (cleaned up while the node was paused) and the node should save
// itself again.
func (cs *ClusterDiscoveryStore) SetLastPingAt(ctx context.Context, d *ClusterDiscovery, at int64) (bool, error) {
	s := cs.s
	where, args := d.identity()
	res, err := s.exec(ctx, "UPDATE ClusterDiscovery SET LastPingAt = ? WHERE "+where, append([]any{at}, args...)...)
	if err != nil {
		return false, s.errorf("refreshing cluster discovery row of %s:%d: %w", d.Hostname, d.GossipPort, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, s.errorf("refreshing cluster discovery row of %s:%d: %w", d.Hostname, d.GossipPort, err)
	}
	// MySQL counts changed rows, not matched ones: a second ping in the
	// same millisecond changes nothing. Ask again rather than re-insert.
	if n == 0 {
		return cs.Exists(ctx, d)
	}
	return true, nil
}

// GetAll returns the rows of typ and clusterName whose LastPingAt is
// after aliveSince (Unix milliseconds; Mattermost passes now minus 30
// minutes), oldest first.
func (cs *ClusterDiscoveryStore) GetAll(ctx context.Context, typ, clusterName string, aliveSince int64) ([]*ClusterDiscovery, error) {
	s := cs.s
	rows, err := queryAll(ctx, s, toMaster,
		"SELECT "+clusterDiscoveryColumns+" FROM ClusterDiscovery "+
			"WHERE Type = ? AND ClusterName = ? AND LastPingAt > ? ORDER BY CreateAt, Id",
		[]any{typ, clusterName, aliveSince},
		func(rows *sql.Rows) (*ClusterDiscovery, error) {
			var d ClusterDiscovery
			return &d, rows.Scan(d.fields()...)
		})
	if err != nil {
		return nil, s.errorf("listing cluster discovery rows of %q: %w", clusterName, err)
	}
	return rows, nil
}

// Cleanup deletes every row, of any type and cluster, whose LastPingAt is
// before before (Unix milliseconds), and returns how many it deleted.
func (cs *ClusterDiscoveryStore) Cleanup(ctx context.Context, before int64) (int64, error) {
	s := cs.s
	res, err := s.exec(ctx, "DELETE FROM ClusterDiscovery WHERE LastPingAt < ?", before)
	if err != nil {
		return 0, s.errorf("cleaning up cluster discovery rows: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, s.errorf("cleaning up cluster discovery rows: %w", err)
	}
	return n, nil
}

// InsertIfAbsent inserts the Systems row name with value unless a row of
// that name exists, and returns the value the table holds afterwards:
// value when this call inserted it, the existing value otherwise. Nodes
// racing to create the same row (the cluster's gossip key) all get the
// first writer's value, as Mattermost's SystemStore.InsertIfExists does.
//
// It belongs to [SystemStore]; it lives in this file because the
// cluster's encryption key is its only user so far.
func (ss *SystemStore) InsertIfAbsent(ctx context.Context, name, value string) (string, error) {
	s := ss.s
	_, err := s.exec(ctx, "INSERT INTO Systems (Name, Value) VALUES (?, ?)", name, value)
	if err != nil && !isUniqueViolation(err) {
		return "", s.errorf("inserting system %q: %w", name, err)
	}
	got, err := ss.Get(ctx, name)
	if errors.Is(err, ErrNotFound) {
		// Deleted between our insert and our read: nobody holds a value.
		return "", s.errorf("inserting system %q: the row vanished before it was read back: %w", name, err)
	}
	return got, err
}
