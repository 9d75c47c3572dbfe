package bind

import (
	"context"

	"github.com/seed331fb32b/chorus/node/app"
	"github.com/seed331fb32b/chorus/node/store"
)

// sessions adapts store.SessionStore to app.SessionStore.
type sessions struct{ s *store.SessionStore }

func (b sessions) Save(ctx context.Context, s *app.Session) error {
	props, err := encodeJSON(s.Props, "{}")
	if err != nil {
		return err
	}
	return translate(b.s.Save(ctx, &store.Session{
		ID: s.ID, Token: s.Token, CreateAt: s.CreateAt, ExpiresAt: s.ExpiresAt, LastActivityAt: s.LastActivityAt,
		UserID: s.UserID, DeviceID: s.DeviceID, Roles: s.Roles, IsOAuth: s.IsOAuth, Props: props,
	}))
}

func (b sessions) GetByToken(ctx context.Context, token string) (*app.Session, error) {
	r, err := b.s.GetByToken(ctx, token)
	if err != nil {
		return nil, translate(err)
	}
	props, err := decodeJSON[map[string]string](r.Props, "Props")
	if err != nil {
		return nil, err
	}
	return &app.Session{
		ID: r.ID, Token: r.Token, CreateAt: r.CreateAt, ExpiresAt: r.ExpiresAt, LastActivityAt: r.LastActivityAt,
		UserID: r.UserID, DeviceID: r.DeviceID, Roles: r.Roles, IsOAuth: r.IsOAuth, Props: props,
	}, nil
}

func (b sessions) Remove(ctx context.Context, id string) error {
	return translate(b.s.Remove(ctx, id))
}

var _ app.SessionStore = sessions{}
