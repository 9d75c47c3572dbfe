package balancer

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"reflect"
	"testing"
)

// parsed is an answer as a client of the front door would see it.
type parsed struct {
	status, major, minor int
	length               int64
	closing              bool
	header               http.Header
	interim              []int
	body                 string
	trailer              http.Header
	headErr, bodyErr     bool
}

// readOurs reads raw with the H1Response parser, interim answers first.
func readOurs(raw []byte, method string) parsed {
	var out parsed
	var res H1Response
	br := bufio.NewReaderSize(bytes.NewReader(raw), 4096)
	for {
		if err := res.readHead(br, method); err != nil {
			out.headErr = true
			return out
		}
		if !res.Interim() {
			break
		}
		out.interim = append(out.interim, res.StatusCode)
	}
	out.status, out.major, out.minor = res.StatusCode, res.ProtoMajor, res.ProtoMinor
	out.length, out.closing = res.ContentLength, res.Closing
	out.header = http.Header{}
	for _, f := range res.Fields {
		out.header[f.Key] = append(out.header[f.Key], f.Value)
	}
	body, err := io.ReadAll(&res)
	out.body, out.bodyErr = string(body), err != nil
	if len(res.Trailer) > 0 {
		out.trailer = http.Header{}
		for _, f := range res.Trailer {
			out.trailer[f.Key] = append(out.trailer[f.Key], f.Value)
		}
	}
	return out
}

// readStd reads raw as Go's transport does: http.ReadResponse until a
// final answer.
func readStd(raw []byte, method string) parsed {
	var out parsed
	br := bufio.NewReader(bytes.NewReader(raw))
	var resp *http.Response
	for {
		var err error
		resp, err = http.ReadResponse(br, &http.Request{Method: method})
		if err != nil {
			out.headErr = true
			return out
		}
		if resp.StatusCode < 100 || resp.StatusCode > 199 || resp.StatusCode == 101 {
			break
		}
		out.interim = append(out.interim, resp.StatusCode)
	}
	out.status, out.major, out.minor = resp.StatusCode, resp.ProtoMajor, resp.ProtoMinor
	out.length, out.closing = resp.ContentLength, resp.Close
	out.header = resp.Header
	body, err := io.ReadAll(resp.Body)
	out.body, out.bodyErr = string(body), err != nil
	for k, vs := range resp.Trailer {
		if vs == nil {
			continue
		}
		if out.trailer == nil {
			out.trailer = http.Header{}
		}
		out.trailer[k] = vs
	}
	return out
}

// FuzzH1Response feeds the same bytes to the front door's response parser
// and to net/http's (as Go's transport, and so reverse_proxy, reads
// answers): status, version, framing, fields, body, trailers and the
// verdict on malformed input must agree. The seeds in
// testdata/fuzz/FuzzH1Response run with every go test.
func FuzzH1Response(f *testing.F) {
	for _, s := range []string{
		"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 15\r\n\r\n{\"status\":\"OK\"}",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
		"HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n",
		"HTTP/1.0 200 OK\r\n\r\nuntil the end",
	} {
		f.Add([]byte(s), false)
	}
	f.Fuzz(func(t *testing.T, raw []byte, head bool) {
		method := http.MethodGet
		if head {
			method = http.MethodHead
		}
		ours, std := readOurs(raw, method), readStd(raw, method)
		if std.headErr && ours.headErr {
			return
		}
		if !reflect.DeepEqual(ours, std) {
			t.Fatalf("%s %q:\nours    %+v\nnet/http %+v", method, raw, ours, std)
		}
	})
}

// TestParseHeadTakesTheCommonShape checks which heads the in-place parser
// takes itself (the rest go to net/http, which the fuzz test compares).
func TestParseHeadTakesTheCommonShape(t *testing.T) {
	for _, tc := range []struct {
		name, head string
		want       headState
	}{
		{"plain", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n", headOK},
		{"no reason phrase", "HTTP/1.1 404\r\n\r\n", headOK},
		{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", headOK},
		{"lower-case keys", "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nx-request-id: 7\r\n\r\n", headOK},
		{"incomplete", "HTTP/1.1 200 OK\r\nContent-Le", headMore},
		{"bare LF", "HTTP/1.1 200 OK\nA: b\n\n", headDecline},
		{"folded line", "HTTP/1.1 200 OK\r\nA: b\r\n c\r\n\r\n", headDecline},
		{"two lengths", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n", headDecline},
		{"length and chunked", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n", headDecline},
		{"trailer announced", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-T\r\n\r\n", headDecline},
		{"HTTP/2 status line", "HTTP/2 200\r\n\r\n", headDecline},
		{"space before colon", "HTTP/1.1 200 OK\r\nA : b\r\n\r\n", headDecline},
		{"control byte in value", "HTTP/1.1 200 OK\r\nA: b\x01\r\n\r\n", headDecline},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var res H1Response
			if _, got := res.parseHead([]byte(tc.head), http.MethodGet); got != tc.want {
				t.Fatalf("parseHead(%q) = %d; want %d", tc.head, got, tc.want)
			}
		})
	}
}
