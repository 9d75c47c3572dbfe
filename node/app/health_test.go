package app

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/seed331fb32b/chorus/node/config"
)

// fakeSystem records calls and fails the ones it is told to. The app logic
// is the subject here; node/api tests the same paths on a real database.
type fakeSystem struct {
	calls      []string
	saveErr    error
	deleteErr  error
	savedValue string
}

func (f *fakeSystem) SaveOrUpdate(_ context.Context, name, value string) error {
	f.calls = append(f.calls, "save "+name)
	f.savedValue = value
	return f.saveErr
}

func (f *fakeSystem) PermanentDeleteByName(_ context.Context, name string) error {
	f.calls = append(f.calls, "delete "+name)
	return f.deleteErr
}

var _ SystemStore = (*fakeSystem)(nil)

// newApp returns an App on sys with the default config but for service.
func newApp(sys SystemStore, service config.ServiceSettings, logger *zap.Logger) *App {
	cfg := config.DefaultConfig()
	cfg.ServiceSettings = service
	return New(Deps{Config: cfg, System: sys, Logger: logger})
}

func TestHealthy(t *testing.T) {
	errDown := errors.New("database is down")
	tests := []struct {
		name             string
		threshold        int
		goroutines       int
		withServerStatus bool
		saveErr          error
		deleteErr        error
		want             Status
		wantCalls        []string // with "<key>" for the node's health check key
	}{
		{name: "healthy without server status touches no database",
			threshold: -1, goroutines: 10_000, want: Status{Status: StatusOK}},
		{name: "zero threshold disables the goroutine check",
			threshold: 0, goroutines: 10_000, want: Status{Status: StatusOK}},
		{name: "goroutines below the threshold are healthy",
			threshold: 100, goroutines: 99, want: Status{Status: StatusOK}},
		{name: "goroutines at the threshold are unhealthy",
			threshold: 100, goroutines: 100, want: Status{Status: StatusUnhealthy}},
		{name: "server status writes then deletes the health check row",
			threshold: -1, withServerStatus: true,
			want:      Status{Status: StatusOK, DatabaseStatus: StatusOK},
			wantCalls: []string{"save <key>", "delete <key>"}},
		{name: "failed write makes database and node unhealthy and still deletes",
			threshold: -1, withServerStatus: true, saveErr: errDown,
			want:      Status{Status: StatusUnhealthy, DatabaseStatus: StatusUnhealthy},
			wantCalls: []string{"save <key>", "delete <key>"}},
		{name: "failed delete makes database and node unhealthy",
			threshold: -1, withServerStatus: true, deleteErr: errDown,
			want:      Status{Status: StatusUnhealthy, DatabaseStatus: StatusUnhealthy},
			wantCalls: []string{"save <key>", "delete <key>"}},
		{name: "goroutine failure with a healthy database keeps database OK",
			threshold: 1, goroutines: 5, withServerStatus: true,
			want:      Status{Status: StatusUnhealthy, DatabaseStatus: StatusOK},
			wantCalls: []string{"save <key>", "delete <key>"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sys := &fakeSystem{saveErr: tt.saveErr, deleteErr: tt.deleteErr}
			a := newApp(sys, config.ServiceSettings{GoroutineHealthThreshold: tt.threshold}, zaptest.NewLogger(t))
			a.numGoroutine = func() int { return tt.goroutines }

			got := a.Healthy(t.Context(), tt.withServerStatus)
			if got != tt.want {
				t.Errorf("Healthy = %+v, want %+v", got, tt.want)
			}
			if got.OK() != (tt.want.Status == StatusOK) {
				t.Errorf("OK() = %v for %+v", got.OK(), got)
			}
			var want []string
			for _, c := range tt.wantCalls {
				want = append(want, strings.ReplaceAll(c, "<key>", "health_check_"+a.NodeID()))
			}
			if !slices.Equal(sys.calls, want) {
				t.Errorf("store calls = %q, want %q", sys.calls, want)
			}
		})
	}
}

func TestCheckDatabase(t *testing.T) {
	errWrite, errDelete := errors.New("write failed"), errors.New("delete failed")
	tests := []struct {
		name      string
		saveErr   error
		deleteErr error
		wantIs    []error
	}{
		{name: "both succeed"},
		{name: "write error is returned", saveErr: errWrite, wantIs: []error{errWrite}},
		{name: "delete error is returned", deleteErr: errDelete, wantIs: []error{errDelete}},
		{name: "both errors are returned", saveErr: errWrite, deleteErr: errDelete, wantIs: []error{errWrite, errDelete}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sys := &fakeSystem{saveErr: tt.saveErr, deleteErr: tt.deleteErr}
			a := newApp(sys, config.ServiceSettings{}, nil)
			a.now = func() time.Time { return time.Unix(1700000000, 0) }
			err := a.CheckDatabase(t.Context())
			if len(tt.wantIs) == 0 && err != nil {
				t.Fatalf("CheckDatabase: %v", err)
			}
			for _, w := range tt.wantIs {
				if !errors.Is(err, w) {
					t.Errorf("CheckDatabase error %v does not wrap %v", err, w)
				}
			}
			if sys.savedValue != "1700000000" {
				t.Errorf("health check value = %q, want the Unix time 1700000000", sys.savedValue)
			}
		})
	}
}
