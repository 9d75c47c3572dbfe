package caddymodule

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/dustin/go-humanize"

	"github.com/seed331fb32b/chorus/cache"
)

func init() {
	caddy.RegisterModule(Cache{})
	httpcaddyfile.RegisterHandlerDirective("chorus_cache", parseCacheDirective)
	// A cache answers before the proxy would, and stores what it returns.
	httpcaddyfile.RegisterDirectiveOrder("chorus_cache", httpcaddyfile.Before, "reverse_proxy")
}

// Cache is an HTTP handler that caches the responses of the handlers after
// it (typically reverse_proxy) in memory, with NGINX proxy_cache semantics
// under the rules of RFC 9111 for a shared cache: see package cache. Every
// response it handles carries a Cache-Status header field (RFC 9211) that
// says hit, miss, stale or bypass and why.
//
// Defaults follow the Mattermost HA guide's NGINX config (min_uses 2,
// revalidate, use_stale timeout, lock, inactive 60m), not NGINX's own
// defaults. Handlers with the same name and settings share one cache, which
// survives config reloads; a reload that changes a cache's settings starts
// it empty.
//
// Never put it in front of a route whose requests carry per-user answers
// without RFC 9111's markings: it stores anything public enough for a
// shared cache. Requests with Authorization are only answered from, and
// stored into, the cache when the response says public, s-maxage or
// must-revalidate; responses with Set-Cookie, private or no-store are never
// stored; upgrade requests (WebSocket) pass through untouched.
//
// Module ID: http.handlers.chorus_cache.
type Cache struct {
	// Name identifies the cache in Cache-Status, in the metrics (label
	// "cache") and in the purge API. Default: "chorus".
	Name string `json:"name,omitempty"`

	// MaxSize bounds the bytes held: bodies, header fields and a small
	// overhead per key. Past it the least recently used keys go. Default:
	// 256 MiB.
	MaxSize int64 `json:"max_size,omitempty"`

	// MaxEntrySize is the largest response body stored; larger ones stream
	// through and their key is remembered as uncacheable for hit_for_pass.
	// Default: 16 MiB, at most max_size.
	MaxEntrySize int64 `json:"max_entry_size,omitempty"`

	// Inactive removes a key nobody asked for during this long (NGINX's
	// inactive). Default: 60m.
	Inactive caddy.Duration `json:"inactive,omitempty"`

	// MinUses stores a response only once its key was asked for this many
	// times (NGINX's proxy_cache_min_uses). Default: 2.
	MinUses int `json:"min_uses,omitempty"`

	// Revalidate refreshes an expired entry with If-None-Match /
	// If-Modified-Since; a 304 renews it (NGINX's
	// proxy_cache_revalidate). Default: true.
	Revalidate *bool `json:"revalidate,omitempty"`

	// UseStale lists when a stale copy is served instead: error, timeout,
	// updating, http_500, http_502, http_503, http_504, http_403,
	// http_404, http_429, or ["off"] (NGINX's proxy_cache_use_stale).
	// Default: ["timeout"].
	UseStale []string `json:"use_stale,omitempty"`

	// Lock lets one request per key fill the cache while the others wait
	// (NGINX's proxy_cache_lock). Keys known to be uncacheable never wait.
	// Default: true.
	Lock *bool `json:"lock,omitempty"`

	// LockTimeout is how long a request waits on another's fill before
	// going to the upstream itself, uncached. Default: 5s.
	LockTimeout caddy.Duration `json:"lock_timeout,omitempty"`

	// HitForPass is how long a key whose response could not be stored is
	// remembered as such, so that its requests skip the lock; 0 turns it
	// off. Default: 2m.
	HitForPass *caddy.Duration `json:"hit_for_pass,omitempty"`

	// FillTimeout bounds how long the upstream has to send the response
	// headers, and then a body being stored. Past it, use_stale timeout
	// serves the stale copy, else the client gets 504. Default: 60s.
	FillTimeout caddy.Duration `json:"fill_timeout,omitempty"`

	// Valid gives a freshness lifetime per status code ("200", or "any")
	// to responses that carry none (NGINX's proxy_cache_valid). Default:
	// none, so such responses are not stored.
	Valid map[string]caddy.Duration `json:"valid,omitempty"`

	inst *cacheInstance // the shared cache, held in caches under key
	key  cacheKey
}

// CaddyModule returns the Caddy module information.
func (Cache) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.chorus_cache",
		New: func() caddy.Module { return new(Cache) },
	}
}

// config returns the handler's settings on top of cache.DefaultConfig,
// validated.
func (h *Cache) config() (cache.Config, error) {
	cfg := cache.DefaultConfig()
	if h.Name != "" {
		cfg.Name = h.Name
	}
	if h.MaxSize != 0 {
		cfg.MaxSize = h.MaxSize
		if h.MaxEntrySize == 0 && cfg.MaxEntrySize > cfg.MaxSize {
			cfg.MaxEntrySize = cfg.MaxSize
		}
	}
	if h.MaxEntrySize != 0 {
		cfg.MaxEntrySize = h.MaxEntrySize
	}
	if h.Inactive != 0 {
		cfg.Inactive = time.Duration(h.Inactive)
	}
	if h.MinUses != 0 {
		cfg.MinUses = h.MinUses
	}
	if h.Revalidate != nil {
		cfg.Revalidate = *h.Revalidate
	}
	if h.UseStale != nil {
		s, err := cache.ParseUseStale(h.UseStale...)
		if err != nil {
			return cfg, err
		}
		cfg.UseStale = s
	}
	if h.Lock != nil {
		cfg.Lock = *h.Lock
	}
	if h.LockTimeout != 0 {
		cfg.LockTimeout = time.Duration(h.LockTimeout)
	}
	if h.HitForPass != nil {
		cfg.PassTTL = time.Duration(*h.HitForPass)
	}
	if h.FillTimeout != 0 {
		cfg.FillTimeout = time.Duration(h.FillTimeout)
	}
	for code, d := range h.Valid {
		status := 0
		if code != "any" {
			n, err := strconv.Atoi(code)
			if err != nil {
				return cfg, fmt.Errorf("cache: valid status %q is neither a status code nor any", code)
			}
			status = n
		}
		if cfg.Valid == nil {
			cfg.Valid = map[int]time.Duration{}
		}
		cfg.Valid[status] = time.Duration(d)
	}
	return cfg, cfg.Validate()
}

// Validate checks the settings; it changes nothing.
func (h *Cache) Validate() error {
	_, err := h.config()
	return err
}

// Provision finds or makes the cache of this name and these settings.
func (h *Cache) Provision(ctx caddy.Context) error {
	cfg, err := h.config()
	if err != nil {
		return err
	}
	settings, err := json.Marshal(h)
	if err != nil {
		return fmt.Errorf("chorus_cache: keying the cache: %w", err)
	}
	key := cacheKey{name: cfg.Name, settings: string(settings)}
	v, _, err := caches.LoadOrNew(key, func() (caddy.Destructor, error) {
		c, err := cache.New(cfg)
		if err != nil {
			return nil, err
		}
		return newCacheInstance(cfg.Name, c), nil
	})
	if err != nil {
		return fmt.Errorf("chorus_cache %s: %w", cfg.Name, err)
	}
	h.inst, h.key = v.(*cacheInstance), key
	registerCacheMetrics(ctx)
	return nil
}

// Cleanup lets go of the cache; the last handler to hold it frees it.
func (h *Cache) Cleanup() error {
	if h.inst == nil {
		return nil
	}
	h.inst = nil
	_, err := caches.Delete(h.key)
	return err
}

// ServeHTTP answers from the cache or through next. A timed-out upstream
// becomes 504 and a client that left while waiting 499, as reverse_proxy
// reports them.
func (h *Cache) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	err := h.inst.cache.Serve(w, r, next)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, cache.ErrTimeout):
		return caddyhttp.Error(http.StatusGatewayTimeout, err)
	case errors.Is(err, context.Canceled):
		return caddyhttp.Error(499, err)
	}
	return err
}

// parseCacheDirective sets up the chorus_cache directive.
func parseCacheDirective(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	c := new(Cache)
	err := c.UnmarshalCaddyfile(h.Dispenser)
	return c, err
}

// UnmarshalCaddyfile sets up the handler from Caddyfile tokens. Syntax:
//
//	chorus_cache [<matcher>] {
//		name           <name>              # default chorus
//		max_size       <size>              # default 256MiB
//		max_entry_size <size>              # default 16MiB
//		inactive       <duration>          # default 60m
//		min_uses       <n>                 # default 2
//		revalidate     on|off              # default on
//		use_stale      <condition...>|off  # default timeout
//		lock           on|off              # default on
//		lock_timeout   <duration>          # default 5s
//		hit_for_pass   <duration>|off      # default 2m
//		fill_timeout   <duration>          # default 60s
//		valid          [<status...>|any] <duration>   # repeatable; none by default
//	}
//
// Conditions of use_stale: error, timeout, updating, http_500, http_502,
// http_503, http_504, http_403, http_404, http_429. valid without a status
// means 200 301 302, as in NGINX. Every bad value is reported with the
// Caddyfile's name and line.
func (h *Cache) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // the directive's name
	if d.NextArg() {
		return d.ArgErr()
	}
	seen := map[string]bool{}
	for d.NextBlock(0) {
		if opt := d.Val(); seen[opt] && opt != "valid" {
			return d.Errf("%s is given twice", opt)
		}
		seen[d.Val()] = true
		if err := h.unmarshalOption(d); err != nil {
			return err
		}
	}
	if _, err := h.config(); err != nil {
		return d.Errf("%v", err)
	}
	return nil
}

// unmarshalOption reads the option d is on (one line of a chorus_cache
// block). The chorus directive's cache block uses it too.
func (h *Cache) unmarshalOption(d *caddyfile.Dispenser) error {
	opt := d.Val()
	args := d.RemainingArgs()
	one := func() (string, error) {
		if len(args) != 1 {
			return "", d.ArgErr()
		}
		return args[0], nil
	}
	size := func() (int64, error) {
		s, err := one()
		if err != nil {
			return 0, err
		}
		n, err := humanize.ParseBytes(s)
		if err != nil || n == 0 || n > 1<<62 {
			return 0, d.Errf("%s %q is not a size such as 256MB", opt, s)
		}
		return int64(n), nil
	}
	duration := func() (caddy.Duration, error) {
		s, err := one()
		if err != nil {
			return 0, err
		}
		v, err := caddy.ParseDuration(s)
		if err != nil || v <= 0 {
			return 0, d.Errf("%s %q is not a positive duration such as 5s", opt, s)
		}
		return caddy.Duration(v), nil
	}
	onOff := func() (*bool, error) {
		s, err := one()
		if err != nil {
			return nil, err
		}
		if s != "on" && s != "off" {
			return nil, d.Errf("%s %q: want on or off", opt, s)
		}
		v := s == "on"
		return &v, nil
	}
	var err error
	switch opt {
	case "name":
		h.Name, err = one()
	case "max_size":
		h.MaxSize, err = size()
	case "max_entry_size":
		h.MaxEntrySize, err = size()
	case "inactive":
		h.Inactive, err = duration()
	case "lock_timeout":
		h.LockTimeout, err = duration()
	case "fill_timeout":
		h.FillTimeout, err = duration()
	case "min_uses":
		var s string
		if s, err = one(); err == nil {
			if h.MinUses, err = strconv.Atoi(s); err != nil || h.MinUses < 1 {
				err = d.Errf("min_uses %q is not a whole number of at least 1", s)
			}
		}
	case "revalidate":
		h.Revalidate, err = onOff()
	case "lock":
		h.Lock, err = onOff()
	case "use_stale":
		if len(args) == 0 {
			return d.ArgErr()
		}
		if _, perr := cache.ParseUseStale(args...); perr != nil {
			return d.Errf("%v", perr)
		}
		h.UseStale = args
	case "hit_for_pass":
		var s string
		if s, err = one(); err == nil {
			v := caddy.Duration(0)
			if s != "off" {
				v, err = duration()
			}
			h.HitForPass = &v
		}
	case "valid":
		if len(args) == 0 {
			return d.ArgErr()
		}
		codes, last := args[:len(args)-1], args[len(args)-1]
		v, perr := caddy.ParseDuration(last)
		if perr != nil || v <= 0 {
			return d.Errf("valid: %q is not a positive duration such as 10m", last)
		}
		if len(codes) == 0 {
			codes = []string{"200", "301", "302"} // NGINX's proxy_cache_valid without codes
		}
		if h.Valid == nil {
			h.Valid = map[string]caddy.Duration{}
		}
		for _, code := range codes {
			if n, cerr := strconv.Atoi(code); code != "any" && (cerr != nil || n < 100 || n > 599) {
				return d.Errf("valid: %q is not a status code (100-599) or any", code)
			}
			h.Valid[code] = caddy.Duration(v)
		}
	default:
		return d.Errf("unrecognized chorus_cache option %q", opt)
	}
	return err
}

// staticCacheHandler returns the JSON of the chorus_cache handler that the
// chorus directive puts before reverse_proxy on its static route (Mattermost's
// /static/*: the webapp's bundles, fonts and images, the same for every
// user). opts holds what the directive's cache block set (nil: nothing).
//
// The chorus directive must never route the WebSocket route or the API
// through it: those answers are per user, and the cache relies on RFC
// 9111's markings (which Mattermost's API does not always set) to tell.
func staticCacheHandler(opts *Cache) json.RawMessage {
	var h Cache
	if opts != nil {
		h = *opts
		h.inst = nil
	}
	return caddyconfig.JSONModuleObject(h, "handler", "chorus_cache", nil)
}

// staticCachePaths are the paths the chorus directive caches unless told
// otherwise.
var staticCachePaths = []string{"/static/*"}

// caches holds every loaded chorus_cache's store, by name and settings. It
// is package-level state because a cache must outlive a config reload:
// Caddy provisions the new config before it cleans up the old one, so the
// new handler finds the old handler's cache here (LoadOrNew) and its
// entries survive; and because the purge endpoint of the admin API and the
// metrics collector, which get no handle on the handlers, find the caches
// here. The UsagePool frees a cache (and stops its janitor) when the last
// handler holding it is cleaned up.
var caches = caddy.NewUsagePool()

// cacheKey identifies a cache in caches: handlers with the same name and
// settings share one.
type cacheKey struct {
	name     string
	settings string // the handler's JSON
}

// cacheInstance is one cache in caches, with its janitor.
type cacheInstance struct {
	name  string
	cache *cache.Cache
	stop  chan struct{} // closed by Destruct: stops the janitor
}

// newCacheInstance starts a janitor that sweeps c's inactive keys, so an
// idle cache frees its memory (requests sweep too).
func newCacheInstance(name string, c *cache.Cache) *cacheInstance {
	inst := &cacheInstance{name: name, cache: c, stop: make(chan struct{})}
	every := min(c.Config().Inactive, time.Minute)
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				c.Sweep()
			case <-inst.stop:
				return
			}
		}
	}()
	return inst
}

// Destruct stops the janitor; the cache's memory goes with the last
// reference.
func (i *cacheInstance) Destruct() error {
	close(i.stop)
	return nil
}

// cachesNamed returns the loaded caches called name, or all of them when
// name is empty.
func cachesNamed(name string) []*cacheInstance {
	var out []*cacheInstance
	caches.Range(func(_, v any) bool {
		if inst := v.(*cacheInstance); name == "" || strings.EqualFold(inst.name, name) {
			out = append(out, inst)
		}
		return true
	})
	return out
}

// Interface guards.
var (
	_ caddy.Provisioner           = (*Cache)(nil)
	_ caddy.Validator             = (*Cache)(nil)
	_ caddy.CleanerUpper          = (*Cache)(nil)
	_ caddyfile.Unmarshaler       = (*Cache)(nil)
	_ caddyhttp.MiddlewareHandler = (*Cache)(nil)
	_ caddy.Destructor            = (*cacheInstance)(nil)
)
