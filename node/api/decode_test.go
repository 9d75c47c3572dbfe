package api

import (
	"bytes"
	"errors"
	"net/http"
	"testing"
	"unicode/utf8"

	"github.com/seed331fb32b/chorus/node/app"
)

// The fuzz targets below hold every request decoder to its contract: any
// input decodes or fails with a 400 AppError (or the body limit's error),
// never panics, and a success has the shape the handlers rely on. Their
// seed corpora (f.Add and testdata/fuzz/<target>) run with every go test;
// go test -fuzz=FuzzX explores further.

// checkDecodeError fails unless err is nil or a 400 AppError.
func checkDecodeError(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var ae *AppError
	if !errors.As(err, &ae) || ae.StatusCode != http.StatusBadRequest || ae.ID != "api.context.invalid_body_param.app_error" {
		t.Fatalf("decode error %v is not a 400 invalid_body_param AppError", err)
	}
}

// addSeeds adds common hostile inputs and the route's own examples.
func addSeeds(f *testing.F, examples ...string) {
	for _, s := range append([]string{"", "null", "{}", "[]", `"x"`, "{", `{"a":1}{"b":2}`, "\xff\xfe", `{"a":` + string(bytes.Repeat([]byte("["), 5000))}, examples...) {
		f.Add([]byte(s))
	}
}

func FuzzDecodeNewUser(f *testing.F) {
	addSeeds(f, `{"username":"alice","email":"alice@example.com","password":"Passw0rd!","props":{"a":"b"}}`,
		`{"username":5}`, `{"props":{"a":1}}`)
	f.Fuzz(func(t *testing.T, b []byte) {
		_, err := decodeNewUser(bytes.NewReader(b))
		checkDecodeError(t, err)
	})
}

func FuzzDecodeUserPatch(f *testing.F) {
	addSeeds(f, `{"id":"ybndrfg8ejkmcpqxot1uwisza3","nickname":"Al","email":"a@example.com","password":"pw"}`,
		`{"username":null,"props":{"a":"b"},"notify_props":{},"timezone":{"useAutomaticTimezone":"true"}}`,
		`{"nickname":5}`, `{"props":[]}`)
	f.Fuzz(func(t *testing.T, b []byte) {
		_, err := decodeUserPatch(bytes.NewReader(b))
		checkDecodeError(t, err)
	})
}

func FuzzDecodeLogin(f *testing.F) {
	addSeeds(f, `{"login_id":"alice","password":"pw","token":"","deviceId":""}`, `{"id":"x","password":"pw","device_id":"d"}`)
	f.Fuzz(func(t *testing.T, b []byte) {
		_, err := decodeLogin(bytes.NewReader(b))
		checkDecodeError(t, err)
	})
}

func FuzzDecodeNewTeam(f *testing.F) {
	addSeeds(f, `{"name":"core","display_name":"Core","type":"O"}`, `{"allow_open_invite":"yes"}`)
	f.Fuzz(func(t *testing.T, b []byte) {
		_, err := decodeNewTeam(bytes.NewReader(b))
		checkDecodeError(t, err)
	})
}

func FuzzDecodeMember(f *testing.F) {
	addSeeds(f, `{"team_id":"ybndrfg8ejkmcpqxot1uwisza3","user_id":"ybndrfg8ejkmcpqxot1uwisza3"}`,
		`{"user_id":"u","channel_id":"c","post_root_id":""}`)
	f.Fuzz(func(t *testing.T, b []byte) {
		_, err := decodeMember(bytes.NewReader(b), "channel_member")
		checkDecodeError(t, err)
	})
}

func FuzzDecodeNewChannel(f *testing.F) {
	addSeeds(f, `{"team_id":"t","name":"dev","display_name":"Dev","type":"P","purpose":"","header":""}`)
	f.Fuzz(func(t *testing.T, b []byte) {
		_, err := decodeNewChannel(bytes.NewReader(b))
		checkDecodeError(t, err)
	})
}

func FuzzDecodeNewPost(f *testing.F) {
	addSeeds(f, `{"channel_id":"c","message":"hi","root_id":"","props":{"a":[1,{"b":null}]},"file_ids":["f"],"pending_post_id":"p"}`,
		`{"props":[]}`, `{"create_at":1e400}`, `{"message":"\ud800"}`)
	f.Fuzz(func(t *testing.T, b []byte) {
		np, err := decodeNewPost(bytes.NewReader(b))
		checkDecodeError(t, err)
		if err == nil && !utf8.ValidString(np.Message) {
			t.Fatalf("decoded message %q is not UTF-8", np.Message)
		}
	})
}

func FuzzDecodeStatus(f *testing.F) {
	addSeeds(f, `{"user_id":"u","status":"dnd","dnd_end_time":1893456000}`, `{"dnd_end_time":"soon"}`)
	f.Fuzz(func(t *testing.T, b []byte) {
		_, err := decodeStatus(bytes.NewReader(b))
		checkDecodeError(t, err)
	})
}

func FuzzDecodeIDs(f *testing.F) {
	addSeeds(f, `["ybndrfg8ejkmcpqxot1uwisza3"]`, `["ybndrfg8ejkmcpqxot1uwisza3","x"]`, `[null]`, `[1]`)
	f.Fuzz(func(t *testing.T, b []byte) {
		ids, err := decodeIDs(bytes.NewReader(b), "user_ids")
		checkDecodeError(t, err)
		if err != nil {
			return
		}
		if len(ids) == 0 || len(ids) > maxIDsPerRequest {
			t.Fatalf("decoded %d ids", len(ids))
		}
		for _, id := range ids {
			if !app.IsValidID(id) {
				t.Fatalf("decoded invalid id %q", id)
			}
		}
	})
}

// FuzzDecodeActionData covers the WebSocket actions' data decoders
// (ws.DecodeRequest, the frame decoder, has its own fuzz target in
// node/ws).
func FuzzDecodeActionData(f *testing.F) {
	addSeeds(f, `{"channel_id":"ybndrfg8ejkmcpqxot1uwisza3","parent_id":""}`, `{"user_ids":["ybndrfg8ejkmcpqxot1uwisza3"]}`,
		`{"channel_id":5}`, `{"user_ids":"all"}`, `{"user_is_active":true,"manual":false}`)
	f.Fuzz(func(t *testing.T, b []byte) {
		if d, err := decodeTyping(b); err == nil && !app.IsValidID(d.ChannelID) {
			t.Fatalf("typing decoded with channel %q", d.ChannelID)
		}
		if ids, err := decodeStatusIDs(b); err == nil {
			for _, id := range ids {
				if !app.IsValidID(id) {
					t.Fatalf("statuses decoded with id %q", id)
				}
			}
		}
		var d activeStatusData
		_ = decodeActionData(b, &d)
	})
}
