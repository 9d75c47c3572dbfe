package bind

import (
	"context"

	"github.com/seed331fb32b/chorus/node/app"
	"github.com/seed331fb32b/chorus/node/store"
)

// teams adapts store.TeamStore to app.TeamStore.
type teams struct{ s *store.TeamStore }

func (b teams) Save(ctx context.Context, t *app.Team) error {
	return translate(b.s.Save(ctx, &store.Team{
		ID: t.ID, CreateAt: t.CreateAt, UpdateAt: t.UpdateAt, DeleteAt: t.DeleteAt, DisplayName: t.DisplayName,
		Name: t.Name, Description: t.Description, Email: t.Email, Type: t.Type, CompanyName: t.CompanyName,
		AllowedDomains: t.AllowedDomains, InviteID: t.InviteID, AllowOpenInvite: t.AllowOpenInvite,
		LastTeamIconUpdate: t.LastTeamIconUpdate, SchemeID: t.SchemeID, GroupConstrained: t.GroupConstrained,
	}))
}

func (b teams) Get(ctx context.Context, id string) (*app.Team, error) {
	r, err := b.s.Get(ctx, id)
	if err != nil {
		return nil, translate(err)
	}
	return fromTeamRow(r), nil
}

func (b teams) GetForUser(ctx context.Context, userID string) ([]*app.Team, error) {
	rows, err := b.s.GetForUser(ctx, userID)
	if err != nil {
		return nil, translate(err)
	}
	out := make([]*app.Team, len(rows))
	for i, r := range rows {
		out[i] = fromTeamRow(r)
	}
	return out, nil
}

func (b teams) SaveMember(ctx context.Context, m *app.TeamMember) error {
	return translate(b.s.SaveMember(ctx, &store.TeamMember{
		TeamID: m.TeamID, UserID: m.UserID, Roles: m.ExplicitRoles, DeleteAt: m.DeleteAt,
		SchemeUser: m.SchemeUser, SchemeAdmin: m.SchemeAdmin, SchemeGuest: m.SchemeGuest, CreateAt: m.CreateAt,
	}))
}

func (b teams) GetMember(ctx context.Context, teamID, userID string) (*app.TeamMember, error) {
	r, err := b.s.GetMember(ctx, teamID, userID)
	if err != nil {
		return nil, translate(err)
	}
	return &app.TeamMember{
		TeamID: r.TeamID, UserID: r.UserID, ExplicitRoles: r.Roles, DeleteAt: r.DeleteAt,
		SchemeUser: r.SchemeUser, SchemeAdmin: r.SchemeAdmin, SchemeGuest: r.SchemeGuest, CreateAt: r.CreateAt,
	}, nil
}

func (b teams) GetMemberIDs(ctx context.Context, teamID string) ([]string, error) {
	ids, err := b.s.GetMemberIDs(ctx, teamID)
	return ids, translate(err)
}

// fromTeamRow converts a row.
func fromTeamRow(r *store.Team) *app.Team {
	return &app.Team{
		ID: r.ID, CreateAt: r.CreateAt, UpdateAt: r.UpdateAt, DeleteAt: r.DeleteAt, DisplayName: r.DisplayName,
		Name: r.Name, Description: r.Description, Email: r.Email, Type: r.Type, CompanyName: r.CompanyName,
		AllowedDomains: r.AllowedDomains, InviteID: r.InviteID, AllowOpenInvite: r.AllowOpenInvite,
		LastTeamIconUpdate: r.LastTeamIconUpdate, SchemeID: r.SchemeID, GroupConstrained: r.GroupConstrained,
	}
}

var _ app.TeamStore = teams{}
