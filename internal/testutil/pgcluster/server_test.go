package pgcluster

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
)

func TestLastLines(t *testing.T) {
	tests := []struct {
		name string
		in   string
		n    int
		want string
	}{
		{"short input is kept whole", "a\nb\n", 3, "a\nb"},
		{"long input keeps its end", "a\nb\nc\nd\n", 2, "c\nd"},
		{"no trailing newline", "a\nb\nc", 1, "c"},
		{"empty input", "", 2, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := lastLines([]byte(tt.in), tt.n); got != tt.want {
				t.Fatalf("lastLines(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
			}
		})
	}
}

func TestStartOnTakenPortReportsIt(t *testing.T) {
	c := Start(t)
	c.StopReplica(t)
	// Hold the replica's port the way another process would.
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(c.replica.port)))
	if err != nil {
		t.Fatalf("taking the replica's port: %v", err)
	}
	defer l.Close()

	err = c.replica.start(t.Context(), true)
	if !errors.Is(err, errPortTaken) {
		t.Fatalf("start on a taken port: got %v, want errPortTaken", err)
	}
	if !strings.Contains(err.Error(), "last lines of") || !strings.Contains(err.Error(), "Address already in use") {
		t.Fatalf("start on a taken port: error lacks the log tail:\n%v", err)
	}
	if c.replica.proc != nil {
		t.Fatal("a replica that failed to start is still recorded as running")
	}

	l.Close()
	c.StartReplica(t)
	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	defer cancel()
	if err := c.replica.probe(ctx, true); err != nil {
		t.Fatalf("replica after a retry on its freed port: %v", err)
	}
}
