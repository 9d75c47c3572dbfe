package app

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/seed331fb32b/chorus/node/config"
)

// memUsers is a UserStore in memory that counts reads by id.
type memUsers struct {
	mu   sync.Mutex
	byID map[string]User
	gets int
}

func (m *memUsers) Save(_ context.Context, u *User) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.byID[u.ID] = *u
	return nil
}

func (m *memUsers) Get(_ context.Context, id string) (*User, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.gets++
	u, ok := m.byID[id]
	if !ok {
		return nil, ErrNotFound
	}
	return &u, nil
}

func (m *memUsers) find(match func(User) bool) (*User, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, u := range m.byID {
		if match(u) {
			return &u, nil
		}
	}
	return nil, ErrNotFound
}

func (m *memUsers) GetByUsername(_ context.Context, name string) (*User, error) {
	return m.find(func(u User) bool { return u.Username == name })
}

func (m *memUsers) GetByEmail(_ context.Context, email string) (*User, error) {
	return m.find(func(u User) bool { return u.Email == email })
}

func (m *memUsers) GetMany(context.Context, []string) ([]*User, error) { return nil, nil }
func (m *memUsers) Count(context.Context) (int64, error)               { return int64(len(m.byID)), nil }

func (m *memUsers) UpdateFailedAttempts(_ context.Context, id string, n int) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	u := m.byID[id]
	u.FailedAttempts = n
	m.byID[id] = u
	return nil
}

func (m *memUsers) Update(_ context.Context, u *User) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	old, ok := m.byID[u.ID]
	if !ok {
		return ErrNotFound
	}
	for id, other := range m.byID {
		if id != u.ID && (other.Username == u.Username || other.Email == u.Email) {
			return ErrConflict
		}
	}
	next := *u
	next.Password, next.Roles, next.FailedAttempts = old.Password, old.Roles, old.FailedAttempts
	m.byID[u.ID] = next
	return nil
}

// Stores the patch never touches.
type (
	unusedTeams    struct{ TeamStore }
	unusedChannels struct{ ChannelStore }
	unusedPosts    struct{ PostStore }
	unusedStatuses struct{ StatusStore }
)

// eventLog records, in order, what the app sends to the cluster and
// publishes to the hub.
type eventLog struct {
	mu     sync.Mutex
	lines  []string
	events []Event
}

func (l *eventLog) add(line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, line)
}

func (l *eventLog) Send(_ context.Context, event string, data []byte) error {
	l.add("send " + event + " " + string(data))
	return nil
}

func (l *eventLog) RemoteSocketCount(context.Context, string) (int, error) {
	l.add("ask")
	return 0, nil
}

func (l *eventLog) ConfigChanged(context.Context, *config.Config) error { return nil }

func (l *eventLog) Publish(_ context.Context, ev Event) error {
	l.mu.Lock()
	l.events = append(l.events, ev)
	l.mu.Unlock()
	l.add("publish " + ev.Name)
	return nil
}

func (l *eventLog) CloseSession(string) int { return 0 }

// patchApp returns an app over memUsers holding admin, alice and bob
// (password "Passw0rd!x"), clustered and publishing to log.
func patchApp(t *testing.T) (*App, *memUsers, *eventLog) {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte("Passw0rd!x"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	users := &memUsers{byID: map[string]User{}}
	for _, u := range []User{
		{ID: "admin00000000000000000000a", Username: "admin", Email: "admin@example.com", Roles: "system_admin system_user"},
		{ID: "alice00000000000000000000a", Username: "alice", Email: "alice@example.com", Roles: "system_user", EmailVerified: true},
		{ID: "bob0000000000000000000000a", Username: "bob", Email: "bob@example.com", Roles: "system_user"},
	} {
		u.Password, u.CreateAt, u.UpdateAt, u.Locale = string(hash), 1000, 1000, "en"
		u.NotifyProps = defaultNotifyProps()
		users.byID[u.ID] = u
	}
	a := New(Deps{Config: config.DefaultConfig(), System: &fakeSystem{}, Stores: Stores{Users: users, Sessions: fakeSessions{},
		Teams: unusedTeams{}, Channels: unusedChannels{}, Posts: unusedPosts{}, Statuses: unusedStatuses{}}})
	log := &eventLog{}
	a.SetCluster(log)
	a.SetRealtime(log)
	return a, users, log
}

func sessionOf(userID, roles string) *Session {
	return &Session{ID: NewID(), UserID: userID, Roles: roles}
}

func TestPatchUserWritesCachesTellsTheClusterThenPublishes(t *testing.T) {
	a, users, log := patchApp(t)
	const alice = "alice00000000000000000000a"
	nick := "Ally"
	got, err := a.PatchUser(t.Context(), sessionOf(alice, "system_user"), alice, UserPatch{Nickname: &nick})
	if err != nil {
		t.Fatal(err)
	}
	if got.Nickname != "Ally" || got.UpdateAt <= 1000 || got.Password != "" || got.NotifyProps == nil {
		t.Errorf("PatchUser = %+v", got)
	}
	if stored := users.byID[alice]; stored.Nickname != "Ally" || stored.UpdateAt != got.UpdateAt {
		t.Errorf("stored user = %+v", stored)
	}
	// inv_user goes out and is confirmed before the sockets hear of it.
	want := []string{"send inv_user " + alice, "ask", "publish user_updated", "publish user_updated"}
	if !slices.Equal(log.lines, want) {
		t.Errorf("cluster and hub saw %q, want %q", log.lines, want)
	}
	others, self := log.events[0], log.events[1]
	if !others.Broadcast.OmitUsers[alice] || others.Broadcast.UserID != "" || self.Broadcast.UserID != alice {
		t.Errorf("broadcasts = %+v, %+v", others.Broadcast, self.Broadcast)
	}
	if u := others.Data["user"].(*User); u.Nickname != "Ally" || len(u.NotifyProps) != 0 || u.Password != "" {
		t.Errorf("everyone's copy = %+v", u)
	}
	if u := self.Data["user"].(*User); u.NotifyProps == nil || u.Password != "" {
		t.Errorf("alice's own copy = %+v", u)
	}
	// The node's cache holds the new user: no read of the store.
	gets := users.gets
	if u, err := a.user(t.Context(), alice); err != nil || u.Nickname != "Ally" || users.gets != gets {
		t.Errorf("cached user = %+v, %v (%d store reads)", u, err, users.gets-gets)
	}
	// Another node's inv_user drops it.
	a.ClusterHandlers()[ClusterEventInvalidateUser](t.Context(), []byte(alice))
	if _, err := a.user(t.Context(), alice); err != nil || users.gets != gets+1 {
		t.Errorf("after inv_user the user was not read again (%d reads, %v)", users.gets-gets, err)
	}
}

func TestPatchUserRules(t *testing.T) {
	const admin, alice, bob = "admin00000000000000000000a", "alice00000000000000000000a", "bob0000000000000000000000a"
	str := func(s string) *string { return &s }
	tests := []struct {
		name    string
		session *Session
		id      string
		patch   UserPatch
		wantID  string // "" success
		check   func(t *testing.T, u User)
	}{
		{name: "another user", session: sessionOf(alice, "system_user"), id: bob, patch: UserPatch{Nickname: str("x")},
			wantID: "api.context.permissions.app_error"},
		{name: "unknown user, as an admin", session: sessionOf(admin, "system_admin system_user"), id: NewID(),
			patch: UserPatch{Nickname: str("x")}, wantID: "api.context.invalid_body_param.app_error"},
		{name: "taken username", session: sessionOf(alice, "system_user"), id: alice, patch: UserPatch{Username: str("BOB")},
			wantID: "app.user.save.username_exists.app_error"},
		{name: "taken email, by an admin", session: sessionOf(admin, "system_admin system_user"), id: alice,
			patch: UserPatch{Email: str("bob@example.com")}, wantID: "app.user.save.email_exists.app_error"},
		{name: "own email without password", session: sessionOf(alice, "system_user"), id: alice,
			patch: UserPatch{Email: str("new@example.com")}, wantID: "api.context.invalid_body_param.app_error"},
		{name: "own email with a wrong password", session: sessionOf(alice, "system_user"), id: alice,
			patch: UserPatch{Email: str("new@example.com"), Password: str("nope")}, wantID: "api.user.check_user_password.invalid.app_error",
			check: func(t *testing.T, u User) {
				if u.FailedAttempts != 1 || u.Email != "alice@example.com" {
					t.Errorf("after a wrong password: %+v, want one failed attempt and the old email", u)
				}
			}},
		{name: "own email with the password, no longer verified", session: sessionOf(alice, "system_user"), id: alice,
			patch: UserPatch{Email: str("New@Example.com"), Password: str("Passw0rd!x")},
			check: func(t *testing.T, u User) {
				if u.Email != "new@example.com" || u.EmailVerified {
					t.Errorf("after an email change: %+v", u)
				}
			}},
		{name: "same email needs no password", session: sessionOf(alice, "system_user"), id: alice,
			patch: UserPatch{Email: str("alice@example.com"), Locale: str("de")},
			check: func(t *testing.T, u User) {
				if !u.EmailVerified || u.Locale != "de" {
					t.Errorf("after patching with the same email: %+v", u)
				}
			}},
		{name: "a username Mattermost accepts but a sign-up does not", session: sessionOf(alice, "system_user"), id: alice,
			patch: UserPatch{Username: str("1alice")},
			check: func(t *testing.T, u User) {
				if u.Username != "1alice" {
					t.Errorf("username = %q", u.Username)
				}
			}},
		{name: "invalid email", session: sessionOf(admin, "system_admin system_user"), id: bob,
			patch: UserPatch{Email: str("not an email")}, wantID: "model.user.is_valid.email.app_error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, users, log := patchApp(t)
			_, err := a.PatchUser(t.Context(), tt.session, tt.id, tt.patch)
			var e *Error
			switch {
			case tt.wantID == "" && err != nil:
				t.Fatalf("PatchUser: %v", err)
			case tt.wantID != "" && (!errors.As(err, &e) || e.ID != tt.wantID):
				t.Fatalf("PatchUser: err = %v, want id %s", err, tt.wantID)
			case tt.wantID != "" && len(log.lines) != 0:
				t.Errorf("a refused patch told the cluster or sockets: %q", log.lines)
			}
			if tt.check != nil {
				tt.check(t, users.byID[tt.id])
			}
		})
	}
}
