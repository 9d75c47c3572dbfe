package app

import (
	"testing"

	"github.com/seed331fb32b/chorus/node/config"
)

func TestCheckPasswordFollowsPasswordSettings(t *testing.T) {
	tests := []struct {
		name     string
		settings config.PasswordSettings
		password string
		wantID   string // "" valid
	}{
		{"default length", config.PasswordSettings{MinimumLength: 8}, "12345678", ""},
		{"too short", config.PasswordSettings{MinimumLength: 8}, "1234567", "model.user.is_valid.pwd_min_length.app_error"},
		{"over bcrypt's 72 bytes", config.PasswordSettings{MinimumLength: 8}, string(make([]byte, 73)), "model.user.is_valid.pwd_max_length.app_error"},
		{"zero minimum means 8", config.PasswordSettings{}, "1234567", "model.user.is_valid.pwd_min_length.app_error"},
		{"needs upper case and a symbol", config.PasswordSettings{MinimumLength: 4, Uppercase: true, Symbol: true}, "abcdefg",
			"model.user.is_valid.pwd_uppercase_symbol.app_error"},
		{"has them", config.PasswordSettings{MinimumLength: 4, Lowercase: true, Uppercase: true, Number: true, Symbol: true}, "aB3$", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config.DefaultConfig()
			cfg.PasswordSettings = tt.settings
			a := New(Deps{Config: cfg, System: &fakeSystem{}})
			err := a.checkPassword(tt.password)
			got := ""
			if e, ok := err.(*Error); ok {
				got = e.ID
			}
			if got != tt.wantID {
				t.Errorf("checkPassword = %v, want id %q", err, tt.wantID)
			}
		})
	}
}

func TestSanitizedUser(t *testing.T) {
	u := &User{ID: NewID(), Username: "alice", Password: "$2a$hash", MfaSecret: "s", Email: "a@example.com",
		NotifyProps: map[string]string{"email": "true"}, FailedAttempts: 2, EmailVerified: true}
	self := u.sanitized(true, false)
	if self.Password != "" || self.MfaSecret != "" || self.NotifyProps == nil || self.FailedAttempts != 2 {
		t.Errorf("own view = %+v", self)
	}
	other := u.sanitized(false, false)
	if len(other.NotifyProps) != 0 || other.FailedAttempts != 0 || other.EmailVerified || other.Email != "a@example.com" {
		t.Errorf("others' view = %+v", other)
	}
	if u.Password == "" {
		t.Error("sanitized modified the user")
	}
}

func TestNewPanicsOnPartlySetStores(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("New accepted Stores with only Users set")
		}
	}()
	New(Deps{Config: config.DefaultConfig(), System: &fakeSystem{}, Stores: Stores{Users: nil, Posts: nil, Sessions: fakeSessions{}}})
}

// fakeSessions is a SessionStore that is never called: New only checks
// which stores are set.
type fakeSessions struct{ SessionStore }
