package store

import (
	"context"
	"sync/atomic"
)

// masterKey is the context key of [WithMaster].
type masterKey struct{}

// WithMaster returns a copy of ctx whose reads go to the master database,
// for reads that must see a write just made: login and session checks, a
// reply to a post created a moment ago, anything read back after a write.
// Replicas lag behind the master; the master never does. It is Mattermost's
// RequestContextWithMaster (PR #16888, "Replication Lag"). Writes go to the
// master whatever the context.
func WithMaster(ctx context.Context) context.Context {
	return context.WithValue(ctx, masterKey{}, true)
}

// UsesMaster reports whether ctx was made by [WithMaster] (or derives from
// such a context).
func UsesMaster(ctx context.Context) bool {
	v, _ := ctx.Value(masterKey{}).(bool)
	return v
}

// target is the kind of statement, which decides the pools it may use.
type target int

const (
	// toMaster: writes, transactions, and reads that must be fresh.
	toMaster target = iota
	// toReplica: ordinary reads.
	toReplica
	// toSearch: search reads.
	toSearch
)

// pick returns the pool a statement of kind t runs on, following
// Mattermost's GetReplica and GetSearchReplica: reads round-robin over the
// online read replicas; search reads round-robin over the online search
// replicas, else fall back to the read replicas; with none online, the
// master. A [WithMaster] context sends every read to the master.
func (g *generation) pick(ctx context.Context, t target) *pool {
	if t == toMaster || UsesMaster(ctx) {
		return g.master
	}
	if t == toSearch {
		if p := roundRobin(g.search, &g.sr); p != nil {
			return p
		}
	}
	if p := roundRobin(g.replicas, &g.rr); p != nil {
		return p
	}
	return g.master
}

// roundRobin returns the next online pool of pools after the one counter
// last chose, trying each at most once, or nil when none is online.
func roundRobin(pools []*pool, counter *atomic.Uint64) *pool {
	n := uint64(len(pools))
	for range n {
		p := pools[(counter.Add(1)-1)%n]
		if p.online.Load() {
			return p
		}
	}
	return nil
}
