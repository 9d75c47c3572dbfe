package ws_test

import (
	"context"
	"encoding/json"
	"errors"
	"log"
	"net/http"

	"github.com/seed331fb32b/chorus/node/ws"
)

// sessions stands for node/app's session cache.
var sessions = map[string][2]string{"token-of-alice": {"alice-id", "session-id"}}

// channelMembers stands for node/app's membership cache: immutable
// snapshots, replaced on change.
var channelMembers = map[string]map[string]struct{}{"town-square-id": {"alice-id": {}}}

type members struct{}

func (members) ChannelMembers(_ context.Context, id string) (map[string]struct{}, error) {
	return channelMembers[id], nil
}

func (members) TeamMembers(context.Context, string) (map[string]struct{}, error) { return nil, nil }

// The node wires the Hub: authentication and membership from the app, the
// route in the API's mux, and the app publishing events.
func Example() {
	cfg := ws.DefaultConfig()
	cfg.Version = "10.5.0"
	cfg.ServerVersion = "10.5.0.chorus.hash.false"
	cfg.NodeID = "node-id"
	hub, err := ws.New(cfg, ws.Deps{
		Auth: ws.AuthenticatorFunc(func(_ context.Context, token string) (string, string, error) {
			s, ok := sessions[token]
			if !ok {
				return "", "", errors.New("no session")
			}
			return s[0], s[1], nil
		}),
		Members: members{},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer hub.Close()

	mux := http.NewServeMux()
	mux.Handle("GET /api/v4/websocket", hub)
	mux.Handle("GET /api/v4/websocket/", hub) // Mattermost allows the trailing slash

	// Creating a post: the post travels as a JSON string in data.post.
	post, _ := json.Marshal(map[string]any{"id": "post-id", "channel_id": "town-square-id", "message": "hi"})
	err = hub.Publish(context.Background(), ws.Event{
		Event: ws.EventPosted,
		Data: map[string]any{
			"post": string(post), "channel_type": "O", "channel_display_name": "Town Square",
			"channel_name": "town-square", "sender_name": "@alice", "team_id": "team-id",
		},
		Broadcast: ws.Broadcast{ChannelID: "town-square-id"},
	})
	if err != nil {
		log.Print(err)
	}
}
