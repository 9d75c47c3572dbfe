package cache

import (
	"testing"
	"time"
)

func TestCacheStatusFormat(t *testing.T) {
	tests := []struct {
		st     cacheStatus
		want   string
		result result
	}{
		{cacheStatus{hit: true, ttl: 42 * time.Second, hasTTL: true}, "chorus; hit; ttl=42", resultHit},
		{cacheStatus{fwd: fwdURIMiss, fwdStatus: 200, stored: true}, "chorus; fwd=uri-miss; fwd-status=200; stored", resultMiss},
		{cacheStatus{fwd: fwdURIMiss, fwdStatus: 200, collapsed: true}, "chorus; fwd=uri-miss; fwd-status=200; collapsed", resultHit},
		{cacheStatus{fwd: fwdStale, ttl: -3 * time.Second, hasTTL: true, detail: "stale-timeout"}, "chorus; fwd=stale; ttl=-3; detail=stale-timeout", resultStale},
		{cacheStatus{fwd: fwdBypass, detail: "hit-for-pass"}, "chorus; fwd=bypass; detail=hit-for-pass", resultBypass},
		{cacheStatus{fwd: fwdMethod}, "chorus; fwd=method", resultBypass},
	}
	for _, tt := range tests {
		if got := tt.st.format("chorus"); got != tt.want {
			t.Errorf("format = %q; want %q", got, tt.want)
		}
		if got := tt.st.result(); got != tt.result {
			t.Errorf("%q: result %d; want %d", tt.want, got, tt.result)
		}
	}
}
