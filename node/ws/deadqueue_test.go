package ws

import (
	"slices"
	"testing"
)

func TestDeadQueue(t *testing.T) {
	tests := []struct {
		name       string
		size       int
		pushed     int // seqs 0..pushed-1
		since      int64
		wantSince  []int64
		notContain []int64
	}{
		{name: "empty holds nothing", size: 3, notContain: []int64{0, 1}},
		{name: "partly full", size: 3, pushed: 2, since: 0, wantSince: []int64{0, 1}, notContain: []int64{2, -1}},
		{name: "full", size: 3, pushed: 3, since: 1, wantSince: []int64{1, 2}, notContain: []int64{3}},
		{name: "wrapped keeps the newest", size: 3, pushed: 7, since: 4, wantSince: []int64{4, 5, 6}, notContain: []int64{3, 7}},
		{name: "wrapped from the newest", size: 3, pushed: 8, since: 7, wantSince: []int64{7}, notContain: []int64{4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := newDeadQueue(tt.size)
			for i := range tt.pushed {
				q.push(int64(i), &frame{event: "e"})
			}
			if tt.wantSince != nil {
				if !q.contains(tt.since) {
					t.Fatalf("does not contain %d", tt.since)
				}
				var got []int64
				q.since(tt.since, func(e sentEvent) bool { got = append(got, e.seq); return true })
				if !slices.Equal(got, tt.wantSince) {
					t.Errorf("since(%d) = %v, want %v", tt.since, got, tt.wantSince)
				}
			}
			for _, s := range tt.notContain {
				if q.contains(s) {
					t.Errorf("contains %d", s)
				}
			}
			var all []int64
			q.all(func(e sentEvent) bool { all = append(all, e.seq); return true })
			if want := min(tt.pushed, tt.size); len(all) != want {
				t.Errorf("all() gave %v, want %d entries", all, want)
			}
			q.reset()
			if q.contains(int64(tt.pushed - 1)) {
				t.Error("reset queue still holds entries")
			}
		})
	}
}
