package pgcluster

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
)

// slotName is the primary's physical replication slot for the replica: it
// keeps every WAL segment the replica has not received, so a replica stopped
// for any length of time catches up by streaming.
const slotName = "pgcluster_replica"

// primaryConf is appended to the primary's postgresql.conf, which
// pg_basebackup then copies to the replica. listen_addresses, port and the
// socket directory differ per server and are flags instead (server.start).
const primaryConf = `
# Added by pgcluster: a primary streaming to one hot standby, tuned for tests.
wal_level = replica
max_wal_senders = 4
max_replication_slots = 4
hot_standby = on
wal_retrieve_retry_interval = '200ms' # standby: lower, reconnects sooner after an error
fsync = off                           # test data need not survive a machine crash
shared_buffers = '32MB'               # two servers per test; queries here are tiny
`

// primaryHBA replaces the primary's pg_hba.conf (and so the replica's):
// trust for everything over the Unix socket and from 127.0.0.1, nothing else.
const primaryHBA = `# Written by pgcluster.
local all         all              trust
host  all         all 127.0.0.1/32 trust
local replication all              trust
host  replication all 127.0.0.1/32 trust
`

// setUp creates and starts the primary, then clones and starts the replica.
func (c *Cluster) setUp(ctx context.Context) error {
	p, r := c.primary, c.replica
	acct := p.tools.acct
	if err := acct.mkdir(p.dir); err != nil {
		return err
	}
	if err := p.tools.run(ctx, p.dir, "initdb",
		"-D", p.dataDir(),
		"-U", "postgres",
		"-A", "trust",
		"-E", "UTF8",
		"--locale=C", // no dependence on the machine's locales
		"-N",         // --no-sync: test data need not be durable
	); err != nil {
		if acct.switched {
			return fmt.Errorf("%w\n(the %s user must be able to reach %s; TMPDIR chooses its parent)", err, acct.name, c.dir)
		}
		return err
	}
	// The files exist and belong to the account; writing keeps owner and mode.
	if err := appendFile(filepath.Join(p.dataDir(), "postgresql.conf"), primaryConf); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(p.dataDir(), "pg_hba.conf"), []byte(primaryHBA), 0o600); err != nil {
		return fmt.Errorf("writing pg_hba.conf: %w", err)
	}
	if err := p.startOnFreePort(ctx, false); err != nil {
		return err
	}

	if err := acct.mkdir(r.dir); err != nil {
		return err
	}
	if err := r.tools.run(ctx, r.dir, "pg_basebackup",
		"-h", "127.0.0.1",
		"-p", fmt.Sprint(p.port),
		"-U", "postgres",
		"-D", r.dataDir(),
		"-R",           // write standby.signal and primary_conninfo
		"-X", "stream", // WAL written during the copy arrives over a second connection
		"-C", "-S", slotName, // create the slot and name it in primary_slot_name
		"-c", "fast", // checkpoint at once instead of spreading it out
		"-N", // --no-sync
	); err != nil {
		return err
	}
	return r.startOnFreePort(ctx, true)
}

// appendFile appends text to the existing file path.
func appendFile(path, text string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return fmt.Errorf("opening %s: %w", path, err)
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		return fmt.Errorf("appending to %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("appending to %s: %w", path, err)
	}
	return nil
}
