package pgcluster

import (
	"errors"
	"fmt"
	"runtime"
	"testing"
)

// outcomeTB records whether a helper skipped or failed the test, and ends
// the goroutine as the real methods do.
type outcomeTB struct {
	testing.TB
	skipped, failed bool
	msg             string
}

func (r *outcomeTB) Helper() {}

func (r *outcomeTB) Skipf(format string, args ...any) {
	r.skipped, r.msg = true, fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (r *outcomeTB) Fatalf(format string, args ...any) {
	r.failed, r.msg = true, fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func TestSkipIfMissing(t *testing.T) {
	tests := []struct {
		name     string
		ci       string
		err      error
		wantSkip bool
	}{
		{"missing binaries skip outside CI", "", fmt.Errorf("searched: %w", errNoBinaries), true},
		{"missing binaries fail under CI=true", "true", fmt.Errorf("searched: %w", errNoBinaries), false},
		{"missing postgres user fails under CI=1", "1", errNoServerUser, false},
		{"other errors fail outside CI", "", errors.New("pgcluster: $CHORUS_PG_BIN=/x lacks initdb"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(ciEnv, tt.ci)
			missing := errNoBinaries
			if errors.Is(tt.err, errNoServerUser) {
				missing = errNoServerUser
			}
			r := &outcomeTB{TB: t}
			done := make(chan struct{})
			go func() {
				defer close(done)
				skipIfMissing(r, tt.err, missing)
			}()
			<-done
			if r.skipped != tt.wantSkip || r.failed == tt.wantSkip {
				t.Fatalf("skipped=%t failed=%t (%q), want skipped=%t", r.skipped, r.failed, r.msg, tt.wantSkip)
			}
		})
	}
}
