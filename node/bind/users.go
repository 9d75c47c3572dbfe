package bind

import (
	"context"

	"github.com/seed331fb32b/chorus/node/app"
	"github.com/seed331fb32b/chorus/node/store"
)

// users adapts store.UserStore to app.UserStore.
type users struct{ s *store.UserStore }

func (b users) Save(ctx context.Context, u *app.User) error {
	row, err := userRow(u)
	if err != nil {
		return err
	}
	return translate(b.s.Save(ctx, row))
}

func (b users) Get(ctx context.Context, id string) (*app.User, error) {
	return fromUserRow(b.s.Get(ctx, id))
}

func (b users) GetByUsername(ctx context.Context, username string) (*app.User, error) {
	return fromUserRow(b.s.GetByUsername(ctx, username))
}

func (b users) GetByEmail(ctx context.Context, email string) (*app.User, error) {
	return fromUserRow(b.s.GetByEmail(ctx, email))
}

func (b users) GetMany(ctx context.Context, ids []string) ([]*app.User, error) {
	rows, err := b.s.GetMany(ctx, ids)
	if err != nil {
		return nil, translate(err)
	}
	out := make([]*app.User, 0, len(rows))
	for _, r := range rows {
		u, err := fromUserRow(r, nil)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, nil
}

func (b users) Count(ctx context.Context) (int64, error) {
	n, err := b.s.Count(ctx)
	return n, translate(err)
}

func (b users) UpdateFailedAttempts(ctx context.Context, id string, attempts int) error {
	return translate(b.s.UpdateFailedAttempts(ctx, id, attempts))
}

func (b users) Update(ctx context.Context, u *app.User) error {
	row, err := userRow(u)
	if err != nil {
		return err
	}
	return translate(b.s.Update(ctx, row))
}

// userRow converts an app user to its row.
func userRow(u *app.User) (*store.User, error) {
	props, err := encodeJSON(u.Props, "{}")
	if err != nil {
		return nil, err
	}
	notify, err := encodeJSON(u.NotifyProps, "{}")
	if err != nil {
		return nil, err
	}
	tz, err := encodeJSON(u.Timezone, "{}")
	if err != nil {
		return nil, err
	}
	return &store.User{
		ID: u.ID, CreateAt: u.CreateAt, UpdateAt: u.UpdateAt, DeleteAt: u.DeleteAt, Username: u.Username,
		Password: u.Password, AuthService: u.AuthService, Email: u.Email, EmailVerified: u.EmailVerified,
		Nickname: u.Nickname, FirstName: u.FirstName, LastName: u.LastName, Position: u.Position,
		Roles: u.Roles, AllowMarketing: u.AllowMarketing, Props: props, NotifyProps: notify, Timezone: tz,
		LastPasswordUpdate: u.LastPasswordUpdate, LastPictureUpdate: u.LastPictureUpdate,
		FailedAttempts: u.FailedAttempts, Locale: u.Locale, MfaActive: u.MfaActive, MfaSecret: u.MfaSecret,
	}, nil
}

// fromUserRow converts a row, or passes err on.
func fromUserRow(r *store.User, err error) (*app.User, error) {
	if err != nil {
		return nil, translate(err)
	}
	props, err := decodeJSON[map[string]string](r.Props, "Props")
	if err != nil {
		return nil, err
	}
	notify, err := decodeJSON[map[string]string](r.NotifyProps, "NotifyProps")
	if err != nil {
		return nil, err
	}
	tz, err := decodeJSON[map[string]string](r.Timezone, "Timezone")
	if err != nil {
		return nil, err
	}
	return &app.User{
		ID: r.ID, CreateAt: r.CreateAt, UpdateAt: r.UpdateAt, DeleteAt: r.DeleteAt, Username: r.Username,
		Password: r.Password, AuthService: r.AuthService, Email: r.Email, EmailVerified: r.EmailVerified,
		Nickname: r.Nickname, FirstName: r.FirstName, LastName: r.LastName, Position: r.Position,
		Roles: r.Roles, AllowMarketing: r.AllowMarketing, Props: props, NotifyProps: notify, Timezone: tz,
		LastPasswordUpdate: r.LastPasswordUpdate, LastPictureUpdate: r.LastPictureUpdate,
		FailedAttempts: r.FailedAttempts, Locale: r.Locale, MfaActive: r.MfaActive, MfaSecret: r.MfaSecret,
	}, nil
}

var _ app.UserStore = users{}
