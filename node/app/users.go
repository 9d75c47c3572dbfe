package app

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/mail"
	"regexp"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
)

// Role names, Mattermost's.
const (
	RoleSystemAdmin  = "system_admin"
	RoleSystemUser   = "system_user"
	RoleTeamUser     = "team_user"
	RoleTeamAdmin    = "team_admin"
	RoleChannelUser  = "channel_user"
	RoleChannelAdmin = "channel_admin"
)

// User is Mattermost's model.User, with its JSON names. Password and
// MfaSecret never leave the node: they have no JSON name.
type User struct {
	ID                  string            `json:"id"`
	CreateAt            int64             `json:"create_at,omitempty"`
	UpdateAt            int64             `json:"update_at,omitempty"`
	DeleteAt            int64             `json:"delete_at"`
	Username            string            `json:"username"`
	Password            string            `json:"-"` // the bcrypt hash
	AuthData            *string           `json:"auth_data,omitempty"`
	AuthService         string            `json:"auth_service"`
	Email               string            `json:"email"`
	EmailVerified       bool              `json:"email_verified,omitempty"`
	Nickname            string            `json:"nickname"`
	FirstName           string            `json:"first_name"`
	LastName            string            `json:"last_name"`
	Position            string            `json:"position"`
	Roles               string            `json:"roles"`
	AllowMarketing      bool              `json:"allow_marketing,omitempty"`
	Props               map[string]string `json:"props,omitempty"`
	NotifyProps         map[string]string `json:"notify_props,omitempty"`
	LastPasswordUpdate  int64             `json:"last_password_update,omitempty"`
	LastPictureUpdate   int64             `json:"last_picture_update,omitempty"`
	FailedAttempts      int               `json:"failed_attempts,omitempty"`
	Locale              string            `json:"locale"`
	Timezone            map[string]string `json:"timezone"`
	MfaActive           bool              `json:"mfa_active,omitempty"`
	MfaSecret           string            `json:"-"`
	DisableWelcomeEmail bool              `json:"disable_welcome_email"`
}

// IsSystemAdmin reports whether the user has the system_admin role.
func (u *User) IsSystemAdmin() bool { return hasRole(u.Roles, RoleSystemAdmin) }

// hasRole reports whether the space-separated roles hold role.
func hasRole(roles, role string) bool {
	for r := range strings.FieldsSeq(roles) {
		if r == role {
			return true
		}
	}
	return false
}

// sanitized returns a copy of u fit to send: without secrets (Mattermost's
// User.Sanitize), and, unless self (the user asking is u) or admin, without
// the fields that are not profile (ClearNonProfileFields). Emails and full
// names are shown to everyone, Mattermost's default privacy settings.
func (u *User) sanitized(self, admin bool) *User {
	c := *u
	c.Password, c.MfaSecret = "", ""
	empty := ""
	c.AuthData = &empty
	if !self && !admin {
		c.EmailVerified = false
		c.AllowMarketing = false
		c.NotifyProps = map[string]string{}
		c.LastPasswordUpdate = 0
		c.FailedAttempts = 0
	}
	return &c
}

// NewUser is a sign-up: the fields a client may set on a new account.
type NewUser struct {
	Username  string
	Email     string
	Password  string
	Nickname  string
	FirstName string
	LastName  string
	Position  string
	Locale    string
	Props     map[string]string
	Timezone  map[string]string
}

// Limits of a user's fields, Mattermost's.
const (
	userEmailMaxLength    = 128
	userNameMaxLength     = 64
	userNicknameMaxRunes  = 64
	userPositionMaxRunes  = 128
	userFirstNameMaxRunes = 64
	userLastNameMaxRunes  = 64
	userLocaleMaxLength   = 5
	userTimezoneMaxRunes  = 256
	passwordMaxLength     = 72 // bcrypt's limit
)

var validUsername = regexp.MustCompile(`^[a-z0-9.\-_]+$`)

// restrictedUsernames are names Mattermost refuses: they collide with
// @-mentions.
var restrictedUsernames = map[string]bool{"all": true, "channel": true, "matterbot": true, "system": true, "here": true}

// validateNewUser checks a sign-up as Mattermost's User.IsValid and
// IsPasswordValidWithSettings do, on normalized username and email.
func (a *App) validateNewUser(u *User, password string) error {
	if err := validateUser(u, true); err != nil {
		return err
	}
	return a.checkPassword(password)
}

// validateUser checks u's fields as Mattermost's User.IsValid does, in its
// order, with the error id naming the first field that breaks a rule. A
// sign-up's username must also start with a letter.
func validateUser(u *User, signUp bool) error {
	invalid := func(field string) error {
		return newError(KindInvalid, "model.user.is_valid."+field+".app_error", "Invalid "+strings.ReplaceAll(field, "_", " ")+".", field)
	}
	switch {
	case len(u.Username) < 1 || len(u.Username) > userNameMaxLength || !validUsername.MatchString(u.Username) ||
		restrictedUsernames[u.Username] || (signUp && !isLetter(u.Username[0])):
		return invalid("username")
	case u.Email == "" || len(u.Email) > userEmailMaxLength || !isValidEmail(u.Email):
		return invalid("email")
	case utf8.RuneCountInString(u.Nickname) > userNicknameMaxRunes:
		return invalid("nickname")
	case utf8.RuneCountInString(u.Position) > userPositionMaxRunes:
		return invalid("position")
	case utf8.RuneCountInString(u.FirstName) > userFirstNameMaxRunes:
		return invalid("first_name")
	case utf8.RuneCountInString(u.LastName) > userLastNameMaxRunes:
		return invalid("last_name")
	case len(u.Locale) > userLocaleMaxLength:
		return invalid("locale")
	case timezoneTooLong(u.Timezone):
		return invalid("timezone_limit")
	}
	return nil
}

// timezoneTooLong reports whether tz as JSON is over Mattermost's
// UserTimezoneMaxRunes.
func timezoneTooLong(tz map[string]string) bool {
	if len(tz) == 0 {
		return false
	}
	b, err := json.Marshal(tz)
	return err != nil || utf8.RuneCount(b) > userTimezoneMaxRunes
}

// isLetter reports whether b is an ASCII lower-case letter: a username
// starts with one (Mattermost's sign-up form requires it).
func isLetter(b byte) bool { return b >= 'a' && b <= 'z' }

// isValidEmail is Mattermost's IsValidEmail: one address, no display name,
// no angle brackets.
func isValidEmail(email string) bool {
	addr, err := mail.ParseAddress(email)
	return err == nil && addr.Name == "" && addr.Address == email && !strings.ContainsAny(email, "<>")
}

// Password symbol set, Mattermost's model.SYMBOLS.
const passwordSymbols = " !\"\\#$%&'()*+,-./:;<=>?@[]^_`|~"

// checkPassword applies PasswordSettings, as Mattermost's
// IsPasswordValidWithSettings: the error id names what is missing.
func (a *App) checkPassword(password string) error {
	ps := a.Config().PasswordSettings
	minLength := positive(ps.MinimumLength, 8)
	id := "model.user.is_valid.pwd"
	switch {
	case len(password) < minLength:
		id += "_min_length"
	case len(password) > passwordMaxLength:
		id += "_max_length"
	default:
		ok := true
		for _, rule := range []struct {
			on    bool
			chars string
			name  string
		}{
			{ps.Lowercase, "abcdefghijklmnopqrstuvwxyz", "_lowercase"},
			{ps.Uppercase, "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "_uppercase"},
			{ps.Number, "0123456789", "_number"},
			{ps.Symbol, passwordSymbols, "_symbol"},
		} {
			if rule.on && !strings.ContainsAny(password, rule.chars) {
				ok = false
				id += rule.name
			}
		}
		if ok {
			return nil
		}
	}
	return newError(KindInvalid, id+".app_error", "Your password does not meet the password requirements.", "")
}

// CreateUser makes an account, as Mattermost's POST /api/v4/users does
// without an invitation: by a system admin (session with that role)
// whatever the settings, or, when sign-up is enabled (EmailSettings.
// EnableSignUpWithEmail and TeamSettings.EnableUserCreation, else 501) and
// either TeamSettings.EnableOpenServer is on or no user exists yet (else
// 403), by anyone. The first
// user of the server becomes a system admin. The password is hashed with
// bcrypt. session may be nil (a sign-up). It returns the new user as its
// creator may see it.
//
// Two concurrent first sign-ups may both become system admins, as in
// Mattermost.
func (a *App) CreateUser(ctx context.Context, session *Session, nu NewUser) (*User, error) {
	cfg := a.Config()
	admin := session != nil && session.IsSystemAdmin()
	if !admin && (!cfg.EmailSettings.EnableSignUpWithEmail || !cfg.TeamSettings.EnableUserCreation) {
		return nil, newError(KindNotImplemented, "api.user.create_user.signup_email_disabled.app_error",
			"User sign-up with email is disabled.", "")
	}
	count, err := a.stores.Users.Count(ctx)
	if err != nil {
		return nil, internal("app.user.get_total_users_count.app_error", "counting users", err)
	}
	if !admin && count > 0 && !cfg.TeamSettings.EnableOpenServer {
		return nil, newError(KindForbidden, "api.user.create_user.no_open_server",
			"This server does not allow open signups.  Please speak with your Administrator to receive an invitation.", "")
	}

	now := a.nowMillis()
	u := &User{
		ID:                 NewID(),
		CreateAt:           now,
		UpdateAt:           now,
		Username:           strings.ToLower(nu.Username),
		Email:              strings.ToLower(strings.TrimSpace(nu.Email)),
		Nickname:           nu.Nickname,
		FirstName:          nu.FirstName,
		LastName:           nu.LastName,
		Position:           nu.Position,
		Roles:              RoleSystemUser,
		Locale:             nu.Locale,
		Props:              nu.Props,
		Timezone:           nu.Timezone,
		LastPasswordUpdate: now,
	}
	if count == 0 {
		u.Roles = RoleSystemAdmin + " " + RoleSystemUser // Mattermost's order
	}
	if u.Locale == "" {
		u.Locale = "en"
	}
	if u.Props == nil {
		u.Props = map[string]string{}
	}
	if u.Timezone == nil {
		u.Timezone = map[string]string{"automaticTimezone": "", "manualTimezone": "", "useAutomaticTimezone": "true"}
	}
	u.NotifyProps = defaultNotifyProps()
	if err := a.validateNewUser(u, nu.Password); err != nil {
		return nil, err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(nu.Password), a.passwordCost)
	if err != nil {
		return nil, &Error{ID: "model.user.pre_save.password_hash.app_error", Message: "Unable to hash the password.",
			Kind: KindInvalid, Err: err}
	}
	u.Password = string(hash)
	if err := a.stores.Users.Save(ctx, u); err != nil {
		if errors.Is(err, ErrConflict) {
			return nil, a.userConflict(ctx, u)
		}
		return nil, internal("app.user.save.app_error", "saving the user", err)
	}
	a.users.Set(u.ID, u, 0)
	return u.sanitized(true, admin), nil
}

// userConflict names which unique field of u is taken.
func (a *App) userConflict(ctx context.Context, u *User) error {
	if _, err := a.stores.Users.GetByEmail(a.master(ctx), u.Email); err == nil {
		return newError(KindConflict, "app.user.save.email_exists.app_error", "An account with that email already exists.", "")
	}
	if _, err := a.stores.Users.GetByUsername(a.master(ctx), u.Username); err == nil {
		return newError(KindConflict, "app.user.save.username_exists.app_error", "An account with that username already exists.", "")
	}
	return newError(KindConflict, "app.user.save.existing.app_error", "Must call update for existing user.", "")
}

// defaultNotifyProps are Mattermost's User.SetDefaultNotifications.
func defaultNotifyProps() map[string]string {
	return map[string]string{
		"email": "true", "push": "mention", "desktop": "mention", "desktop_sound": "true",
		"mention_keys": "", "channel": "true", "push_status": "away", "comments": "never",
		"first_name": "false", "desktop_threads": "all", "email_threads": "all", "push_threads": "all",
	}
}

// GetUser returns the user of id (or the session's user for "me") as the
// session's user may see them: 404 app.user.missing_account.const when
// there is none.
func (a *App) GetUser(ctx context.Context, session *Session, id string) (*User, error) {
	u, err := a.user(ctx, id)
	if err != nil {
		return nil, err
	}
	return u.sanitized(u.ID == session.UserID, session.IsSystemAdmin()), nil
}

// user returns the user of id from the user cache or the store.
func (a *App) user(ctx context.Context, id string) (*User, error) {
	if v, ok := a.users.Get(id); ok {
		return v.(*User), nil
	}
	u, err := a.stores.Users.Get(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil, newError(KindNotFound, "app.user.missing_account.const", "Unable to find the user.", "user_id="+id)
	}
	if err != nil {
		return nil, internal("app.user.get.app_error", "getting the user", err)
	}
	a.users.Set(u.ID, u, 0)
	return u, nil
}

// GetUsers returns the users of ids that exist, as the session's user may
// see them, in the order of ids (Mattermost's POST /api/v4/users/ids).
// Duplicate ids count once.
func (a *App) GetUsers(ctx context.Context, session *Session, ids []string) ([]*User, error) {
	ids = uniqueIDs(ids)
	users, err := a.stores.Users.GetMany(ctx, ids)
	if err != nil {
		return nil, internal("app.user.get.app_error", "getting users", err)
	}
	byID := make(map[string]*User, len(users))
	for _, u := range users {
		byID[u.ID] = u
	}
	out := make([]*User, 0, len(users))
	for _, id := range ids {
		if u, ok := byID[id]; ok {
			out = append(out, u.sanitized(u.ID == session.UserID, session.IsSystemAdmin()))
		}
	}
	return out, nil
}

// UserPatch is Mattermost's model.UserPatch, what PUT
// /api/v4/users/{user_id}/patch changes: a nil field is left as it is; a
// map replaces the user's whole map. Password changes nothing: it confirms
// a change of one's own email.
type UserPatch struct {
	Username    *string
	Password    *string
	Nickname    *string
	FirstName   *string
	LastName    *string
	Position    *string
	Email       *string
	Locale      *string
	Props       map[string]string
	NotifyProps map[string]string
	Timezone    map[string]string
}

// PatchUser applies p to the user of id (or the session's user for "me"),
// as Mattermost's PUT /api/v4/users/{user_id}/patch does: the session's
// user may patch themselves, a system admin anyone (else 403 for
// edit_other_users; a system admin is patched by system admins only,
// manage_system). An unknown user is Mattermost's 400 for the user_id
// parameter. Changing one's own email needs one's password in p (400
// without it, 401 when wrong, counted like a failed login). Username and
// email are stored lower case; a changed email is no longer verified; the
// result must pass User.IsValid; a username or email another user has is
// 400 app.user.save.username_exists / email_exists.
//
// Once written, the user is in this node's cache, and PatchUser returns
// only after every other node has dropped its copy (inv_user, as Logout
// waits for clear_session_user; bounded by invalidationWait), so a read on
// any node that follows the answer sees the change. Then user_updated goes
// to every socket: the profile to everyone but the user, the user's own
// view to their sockets. It returns the user as the session's user may see
// them.
func (a *App) PatchUser(ctx context.Context, session *Session, id string, p UserPatch) (*User, error) {
	admin := session.IsSystemAdmin()
	if session.UserID != id && !admin {
		return nil, forbidden(session.UserID, "edit_other_users")
	}
	old, err := a.stores.Users.Get(a.master(ctx), id)
	if errors.Is(err, ErrNotFound) {
		return nil, invalidParam("user_id")
	}
	if err != nil {
		return nil, internal("app.user.get.app_error", "getting the user", err)
	}
	if old.IsSystemAdmin() && !admin {
		return nil, forbidden(session.UserID, "manage_system")
	}
	if p.Email != nil && *p.Email != old.Email && session.UserID == id {
		if p.Password == nil {
			return nil, invalidParam("password")
		}
		if err := a.doubleCheckPassword(ctx, old, *p.Password); err != nil {
			return nil, err
		}
	}
	u := old.patched(p)
	u.UpdateAt = max(a.nowMillis(), old.UpdateAt+1)
	if err := validateUser(u, false); err != nil {
		return nil, err
	}
	if err := a.stores.Users.Update(ctx, u); err != nil {
		switch {
		case errors.Is(err, ErrNotFound):
			return nil, newError(KindNotFound, "app.user.missing_account.const", "Unable to find the user.", "user_id="+id)
		case errors.Is(err, ErrConflict):
			return nil, a.patchConflict(ctx, u)
		}
		return nil, internal("app.user.update.finding.app_error", "updating the user", err)
	}
	a.userChanged(ctx, u)
	return u.sanitized(session.UserID == id, admin), nil
}

// patched returns a copy of u with p applied and normalized as
// Mattermost's User.Patch and PreUpdate do: lower-case username and
// email, default notification settings for empty ones, blank mention keys
// dropped; a new email is not verified.
func (u *User) patched(p UserPatch) *User {
	c := *u
	c.Props, c.NotifyProps, c.Timezone = maps.Clone(u.Props), maps.Clone(u.NotifyProps), maps.Clone(u.Timezone)
	for _, f := range []struct {
		from *string
		to   *string
	}{
		{p.Username, &c.Username}, {p.Nickname, &c.Nickname}, {p.FirstName, &c.FirstName},
		{p.LastName, &c.LastName}, {p.Position, &c.Position}, {p.Email, &c.Email}, {p.Locale, &c.Locale},
	} {
		if f.from != nil {
			*f.to = *f.from
		}
	}
	if p.Props != nil {
		c.Props = maps.Clone(p.Props)
	}
	if p.NotifyProps != nil {
		c.NotifyProps = maps.Clone(p.NotifyProps)
	}
	if p.Timezone != nil {
		c.Timezone = maps.Clone(p.Timezone)
	}
	c.Username = strings.ToLower(c.Username)
	c.Email = strings.ToLower(c.Email)
	if len(c.NotifyProps) == 0 {
		c.NotifyProps = defaultNotifyProps()
	} else if keys, ok := c.NotifyProps["mention_keys"]; ok {
		var good []string
		for k := range strings.SplitSeq(keys, ",") {
			if k != "" {
				good = append(good, strings.ToLower(k))
			}
		}
		c.NotifyProps["mention_keys"] = strings.Join(good, ",")
	}
	if c.Email != u.Email {
		c.EmailVerified = false
	}
	return &c
}

// doubleCheckPassword is Mattermost's DoubleCheckPassword: the password of
// a user already logged in, for a sensitive change. A locked account or a
// wrong password is 401, and a wrong one counts as a failed login; a right
// one clears the count (in u too).
func (a *App) doubleCheckPassword(ctx context.Context, u *User, password string) error {
	if max := a.Config().ServiceSettings.MaximumLoginAttempts; max > 0 && u.FailedAttempts >= max {
		return tooManyLoginAttempts(u.ID)
	}
	if u.Password == "" || bcrypt.CompareHashAndPassword([]byte(u.Password), []byte(password)) != nil {
		if err := a.stores.Users.UpdateFailedAttempts(ctx, u.ID, u.FailedAttempts+1); err != nil {
			return internal("app.user.update_failed_pwd_attempts.app_error", "counting a wrong password", err)
		}
		return newError(KindUnauthorized, "api.user.check_user_password.invalid.app_error",
			"Login failed because of invalid password.", "user_id="+u.ID)
	}
	if u.FailedAttempts > 0 {
		if err := a.stores.Users.UpdateFailedAttempts(ctx, u.ID, 0); err != nil {
			return internal("app.user.update_failed_pwd_attempts.app_error", "resetting failed logins", err)
		}
		u.FailedAttempts = 0
	}
	return nil
}

// patchConflict names which unique field of u, a patched user, another
// user has; like Mattermost, any conflict not on the username is the
// email's.
func (a *App) patchConflict(ctx context.Context, u *User) error {
	emailTaken := newError(KindConflict, "app.user.save.email_exists.app_error", "An account with that email already exists.", "")
	if other, err := a.stores.Users.GetByEmail(a.master(ctx), u.Email); err == nil && other.ID != u.ID {
		return emailTaken
	}
	if other, err := a.stores.Users.GetByUsername(a.master(ctx), u.Username); err == nil && other.ID != u.ID {
		return newError(KindConflict, "app.user.save.username_exists.app_error", "An account with that username already exists.", "")
	}
	return emailTaken
}

// userChanged makes u, just written, what every node serves: this node
// caches it; the other nodes drop their copy (inv_user) and userChanged
// returns once they have, or after invalidationWait; then user_updated
// (Mattermost's sendUpdatedUserEvent) goes to every socket, the profile to
// everyone but u (admins included: the hub has no per-receiver variant,
// and Mattermost's default privacy settings show emails and full names to
// all) and u's own view to u's sockets.
func (a *App) userChanged(ctx context.Context, u *User) {
	a.users.Set(u.ID, u, 0)
	a.sendCluster(ctx, ClusterEventInvalidateUser, []byte(u.ID))
	a.awaitCluster(ctx, u.ID)
	a.publish(ctx, Event{Name: EventUserUpdated, Data: map[string]any{"user": u.sanitized(false, false)},
		Broadcast: Broadcast{OmitUsers: map[string]bool{u.ID: true}}})
	a.publish(ctx, Event{Name: EventUserUpdated, Data: map[string]any{"user": u.sanitized(true, false)},
		Broadcast: Broadcast{UserID: u.ID}})
}

// uniqueIDs returns ids without repeats, in first-seen order.
func uniqueIDs(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// positive returns v, or def when v is zero or negative.
func positive(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}
