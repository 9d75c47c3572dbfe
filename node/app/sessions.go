package app

import (
	"context"
	"errors"
	"strings"
	"time"

	"go.uber.org/zap"
	"golang.org/x/crypto/bcrypt"
)

// Session is a login: Mattermost's model.Session. Its Token is the secret
// a client sends (header or MMAUTHTOKEN cookie); Props holds the CSRF
// token. Sessions handed out by the App are shared with its session cache:
// callers must not modify them.
type Session struct {
	ID             string
	Token          string
	CreateAt       int64 // Unix milliseconds
	ExpiresAt      int64 // Unix milliseconds; 0 never expires
	LastActivityAt int64
	UserID         string
	DeviceID       string
	Roles          string // the user's roles at login
	IsOAuth        bool
	Props          map[string]string
}

// sessionPropCSRF is the Props key of the CSRF token, Mattermost's.
const sessionPropCSRF = "csrf"

// CSRF returns the session's CSRF token, which cookie-authenticated
// requests other than GET must repeat in X-CSRF-Token.
func (s *Session) CSRF() string { return s.Props[sessionPropCSRF] }

// IsSystemAdmin reports whether the session's user had the system_admin
// role at login.
func (s *Session) IsSystemAdmin() bool { return s != nil && hasRole(s.Roles, RoleSystemAdmin) }

// expired reports whether the session has expired at nowMs.
func (s *Session) expired(nowMs int64) bool { return s.ExpiresAt > 0 && nowMs > s.ExpiresAt }

// SessionLength returns how long a new login session lasts
// (ServiceSettings.SessionLengthWebInHours); the API sets its cookies'
// lifetime to it.
func (a *App) SessionLength() time.Duration {
	return time.Duration(positive(a.Config().ServiceSettings.SessionLengthWebInHours, 720)) * time.Hour
}

// sessionCacheTTL is ServiceSettings.SessionCacheInMinutes.
func (a *App) sessionCacheTTL() time.Duration {
	return time.Duration(positive(a.Config().ServiceSettings.SessionCacheInMinutes, 10)) * time.Minute
}

// invalidCredentials is Mattermost's answer to any failed password login:
// it does not tell whether the account exists.
func invalidCredentials() *Error {
	return newError(KindUnauthorized, "api.user.login.invalid_credentials_email_username",
		"Enter a valid email or username and/or password.", "")
}

// tooManyLoginAttempts is Mattermost's 401 for an account locked by
// ServiceSettings.MaximumLoginAttempts wrong passwords in a row.
func tooManyLoginAttempts(userID string) *Error {
	return newError(KindUnauthorized, "api.user.check_user_login_attempts.too_many.app_error",
		"Your account is locked because of too many failed password attempts. Please reset your password.", "user_id="+userID)
}

// Credentials are what a password login presents.
type Credentials struct {
	// LoginID is a username or an email, as EmailSettings allow.
	LoginID string
	// UserID, when LoginID is empty, names the user by id instead
	// (Client4.loginById).
	UserID string
	// Password is checked against the user's bcrypt hash.
	Password string
	// DeviceID is the mobile device, kept on the session.
	DeviceID string
}

// Login checks the credentials as Mattermost's POST /api/v4/users/login does, and makes a
// session lasting [App.SessionLength] with a random 26-character token and
// CSRF token. It returns the session and the user as they may see
// themselves. Every failure of the credentials is the same 401, so that it
// does not reveal which accounts exist; ServiceSettings.MaximumLoginAttempts
// wrong passwords in a row lock the account (401
// api.user.check_user_login_attempts.too_many.app_error).
func (a *App) Login(ctx context.Context, c Credentials) (*Session, *User, error) {
	switch {
	case c.LoginID == "" && c.UserID == "":
		return nil, nil, invalidParam("login_id")
	case c.Password == "":
		return nil, nil, invalidParam("password")
	}
	u, err := a.userForLogin(ctx, c)
	if err != nil {
		return nil, nil, err
	}
	if max := a.Config().ServiceSettings.MaximumLoginAttempts; max > 0 && u.FailedAttempts >= max {
		return nil, nil, tooManyLoginAttempts(u.ID)
	}
	if u.Password == "" || bcrypt.CompareHashAndPassword([]byte(u.Password), []byte(c.Password)) != nil {
		if err := a.stores.Users.UpdateFailedAttempts(ctx, u.ID, u.FailedAttempts+1); err != nil {
			a.logger.Warn("Cannot count a failed login", zap.String("user_id", u.ID), zap.Error(err))
		}
		return nil, nil, invalidCredentials()
	}
	if u.DeleteAt != 0 {
		return nil, nil, newError(KindUnauthorized, "api.user.login.inactive.app_error",
			"Login failed because your account has been deactivated.  Please contact an administrator.", "user_id="+u.ID)
	}
	if u.FailedAttempts > 0 {
		if err := a.stores.Users.UpdateFailedAttempts(ctx, u.ID, 0); err != nil {
			return nil, nil, internal("app.user.update_failed_pwd_attempts.app_error", "resetting failed logins", err)
		}
		u.FailedAttempts = 0
	}

	now := a.nowMillis()
	s := &Session{
		ID:             NewID(),
		Token:          NewID(),
		CreateAt:       now,
		ExpiresAt:      now + a.SessionLength().Milliseconds(),
		LastActivityAt: now,
		UserID:         u.ID,
		DeviceID:       c.DeviceID,
		Roles:          u.Roles,
		Props:          map[string]string{sessionPropCSRF: NewID()},
	}
	if err := a.stores.Sessions.Save(ctx, s); err != nil {
		return nil, nil, internal("app.session.save.app_error", "saving the session", err)
	}
	a.sessions.Set(s.Token, s, a.sessionCacheTTL())
	a.users.Set(u.ID, u, 0)
	return s, u.sanitized(true, u.IsSystemAdmin()), nil
}

// userForLogin finds the user of the credentials on the master (a login
// may follow the sign-up at once).
func (a *App) userForLogin(ctx context.Context, c Credentials) (*User, error) {
	cfg := a.Config().EmailSettings
	ctx = a.master(ctx)
	if c.LoginID == "" {
		u, err := a.stores.Users.Get(ctx, c.UserID)
		if errors.Is(err, ErrNotFound) {
			return nil, invalidCredentials()
		}
		if err != nil {
			return nil, internal("app.user.get.app_error", "finding the user", err)
		}
		return u, nil
	}
	id := strings.ToLower(strings.TrimSpace(c.LoginID))
	lookups := []struct {
		on  bool
		get func(context.Context, string) (*User, error)
	}{
		{cfg.EnableSignInWithUsername, a.stores.Users.GetByUsername},
		{cfg.EnableSignInWithEmail, a.stores.Users.GetByEmail},
	}
	for _, l := range lookups {
		if !l.on {
			continue
		}
		u, err := l.get(ctx, id)
		if err == nil {
			return u, nil
		}
		if !errors.Is(err, ErrNotFound) {
			return nil, internal("app.user.get_for_login.app_error", "finding the user", err)
		}
	}
	return nil, invalidCredentials()
}

// SessionByToken returns the session of token, as every authenticated
// request needs: from the node's session cache (SessionCacheInMinutes),
// else from the database. A missing, unknown or expired token is 401
// api.context.session_expired.app_error; an expired session is also
// deleted.
func (a *App) SessionByToken(ctx context.Context, token string) (*Session, error) {
	if token == "" {
		return nil, sessionExpired("no token")
	}
	now := a.nowMillis()
	if v, ok := a.sessions.Get(token); ok {
		s := v.(*Session)
		if !s.expired(now) {
			return s, nil
		}
		a.sessions.Delete(token)
	}
	s, err := a.stores.Sessions.GetByToken(ctx, token)
	if errors.Is(err, ErrNotFound) {
		return nil, sessionExpired("unknown token")
	}
	if err != nil {
		return nil, internal("app.session.get.app_error", "getting the session", err)
	}
	if s.expired(now) {
		if err := a.stores.Sessions.Remove(ctx, s.ID); err != nil {
			a.logger.Warn("Cannot remove an expired session", zap.String("session_id", s.ID), zap.Error(err))
		}
		return nil, sessionExpired("session expired")
	}
	ttl := a.sessionCacheTTL()
	if s.ExpiresAt > 0 {
		ttl = min(ttl, time.Duration(s.ExpiresAt-now)*time.Millisecond)
	}
	a.sessions.Set(token, s, ttl)
	return s, nil
}

// Logout ends session s, as Mattermost's POST /api/v4/users/logout does:
// the session is deleted, dropped from this node's cache, and its
// WebSocket connections on this node are closed. In a cluster the other
// nodes are told (clear_session_user): they drop the user's cached
// sessions and close the session's sockets, and Logout returns once every
// live node has done so (or after invalidationWait), so the token fails on
// every node as soon as the logout has answered.
func (a *App) Logout(ctx context.Context, s *Session) error {
	if err := a.stores.Sessions.Remove(ctx, s.ID); err != nil {
		return internal("app.session.remove.app_error", "removing the session", err)
	}
	a.sessions.Delete(s.Token)
	if rt := a.realtime(); rt != nil {
		rt.CloseSession(s.ID)
	}
	a.sendCluster(ctx, ClusterEventClearSessionUser, []byte(s.UserID))
	a.awaitCluster(ctx, s.UserID)
	return nil
}
