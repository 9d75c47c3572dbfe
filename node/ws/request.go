package ws

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

// Actions with a meaning to ws. authentication_challenge and ping are
// answered by ws; the others go to the [ActionHandler].
const (
	ActionAuthenticationChallenge = "authentication_challenge"
	ActionPing                    = "ping"
	ActionUserTyping              = "user_typing"
	ActionGetStatuses             = "get_statuses"
	ActionGetStatusesByIDs        = "get_statuses_by_ids"
)

// Request is a client's action frame, Mattermost's model.WebSocketRequest:
// {"seq":N,"action":"…","data":{…}}.
type Request struct {
	// Seq is the client's request counter; the reply carries it as
	// seq_reply. Mattermost rejects seq <= 0.
	Seq int64 `json:"seq"`
	// Action names the request, e.g. "user_typing".
	Action string `json:"action"`
	// Data is the request's JSON object, nil when absent or null. The
	// handler decodes it into its own type.
	Data json.RawMessage `json:"data,omitempty"`
}

// errNotObject is returned for a frame or data that is not a JSON object.
var errNotObject = errors.New("ws: not a JSON object")

// DecodeRequest decodes a client's text frame. It fails on anything that
// is not one JSON object with an integer seq, a string action and an
// object (or null) data; Mattermost closes the socket on such a frame, and
// so does the Hub. A valid frame with an empty action or seq <= 0 decodes
// without error: the router answers those with Mattermost's errors. Data
// is a copy, independent of b.
func DecodeRequest(b []byte) (Request, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return Request{}, errNotObject
	}
	var req Request
	if err := json.Unmarshal(b, &req); err != nil {
		return Request{}, fmt.Errorf("decoding request: %w", err)
	}
	if d := bytes.TrimSpace(req.Data); len(d) == 0 || bytes.Equal(d, []byte("null")) {
		req.Data = nil
	} else if d[0] != '{' {
		return Request{}, fmt.Errorf("decoding request data: %w", errNotObject)
	} else {
		req.Data = d
	}
	return req, nil
}

// challengeToken returns the token of an authentication_challenge's data,
// which must be a string, as Mattermost requires.
func challengeToken(data json.RawMessage) (string, bool) {
	if data == nil {
		return "", false
	}
	var d struct {
		Token *string `json:"token"`
	}
	if err := json.Unmarshal(data, &d); err != nil || d.Token == nil || *d.Token == "" {
		return "", false
	}
	return *d.Token, true
}

// AppError is Mattermost's error body (model.AppError as JSON), sent in
// the "error" of a failed reply and in the response to a refused upgrade.
// node/api has its own; this one keeps ws free of node/api.
type AppError struct {
	// ID is the translation id, e.g. "api.web_socket_router.bad_seq.app_error".
	ID string `json:"id"`
	// Message is the English text of ID.
	Message string `json:"message"`
	// DetailedError is blanked in replies, as Mattermost does.
	DetailedError string `json:"detailed_error"`
	// RequestID is the upgrade request's X-Request-ID, when known.
	RequestID string `json:"request_id,omitempty"`
	// StatusCode is the HTTP status the error corresponds to.
	StatusCode int `json:"status_code,omitempty"`
}

// Error returns Message, then DetailedError after ", " when there is one.
func (e *AppError) Error() string {
	if e.DetailedError == "" {
		return e.Message
	}
	return e.Message + ", " + e.DetailedError
}

// The router's errors, with Mattermost's ids.
var (
	errNoAction = AppError{ID: "api.web_socket_router.no_action.app_error",
		Message: "No websocket action.", StatusCode: http.StatusBadRequest}
	errBadSeq = AppError{ID: "api.web_socket_router.bad_seq.app_error",
		Message: "Invalid sequence for WebSocket message.", StatusCode: http.StatusBadRequest}
	errNotAuthenticated = AppError{ID: "api.web_socket_router.not_authenticated.app_error",
		Message: "Not authenticated. Please log in and try again.", StatusCode: http.StatusUnauthorized}
	errBadAction = AppError{ID: "api.web_socket_router.bad_action.app_error",
		Message: "Unknown WebSocket action.", StatusCode: http.StatusInternalServerError}
	errHandler = AppError{ID: "api.web_socket_handler.app_error",
		Message: "An error occurred while handling the WebSocket action.", StatusCode: http.StatusInternalServerError}
)

// Reply statuses.
const (
	statusOK   = "OK"
	statusFail = "FAIL"
)

// reply is Mattermost's model.WebSocketResponse.
type reply struct {
	Status   string    `json:"status"`
	SeqReply int64     `json:"seq_reply,omitempty"`
	Data     any       `json:"data,omitempty"`
	Error    *AppError `json:"error,omitempty"`
}

// newReplyFrame marshals the reply to request seq: data when err is nil,
// else the error, mapped as [ActionHandler] documents.
func newReplyFrame(seq int64, data any, err error) (*frame, error) {
	r := reply{Status: statusOK, SeqReply: seq, Data: data}
	if err != nil {
		ae := errHandler
		var target *AppError
		switch {
		case errors.As(err, &target) && target != nil:
			ae = *target
		case errors.Is(err, ErrUnknownAction):
			ae = errBadAction
		}
		ae.DetailedError = ""
		r = reply{Status: statusFail, SeqReply: seq, Error: &ae}
	}
	b, mErr := json.Marshal(r)
	if mErr != nil {
		return nil, fmt.Errorf("marshalling reply to %d: %w", seq, mErr)
	}
	return &frame{reply: true, body: b}, nil
}

// pongData is the ping action's reply data.
type pongData struct {
	Text       string `json:"text"`
	Version    string `json:"version"`
	ServerTime int64  `json:"server_time"`
	NodeID     string `json:"node_id"`
}

var _ error = (*AppError)(nil)
