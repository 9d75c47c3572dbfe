package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"go.uber.org/zap"

	"github.com/seed331fb32b/chorus/node/app"
	"github.com/seed331fb32b/chorus/node/ws"
)

// This file wires the WebSocket hub (node/ws) to the app: the hub
// authenticates sockets with the app's session cache, targets events with
// its membership snapshots, reports presence to it, and hands it the
// actions it does not answer itself; the app publishes its events to the
// hub through [Realtime].

// ActionUserUpdateActiveStatus and ActionPresence are the client actions
// the app answers beyond those ws names.
const (
	ActionUserUpdateActiveStatus = "user_update_active_status"
	ActionPresence               = "presence"
)

// HubConfig returns ws.DefaultConfig (Mattermost's constants) with the
// node's identity: its version in the ping reply and in hello's
// server_version ([VersionID]), and its node id.
func HubConfig(a *app.App, version string) ws.Config {
	cfg := ws.DefaultConfig()
	cfg.Version = version
	cfg.ServerVersion = VersionID(version)
	cfg.NodeID = a.NodeID()
	return cfg
}

// NewHub returns the node's WebSocket hub with cfg, wired to a, and makes
// a publish its events to it. The caller mounts it with [New] and closes
// it when the node stops. A nil logger discards logs.
func NewHub(a *app.App, cfg ws.Config, logger *zap.Logger) (*ws.Hub, error) {
	if logger == nil {
		logger = zap.NewNop()
	}
	hub, err := ws.New(cfg, ws.Deps{
		Auth: ws.AuthenticatorFunc(func(ctx context.Context, token string) (string, string, error) {
			s, err := a.SessionByToken(ctx, token)
			if err != nil {
				return "", "", err
			}
			return s.UserID, s.ID, nil
		}),
		Members: a,
		Actions: wsActions{a: a, log: logger},
		Status:  a,
		Logger:  logger,
	})
	if err != nil {
		return nil, err
	}
	a.SetRealtime(Realtime(hub))
	return hub, nil
}

// Realtime adapts hub to the app's [app.Realtime].
func Realtime(hub *ws.Hub) app.Realtime { return realtime{hub: hub} }

// realtime converts the app's events to the hub's.
type realtime struct{ hub *ws.Hub }

func (r realtime) Publish(ctx context.Context, ev app.Event) error {
	var data any = map[string]any{}
	if ev.Data != nil {
		data = ev.Data
	}
	b := ev.Broadcast
	return r.hub.Publish(ctx, ws.Event{
		Event: ev.Name,
		Data:  data,
		Broadcast: ws.Broadcast{OmitUsers: b.OmitUsers, UserID: b.UserID, ChannelID: b.ChannelID,
			TeamID: b.TeamID, ConnectionID: b.ConnectionID, OmitConnectionID: b.OmitConnectionID},
	})
}

func (r realtime) CloseSession(sessionID string) int { return r.hub.CloseSession(sessionID) }

// wsActions answers the client actions of Mattermost's wsapi that ws
// leaves to the app.
type wsActions struct {
	a   *app.App
	log *zap.Logger // internal failures
}

// typingData is the data of a user_typing action.
type typingData struct {
	ChannelID string `json:"channel_id"`
	ParentID  string `json:"parent_id"`
}

// statusesByIDsData is the data of a get_statuses_by_ids action.
type statusesByIDsData struct {
	UserIDs []string `json:"user_ids"`
}

// activeStatusData is the data of a user_update_active_status action.
type activeStatusData struct {
	UserIsActive bool `json:"user_is_active"`
	Manual       bool `json:"manual"`
}

// HandleAction answers user_typing (a typing event to the channel),
// get_statuses (the statuses this node knows), get_statuses_by_ids
// (user id → status), user_update_active_status (online, or away) and
// presence (accepted, ignored).
func (h wsActions) HandleAction(ctx context.Context, c ws.ConnInfo, req ws.Request) (any, error) {
	switch req.Action {
	case ws.ActionUserTyping:
		d, err := decodeTyping(req.Data)
		if err != nil {
			return nil, err
		}
		return nil, h.wsError(h.a.UserTyping(ctx, c.UserID, d.ChannelID, d.ParentID))
	case ws.ActionGetStatuses:
		return h.a.KnownStatuses(), nil
	case ws.ActionGetStatusesByIDs:
		ids, err := decodeStatusIDs(req.Data)
		if err != nil {
			return nil, err
		}
		m, err := h.a.StatusMap(ctx, ids)
		return m, h.wsError(err)
	case ActionUserUpdateActiveStatus:
		var d activeStatusData
		if err := decodeActionData(req.Data, &d); err != nil {
			return nil, invalidWSParam("user_is_active")
		}
		h.a.UserActivity(ctx, c.UserID, d.UserIsActive, d.Manual)
		return nil, nil
	case ActionPresence:
		return nil, nil
	}
	return nil, ws.ErrUnknownAction
}

// decodeTyping decodes a user_typing action's data: channel_id must be an
// id; parent_id, when present, a string.
func decodeTyping(data json.RawMessage) (typingData, error) {
	var d typingData
	if err := decodeActionData(data, &d); err != nil || !app.IsValidID(d.ChannelID) {
		return typingData{}, invalidWSParam("channel_id")
	}
	return d, nil
}

// decodeStatusIDs decodes a get_statuses_by_ids action's data: 1 to
// maxIDsPerRequest ids.
func decodeStatusIDs(data json.RawMessage) ([]string, error) {
	var d statusesByIDsData
	if err := decodeActionData(data, &d); err != nil || len(d.UserIDs) == 0 || len(d.UserIDs) > maxIDsPerRequest {
		return nil, invalidWSParam("user_ids")
	}
	for _, id := range d.UserIDs {
		if !app.IsValidID(id) {
			return nil, invalidWSParam("user_ids")
		}
	}
	return d.UserIDs, nil
}

// decodeActionData decodes an action's data object into v; absent data
// is an error.
func decodeActionData(data json.RawMessage, v any) error {
	if len(data) == 0 {
		return errors.New("no data")
	}
	return json.Unmarshal(data, v)
}

// invalidWSParam is Mattermost's NewInvalidWebSocketParamError.
func invalidWSParam(name string) *ws.AppError {
	return &ws.AppError{ID: "api.websocket_handler.invalid_param.app_error",
		Message: "Invalid " + name + " parameter.", StatusCode: http.StatusBadRequest}
}

// wsError turns an app error into the reply's error.
func (h wsActions) wsError(err error) error {
	if err == nil {
		return nil
	}
	ae := toAppError(err, h.log)
	return &ws.AppError{ID: ae.ID, Message: ae.Message, StatusCode: ae.StatusCode}
}

var (
	_ ws.ActionHandler = wsActions{}
	_ ws.Membership    = (*app.App)(nil)
	_ ws.StatusHook    = (*app.App)(nil)
	_ app.Realtime     = realtime{}
)
