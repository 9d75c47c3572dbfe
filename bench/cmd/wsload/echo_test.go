package main

import (
	"testing"
	"time"
)

func TestPercentileUsesNearestRank(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	for _, tc := range []struct {
		q    float64
		want float64
	}{{0.5, 50}, {0.99, 99}, {1, 100}} {
		if got := percentileMs(d, tc.q); got != tc.want {
			t.Errorf("percentileMs(1..100 ms, %v) = %v, want %v", tc.q, got, tc.want)
		}
	}
	if got := percentileMs(nil, 0.99); got != 0 {
		t.Errorf("percentileMs(nil) = %v, want 0", got)
	}
}
