package balancer

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httputil"
	"net/textproto"
)

// H1Response is a node's answer read by an [H1Client]: the head, parsed
// on the caller's goroutine, and the body, read through [H1Response.Read]
// until io.EOF. It must be closed. A zero H1Response is ready for use and
// may be reused after [H1Response.Close]; its strings stay valid after
// that.
//
// Heads in the common shape (HTTP/1.x, one field per line ending in CRLF,
// at most one Content-Length or a Transfer-Encoding of chunked, no
// Trailer field) are parsed in place with one string allocated for the
// whole head; any other head is handed to net/http's own parser
// (http.ReadResponse), so both give the same answer on every input.
type H1Response struct {
	// StatusCode, ProtoMajor and ProtoMinor are the status line's.
	StatusCode, ProtoMajor, ProtoMinor int
	// Fields are the head's header fields in the order received, keys
	// canonical, hop-by-hop fields included; Transfer-Encoding and, with
	// chunked coding, Content-Length are left out, as net/http does.
	Fields []Field
	// ContentLength is the body's length, -1 when unknown (chunked, or
	// delimited by the connection's end). A HEAD answer has the value of
	// its Content-Length field and no body.
	ContentLength int64
	// Closing says the connection ends with this answer.
	Closing bool
	// Declared are the trailer fields the head announced (its Trailer
	// field; chunked coding only).
	Declared []string
	// Trailer holds the trailer fields, once Read returned io.EOF.
	Trailer []Field

	conn           *h1Conn       // the connection; nil once closed
	br             *bufio.Reader // the connection's reader
	client         *H1Client
	framing        framing
	remaining      int64          // bytes left of a length-delimited body
	chunked        io.Reader      // the chunked decoder; nil otherwise
	std            *http.Response // the answer as net/http parsed it; nil on the fast path
	eof            bool           // the body was read to its end
	dropConnection bool           // leave the Connection fields out (they said close)
	err            error          // the body's first error
	abort          abortState     // cancellation of the round trip
	scratch        [64]byte       // a header key being canonicalised
	offs           []fieldOffsets // the fast parser's work list
}

type framing uint8

const (
	noBody framing = iota
	lengthBody
	chunkedBody
	closeBody
	stdBody
)

type fieldOffsets struct {
	k0, k1, v0, v1 int
	canonical      bool
}

// headState is the fast parser's verdict.
type headState uint8

const (
	headMore    headState = iota // the head is not all here yet
	headOK                       // parsed
	headDecline                  // not the common shape: let net/http parse it
)

// tokenByte marks the bytes of an HTTP token (RFC 9110 §5.6.2).
var tokenByte = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()

// valueByte marks the bytes net/http accepts in a field value: VCHAR, SP,
// HTAB and obs-text.
var valueByte = func() (t [256]bool) {
	for c := 0x20; c < 0x7f; c++ {
		t[c] = true
	}
	for c := 0x80; c < 0x100; c++ {
		t[c] = true
	}
	t['\t'] = true
	return t
}()

// parseHead parses the head at the start of b if it has the common shape.
// It returns the head's length (through the empty line) with headOK.
func (res *H1Response) parseHead(b []byte, method string) (int, headState) {
	// Status line: "HTTP/1.1 200 OK\r\n" or "HTTP/1.0 200\r\n".
	eol := bytes.IndexByte(b, '\n')
	if eol < 0 {
		if len(b) >= 13 && !(string(b[:7]) == "HTTP/1." && (b[7] == '0' || b[7] == '1') && b[8] == ' ') {
			return 0, headDecline
		}
		return 0, headMore
	}
	if eol < 13 || b[eol-1] != '\r' || string(b[:7]) != "HTTP/1." || (b[7] != '0' && b[7] != '1') || b[8] != ' ' {
		return 0, headDecline
	}
	code := 0
	for _, c := range b[9:12] {
		if c < '0' || c > '9' {
			return 0, headDecline
		}
		code = code*10 + int(c-'0')
	}
	if code < 100 || code > 599 || (eol > 13 && b[12] != ' ') {
		return 0, headDecline
	}
	res.StatusCode, res.ProtoMajor, res.ProtoMinor = code, 1, int(b[7]-'0')

	res.offs, res.dropConnection = res.offs[:0], false
	pos := eol + 1
	for {
		rest := b[pos:]
		nl := bytes.IndexByte(rest, '\n')
		if nl < 0 {
			return 0, headMore
		}
		if nl == 0 || rest[nl-1] != '\r' {
			return 0, headDecline // a bare LF: net/http's business
		}
		line := rest[:nl-1]
		if len(line) == 0 {
			pos += nl + 1
			break
		}
		// The first byte of a field line is a token byte: a leading
		// blank would be an obsolete line folding.
		colon := -1
		canonical, upper := true, true
		for i, c := range line {
			if c == ':' {
				colon = i
				break
			}
			if !tokenByte[c] {
				return 0, headDecline
			}
			if upper && 'a' <= c && c <= 'z' || !upper && 'A' <= c && c <= 'Z' {
				canonical = false
			}
			upper = c == '-'
		}
		if colon <= 0 {
			return 0, headDecline
		}
		v0, v1 := colon+1, len(line)
		for _, c := range line[v0:] {
			if !valueByte[c] {
				return 0, headDecline
			}
		}
		for v0 < v1 && (line[v0] == ' ' || line[v0] == '\t') {
			v0++
		}
		for v1 > v0 && (line[v1-1] == ' ' || line[v1-1] == '\t') {
			v1--
		}
		res.offs = append(res.offs, fieldOffsets{pos, pos + colon, pos + v0, pos + v1, canonical})
		pos += nl + 1
	}

	// Framing, by the rules of net/http's transfer reader; anything it
	// would reject or treat specially is declined.
	var cl int64 = -1
	chunked, closeTok, keepAlive := false, false, false
	for _, o := range res.offs {
		key, val := b[o.k0:o.k1], b[o.v0:o.v1]
		switch len(key) {
		case 7:
			if asciiEqualFold(key, "trailer") {
				return 0, headDecline
			}
		case 10:
			if asciiEqualFold(key, "connection") {
				for _, tok := range bytes.Split(val, []byte(",")) {
					tok = bytes.Trim(tok, " \t")
					closeTok = closeTok || asciiEqualFold(tok, "close")
					keepAlive = keepAlive || asciiEqualFold(tok, "keep-alive")
				}
			}
		case 14:
			if asciiEqualFold(key, "content-length") {
				if cl >= 0 || len(val) == 0 || len(val) > 18 {
					return 0, headDecline
				}
				cl = 0
				for _, c := range val {
					if c < '0' || c > '9' {
						return 0, headDecline
					}
					cl = cl*10 + int64(c-'0')
				}
			}
		case 17:
			if asciiEqualFold(key, "transfer-encoding") {
				if chunked || res.ProtoMinor == 0 || !asciiEqualFold(val, "chunked") {
					return 0, headDecline
				}
				chunked = true
			}
		}
	}
	if chunked && cl >= 0 {
		return 0, headDecline
	}
	if res.ProtoMinor == 0 {
		res.Closing = closeTok || !keepAlive
	} else {
		// net/http drops an HTTP/1.1 Connection field saying close, so
		// the fields it lists are forwarded (reverse_proxy's quirk).
		res.Closing = closeTok
		res.dropConnection = closeTok
	}
	bodyless := method == http.MethodHead || code < 200 || code == 204 || code == 304
	switch {
	case method == http.MethodHead:
		res.ContentLength, res.framing = cl, noBody
	case bodyless:
		res.ContentLength, res.framing = 0, noBody
	case chunked:
		res.ContentLength, res.framing = -1, chunkedBody
	case cl > 0:
		res.ContentLength, res.framing, res.remaining = cl, lengthBody, cl
	case cl == 0:
		res.ContentLength, res.framing = 0, noBody
	default:
		res.ContentLength, res.framing, res.Closing = -1, closeBody, true
	}
	return pos, headOK
}

// setFields makes Fields from the parsed offsets into head, the head as
// one string.
func (res *H1Response) setFields(head string) {
	res.Fields = res.Fields[:0]
	for _, o := range res.offs {
		key := head[o.k0:o.k1]
		switch {
		case len(key) == 17 && asciiEqualFold(key, "transfer-encoding"):
			continue // net/http removes it once it has read the framing
		case res.dropConnection && len(key) == 10 && asciiEqualFold(key, "connection"):
			continue
		case !o.canonical:
			key = res.canonicalKey(key)
		}
		res.Fields = append(res.Fields, Field{Key: key, Value: head[o.v0:o.v1]})
	}
}

// canonicalKey returns the canonical form of the token key, without
// allocating for the common fields.
func (res *H1Response) canonicalKey(key string) string {
	if len(key) > len(res.scratch) {
		return textproto.CanonicalMIMEHeaderKey(key)
	}
	b := res.scratch[:len(key)]
	upper := true
	for i := 0; i < len(key); i++ {
		c := key[i]
		if upper && 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		} else if !upper && 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b[i] = c
		upper = c == '-'
	}
	if k, ok := commonKeys[string(b)]; ok {
		return k
	}
	return string(b)
}

// commonKeys interns the canonical keys of the fields nodes send most.
var commonKeys = func() map[string]string {
	m := map[string]string{}
	for _, k := range []string{
		"Accept-Ranges", "Access-Control-Allow-Credentials", "Access-Control-Allow-Headers",
		"Access-Control-Allow-Methods", "Access-Control-Allow-Origin", "Access-Control-Expose-Headers",
		"Access-Control-Max-Age", "Age", "Cache-Control", "Connection", "Content-Disposition",
		"Content-Encoding", "Content-Language", "Content-Length", "Content-Range",
		"Content-Security-Policy", "Content-Type", "Date", "Etag", "Expires", "Keep-Alive",
		"Last-Modified", "Link", "Location", "Pragma", "Referrer-Policy", "Retry-After", "Server",
		"Set-Cookie", "Strict-Transport-Security", "Token", "Vary", "Via", "X-Content-Type-Options",
		"X-Frame-Options", "X-Request-Id", "X-Version-Id", "X-Xss-Protection",
	} {
		m[k] = k
	}
	return m
}()

func asciiEqualFold[T string | []byte](b T, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// setStd takes the head from net/http's parse of it.
func (res *H1Response) setStd(r *http.Response) {
	res.std = r
	res.StatusCode, res.ProtoMajor, res.ProtoMinor = r.StatusCode, r.ProtoMajor, r.ProtoMinor
	res.ContentLength, res.Closing = r.ContentLength, r.Close
	res.Fields = res.Fields[:0]
	for k, vs := range r.Header {
		for _, v := range vs {
			res.Fields = append(res.Fields, Field{Key: k, Value: v})
		}
	}
	res.Declared = res.Declared[:0]
	for k := range r.Trailer {
		res.Declared = append(res.Declared, k)
	}
	res.framing = stdBody
	if r.Body == http.NoBody || r.Body == nil {
		res.framing = noBody
	}
}

// Read reads the body. It returns io.EOF at its end, when Trailer is
// complete; a body cut short is io.ErrUnexpectedEOF or the connection's
// error.
func (res *H1Response) Read(p []byte) (int, error) {
	if res.err != nil {
		return 0, res.err
	}
	if res.eof {
		return 0, io.EOF
	}
	var n int
	var err error
	switch res.framing {
	case noBody:
		res.eof = true
		return 0, io.EOF
	case lengthBody:
		if int64(len(p)) > res.remaining {
			p = p[:res.remaining]
		}
		res.ready()
		n, err = res.br.Read(p)
		res.remaining -= int64(n)
		switch {
		case res.remaining == 0:
			res.eof = true
			if n > 0 {
				return n, nil
			}
			return 0, io.EOF
		case err == io.EOF:
			err = io.ErrUnexpectedEOF
		}
	case chunkedBody:
		res.ready()
		n, err = res.chunked.Read(p)
		if err == io.EOF {
			if terr := res.readTrailer(); terr != nil {
				err = terr
			} else {
				res.eof = true
			}
		}
	case closeBody:
		res.ready()
		n, err = res.br.Read(p)
		if err == io.EOF {
			res.eof = true
		}
	case stdBody:
		res.ready()
		n, err = res.std.Body.Read(p)
		if err == io.EOF {
			res.eof = true
			res.Trailer = res.Trailer[:0]
			for k, vs := range res.std.Trailer {
				for _, v := range vs {
					res.Trailer = append(res.Trailer, Field{Key: k, Value: v})
				}
			}
		}
	}
	if err != nil && err != io.EOF {
		res.err = res.readError(err)
		return n, res.err
	}
	return n, err
}

// readTrailer reads the trailer section after the last chunk, as
// net/http does: none (an empty line), or fields ending in an empty line
// within the reader's buffer.
func (res *H1Response) readTrailer() error {
	br := res.br
	buf, err := br.Peek(2)
	if len(buf) == 2 && buf[0] == '\r' && buf[1] == '\n' {
		_, _ = br.Discard(2)
		return nil
	}
	if len(buf) < 2 {
		return errTrailerEOF
	}
	if err != nil {
		return err
	}
	if !upcomingDoubleCRLF(br) {
		return errors.New("balancer: suspiciously long trailer after chunked body")
	}
	hdr, err := textproto.NewReader(br).ReadMIMEHeader()
	if err != nil {
		if err == io.EOF {
			return errTrailerEOF
		}
		return err
	}
	res.Trailer = res.Trailer[:0]
	for k, vs := range hdr {
		for _, v := range vs {
			res.Trailer = append(res.Trailer, Field{Key: k, Value: v})
		}
	}
	return nil
}

var errTrailerEOF = errors.New("balancer: unexpected EOF reading trailer")

// upcomingDoubleCRLF reports whether the reader's buffer holds the end of
// a field section, filling it as far as it goes.
func upcomingDoubleCRLF(r *bufio.Reader) bool {
	for size := 4; ; size++ {
		buf, err := r.Peek(size)
		if bytes.HasSuffix(buf, []byte("\r\n\r\n")) {
			return true
		}
		if err != nil {
			return false
		}
	}
}

// readHead reads one head from br: in place when it has the common shape,
// through http.ReadResponse otherwise.
func (res *H1Response) readHead(br *bufio.Reader, method string) error {
	res.br = br
	res.std, res.chunked, res.eof, res.err = nil, nil, false, nil
	res.Declared, res.Trailer = res.Declared[:0], res.Trailer[:0]
	res.Closing = false
	if _, err := br.Peek(1); err != nil {
		return err
	}
	for {
		b, _ := br.Peek(br.Buffered())
		n, st := res.parseHead(b, method)
		switch st {
		case headOK:
			res.setFields(string(b[:n]))
			_, _ = br.Discard(n)
			if res.framing == chunkedBody {
				res.chunked = httputil.NewChunkedReader(br)
			}
			return nil
		case headMore:
			if br.Buffered() < br.Size() {
				if _, err := br.Peek(br.Buffered() + 1); err != nil {
					if err == io.EOF {
						err = io.ErrUnexpectedEOF
					}
					return err
				}
				continue
			}
		}
		// Declined, or longer than the buffer: net/http parses it. It
		// cannot resume after a timeout, so the round trip's own
		// deadline applies from here.
		if res.conn != nil {
			res.abort.slow(res.conn)
		}
		r, err := http.ReadResponse(br, &http.Request{Method: method})
		if err != nil {
			return err
		}
		res.setStd(r)
		return nil
	}
}

// Interim reports whether the head read is a 1xx other than 101: an
// interim answer, followed by another head.
func (res *H1Response) Interim() bool {
	return res.StatusCode >= 100 && res.StatusCode < 200 && res.StatusCode != http.StatusSwitchingProtocols
}

// Field returns the first value of the field k (canonical) in the head,
// and whether it is there.
func (res *H1Response) Field(k string) (string, bool) {
	for _, f := range res.Fields {
		if f.Key == k {
			return f.Value, true
		}
	}
	return "", false
}

// EndToEnd reports whether the field k (canonical) of the head is
// forwarded: it is not hop-by-hop (RFC 9110 §7.6.1), neither by name nor
// by being listed in Connection.
func (res *H1Response) EndToEnd(k string) bool {
	if HopByHop(k) {
		return false
	}
	for _, f := range res.Fields {
		if f.Key == "Connection" && connectionListed([]string{f.Value}, k) {
			return false
		}
	}
	return true
}
