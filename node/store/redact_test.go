package store

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestDSNSecrets(t *testing.T) {
	tests := []struct {
		name string
		dsn  string
		want string // a password that must be found; "" means none
	}{
		{"postgres URL", "postgres://mmuser:mostest@localhost/mattermost?sslmode=disable", "mostest"},
		{"postgres URL with escaped characters", "postgres://u:p%40ss%2Fw@db/mm", "p@ss/w"},
		{"postgres URL that does not parse", "postgres://u:hunter2@db:port/mm", "hunter2"},
		{"postgres URL password parameter", "postgres://db/mm?user=u&password=hunter2", "hunter2"},
		{"postgres keyword form", "host=db user=u password=hunter2 dbname=mm", "hunter2"},
		{"postgres keyword form quoted", "host=db password='hunter 2' dbname=mm", "hunter 2"},
		{"mysql DSN", "mmuser:mostest@tcp(db:3306)/mattermost?charset=utf8mb4", "mostest"},
		{"mysql DSN with @ in password", "u:a@b@tcp(db:3306)/mm", "a@b"},
		{"mysql without password", "root@tcp(127.0.0.1:3306)/test", ""},
		{"postgres URL without password", "postgres://postgres@127.0.0.1:5432/test", ""},
		{"sqlite path", "./data/chorus.db", ""},
		{"sqlite file URI", "file:chorus.db?cache=shared", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := dsnSecrets(tt.dsn)
			if tt.want == "" {
				if len(got) != 0 {
					t.Errorf("dsnSecrets = %q, want none", got)
				}
				return
			}
			if !slices.Contains(got, tt.want) {
				t.Errorf("dsnSecrets = %q, want it to contain %q", got, tt.want)
			}
		})
	}
}

func TestRedact(t *testing.T) {
	base := errors.New("driver: cannot use u:hunter2@db")
	tests := []struct {
		name    string
		err     error
		secrets []string
		want    string
	}{
		{"nil stays nil", nil, []string{"hunter2"}, ""},
		{"password is replaced", fmt.Errorf("opening: %w", base), []string{"hunter2"}, "opening: driver: cannot use u:xxxxx@db"},
		{"message without secrets is unchanged", fmt.Errorf("opening: %w", ErrNotFound), []string{"hunter2"}, "opening: store: not found"},
		{"empty secret is ignored", errors.New("driver: boom"), []string{""}, "driver: boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := redact(tt.err, tt.secrets)
			if tt.err == nil {
				if got != nil {
					t.Fatalf("redact(nil) = %v", got)
				}
				return
			}
			if got.Error() != tt.want {
				t.Errorf("redact = %q, want %q", got, tt.want)
			}
			if !errors.Is(got, errors.Unwrap(tt.err)) && errors.Unwrap(tt.err) != nil {
				t.Errorf("redacted error does not unwrap to %v", errors.Unwrap(tt.err))
			}
			if strings.Contains(got.Error(), "hunter2") {
				t.Errorf("redacted error %q still holds the password", got)
			}
		})
	}
}
