package store

import (
	"context"
	"fmt"

	"go.uber.org/zap"

	"github.com/seed331fb32b/chorus/node/config"
)

// Recycle replaces every connection pool with new ones built from settings,
// without failing a statement: Mattermost's RecycleDBConnection, and with
// a reloaded config (new DSNs) the manual failover of the master database.
//
// It opens the new pools as [Open] does (the new master must answer, and
// its schema is brought up to date and checked), then swaps them in: new
// statements run on the new pools at once, while statements that had
// already taken the old pools finish on them. The old pools are closed when
// the last of those statements ends. Recycle waits for that or for ctx to
// end, whichever comes first; either way the swap has happened and the old
// pools are closed once drained (by [Store.Close] at the latest).
//
// On error the store keeps its current pools. settings.DriverName must be
// the driver the store was opened with: changing the database family needs
// a restart. settings is not kept. Errors never contain a DSN password.
func (s *Store) Recycle(ctx context.Context, settings config.SqlSettings) error {
	if settings.DriverName != s.dialect.name() {
		return fmt.Errorf("recycling database connections: SqlSettings.DriverName changed from %q to %q; restart the node to change it",
			s.dialect.name(), settings.DriverName)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("recycling database connections: %w", ErrClosed)
	}
	s.addSecrets(settingsSecrets(settings))
	g, _, err := s.openMigrated(ctx, settings)
	if err != nil {
		return s.errorf("recycling database connections: %w", err)
	}
	old := s.gen.Swap(g)
	old.retire()
	s.retiring.Go(func() {
		<-old.drained
		if err := old.close(); err != nil {
			s.logger.Warn("Closing the recycled database connections failed", zap.Error(s.errorf("%w", err)))
		}
	})
	s.logger.Info("Database connections recycled",
		zap.Int("replicas", len(g.replicas)), zap.Int("search_replicas", len(g.search)))
	select {
	case <-old.drained:
	case <-ctx.Done():
	}
	return nil
}
