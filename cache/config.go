package cache

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Config holds a cache's settings. The names follow NGINX's proxy_cache
// directives (max_size, inactive, min_uses, revalidate, use_stale, lock,
// lock_timeout, valid) so that an NGINX config translates line by line.
// The zero value is not useful; start from [DefaultConfig].
type Config struct {
	// Name identifies the cache in its Cache-Status header field (RFC 9211
	// §2: the first item of the list member) and, in the Caddy glue, in
	// metrics and the purge API. It must be an RFC 8941 token: a letter or
	// '*', then letters, digits and !#$%&'*+-.^_`|~:/ only.
	// Default: "chorus".
	Name string

	// MaxSize bounds the bytes the cache holds: every stored body, its
	// header fields and a fixed overhead per key ([KeyOverhead]), so the
	// bodies alone never exceed it either. Past it the least recently used
	// keys go (NGINX's max_size). Higher: more hits, more memory.
	MaxSize int64

	// MaxEntrySize is the largest response (body plus header fields) the
	// cache stores. A larger one streams through to its client and the key
	// is remembered as uncacheable for PassTTL. It must not exceed MaxSize.
	// Higher: large files cached, fewer entries fit.
	MaxEntrySize int64

	// Inactive removes a key nobody asked for during this long, fresh or
	// not (NGINX's inactive). A stale entry stays until then, to be
	// revalidated or served stale. Lower: memory freed sooner, fewer stale
	// copies to fall back on.
	Inactive time.Duration

	// MinUses stores a response only once its key was asked for this many
	// times (NGINX's min_uses); the requests before go to the upstream
	// without the lock. 1 stores the first response. Higher: one-off URLs
	// never evict popular ones, more upstream requests per key.
	MinUses int

	// Revalidate refreshes an expired entry that has a validator with a
	// conditional request (If-None-Match, If-Modified-Since) instead of a
	// full one; a 304 renews the entry (NGINX's proxy_cache_revalidate).
	// It also makes a "no-cache" response worth storing, since each use is
	// then a cheap revalidation.
	Revalidate bool

	// UseStale lists when a stale copy is served instead of the upstream's
	// answer (NGINX's proxy_cache_use_stale); 0 never. RFC 9111 §4.2.4
	// still forbids it for responses marked no-cache, must-revalidate,
	// proxy-revalidate or s-maxage.
	UseStale UseStale

	// Lock lets one request per key fill the cache while the others wait
	// for its response, up to LockTimeout (NGINX's proxy_cache_lock). Keys
	// known to be uncacheable never wait: see PassTTL.
	Lock bool

	// LockTimeout is how long a request waits for another's fill before it
	// goes to the upstream itself, uncached (NGINX's
	// proxy_cache_lock_timeout). Lower: less waiting behind a slow
	// upstream, more duplicate upstream requests.
	LockTimeout time.Duration

	// PassTTL is how long a key whose response could not be stored
	// (no-store, private, Set-Cookie, Vary: *, no freshness, too large) is
	// remembered as uncacheable: its requests go straight to the upstream,
	// never waiting on the lock (Varnish's hit-for-pass). A storable
	// response in that time is stored at once and ends it. 0 remembers
	// nothing, so every miss on such a key takes the lock.
	PassTTL time.Duration

	// FillTimeout bounds how long the upstream has to send the response
	// headers, and then the body of a response being stored. A fill the
	// lock runs is detached from the client that started it (so that the
	// waiters do not depend on that client), and this is what bounds it.
	// Past it the request counts as timed out: use_stale timeout serves
	// the stale copy, otherwise the client gets [ErrTimeout]. Default 60 s,
	// NGINX's proxy_read_timeout.
	FillTimeout time.Duration

	// Valid gives a freshness lifetime per status code to responses that
	// carry none (no s-maxage, max-age or Expires), as NGINX's
	// proxy_cache_valid does; key 0 stands for any other status. Nil: only
	// the upstream's own freshness counts, and a response without any is
	// not stored. The map is copied by [New].
	Valid map[int]time.Duration

	// Now returns the current time. Nil means time.Now; tests inject a
	// clock to age entries without sleeping.
	Now func() time.Time
}

// DefaultConfig returns the settings of the Mattermost HA guide's NGINX
// config (min_uses 2, revalidate, use_stale timeout, lock, inactive 60m),
// held in memory.
func DefaultConfig() Config {
	return Config{
		Name:         "chorus",         // the Cache-Status identifier
		MaxSize:      256 << 20,        // Mattermost's static tree several times over, in RAM
		MaxEntrySize: 16 << 20,         // the largest webapp bundles; bigger files stream through
		Inactive:     60 * time.Minute, // the seed's inactive=60m
		MinUses:      2,                // the seed's proxy_cache_min_uses 2
		Revalidate:   true,             // the seed's proxy_cache_revalidate on
		UseStale:     StaleTimeout,     // the seed's proxy_cache_use_stale timeout
		Lock:         true,             // the seed's proxy_cache_lock on
		LockTimeout:  5 * time.Second,  // NGINX's proxy_cache_lock_timeout default
		PassTTL:      2 * time.Minute,  // Varnish's hit-for-pass default
		FillTimeout:  60 * time.Second, // NGINX's proxy_read_timeout default
		Valid:        nil,              // off: only the upstream's own freshness
		Now:          nil,              // time.Now
	}
}

// UseStale is a set of conditions under which a stale copy is served.
type UseStale uint16

// The conditions of NGINX's proxy_cache_use_stale.
const (
	// StaleError: the upstream could not be reached or failed before
	// sending a response.
	StaleError UseStale = 1 << iota
	// StaleTimeout: the upstream sent no response within FillTimeout (or
	// reported a timeout of its own).
	StaleTimeout
	// StaleUpdating: another request is refreshing the entry right now.
	StaleUpdating
	// StaleHTTP500 and the others: the upstream answered with that status.
	StaleHTTP500
	StaleHTTP502
	StaleHTTP503
	StaleHTTP504
	StaleHTTP403
	StaleHTTP404
	StaleHTTP429
)

var staleNames = map[string]UseStale{
	"error":    StaleError,
	"timeout":  StaleTimeout,
	"updating": StaleUpdating,
	"http_500": StaleHTTP500,
	"http_502": StaleHTTP502,
	"http_503": StaleHTTP503,
	"http_504": StaleHTTP504,
	"http_403": StaleHTTP403,
	"http_404": StaleHTTP404,
	"http_429": StaleHTTP429,
}

// ParseUseStale reads NGINX's proxy_cache_use_stale words: error, timeout,
// updating, http_500, http_502, http_503, http_504, http_403, http_404,
// http_429, or off alone.
func ParseUseStale(words ...string) (UseStale, error) {
	var s UseStale
	for _, w := range words {
		if w == "off" {
			if len(words) != 1 {
				return 0, errors.New("cache: use_stale off cannot be combined with other conditions")
			}
			return 0, nil
		}
		v, ok := staleNames[w]
		if !ok {
			return 0, fmt.Errorf("cache: unknown use_stale condition %q (want error, timeout, updating, http_500, http_502, http_503, http_504, http_403, http_404, http_429 or off)", w)
		}
		s |= v
	}
	return s, nil
}

// String returns the conditions as NGINX words, sorted, or "off".
func (s UseStale) String() string {
	if s == 0 {
		return "off"
	}
	var words []string
	for w, v := range staleNames {
		if s&v != 0 {
			words = append(words, w)
		}
	}
	sort.Strings(words)
	return strings.Join(words, " ")
}

// onStatus reports whether status is one of the conditions.
func (s UseStale) onStatus(status int) bool {
	switch status {
	case 500:
		return s&StaleHTTP500 != 0
	case 502:
		return s&StaleHTTP502 != 0
	case 503:
		return s&StaleHTTP503 != 0
	case 504:
		return s&StaleHTTP504 != 0
	case 403:
		return s&StaleHTTP403 != 0
	case 404:
		return s&StaleHTTP404 != 0
	case 429:
		return s&StaleHTTP429 != 0
	}
	return false
}

// Validate checks cfg as [New] does and changes nothing; the error names
// the field.
func (cfg Config) Validate() error {
	switch {
	case !isToken(cfg.Name):
		return fmt.Errorf("cache: Name %q is not a token (letters, digits, -._~ and the like)", cfg.Name)
	case cfg.MaxSize <= 0:
		return fmt.Errorf("cache: MaxSize %d must be positive", cfg.MaxSize)
	case cfg.MaxEntrySize <= 0 || cfg.MaxEntrySize > cfg.MaxSize:
		return fmt.Errorf("cache: MaxEntrySize %d must be positive and at most MaxSize %d", cfg.MaxEntrySize, cfg.MaxSize)
	case cfg.Inactive <= 0:
		return fmt.Errorf("cache: Inactive %v must be positive", cfg.Inactive)
	case cfg.MinUses < 1:
		return fmt.Errorf("cache: MinUses %d must be at least 1", cfg.MinUses)
	case cfg.Lock && cfg.LockTimeout <= 0:
		return fmt.Errorf("cache: LockTimeout %v must be positive when Lock is on", cfg.LockTimeout)
	case cfg.PassTTL < 0:
		return fmt.Errorf("cache: PassTTL %v must not be negative", cfg.PassTTL)
	case cfg.FillTimeout <= 0:
		return fmt.Errorf("cache: FillTimeout %v must be positive", cfg.FillTimeout)
	}
	for status, d := range cfg.Valid {
		if status != 0 && (status < 100 || status > 599) {
			return fmt.Errorf("cache: Valid has status %d; want 100-599, or 0 for any", status)
		}
		if d <= 0 {
			return fmt.Errorf("cache: Valid[%d] = %v must be positive", status, d)
		}
	}
	return nil
}

// isToken reports whether s is an RFC 8941 token, the form of a
// Cache-Status cache identifier.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	c := s[0]
	if !(c == '*' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			continue
		}
		if !strings.ContainsRune("!#$%&'*+-.^_`|~:/", rune(c)) {
			return false
		}
	}
	return true
}
