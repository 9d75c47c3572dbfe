package ws

import (
	"encoding/json"
	"testing"
)

func TestDecodeRequest(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		wantErr  bool
		want     Request
		wantData string
	}{
		{name: "challenge", in: `{"seq":1,"action":"authentication_challenge","data":{"token":"abc"}}`,
			want: Request{Seq: 1, Action: ActionAuthenticationChallenge}, wantData: `{"token":"abc"}`},
		{name: "no data", in: `{"seq":2,"action":"ping"}`, want: Request{Seq: 2, Action: ActionPing}},
		{name: "null data", in: `{"seq":2,"action":"ping","data":null}`, want: Request{Seq: 2, Action: ActionPing}},
		{name: "surrounding space", in: " \n{\"seq\":3,\"action\":\"ping\",\"data\": {} }\t", want: Request{Seq: 3, Action: ActionPing}, wantData: `{}`},
		{name: "empty action decodes (router answers)", in: `{"seq":1}`, want: Request{Seq: 1}},
		{name: "zero seq decodes (router answers)", in: `{"action":"ping"}`, want: Request{Action: ActionPing}},
		{name: "unknown fields ignored", in: `{"seq":1,"action":"x","extra":[1,2]}`, want: Request{Seq: 1, Action: "x"}},
		{name: "empty", in: ``, wantErr: true},
		{name: "null", in: `null`, wantErr: true},
		{name: "array", in: `[1]`, wantErr: true},
		{name: "truncated", in: `{"seq":1,"action":"ping"`, wantErr: true},
		{name: "seq not an integer", in: `{"seq":1.5,"action":"ping"}`, wantErr: true},
		{name: "seq a string", in: `{"seq":"1","action":"ping"}`, wantErr: true},
		{name: "action not a string", in: `{"seq":1,"action":5}`, wantErr: true},
		{name: "data a string", in: `{"seq":1,"action":"ping","data":"x"}`, wantErr: true},
		{name: "data an array", in: `{"seq":1,"action":"ping","data":[]}`, wantErr: true},
		{name: "trailing garbage", in: `{"seq":1,"action":"ping"} x`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeRequest([]byte(tt.in))
			if tt.wantErr {
				if err == nil {
					t.Fatalf("decoded %+v, want an error", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Seq != tt.want.Seq || got.Action != tt.want.Action || string(got.Data) != tt.wantData {
				t.Errorf("got %+v (data %s), want %+v (data %s)", got, got.Data, tt.want, tt.wantData)
			}
		})
	}
}

func TestChallengeToken(t *testing.T) {
	tests := []struct {
		data   string
		want   string
		wantOK bool
	}{
		{data: `{"token":"abc"}`, want: "abc", wantOK: true},
		{data: `{"token":""}`},
		{data: `{"token":5}`},
		{data: `{"other":"abc"}`},
		{data: ``},
	}
	for _, tt := range tests {
		t.Run(tt.data, func(t *testing.T) {
			var d json.RawMessage
			if tt.data != "" {
				d = json.RawMessage(tt.data)
			}
			got, ok := challengeToken(d)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("got %q %v, want %q %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

// FuzzDecodeRequest checks that no client frame panics the decoder or the
// code that reads a decoded request, and that what decodes round-trips.
// Its seed corpus in testdata/fuzz runs with every go test.
func FuzzDecodeRequest(f *testing.F) {
	for _, s := range []string{
		`{"seq":1,"action":"authentication_challenge","data":{"token":"abc"}}`,
		`{"seq":2,"action":"user_typing","data":{"channel_id":"c","parent_id":""}}`,
		`{"seq":3,"action":"get_statuses_by_ids","data":{"user_ids":["a","b"]}}`,
		`{"seq":4,"action":"ping"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := DecodeRequest(b)
		if err != nil {
			return
		}
		_, _ = challengeToken(req.Data)
		if req.Data != nil && (!json.Valid(req.Data) || req.Data[0] != '{') {
			t.Fatalf("data %q is not a JSON object", req.Data)
		}
		again, err := json.Marshal(req)
		if err != nil {
			t.Fatalf("re-encoding %+v: %v", req, err)
		}
		back, err := DecodeRequest(again)
		if err != nil {
			t.Fatalf("re-decoding %s: %v", again, err)
		}
		if back.Seq != req.Seq || back.Action != req.Action || (back.Data == nil) != (req.Data == nil) {
			t.Fatalf("round trip %+v → %s → %+v", req, again, back)
		}
		if _, err := newReplyFrame(req.Seq, req.Data, nil); err != nil {
			t.Fatalf("reply with the request's data: %v", err)
		}
	})
}
