package cluster

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// Message is one inter-node message, Mattermost's model.ClusterMessage:
// an event name, opaque data (base64 in JSON) and string properties.
type Message struct {
	Event string            `json:"event"`
	Data  []byte            `json:"data,omitempty"`
	Props map[string]string `json:"props,omitempty"`
}

// Events the cluster sends and handles, Mattermost's ClusterEvent names.
const (
	// EventPublish carries a WebSocket event (node/ws's Event as JSON)
	// published on another node; receivers deliver it to their own
	// sockets and never forward it again. Handled by the cluster itself.
	EventPublish = "publish"
	// EventUpdateStatus carries a user's new status (JSON), for the
	// receivers' status caches. Best effort, as in Mattermost.
	EventUpdateStatus = "update_status"
	// EventClearSessionUser carries a user id (raw bytes) whose cached
	// sessions the receivers drop: a logout or a revoked session ends
	// everywhere. Reliable.
	EventClearSessionUser = "clear_session_user"
	// EventInvalidateUser carries a user id (raw bytes) whose cached
	// profile the receivers drop. Reliable.
	EventInvalidateUser = "inv_user"
	// EventInvalidateChannelMembers carries a channel id (raw bytes) whose
	// cached member set the receivers drop (Mattermost's
	// inv_profile_in_channel, its "profiles in channel" cache). Reliable.
	EventInvalidateChannelMembers = "inv_profile_in_channel"
	// EventInvalidateAllCaches asks the receivers to drop every cache
	// (POST /api/v4/caches/invalidate). Reliable.
	EventInvalidateAllCaches = "inv_all_caches"
)

// Requests every peer answers (Mattermost's gossip_request_* pairs), and
// the one response event that carries every answer.
const (
	requestWSQueues     = "gossip_request_ws_queues"
	requestWebConnCount = "gossip_request_webconn_count"
	requestClusterStats = "gossip_request_cluster_stats"
	eventResponse       = "gossip_response"
)

// reliablePublish are the WebSocket events forwarded over the reliable
// path, as Mattermost upgrades them (server/channels/app/platform/
// cluster.go); other events go best effort.
var reliablePublish = map[string]bool{
	"posted":        true,
	"post_edited":   true,
	"direct_added":  true,
	"group_added":   true,
	"added_to_team": true,
}

// bestEffortEvents are the app events sent best effort; every other app
// event is reliable, since a lost cache invalidation leaves a node wrong
// until the entry expires.
var bestEffortEvents = map[string]bool{
	EventUpdateStatus: true,
}

// frameVersion starts every frame, so a later format can be told apart.
const frameVersion = 1

// frame is what travels between two nodes: one or more messages from one
// sender. Reliable frames carry the sender's epoch and a sequence number
// per receiver (from 1), so the receiver delivers them in order even when
// memberlist hands two TCP streams over in the other order; best-effort
// frames carry neither.
type frame struct {
	From  string    `json:"from"`
	Epoch uint64    `json:"epoch,omitempty"`
	Seq   uint64    `json:"seq,omitempty"`
	Msgs  []Message `json:"msgs"`
}

// encodeFrame builds a frame from messages already marshalled, so a
// message sent to several peers is marshalled once.
func encodeFrame(from string, epoch, seq uint64, msgs []json.RawMessage) []byte {
	var b bytes.Buffer
	b.WriteByte(frameVersion)
	b.WriteString(`{"from":`)
	fromJSON, _ := json.Marshal(from)
	b.Write(fromJSON)
	if seq != 0 {
		b.WriteString(`,"epoch":` + strconv.FormatUint(epoch, 10) + `,"seq":` + strconv.FormatUint(seq, 10))
	}
	b.WriteString(`,"msgs":[`)
	for i, m := range msgs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(m)
	}
	b.WriteString("]}")
	return b.Bytes()
}

// decodeFrame parses a frame received from the network.
func decodeFrame(buf []byte) (frame, error) {
	var f frame
	if len(buf) == 0 || buf[0] != frameVersion {
		return f, errors.New("cluster: frame of an unknown version")
	}
	if err := json.Unmarshal(buf[1:], &f); err != nil {
		return f, fmt.Errorf("cluster: decoding a frame: %w", err)
	}
	if f.From == "" {
		return f, errors.New("cluster: frame without a sender")
	}
	return f, nil
}
