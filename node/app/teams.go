package app

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Team types, Mattermost's.
const (
	TeamOpen   = "O"
	TeamInvite = "I"
)

// Team is Mattermost's model.Team, with its JSON names.
type Team struct {
	ID                 string `json:"id"`
	CreateAt           int64  `json:"create_at"`
	UpdateAt           int64  `json:"update_at"`
	DeleteAt           int64  `json:"delete_at"`
	DisplayName        string `json:"display_name"`
	Name               string `json:"name"`
	Description        string `json:"description"`
	Email              string `json:"email"`
	Type               string `json:"type"`
	CompanyName        string `json:"company_name"`
	AllowedDomains     string `json:"allowed_domains"`
	InviteID           string `json:"invite_id"`
	AllowOpenInvite    bool   `json:"allow_open_invite"`
	LastTeamIconUpdate int64  `json:"last_team_icon_update,omitempty"`
	SchemeID           string `json:"scheme_id"`
	GroupConstrained   bool   `json:"group_constrained"`
}

// sanitized returns a copy of t without what only its admins may see
// (Mattermost's Team.Sanitize): its email and invite id.
func (t *Team) sanitized() *Team {
	c := *t
	c.Email, c.InviteID = "", ""
	return &c
}

// TeamMember is Mattermost's model.TeamMember. Roles is what clients read:
// ExplicitRoles plus the scheme roles (team_user, team_admin).
type TeamMember struct {
	TeamID        string `json:"team_id"`
	UserID        string `json:"user_id"`
	Roles         string `json:"roles"`
	DeleteAt      int64  `json:"delete_at"`
	SchemeGuest   bool   `json:"scheme_guest"`
	SchemeUser    bool   `json:"scheme_user"`
	SchemeAdmin   bool   `json:"scheme_admin"`
	ExplicitRoles string `json:"explicit_roles"`
	CreateAt      int64  `json:"-"`
}

// withRoles returns a copy of m with Roles filled from its scheme flags.
func (m *TeamMember) withRoles() *TeamMember {
	c := *m
	c.Roles = joinRoles(m.ExplicitRoles, m.SchemeUser, RoleTeamUser, m.SchemeAdmin, RoleTeamAdmin)
	return &c
}

// joinRoles returns explicit followed by userRole and adminRole when their
// flags are set.
func joinRoles(explicit string, user bool, userRole string, admin bool, adminRole string) string {
	roles := strings.Fields(explicit)
	if user {
		roles = append(roles, userRole)
	}
	if admin {
		roles = append(roles, adminRole)
	}
	return strings.Join(roles, " ")
}

// NewTeam is what a client sets on a new team.
type NewTeam struct {
	Name            string
	DisplayName     string
	Type            string
	Description     string
	CompanyName     string
	AllowOpenInvite bool
}

// validTeamName is Mattermost's IsValidTeamName (IsValidAlphaNumHyphenUnderscore
// without underscores, at least two characters).
var validTeamName = regexp.MustCompile(`^[a-z0-9]+([a-z0-9-]+|(__)?)[a-z0-9]+$`)

// reservedTeamNames are Mattermost's reservedName: URL paths of the web
// app.
var reservedTeamNames = map[string]bool{
	"admin": true, "api": true, "channel": true, "claim": true, "error": true, "files": true, "help": true,
	"landing": true, "login": true, "mfa": true, "oauth": true, "plug": true, "plugins": true, "post": true,
	"signup": true, "boards": true, "playbooks": true,
}

// validateTeam checks t as Mattermost's Team.IsValid does.
func validateTeam(t *Team) error {
	invalid := func(field, msg string) error {
		return newError(KindInvalid, "model.team.is_valid."+field+".app_error", msg, "")
	}
	switch {
	case utf8.RuneCountInString(t.DisplayName) == 0 || utf8.RuneCountInString(t.DisplayName) > 64:
		return invalid("name", "Invalid name.")
	case len(t.Name) > 64 || !validTeamName.MatchString(t.Name):
		return invalid("url", "Name must be 2 or more lowercase alphanumeric characters.")
	case reservedTeamNames[t.Name]:
		return invalid("reserved", "This URL is unavailable. Please try another.")
	case t.Type != TeamOpen && t.Type != TeamInvite:
		return invalid("type", "Invalid type.")
	case utf8.RuneCountInString(t.Description) > 255:
		return invalid("description", "Invalid description.")
	case utf8.RuneCountInString(t.CompanyName) > 64:
		return invalid("company_name", "Invalid company name.")
	case t.Email != "" && !isValidEmail(t.Email):
		return invalid("email", "Invalid email.")
	}
	return nil
}

// The channels every team starts with, which members join (Mattermost's
// CreateDefaultChannels and JoinDefaultChannels).
var defaultChannels = []struct{ name, displayName string }{
	{"town-square", "Town Square"},
	{"off-topic", "Off-Topic"},
}

// CreateTeam makes a team, as Mattermost's POST /api/v4/teams does: any
// user may (system_user has create_team), the team gets its Town Square
// and Off-Topic channels, and its creator joins it as a team admin. An open
// team ("O") takes anyone who asks to join (allow_open_invite).
func (a *App) CreateTeam(ctx context.Context, s *Session, nt NewTeam) (*Team, error) {
	creator, err := a.user(ctx, s.UserID)
	if err != nil {
		return nil, err
	}
	now := a.nowMillis()
	t := &Team{
		ID:              NewID(),
		CreateAt:        now,
		UpdateAt:        now,
		DisplayName:     strings.TrimSpace(nt.DisplayName),
		Name:            strings.ToLower(nt.Name),
		Description:     nt.Description,
		Email:           creator.Email,
		Type:            nt.Type,
		CompanyName:     nt.CompanyName,
		InviteID:        NewID(),
		AllowOpenInvite: nt.AllowOpenInvite || nt.Type == TeamOpen,
	}
	if err := validateTeam(t); err != nil {
		return nil, err
	}
	if err := a.stores.Teams.Save(ctx, t); err != nil {
		if errors.Is(err, ErrConflict) {
			return nil, newError(KindConflict, "store.sql_team.save_team.existing.app_error",
				"A team with that name already exists.", "name="+t.Name)
		}
		return nil, internal("app.team.save.app_error", "saving the team", err)
	}
	for _, dc := range defaultChannels {
		c := &Channel{ID: NewID(), CreateAt: now, UpdateAt: now, TeamID: t.ID, Type: ChannelOpen,
			DisplayName: dc.displayName, Name: dc.name}
		if err := a.stores.Channels.Save(ctx, c); err != nil {
			return nil, internal("app.channel.create_channel.internal_error", "creating "+dc.name, err)
		}
	}
	if _, err := a.joinTeam(ctx, t, creator.ID, true); err != nil {
		return nil, err
	}
	return t, nil
}

// team returns the team of id: 404 app.team.get.find.app_error when there
// is none.
func (a *App) team(ctx context.Context, id string) (*Team, error) {
	t, err := a.stores.Teams.Get(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil, newError(KindNotFound, "app.team.get.find.app_error", "Unable to find the existing team.", "team_id="+id)
	}
	if err != nil {
		return nil, internal("app.team.get.finding.app_error", "getting the team", err)
	}
	return t, nil
}

// GetTeam returns the team of id, as Mattermost's GET /api/v4/teams/{id}:
// to its members, to system admins, and to anyone when the team is open;
// its email and invite id only to its admins.
func (a *App) GetTeam(ctx context.Context, s *Session, id string) (*Team, error) {
	t, err := a.team(ctx, id)
	if err != nil {
		return nil, err
	}
	if s.IsSystemAdmin() {
		return t, nil
	}
	m, err := a.stores.Teams.GetMember(a.master(ctx), id, s.UserID)
	member := err == nil && m.DeleteAt == 0
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, internal("app.team.get_member.app_error", "getting the team member", err)
	}
	if !member && !(t.AllowOpenInvite && t.Type == TeamOpen) {
		return nil, forbidden(s.UserID, "view_team")
	}
	if member && m.SchemeAdmin {
		return t, nil
	}
	return t.sanitized(), nil
}

// AddTeamMember adds userID to team teamID, as Mattermost's
// POST /api/v4/teams/{id}/members: a user may join an open team
// (join_public_teams) but not an invite-only one (join_private_teams is a
// system admin's); adding someone else takes being in the team
// (add_user_to_team). The new member joins the team's default channels.
// Adding a member again returns the membership.
func (a *App) AddTeamMember(ctx context.Context, s *Session, teamID, userID string) (*TeamMember, error) {
	t, err := a.team(ctx, teamID)
	if err != nil {
		return nil, err
	}
	if !s.IsSystemAdmin() {
		if userID == s.UserID {
			if !t.AllowOpenInvite {
				return nil, forbidden(s.UserID, "join_private_teams")
			}
		} else if ok, err := a.isTeamMember(ctx, teamID, s.UserID); err != nil {
			return nil, err
		} else if !ok {
			return nil, forbidden(s.UserID, "add_user_to_team")
		}
	}
	u, err := a.user(ctx, userID)
	if err != nil {
		return nil, err
	}
	if u.DeleteAt != 0 {
		return nil, newError(KindInvalid, "app.team.join_user_to_team.deactivated.app_error",
			"A deactivated user cannot join a team.", "user_id="+userID)
	}
	m, err := a.joinTeam(ctx, t, userID, false)
	if err != nil {
		return nil, err
	}
	return m.withRoles(), nil
}

// joinTeam makes userID a member of t (an admin when admin), joins them
// to the default channels, and tells their sockets. An existing active
// membership is returned as is.
func (a *App) joinTeam(ctx context.Context, t *Team, userID string, admin bool) (*TeamMember, error) {
	existing, err := a.stores.Teams.GetMember(a.master(ctx), t.ID, userID)
	switch {
	case err == nil && existing.DeleteAt == 0:
		return existing, nil
	case err == nil:
		// Rejoining a team left earlier needs an update Chorus does not
		// have yet.
		return nil, newError(KindInvalid, "app.team.join_user_to_team.rejoin.app_error",
			"Rejoining a team you left is not supported by Chorus yet.", "user_id="+userID)
	case !errors.Is(err, ErrNotFound):
		return nil, internal("app.team.get_member.app_error", "getting the team member", err)
	}
	m := &TeamMember{TeamID: t.ID, UserID: userID, SchemeUser: true, SchemeAdmin: admin, CreateAt: a.nowMillis()}
	if err := a.stores.Teams.SaveMember(ctx, m); err != nil {
		if errors.Is(err, ErrConflict) { // joined concurrently
			if existing, err := a.stores.Teams.GetMember(a.master(ctx), t.ID, userID); err == nil {
				return existing, nil
			}
		}
		return nil, internal("app.team.save_member.save.app_error", "saving the team member", err)
	}
	a.membersChanged(ctx, "t:"+t.ID)
	for _, dc := range defaultChannels {
		c, err := a.stores.Channels.GetByName(a.master(ctx), t.ID, dc.name)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, internal("app.channel.get_by_name.existing.app_error", "getting "+dc.name, err)
		}
		if _, err := a.joinChannel(ctx, c, userID, false); err != nil {
			return nil, err
		}
	}
	a.publish(ctx, Event{Name: EventAddedToTeam, Data: map[string]any{"team_id": t.ID, "user_id": userID},
		Broadcast: Broadcast{UserID: userID}})
	return m, nil
}

// GetTeamsForUser returns the teams userID is in, as Mattermost's
// GET /api/v4/users/{id}/teams: to that user and to system admins. Emails
// and invite ids are left out except for system admins.
func (a *App) GetTeamsForUser(ctx context.Context, s *Session, userID string) ([]*Team, error) {
	if userID != s.UserID && !s.IsSystemAdmin() {
		return nil, forbidden(s.UserID, "edit_other_users")
	}
	teams, err := a.stores.Teams.GetForUser(ctx, userID)
	if err != nil {
		return nil, internal("app.team.get_all.app_error", "getting the user's teams", err)
	}
	out := make([]*Team, 0, len(teams))
	for _, t := range teams {
		if !s.IsSystemAdmin() {
			t = t.sanitized()
		}
		out = append(out, t)
	}
	return out, nil
}
