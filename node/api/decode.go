package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/seed331fb32b/chorus/node/app"
)

// This file decodes request bodies. Each decoder reads one JSON value of
// its shape from r and fails, never panics, on anything else; the fuzz
// targets of decode_test.go hold them to that. A body over the size limit
// fails with the reader's *http.MaxBytesError, which becomes 413.

// maxIDsPerRequest bounds a list of ids in a body (Mattermost takes up to
// the page maximum, 200, for most lists; status and profile lookups take
// more).
const maxIDsPerRequest = 1000

// badBody is Mattermost's c.SetInvalidParamWithErr(name, err): 400
// api.context.invalid_body_param.app_error.
func badBody(name string, err error) error {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return err
	}
	detail := ""
	if err != nil {
		detail = err.Error()
	}
	return &AppError{ID: "api.context.invalid_body_param.app_error",
		Message: "Invalid or missing " + name + " in request body.", DetailedError: detail,
		StatusCode: http.StatusBadRequest}
}

// decodeBody reads exactly one JSON value from r into v; trailing data
// other than white space is an error.
func decodeBody(r io.Reader, v any) error {
	dec := json.NewDecoder(r)
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if err == nil {
			err = errors.New("unexpected data after the JSON value")
		}
		return err
	}
	return nil
}

// userRequest is the body of POST /api/v4/users, a subset of Mattermost's
// model.User.
type userRequest struct {
	Username  string            `json:"username"`
	Email     string            `json:"email"`
	Password  string            `json:"password"`
	Nickname  string            `json:"nickname"`
	FirstName string            `json:"first_name"`
	LastName  string            `json:"last_name"`
	Position  string            `json:"position"`
	Locale    string            `json:"locale"`
	Props     map[string]string `json:"props"`
	Timezone  map[string]string `json:"timezone"`
}

// decodeNewUser decodes a sign-up.
func decodeNewUser(r io.Reader) (app.NewUser, error) {
	var req userRequest
	if err := decodeBody(r, &req); err != nil {
		return app.NewUser{}, badBody("user", err)
	}
	return app.NewUser{
		Username: req.Username, Email: req.Email, Password: req.Password, Nickname: req.Nickname,
		FirstName: req.FirstName, LastName: req.LastName, Position: req.Position, Locale: req.Locale,
		Props: req.Props, Timezone: req.Timezone,
	}, nil
}

// userPatchRequest is the body of PUT /api/v4/users/{id}/patch,
// Mattermost's model.UserPatch without remote_id (Chorus has no shared
// channels). Client4.patchUser also sends the user's id, which is ignored.
type userPatchRequest struct {
	Username    *string           `json:"username"`
	Password    *string           `json:"password"`
	Nickname    *string           `json:"nickname"`
	FirstName   *string           `json:"first_name"`
	LastName    *string           `json:"last_name"`
	Position    *string           `json:"position"`
	Email       *string           `json:"email"`
	Props       map[string]string `json:"props"`
	NotifyProps map[string]string `json:"notify_props"`
	Locale      *string           `json:"locale"`
	Timezone    map[string]string `json:"timezone"`
}

// decodeUserPatch decodes a user patch.
func decodeUserPatch(r io.Reader) (app.UserPatch, error) {
	var req userPatchRequest
	if err := decodeBody(r, &req); err != nil {
		return app.UserPatch{}, badBody("user", err)
	}
	return app.UserPatch{
		Username: req.Username, Password: req.Password, Nickname: req.Nickname, FirstName: req.FirstName,
		LastName: req.LastName, Position: req.Position, Email: req.Email, Locale: req.Locale,
		Props: req.Props, NotifyProps: req.NotifyProps, Timezone: req.Timezone,
	}, nil
}

// loginRequest is the body of POST /api/v4/users/login: Client4.login
// sends login_id and deviceId, loginById sends id and device_id.
type loginRequest struct {
	LoginID        string `json:"login_id"`
	ID             string `json:"id"`
	Password       string `json:"password"`
	Token          string `json:"token"` // MFA code; Chorus has no MFA
	DeviceID       string `json:"device_id"`
	DeviceIDLegacy string `json:"deviceId"`
}

// decodeLogin decodes a login.
func decodeLogin(r io.Reader) (app.Credentials, error) {
	var req loginRequest
	if err := decodeBody(r, &req); err != nil {
		return app.Credentials{}, badBody("login", err)
	}
	device := req.DeviceID
	if device == "" {
		device = req.DeviceIDLegacy
	}
	return app.Credentials{LoginID: req.LoginID, UserID: req.ID, Password: req.Password, DeviceID: device}, nil
}

// teamRequest is the body of POST /api/v4/teams.
type teamRequest struct {
	Name            string `json:"name"`
	DisplayName     string `json:"display_name"`
	Type            string `json:"type"`
	Description     string `json:"description"`
	CompanyName     string `json:"company_name"`
	AllowOpenInvite bool   `json:"allow_open_invite"`
}

// decodeNewTeam decodes a new team.
func decodeNewTeam(r io.Reader) (app.NewTeam, error) {
	var req teamRequest
	if err := decodeBody(r, &req); err != nil {
		return app.NewTeam{}, badBody("team", err)
	}
	return app.NewTeam{Name: req.Name, DisplayName: req.DisplayName, Type: req.Type,
		Description: req.Description, CompanyName: req.CompanyName, AllowOpenInvite: req.AllowOpenInvite}, nil
}

// memberRequest is the body of POST /api/v4/teams/{id}/members
// ({team_id, user_id}) and POST /api/v4/channels/{id}/members
// ({user_id, channel_id, post_root_id}).
type memberRequest struct {
	TeamID     string `json:"team_id"`
	ChannelID  string `json:"channel_id"`
	UserID     string `json:"user_id"`
	PostRootID string `json:"post_root_id"`
}

// decodeMember decodes a new team or channel member; name is "team_member"
// or "channel_member" for the error.
func decodeMember(r io.Reader, name string) (memberRequest, error) {
	var req memberRequest
	if err := decodeBody(r, &req); err != nil {
		return memberRequest{}, badBody(name, err)
	}
	return req, nil
}

// channelRequest is the body of POST /api/v4/channels.
type channelRequest struct {
	TeamID      string `json:"team_id"`
	Name        string `json:"name"`
	DisplayName string `json:"display_name"`
	Type        string `json:"type"`
	Purpose     string `json:"purpose"`
	Header      string `json:"header"`
}

// decodeNewChannel decodes a new channel.
func decodeNewChannel(r io.Reader) (app.NewChannel, error) {
	var req channelRequest
	if err := decodeBody(r, &req); err != nil {
		return app.NewChannel{}, badBody("channel", err)
	}
	return app.NewChannel{TeamID: req.TeamID, Name: req.Name, DisplayName: req.DisplayName, Type: req.Type,
		Purpose: req.Purpose, Header: req.Header}, nil
}

// postRequest is the body of POST /api/v4/posts, a subset of Mattermost's
// model.Post. file_ids are read and dropped: Chorus has no files.
type postRequest struct {
	ChannelID     string         `json:"channel_id"`
	RootID        string         `json:"root_id"`
	Message       string         `json:"message"`
	Type          string         `json:"type"`
	Props         map[string]any `json:"props"`
	FileIDs       []string       `json:"file_ids"`
	PendingPostID string         `json:"pending_post_id"`
	CreateAt      int64          `json:"create_at"`
}

// decodeNewPost decodes a new post.
func decodeNewPost(r io.Reader) (app.NewPost, error) {
	var req postRequest
	if err := decodeBody(r, &req); err != nil {
		return app.NewPost{}, badBody("post", err)
	}
	return app.NewPost{ChannelID: req.ChannelID, RootID: req.RootID, Message: req.Message, Type: req.Type,
		Props: req.Props, PendingPostID: req.PendingPostID, CreateAt: req.CreateAt}, nil
}

// statusRequest is the body of PUT /api/v4/users/{id}/status.
type statusRequest struct {
	UserID     string `json:"user_id"`
	Status     string `json:"status"`
	DNDEndTime int64  `json:"dnd_end_time"`
}

// decodeStatus decodes a status change.
func decodeStatus(r io.Reader) (statusRequest, error) {
	var req statusRequest
	if err := decodeBody(r, &req); err != nil {
		return statusRequest{}, badBody("status", err)
	}
	return req, nil
}

// decodeIDs decodes a JSON array of 1 to maxIDsPerRequest valid ids, the
// body of POST /api/v4/users/ids and /users/status/ids; name is the
// parameter named in errors ("user_ids").
func decodeIDs(r io.Reader, name string) ([]string, error) {
	var ids []string
	if err := decodeBody(r, &ids); err != nil {
		return nil, badBody(name, err)
	}
	if len(ids) == 0 {
		return nil, badBody(name, errors.New("no ids"))
	}
	if len(ids) > maxIDsPerRequest {
		return nil, badBody(name, fmt.Errorf("more than %d ids", maxIDsPerRequest))
	}
	for _, id := range ids {
		if !app.IsValidID(id) {
			return nil, badBody(name, fmt.Errorf("%q is not an id", id))
		}
	}
	return ids, nil
}
