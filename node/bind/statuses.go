package bind

import (
	"context"

	"github.com/seed331fb32b/chorus/node/app"
	"github.com/seed331fb32b/chorus/node/store"
)

// statuses adapts store.StatusStore to app.StatusStore.
type statuses struct{ s *store.StatusStore }

func (b statuses) SaveOrUpdate(ctx context.Context, st *app.UserStatus) error {
	return translate(b.s.SaveOrUpdate(ctx, &store.Status{
		UserID: st.UserID, Status: st.Status, Manual: st.Manual, LastActivityAt: st.LastActivityAt,
		DNDEndTime: st.DNDEndTime, PrevStatus: st.PrevStatus,
	}))
}

func (b statuses) Get(ctx context.Context, userID string) (*app.UserStatus, error) {
	r, err := b.s.Get(ctx, userID)
	if err != nil {
		return nil, translate(err)
	}
	return fromStatusRow(r), nil
}

func (b statuses) GetMany(ctx context.Context, userIDs []string) ([]*app.UserStatus, error) {
	rows, err := b.s.GetMany(ctx, userIDs)
	if err != nil {
		return nil, translate(err)
	}
	out := make([]*app.UserStatus, len(rows))
	for i, r := range rows {
		out[i] = fromStatusRow(r)
	}
	return out, nil
}

// fromStatusRow converts a row.
func fromStatusRow(r *store.Status) *app.UserStatus {
	return &app.UserStatus{UserID: r.UserID, Status: r.Status, Manual: r.Manual, LastActivityAt: r.LastActivityAt,
		DNDEndTime: r.DNDEndTime, PrevStatus: r.PrevStatus}
}

var _ app.StatusStore = statuses{}
