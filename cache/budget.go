package cache

import (
	"strings"
	"time"

	gocache "github.com/patrickmn/go-cache"
)

// KeyOverhead is what one key costs against MaxSize besides its key string
// and stored responses: the record and its list links. A key that only
// counts uses (min_uses) or marks hit-for-pass costs this much, so a flood
// of one-off URLs is bounded by MaxSize like everything else (NGINX bounds
// it by the keys_zone).
const KeyOverhead = 128

// entryOverhead is what one stored response costs besides its body and
// header fields.
const entryOverhead = 96

// maxVariants bounds the responses one key holds for different values of
// the header fields its Vary names; past it the oldest variant goes.
const maxVariants = 8

// record is what the cache knows of one key: the stored responses (one per
// variant), the uses counted for min_uses, the hit-for-pass mark and the
// fills in flight. Its fields are guarded by Cache.mu; the entries it
// points to are immutable and may be read without the lock.
type record struct {
	key        string
	prev, next *record // neighbours in the LRU list; head is most recent
	size       int64   // bytes charged against MaxSize
	lastUse    time.Time
	removed    bool // no longer in the cache (evicted, expired, purged)

	uses      int       // misses counted for MinUses
	passUntil time.Time // hit-for-pass: until then requests skip the lock
	updating  int       // forwards in flight that may still store a response
	vary      []string  // canonical field names of the stored responses' Vary
	entries   []*entry  // stored responses, most recent first
}

// match returns the stored response whose variant fits the request
// header h (RFC 9111 §4.1), or nil.
func (rec *record) match(h map[string][]string) *entry {
	for _, e := range rec.entries {
		if e.varyMatches(rec.vary, h) {
			return e
		}
	}
	return nil
}

// lru is the byte-bounded least-recently-used list over the records, whose
// values live in go-cache (go-cache counts no bytes and orders nothing;
// this does both). It is not safe for concurrent use: Cache.mu guards it,
// as groupcache's cache wrapper guards its lru.
type lru struct {
	items      *gocache.Cache // key → *record; no expiry, no janitor: lru decides what goes
	head, tail *record
	bytes      int64 // charged bytes of every record
	max        int64 // MaxSize
	keys       int   // records
	entries    int   // stored responses

	evicted, expired, purged uint64 // records removed, by cause
}

func newLRU(max int64) lru {
	return lru{items: gocache.New(gocache.NoExpiration, 0), max: max}
}

// get returns the record of key, or nil.
func (l *lru) get(key string) *record {
	v, ok := l.items.Get(key)
	if !ok {
		return nil
	}
	return v.(*record)
}

// add makes an empty record for key, as most recently used.
func (l *lru) add(key string, now time.Time) *record {
	rec := &record{key: key, size: int64(len(key)) + KeyOverhead, lastUse: now}
	l.items.Set(key, rec, gocache.NoExpiration)
	l.pushFront(rec)
	l.bytes += rec.size
	l.keys++
	return rec
}

// touch marks rec used now.
func (l *lru) touch(rec *record, now time.Time) {
	rec.lastUse = now
	if l.head != rec {
		l.unlink(rec)
		l.pushFront(rec)
	}
}

// setEntries replaces rec's stored responses and recharges its size.
func (l *lru) setEntries(rec *record, entries []*entry) {
	size := int64(len(rec.key)) + KeyOverhead
	for _, e := range entries {
		size += e.size
	}
	l.entries += len(entries) - len(rec.entries)
	rec.entries = entries
	l.bytes += size - rec.size
	rec.size = size
}

// remove drops rec from the cache.
func (l *lru) remove(rec *record) {
	if rec.removed {
		return
	}
	rec.removed = true
	l.items.Delete(rec.key)
	l.unlink(rec)
	l.bytes -= rec.size
	l.keys--
	l.entries -= len(rec.entries)
}

// shrink evicts least recently used records until the cache fits MaxSize,
// sparing keep (the record just stored into) as long as another can go.
func (l *lru) shrink(keep *record) {
	for l.bytes > l.max {
		victim := l.tail
		if victim == keep {
			victim = keep.prev
		}
		if victim == nil {
			return
		}
		l.remove(victim)
		l.evicted++
	}
}

// sweep removes the records unused for inactive or longer. They sit at the
// tail, so this costs one comparison when there are none.
func (l *lru) sweep(now time.Time, inactive time.Duration) {
	for l.tail != nil && now.Sub(l.tail.lastUse) >= inactive {
		l.remove(l.tail)
		l.expired++
	}
}

// purge removes the record of key, or with prefix set every record whose
// key starts with key, and returns how many went.
func (l *lru) purge(key string, prefix bool) int {
	if !prefix {
		rec := l.get(key)
		if rec == nil {
			return 0
		}
		l.remove(rec)
		l.purged++
		return 1
	}
	n := 0
	for rec := l.head; rec != nil; {
		next := rec.next
		if strings.HasPrefix(rec.key, key) {
			l.remove(rec)
			l.purged++
			n++
		}
		rec = next
	}
	return n
}

func (l *lru) pushFront(rec *record) {
	rec.prev = nil
	rec.next = l.head
	if l.head != nil {
		l.head.prev = rec
	}
	l.head = rec
	if l.tail == nil {
		l.tail = rec
	}
}

func (l *lru) unlink(rec *record) {
	if rec.prev != nil {
		rec.prev.next = rec.next
	} else if l.head == rec {
		l.head = rec.next
	}
	if rec.next != nil {
		rec.next.prev = rec.prev
	} else if l.tail == rec {
		l.tail = rec.prev
	}
	rec.prev, rec.next = nil, nil
}
