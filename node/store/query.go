package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"
)

// This file is the one path every statement takes. run decides, in one
// place, the pool a statement runs on (routing), its time limit
// (SqlSettings.QueryTimeout), its trace log line (SqlSettings.Trace), the
// health of replicas (offline on a connection error) and the retry on the
// master of a read whose replica died. Store methods call exec, queryRow,
// queryAll and inTx, never a *sql.DB.

// run runs fn on a pool chosen for t, holding the current generation of
// pools until fn returns. query is the statement's text, for the trace log.
//
// A read that fails with a connection error on a replica takes the replica
// out of rotation and runs again, once, on the master, so the caller never
// sees a replica's death. fn must therefore be safe to call twice and keep
// nothing from a failed call. Writes are never retried: a write whose
// connection broke may have been applied.
func (s *Store) run(ctx context.Context, t target, query string, fn func(ctx context.Context, p *pool) error) error {
	g, err := s.acquire()
	if err != nil {
		return err
	}
	defer g.release()
	p := g.pick(ctx, t)
	err = s.runOn(ctx, g, p, query, fn)
	if err == nil || p.role == RoleMaster || !isConnError(err) || ctx.Err() != nil {
		return err
	}
	s.markOffline(p, err)
	return s.runOn(ctx, g, g.master, query, fn)
}

// runOn runs fn on p under the generation's query timeout, counts it, and
// traces it when SqlSettings.Trace is on.
func (s *Store) runOn(ctx context.Context, g *generation, p *pool, query string, fn func(ctx context.Context, p *pool) error) error {
	qctx, cancel := g.queryContext(ctx)
	defer cancel()
	p.queries.Add(1)
	start := time.Now()
	err := fn(qctx, p)
	if err != nil && isConnError(err) {
		p.connErrs.Add(1)
	}
	if p.trace {
		s.trace(p, query, time.Since(start), err)
	}
	return err
}

// trace logs one statement. Mattermost logs its trace at debug level; Chorus
// logs at info, so that turning Trace on is enough to see it with the
// node's default level. Arguments are never logged: they hold passwords
// and messages.
func (s *Store) trace(p *pool, query string, took time.Duration, err error) {
	fields := []zap.Field{
		zap.String("data_source", p.setting),
		zap.String("query", query),
		zap.Duration("took", took),
	}
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		fields = append(fields, zap.Error(redact(err, s.currentSecrets())))
	}
	s.logger.Info("SQL trace", fields...)
}

// markOffline takes replica p out of rotation after err, logging once.
func (s *Store) markOffline(p *pool, err error) {
	if p.setOffline() {
		s.logger.Warn("Database replica unreachable; its reads go to the other replicas or the master until it answers again",
			zap.String("data_source", p.setting), zap.Error(redact(err, s.currentSecrets())))
	}
}

// exec runs a write on the master. query uses "?" placeholders.
func (s *Store) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	q := s.dialect.rebind(query)
	var res sql.Result
	err := s.run(ctx, toMaster, q, func(ctx context.Context, p *pool) error {
		var err error
		res, err = p.db.ExecContext(ctx, q, args...)
		return err
	})
	return res, err
}

// queryRow runs a one-row read routed by t and scans it into dest. No row
// is sql.ErrNoRows.
func (s *Store) queryRow(ctx context.Context, t target, query string, args []any, dest ...any) error {
	q := s.dialect.rebind(query)
	return s.run(ctx, t, q, func(ctx context.Context, p *pool) error {
		return p.db.QueryRowContext(ctx, q, args...).Scan(dest...)
	})
}

// queryAll runs a read routed by t and returns scan's value for every row.
// A retried read starts a fresh slice, so rows are never repeated.
func queryAll[T any](ctx context.Context, s *Store, t target, query string, args []any, scan func(*sql.Rows) (T, error)) ([]T, error) {
	q := s.dialect.rebind(query)
	var out []T
	err := s.run(ctx, t, q, func(ctx context.Context, p *pool) error {
		out = nil
		rows, err := p.db.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			v, err := scan(rows)
			if err != nil {
				return err
			}
			out = append(out, v)
		}
		return rows.Err()
	})
	return out, err
}

// txAttempts is how many times inTx runs a transaction that keeps losing
// deadlock or serialization races.
const txAttempts = 3

// inTx runs fn in a transaction on the master, committing when fn returns
// nil and rolling back otherwise. SqlSettings.QueryTimeout bounds the whole
// transaction. A transaction that fails only because it lost a race with
// another (a deadlock or serialization failure, see isRetryableTx) runs
// again, up to txAttempts times in all, after a short pause; fn must keep
// nothing from a failed attempt.
func (s *Store) inTx(ctx context.Context, fn func(tx *txn) error) error {
	return s.run(ctx, toMaster, "transaction", func(ctx context.Context, p *pool) error {
		for attempt := 1; ; attempt++ {
			err := s.txOnce(ctx, p, fn)
			if err == nil || attempt == txAttempts || !isRetryableTx(err) {
				return err
			}
			pause := time.NewTimer(time.Duration(attempt) * 10 * time.Millisecond)
			select {
			case <-ctx.Done():
				pause.Stop()
				return err
			case <-pause.C:
			}
		}
	})
}

func (s *Store) txOnce(ctx context.Context, p *pool, fn func(tx *txn) error) error {
	tx, err := p.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("beginning transaction: %w", err)
	}
	if err := fn(&txn{ctx: ctx, tx: tx, s: s, p: p}); err != nil {
		return errors.Join(err, ignoreDone(tx.Rollback()))
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("committing: %w", err)
	}
	return nil
}

// txn is a transaction in progress, handed to inTx's fn. Its statements
// use "?" placeholders and the transaction's context.
type txn struct {
	ctx context.Context
	tx  *sql.Tx
	s   *Store
	p   *pool // the master it runs on
}

// exec runs one statement of the transaction.
func (t *txn) exec(query string, args ...any) (sql.Result, error) {
	q := t.s.dialect.rebind(query)
	start := time.Now()
	res, err := t.tx.ExecContext(t.ctx, q, args...)
	if t.p.trace {
		t.s.trace(t.p, q, time.Since(start), err)
	}
	return res, err
}
