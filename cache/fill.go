package cache

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"
)

// A fill is one request the cache sends upstream, and the response writer
// the upstream answers into. The mode, chosen when the status line
// arrives, says where the body goes:
//
//   - buffer: a storable response. It is read whole (at most MaxEntrySize)
//     and then stored and served from memory, so a slow client never slows
//     the requests waiting on the lock, and a response cut short is an
//     error the client can be told about rather than a truncated body.
//   - pass: a response that will not be stored streams to the client as it
//     comes, and everyone waiting on the lock is released at once to ask
//     the upstream themselves.
//   - discard: the body is not wanted (a 304 that renewed an entry, an
//     error status a stale copy replaces, a fill already cancelled).
//
// Under the lock ([Cache.fillShared]) a fill runs on its own goroutine with
// a context detached from the client that started it, because other
// requests wait for it; otherwise ([Cache.forward]) it runs in the
// client's goroutine with the client's context.
type fill struct {
	c         *Cache
	key       string
	rec       *record       // the key's record when the fill began; nil if none
	req       *http.Request // what goes upstream
	store     bool          // the response may be stored
	auth      bool          // the request carries Authorization
	head      bool          // the client asked HEAD: it gets no body
	stale     *entry        // the stored response being refreshed, or nil
	canStale  bool          // stale may stand in when the upstream fails
	validate  bool          // req carries stale's validators
	reqTime   time.Time
	st        cacheStatus // the client's Cache-Status: fwd and detail so far
	client    http.ResponseWriter
	clientCtx context.Context
	shared    bool // run under the lock, on its own goroutine

	claim    atomic.Int32 // claimIdle → claimRunning (the fill starts) or claimAbandoned (its client left first)
	ctx      context.Context
	cancel   context.CancelFunc
	timer    *time.Timer // FillTimeout for the headers, then for a buffered body
	timedOut atomic.Bool
	unbind   func() bool // undoes tying a shared pass fill to its client's context
	updating bool        // counted in rec.updating

	// Written by the goroutine that runs the fill; read by the client's
	// goroutine after done is closed, or through the outcome.
	header    http.Header
	status    int
	mode      fillMode
	verdict   verdict
	body      []byte
	clientErr error // the first failed write to the client: it left
	streamed  bool  // the client got the upstream's status line
	aborted   bool  // the streamed response was cut short
	panicVal  any
	out       *outcome
	decided   chan *outcome // shared fills: the outcome, sent once
	done      chan struct{} // closed when the upstream call has returned
}

type fillMode uint8

const (
	modeHeader  fillMode = iota // no status line yet
	modeBuffer                  // storable: read whole, then stored and served
	modePass                    // streamed to the client, not stored
	modeDiscard                 // the body is not wanted
)

const (
	claimIdle int32 = iota
	claimRunning
	claimAbandoned
)

// outcome is what a fill decided, for its own client and for everyone who
// waited on it.
type outcome struct {
	owner *fill
	entry *entry      // the response to serve from memory (stored, renewed, or a stale copy)
	vary  []string    // the Vary field names entry was made with
	stale bool        // entry is a stale copy standing in for a failure
	st    cacheStatus // the owner's Cache-Status
	err   error       // nothing to serve: the upstream's failure
	pass  bool        // not stored (or abandoned): waiters ask the upstream themselves
}

// errNoClient stops an upstream whose body nobody reads any more.
var errNoClient = errors.New("cache: no client for the response")

// conditionals are the request fields a fill that may store drops: the
// cache wants the whole representation, and answers the client's
// conditions and ranges itself.
var conditionals = []string{"If-None-Match", "If-Modified-Since", "If-Match", "If-Unmodified-Since", "If-Range", "Range"}

// newFill prepares a forward of r. With store, a HEAD becomes a GET (HEAD
// is answered from a GET's response), the client's conditions go, and
// with Revalidate the stored entry's validators come instead.
func (c *Cache) newFill(r *http.Request, key string, rec *record, stale *entry, store, canStale bool, st cacheStatus) *fill {
	f := &fill{
		c: c, key: key, rec: rec, req: r, store: store, st: st,
		auth:     len(r.Header["Authorization"]) > 0,
		head:     r.Method == http.MethodHead,
		stale:    stale,
		canStale: canStale && stale != nil,
		header:   make(http.Header),
		done:     make(chan struct{}),
	}
	if !store {
		return f
	}
	req := r.Clone(r.Context())
	req.Method = http.MethodGet
	for _, name := range conditionals {
		delete(req.Header, name)
	}
	if stale != nil && c.cfg.Revalidate {
		if stale.etag != "" {
			req.Header.Set("If-None-Match", stale.etag)
			f.validate = true
		}
		if stale.modified != "" {
			req.Header.Set("If-Modified-Since", stale.modified)
			f.validate = true
		}
	}
	f.req = req
	return f
}

// forward runs f in the client's goroutine and answers the client.
func (c *Cache) forward(w http.ResponseWriter, r *http.Request, next Upstream, f *fill) error {
	f.client, f.clientCtx = w, r.Context()
	f.begin(r.Context())
	f.run(next)
	return c.finish(w, r, f)
}

// fillShared takes the lock for flightKey: the first request runs f, the
// others wait up to LockTimeout for its outcome. Who ran the fill is known
// by the outcome's owner. A request that gives up (lock timeout, client
// gone) first claims its own fill as abandoned; the fill claims itself as
// running when it starts, and exactly one of the two wins. Without the
// claim this interleaving breaks: singleflight picks request A's fill,
// A's timer fires before that goroutine is scheduled, A goes upstream by
// itself and returns, and then the fill starts on A's request, whose
// writer and context values (Caddy's replacer) belong to a finished
// handler. With it, the late fill sees the claim and touches nothing.
func (c *Cache) fillShared(w http.ResponseWriter, r *http.Request, next Upstream, f *fill, flightKey string) error {
	f.client, f.clientCtx, f.shared = w, r.Context(), true
	f.decided = make(chan *outcome, 1)
	c.waiting.Add(1)
	ch := c.fills.DoChan(flightKey, func() (any, error) { return c.lead(f, next), nil })
	timer := time.NewTimer(c.cfg.LockTimeout)
	var out *outcome
	select {
	case res := <-ch:
		out = res.Val.(*outcome)
	case <-timer.C:
		if f.claim.CompareAndSwap(claimIdle, claimAbandoned) {
			c.waiting.Add(-1)
			return c.forward(w, r, next, c.newFill(r, f.key, f.rec, nil, false, false, cacheStatus{fwd: f.st.fwd, detail: "lock-timeout"}))
		}
		out = (<-ch).Val.(*outcome) // this request's own fill: it ends
	case <-r.Context().Done():
		if f.claim.CompareAndSwap(claimIdle, claimAbandoned) {
			c.waiting.Add(-1)
			return r.Context().Err() // the client left while waiting
		}
		out = (<-ch).Val.(*outcome)
	}
	timer.Stop()
	c.waiting.Add(-1)
	if out.owner == f {
		<-f.done
		return c.finish(w, r, f)
	}
	// Another request's fill.
	switch {
	case out.stale:
		st := out.st
		st.collapsed = true
		return c.serveEntry(w, r, out.entry, c.now(), st)
	case out.entry != nil && out.entry.varyMatches(out.vary, r.Header):
		st := out.st
		st.stored, st.collapsed = false, true
		return c.serveEntry(w, r, out.entry, c.now(), st)
	case out.entry != nil:
		// Stored for another variant: this one fills for itself.
		return c.forward(w, r, next, c.newFill(r, f.key, f.rec, nil, true, false, cacheStatus{fwd: fwdVaryMiss}))
	}
	// Not stored, failed or abandoned: to the upstream, uncached.
	detail := out.st.detail
	if detail == "" {
		detail = "lock-released"
	}
	return c.forward(w, r, next, c.newFill(r, f.key, f.rec, nil, false, false, cacheStatus{fwd: f.st.fwd, detail: detail}))
}

// lead is the lock's fill function, run by singleflight on a goroutine of
// its own for the first request of a key. It starts the upstream request
// and returns as soon as the outcome is known: at the status line when the
// response will not be stored (so nobody waits on a body they will not
// get), at the end of the body when it is stored. A panic here would crash
// the process (x/sync re-raises it on a goroutine of its own), hence the
// recover.
func (c *Cache) lead(f *fill, next Upstream) (out *outcome) {
	if !f.claim.CompareAndSwap(claimIdle, claimRunning) {
		// The request gave up before its fill started: its request and
		// writer are no longer ours to use. Waiters go upstream themselves.
		return &outcome{owner: f, pass: true, st: cacheStatus{detail: "lock-abandoned"}}
	}
	defer func() {
		if p := recover(); p != nil {
			out = &outcome{owner: f, err: fmt.Errorf("cache: filling %s: panic: %v", f.key, p)}
		}
	}()
	// The fill outlives its client: the others wait for it. FillTimeout and
	// the upstream's own timeouts bound it.
	f.begin(context.WithoutCancel(f.clientCtx))
	go f.run(next)
	return <-f.decided
}

// begin arms the fill: its context, the header timeout, the count of
// updates in flight.
func (f *fill) begin(base context.Context) {
	f.reqTime = f.c.now()
	f.ctx, f.cancel = context.WithCancel(context.WithValue(base, fillingKey{}, f.c))
	f.req = f.req.WithContext(f.ctx)
	f.timer = time.AfterFunc(f.c.cfg.FillTimeout, func() {
		f.timedOut.Store(true)
		f.cancel()
	})
	if f.store && f.rec != nil {
		f.c.beginUpdate(f.rec)
		f.updating = true
	}
}

// run calls the upstream and settles the outcome. It recovers panics: a
// streamed response cut short is re-raised as http.ErrAbortHandler by
// [Cache.finish] in the client's goroutine, where net/http expects it.
func (f *fill) run(next Upstream) {
	defer func() {
		if p := recover(); p != nil {
			f.panicVal = p
			err := fmt.Errorf("cache: upstream for %s aborted: %v", f.key, p)
			if f.mode == modePass {
				f.aborted = true
			}
			f.complete(err)
		}
		f.timer.Stop()
		if f.unbind != nil {
			f.unbind()
		}
		f.cancel()
		if f.out == nil {
			f.decide(&outcome{err: fmt.Errorf("cache: filling %s: no outcome", f.key), st: f.st})
		}
		close(f.done)
	}()
	err := next.ServeHTTP(f, f.req)
	if err == nil && f.mode == modeHeader && !f.timedOut.Load() {
		f.WriteHeader(http.StatusOK) // net/http's implicit 200 for a handler that wrote nothing
	}
	f.complete(err)
}

// complete settles the outcome once the upstream call returned with err.
func (f *fill) complete(err error) {
	switch f.mode {
	case modeHeader, modeDiscard:
		if f.out == nil {
			if err == nil {
				// Cancelled before the status line (reverse_proxy then
				// answers 499 itself, which the fill discards).
				err = f.ctx.Err()
			}
			if err == nil {
				err = errors.New("cache: upstream sent no response")
			}
			f.failed(err)
		}
	case modeBuffer:
		if err != nil {
			f.failed(err)
			return
		}
		now := f.c.now()
		e, vary := f.c.newEntry(f.status, f.header, f.body, f.verdict, f.req.Header, f.reqTime, now)
		st := f.st
		st.stored = f.c.store(f.key, e, vary, now)
		f.decide(&outcome{entry: e, vary: vary, st: st})
	case modePass:
		if err != nil && f.streamed {
			f.aborted = true
		}
	}
}

// failed settles a fill that got no usable response: a stale copy if the
// settings and RFC 9111 §4.2.4 allow, else the error.
func (f *fill) failed(err error) {
	timeout := f.timedOut.Load() || isTimeout(err)
	cond, detail := StaleError, "stale-error"
	if timeout {
		cond, detail = StaleTimeout, "stale-timeout"
		if f.timedOut.Load() {
			err = fmt.Errorf("%w: no response for %s within %v", ErrTimeout, f.key, f.c.cfg.FillTimeout)
		}
	}
	if f.canStale && f.c.cfg.UseStale&cond != 0 {
		f.decide(&outcome{entry: f.stale, stale: true, st: cacheStatus{fwd: f.st.fwd, detail: detail}})
		return
	}
	st := f.st
	if timeout {
		st.detail = "upstream-timeout"
	} else {
		st.detail = "upstream-error"
	}
	f.decide(&outcome{err: err, st: st})
}

// isTimeout reports whether err says it is a timeout (net.Error,
// context.DeadlineExceeded, and Caddy's 504 errors, which wrap them).
func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// decide records the outcome, once, and hands it to the lock's waiters.
func (f *fill) decide(out *outcome) {
	if f.out != nil {
		return
	}
	out.owner = f
	out.pass = out.pass || (out.entry == nil && out.err == nil)
	f.out = out
	if f.updating {
		f.updating = false
		f.c.endUpdate(f.rec)
	}
	if f.decided != nil {
		f.decided <- out
	}
}

// finish answers the fill's own client once the fill is done.
func (c *Cache) finish(w http.ResponseWriter, r *http.Request, f *fill) error {
	if f.streamed {
		c.count(f.st)
		if f.aborted {
			// Headers went out; only aborting the connection tells the
			// client the body is incomplete.
			if f.panicVal != nil && f.panicVal != http.ErrAbortHandler {
				panic(f.panicVal)
			}
			panic(http.ErrAbortHandler)
		}
		return nil
	}
	out := f.out
	if out.entry == nil {
		w.Header().Add("Cache-Status", out.st.format(c.cfg.Name))
		c.count(out.st)
		if out.err != nil {
			return out.err
		}
		return errNoClient
	}
	return c.serveEntry(w, r, out.entry, c.now(), out.st)
}

// Header is the upstream's response header, kept by the fill.
func (f *fill) Header() http.Header { return f.header }

// WriteHeader chooses the mode when the final status line arrives.
func (f *fill) WriteHeader(code int) {
	if f.mode != modeHeader || code < 200 {
		return // a second call, or 1xx (reverse_proxy restores the header map after it)
	}
	if f.ctx.Err() != nil {
		// Cancelled by the timeout or the client: reverse_proxy reports it
		// with a 499 of its own, which is no response.
		f.mode = modeDiscard
		return
	}
	f.timer.Stop()
	f.status = code
	f.st.fwdStatus = code
	now := f.c.now()
	switch {
	case f.validate && code == http.StatusNotModified:
		f.mode = modeDiscard
		e, vary, stored := f.c.renew(f, f.header, now)
		st := f.st
		st.stored = stored
		f.decide(&outcome{entry: e, vary: vary, st: st})
		return
	case f.canStale && f.c.cfg.UseStale.onStatus(code):
		f.mode = modeDiscard
		f.decide(&outcome{entry: f.stale, stale: true, st: cacheStatus{fwd: f.st.fwd, fwdStatus: code, detail: "stale-http_" + strconv.Itoa(code)}})
		return
	}
	if f.store {
		f.verdict = f.c.judge(code, f.header, f.auth, now)
		if f.verdict.reason == "" {
			if n, err := strconv.ParseInt(f.header.Get("Content-Length"), 10, 64); err == nil && n > f.c.cfg.MaxEntrySize {
				f.verdict.reason, f.verdict.marksPass = "too-large", true
			} else if err == nil {
				f.body = make([]byte, 0, n)
			}
		}
		if f.verdict.reason == "" {
			f.mode = modeBuffer
			f.timer.Reset(f.c.cfg.FillTimeout) // now for the body
			return
		}
		if f.verdict.marksPass {
			f.c.markPass(f.key, now)
		}
		if f.st.detail == "" {
			f.st.detail = f.verdict.reason
		}
	}
	f.startPass()
}

// startPass switches to streaming the response to the client and releases
// the waiters.
func (f *fill) startPass() {
	f.mode = modePass
	f.decide(&outcome{pass: true, st: f.st})
	if f.client == nil {
		return
	}
	if f.shared {
		// Only this client wants the body now: stop when it leaves.
		f.unbind = context.AfterFunc(f.clientCtx, f.cancel)
	}
	h := f.client.Header()
	for name, vals := range f.header {
		h[name] = vals
	}
	h.Add("Cache-Status", f.st.format(f.c.cfg.Name))
	f.client.WriteHeader(f.status)
	f.streamed = true
}

// Write takes the body according to the mode.
func (f *fill) Write(p []byte) (int, error) {
	if f.mode == modeHeader {
		f.WriteHeader(http.StatusOK)
	}
	switch f.mode {
	case modeBuffer:
		if int64(len(f.body)+len(p)) <= f.c.cfg.MaxEntrySize {
			f.body = append(f.body, p...)
			return len(p), nil
		}
		// Larger than announced (or unannounced): stream it instead.
		f.timer.Stop()
		f.c.markPass(f.key, f.c.now())
		if f.st.detail == "" {
			f.st.detail = "too-large"
		}
		buffered := f.body
		f.body = nil
		f.startPass()
		if _, err := f.toClient(buffered); err != nil {
			return 0, err
		}
		return f.toClient(p)
	case modePass:
		return f.toClient(p)
	}
	return len(p), nil
}

// toClient writes a streamed body to the client.
func (f *fill) toClient(p []byte) (int, error) {
	switch {
	case f.client == nil:
		return 0, errNoClient
	case f.head:
		return len(p), nil // the GET's body, read for nobody: the HEAD client has its headers
	case f.clientErr != nil:
		return 0, f.clientErr
	}
	n, err := f.client.Write(p)
	if err != nil {
		f.clientErr = err
	}
	return n, err
}

// Flush passes the upstream's flushes on to a streaming client.
func (f *fill) Flush() {
	if f.mode == modePass && f.client != nil && !f.head && f.clientErr == nil {
		if err := http.NewResponseController(f.client).Flush(); err != nil {
			f.clientErr = err
		}
	}
}

// Interface guards.
var (
	_ http.ResponseWriter = (*fill)(nil)
	_ http.Flusher        = (*fill)(nil)
)
