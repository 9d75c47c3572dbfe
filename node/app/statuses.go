package app

import (
	"context"
	"errors"
	"time"

	"go.uber.org/zap"
)

// User statuses, Mattermost's.
const (
	UserOnline  = "online"
	UserAway    = "away"
	UserDND     = "dnd"
	UserOffline = "offline"
)

// UserStatus is a user's presence, Mattermost's model.Status, with its JSON
// names. DNDEndTime is in Unix seconds, as in Mattermost.
type UserStatus struct {
	UserID         string `json:"user_id"`
	Status         string `json:"status"`
	Manual         bool   `json:"manual"`
	LastActivityAt int64  `json:"last_activity_at"`
	ActiveChannel  string `json:"active_channel,omitempty"`
	DNDEndTime     int64  `json:"dnd_end_time"`
	PrevStatus     string `json:"-"`
}

// statusMinUpdateTime is how much newer activity must be before an online
// user's LastActivityAt is written again, Mattermost's StatusMinUpdateTime.
const statusMinUpdateTime = 2 * time.Minute

// status returns userID's status from this node's status map or the
// store, or nil when the user has none.
func (a *App) status(ctx context.Context, userID string) (*UserStatus, error) {
	a.statusMu.Lock()
	st := a.statuses[userID]
	a.statusMu.Unlock()
	if st != nil {
		return st, nil
	}
	st, err := a.stores.Statuses.Get(ctx, userID)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, internal("app.status.get.app_error", "getting the status", err)
	}
	a.remember(st)
	return st, nil
}

// remember puts st in the status map, replacing the user's entry.
func (a *App) remember(st *UserStatus) {
	a.statusMu.Lock()
	a.statuses[st.UserID] = st
	a.statusMu.Unlock()
}

// offline is the status of a user who has none.
func offline(userID string) *UserStatus { return &UserStatus{UserID: userID, Status: UserOffline} }

// GetStatus returns userID's status, offline when they have none, as
// Mattermost's GET /api/v4/users/{id}/status (any logged-in user may ask).
func (a *App) GetStatus(ctx context.Context, userID string) (*UserStatus, error) {
	st, err := a.status(ctx, userID)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return offline(userID), nil
	}
	return st, nil
}

// GetStatuses returns the statuses of userIDs in their order, offline for
// users with none (even unknown ids, as Mattermost's
// POST /api/v4/users/status/ids). Duplicate ids count once.
func (a *App) GetStatuses(ctx context.Context, userIDs []string) ([]*UserStatus, error) {
	userIDs = uniqueIDs(userIDs)
	found := make(map[string]*UserStatus, len(userIDs))
	var missing []string
	a.statusMu.Lock()
	for _, id := range userIDs {
		if st := a.statuses[id]; st != nil {
			found[id] = st
		} else {
			missing = append(missing, id)
		}
	}
	a.statusMu.Unlock()
	if len(missing) > 0 {
		stored, err := a.stores.Statuses.GetMany(ctx, missing)
		if err != nil {
			return nil, internal("app.status.get.app_error", "getting statuses", err)
		}
		for _, st := range stored {
			a.remember(st)
			found[st.UserID] = st
		}
	}
	out := make([]*UserStatus, 0, len(userIDs))
	for _, id := range userIDs {
		st := found[id]
		if st == nil {
			st = offline(id)
		}
		out = append(out, st)
	}
	return out, nil
}

// StatusMap returns the statuses of userIDs as user id → status, the reply
// of Mattermost's get_statuses_by_ids WebSocket action.
func (a *App) StatusMap(ctx context.Context, userIDs []string) (map[string]string, error) {
	statuses, err := a.GetStatuses(ctx, userIDs)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(statuses))
	for _, st := range statuses {
		out[st.UserID] = st.Status
	}
	return out, nil
}

// KnownStatuses returns every status this node holds in memory, as user id
// → status: the reply of Mattermost's get_statuses WebSocket action, which
// answers from its status cache too.
func (a *App) KnownStatuses() map[string]string {
	a.statusMu.Lock()
	defer a.statusMu.Unlock()
	out := make(map[string]string, len(a.statuses))
	for id, st := range a.statuses {
		out[id] = st.Status
	}
	return out
}

// UpdateStatus sets userID's status by hand, as Mattermost's
// PUT /api/v4/users/{id}/status: a user may set their own, a system admin
// anyone's (edit_other_users). status is "online", "away", "dnd" or
// "offline"; dndEndTime (Unix seconds, 0 for none) applies to "dnd".
func (a *App) UpdateStatus(ctx context.Context, s *Session, userID, status string, dndEndTime int64) (*UserStatus, error) {
	if userID != s.UserID && !s.IsSystemAdmin() {
		return nil, forbidden(s.UserID, "edit_other_users")
	}
	switch status {
	case UserOnline:
		a.SetStatusOnline(ctx, userID, true)
	case UserOffline:
		a.SetStatusOffline(ctx, userID, true)
	case UserAway:
		a.SetStatusAwayIfNeeded(ctx, userID, true)
	case UserDND:
		a.setStatusDND(ctx, userID, dndEndTime)
	default:
		return nil, invalidParam("status")
	}
	return a.GetStatus(ctx, userID)
}

// SetStatusOnline marks userID online, as Mattermost's SetStatusOnline: a
// status the user set by hand wins over an automatic change (manual
// false); online itself is never manual. Others learn of a change through
// a status_change event to the user's sockets. Failures are logged.
func (a *App) SetStatusOnline(ctx context.Context, userID string, manual bool) {
	old, err := a.status(ctx, userID)
	if err != nil {
		a.logger.Warn("Cannot read a status", zap.String("user_id", userID), zap.Error(err))
		return
	}
	if old != nil && old.Manual && !manual {
		return
	}
	now := a.nowMillis()
	st := &UserStatus{UserID: userID, Status: UserOnline, LastActivityAt: now}
	changed := old == nil || old.Status != UserOnline || old.Manual
	if !changed && now-old.LastActivityAt <= statusMinUpdateTime.Milliseconds() {
		return // nothing new worth a write
	}
	a.saveStatus(ctx, st, changed)
}

// SetStatusOffline marks userID offline, as Mattermost's SetStatusOffline:
// an automatic change (manual false) does not override a status set by
// hand.
func (a *App) SetStatusOffline(ctx context.Context, userID string, manual bool) {
	old, err := a.status(ctx, userID)
	if err != nil {
		a.logger.Warn("Cannot read a status", zap.String("user_id", userID), zap.Error(err))
		return
	}
	if old != nil && old.Manual && !manual {
		return
	}
	a.saveStatus(ctx, &UserStatus{UserID: userID, Status: UserOffline, Manual: manual, LastActivityAt: a.nowMillis()},
		old == nil || old.Status != UserOffline)
}

// SetStatusAwayIfNeeded marks userID away, as Mattermost's: by hand
// always; automatically only when they are not already away or set by
// hand, and their last activity is older than
// TeamSettings.UserStatusAwayTimeout.
func (a *App) SetStatusAwayIfNeeded(ctx context.Context, userID string, manual bool) {
	old, err := a.status(ctx, userID)
	if err != nil {
		a.logger.Warn("Cannot read a status", zap.String("user_id", userID), zap.Error(err))
		return
	}
	if old == nil {
		old = offline(userID)
	}
	if !manual {
		if old.Manual || old.Status == UserAway {
			return
		}
		timeout := time.Duration(positive(a.Config().TeamSettings.UserStatusAwayTimeout, 300)) * time.Second
		if a.nowMillis()-old.LastActivityAt < timeout.Milliseconds() {
			return
		}
	}
	a.saveStatus(ctx, &UserStatus{UserID: userID, Status: UserAway, Manual: manual, LastActivityAt: old.LastActivityAt},
		old.Status != UserAway)
}

// setStatusDND sets userID's status to do not disturb, by hand, until
// endTime (Unix seconds; 0 for none).
func (a *App) setStatusDND(ctx context.Context, userID string, endTime int64) {
	old, err := a.status(ctx, userID)
	if err != nil {
		a.logger.Warn("Cannot read a status", zap.String("user_id", userID), zap.Error(err))
		return
	}
	prev, last := UserOffline, a.nowMillis()
	if old != nil {
		prev, last = old.Status, old.LastActivityAt
	}
	a.saveStatus(ctx, &UserStatus{UserID: userID, Status: UserDND, Manual: true, LastActivityAt: last,
		DNDEndTime: endTime, PrevStatus: prev}, prev != UserDND)
}

// saveStatus records st, tells the other nodes and, when broadcast, the
// user's sockets.
func (a *App) saveStatus(ctx context.Context, st *UserStatus, broadcast bool) {
	a.remember(st)
	a.statusChanged(ctx, st)
	if err := a.stores.Statuses.SaveOrUpdate(ctx, st); err != nil {
		a.logger.Warn("Cannot save a status", zap.String("user_id", st.UserID), zap.Error(err))
	}
	if broadcast {
		a.publish(ctx, Event{Name: EventStatusChange, Data: map[string]any{"status": st.Status, "user_id": st.UserID},
			Broadcast: Broadcast{UserID: st.UserID}})
	}
}

// UserOnline is the WebSocket hub's report that userID's first socket on
// this node opened: they are online (unless they set a status by hand).
func (a *App) UserOnline(ctx context.Context, userID string) { a.SetStatusOnline(ctx, userID, false) }

// UserOffline is the WebSocket hub's report that userID's last socket on
// this node closed: they are offline (unless they set a status by hand),
// once no other node of the cluster holds a socket of theirs either.
func (a *App) UserOffline(ctx context.Context, userID string) {
	if a.socketsElsewhere(ctx, userID) {
		return
	}
	a.SetStatusOffline(ctx, userID, false)
}

// UserActivity is Mattermost's user_update_active_status WebSocket action:
// an active user is online; an inactive one becomes away (by hand when
// manual, else only after UserStatusAwayTimeout).
func (a *App) UserActivity(ctx context.Context, userID string, active, manual bool) {
	if active {
		a.SetStatusOnline(ctx, userID, false)
		return
	}
	a.SetStatusAwayIfNeeded(ctx, userID, manual)
}
