package bind_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/seed331fb32b/chorus/node/app"
	"github.com/seed331fb32b/chorus/node/bind"
	"github.com/seed331fb32b/chorus/node/config"
	"github.com/seed331fb32b/chorus/node/store/storetest"
)

// TestStoresRoundTripAndTranslateErrors checks the conversions on a real
// SQLite store: JSON columns come back as the maps and slices saved, and
// store errors reach the app as its sentinels.
func TestStoresRoundTripAndTranslateErrors(t *testing.T) {
	s := bind.Stores(storetest.Open(t, config.DriverSQLite))
	ctx := t.Context()

	u := &app.User{ID: app.NewID(), Username: "alice", Email: "alice@example.com", Roles: "system_user",
		Props: map[string]string{"k": "v"}, NotifyProps: map[string]string{"email": "true"},
		Timezone: map[string]string{"useAutomaticTimezone": "true"}, Locale: "en"}
	if err := s.Users.Save(ctx, u); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Users.Get(ctx, u.ID); err != nil || !reflect.DeepEqual(got, u) {
		t.Errorf("user = %+v, %v\nwant %+v", got, err, u)
	}
	if err := s.Users.Save(ctx, u); !errors.Is(err, app.ErrConflict) {
		t.Errorf("second save: err = %v, want app.ErrConflict", err)
	}
	if _, err := s.Users.Get(ctx, app.NewID()); !errors.Is(err, app.ErrNotFound) {
		t.Errorf("missing user: err = %v, want app.ErrNotFound", err)
	}

	c := &app.Channel{ID: app.NewID(), TeamID: app.NewID(), Type: "O", Name: "dev", DisplayName: "Dev"}
	m := &app.ChannelMember{ChannelID: c.ID, UserID: u.ID, NotifyProps: map[string]string{"desktop": "default"}, SchemeUser: true, ExplicitRoles: "x"}
	if err := s.Channels.SaveWithMember(ctx, c, m); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Channels.GetMember(ctx, c.ID, u.ID); err != nil || !reflect.DeepEqual(got, m) {
		t.Errorf("member = %+v, %v\nwant %+v", got, err, m)
	}

	p := &app.Post{ID: app.NewID(), ChannelID: c.ID, UserID: u.ID, Message: "hi",
		Props: map[string]any{"n": float64(1), "list": []any{"a"}}, FileIDs: []string{"f1"}}
	if err := s.Posts.Save(ctx, p); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Posts.Get(ctx, p.ID); err != nil || !reflect.DeepEqual(got, p) {
		t.Errorf("post = %+v, %v\nwant %+v", got, err, p)
	}
	if got := s.Master(ctx); got == ctx {
		t.Error("Master returned the context unchanged")
	}
}
