package ws

// sentEvent is an event already written to a connection, with the seq it
// was written with.
type sentEvent struct {
	seq int64
	f   *frame
}

// deadQueue is a ring of the last events written to one connection, kept
// for replay after a reconnect (Mattermost's dead queue). Its seqs are
// consecutive: every event written is pushed, and the connection's seq
// restarts only together with reset. It is not safe for concurrent use:
// the goroutine that owns the connection (its writer, or whoever detached
// the writer) uses it.
type deadQueue struct {
	ring  []sentEvent // len is the capacity
	start int         // index of the oldest entry
	n     int         // entries held
}

// newDeadQueue returns an empty ring of size entries (size > 0).
func newDeadQueue(size int) deadQueue {
	return deadQueue{ring: make([]sentEvent, size)}
}

// push adds the event written with seq, dropping the oldest when full.
// seq must be one more than the newest entry's, unless the ring is empty.
func (q *deadQueue) push(seq int64, f *frame) {
	if q.n < len(q.ring) {
		q.ring[(q.start+q.n)%len(q.ring)] = sentEvent{seq, f}
		q.n++
		return
	}
	q.ring[q.start] = sentEvent{seq, f}
	q.start = (q.start + 1) % len(q.ring)
}

// contains reports whether the event with seq is held.
func (q *deadQueue) contains(seq int64) bool {
	if q.n == 0 {
		return false
	}
	oldest := q.ring[q.start].seq
	return seq >= oldest && seq < oldest+int64(q.n)
}

// since calls fn for each held event from seq on, oldest first. seq must
// be held (contains).
func (q *deadQueue) since(seq int64, fn func(sentEvent) bool) {
	skip := int(seq - q.ring[q.start].seq)
	for i := skip; i < q.n; i++ {
		if !fn(q.ring[(q.start+i)%len(q.ring)]) {
			return
		}
	}
}

// all calls fn for each held event, oldest first.
func (q *deadQueue) all(fn func(sentEvent) bool) {
	if q.n > 0 {
		q.since(q.ring[q.start].seq, fn)
	}
}

// reset empties the ring, releasing its frames.
func (q *deadQueue) reset() {
	clear(q.ring)
	q.start, q.n = 0, 0
}
