package caddymodule

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/caddyserver/caddy/v2"
)

func init() {
	caddy.RegisterModule(CacheAdmin{})
}

// CacheAdmin adds the response caches' route to Caddy's admin API
// (loopback only unless the operator opens it, with Caddy's own origin
// checks):
//
//	POST /chorus/cache/purge  {"key":"<key>"} or {"prefix":"<prefix>"}, [,"cache":"<name>"]
//
// A key is the URL as the cache saw it, scheme://host/path?query (see
// cache.Key), such as "https://chat.example.com/static/main.js"; a prefix
// removes every key starting with it, such as
// "https://chat.example.com/static/". Without "cache" every chorus_cache
// is purged. The fields may also come as query parameters. The answer is
// {"purged": <keys removed>}.
//
// Module ID: admin.api.chorus_cache. It has no configuration: it finds
// the caches in the package's registry, which survives reloads.
type CacheAdmin struct{}

// CaddyModule returns the Caddy module information.
func (CacheAdmin) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "admin.api.chorus_cache",
		New: func() caddy.Module { return new(CacheAdmin) },
	}
}

// Routes returns the admin route.
func (CacheAdmin) Routes() []caddy.AdminRoute {
	return []caddy.AdminRoute{
		{Pattern: "POST /chorus/cache/purge", Handler: caddy.AdminHandlerFunc(servePurge)},
	}
}

// purgeRequest is the body of a purge.
type purgeRequest struct {
	Cache  string `json:"cache,omitempty"`
	Key    string `json:"key,omitempty"`
	Prefix string `json:"prefix,omitempty"`
}

// purgeResult is the answer to a purge.
type purgeResult struct {
	Purged int `json:"purged"`
}

// servePurge removes a key or every key under a prefix.
func servePurge(w http.ResponseWriter, r *http.Request) error {
	var req purgeRequest
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil {
		return cacheAPIError(http.StatusBadRequest, fmt.Errorf("reading the purge request: %w", err))
	}
	if len(body) > 0 {
		if err := json.Unmarshal(body, &req); err != nil {
			return cacheAPIError(http.StatusBadRequest, fmt.Errorf("decoding the purge request: %w", err))
		}
	}
	q := r.URL.Query()
	if v := q.Get("cache"); v != "" {
		req.Cache = v
	}
	if v := q.Get("key"); v != "" {
		req.Key = v
	}
	if v := q.Get("prefix"); v != "" {
		req.Prefix = v
	}
	if (req.Key == "") == (req.Prefix == "") {
		return cacheAPIError(http.StatusBadRequest, errors.New(`a purge takes one of "key" or "prefix"`))
	}
	insts := cachesNamed(req.Cache)
	if len(insts) == 0 && req.Cache != "" {
		return cacheAPIError(http.StatusNotFound, fmt.Errorf("no chorus_cache named %q", req.Cache))
	}
	var res purgeResult
	for _, inst := range insts {
		if req.Key != "" {
			if inst.cache.Purge(req.Key) {
				res.Purged++
			}
		} else {
			res.Purged += inst.cache.PurgePrefix(req.Prefix)
		}
	}
	w.Header().Set("Content-Type", "application/json")
	return json.NewEncoder(w).Encode(res)
}

// cacheAPIError is an admin API error with a status.
func cacheAPIError(status int, err error) error {
	return caddy.APIError{HTTPStatus: status, Err: err}
}

// Interface guards.
var _ caddy.AdminRouter = CacheAdmin{}
