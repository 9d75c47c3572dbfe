package app

import (
	"sync"
	"testing"
	"time"

	"github.com/seed331fb32b/chorus/node/config"
)

func TestParseHashtags(t *testing.T) {
	tests := []struct{ message, want string }{
		{"no tags here", ""},
		{"#golang is fun", "#golang"},
		{"#go #golang, #golang! and (#rust).", "#go #golang #golang #rust"},
		{"#1st #a1 #_x #a- ##double", "#a1 #double"},
		{"mid#word #ok", "#ok"},
		{"#日本語 #café", "#日本語 #café"},
	}
	for _, tt := range tests {
		if got := parseHashtags(tt.message); got != tt.want {
			t.Errorf("parseHashtags(%q) = %q, want %q", tt.message, got, tt.want)
		}
	}
}

func TestPostTimesIncreaseStrictlyOnANode(t *testing.T) {
	a := New(Deps{Config: config.DefaultConfig(), System: &fakeSystem{}})
	frozen := time.UnixMilli(1700000000000)
	a.now = func() time.Time { return frozen }
	var mu sync.Mutex
	seen := map[int64]bool{}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				at := a.nextPostTime()
				mu.Lock()
				if seen[at] {
					t.Errorf("time %d handed out twice", at)
				}
				seen[at] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != 800 {
		t.Errorf("%d distinct times for 800 posts", len(seen))
	}
	if !seen[frozen.UnixMilli()] || !seen[frozen.UnixMilli()+799] {
		t.Error("times do not start at the clock and run on by one")
	}
}

func TestValidatePost(t *testing.T) {
	channel := NewID()
	tests := []struct {
		name   string
		np     NewPost
		wantID string // "" valid
	}{
		{"plain message", NewPost{ChannelID: channel, Message: "hi"}, ""},
		{"custom type", NewPost{ChannelID: channel, Type: "custom_poll"}, ""},
		{"no channel", NewPost{Message: "hi"}, "model.post.is_valid.channel_id.app_error"},
		{"bad root", NewPost{ChannelID: channel, RootID: "x"}, "model.post.is_valid.root_id.app_error"},
		{"system type", NewPost{ChannelID: channel, Type: "system_join_channel"}, "model.post.is_valid.type.app_error"},
		{"long pending id", NewPost{ChannelID: channel, PendingPostID: string(make([]byte, 200))}, "model.post.is_valid.pending_post_id.app_error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := validatePost(&tt.np)
			got := ""
			if e, ok := err.(*Error); ok {
				got = e.ID
			} else if err != nil {
				t.Fatalf("error %v is not an *Error", err)
			}
			if got != tt.wantID {
				t.Errorf("error id = %q, want %q", got, tt.wantID)
			}
		})
	}
}
