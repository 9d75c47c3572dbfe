package wsframe

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Opcodes of RFC 6455 §5.2 that the benchmark uses.
const (
	OpText   byte = 0x1
	OpBinary byte = 0x2
	OpClose  byte = 0x8
	OpPing   byte = 0x9
	OpPong   byte = 0xA
)

// MaxPayload bounds the payload [Read] accepts, so a broken peer cannot make
// the benchmark allocate without limit.
const MaxPayload = 1 << 20

// ErrTooLarge is returned by [Read] for a frame whose payload exceeds
// [MaxPayload].
var ErrTooLarge = errors.New("wsframe: frame larger than MaxPayload")

// acceptGUID is the fixed GUID of RFC 6455 §1.3.
const acceptGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// AcceptKey returns the Sec-WebSocket-Accept value for a client's
// Sec-WebSocket-Key (RFC 6455 §4.2.2).
func AcceptKey(key string) string {
	h := sha1.Sum([]byte(key + acceptGUID))
	return base64.StdEncoding.EncodeToString(h[:])
}

// Frame is one WebSocket frame as read from the wire, unmasked.
type Frame struct {
	Fin     bool
	Opcode  byte
	Payload []byte
}

// Write writes one frame with FIN set. A client masks its frames (mask is
// then a 4-byte key, RFC 6455 §5.3); a server passes a nil mask. The payload
// is not modified: masking works on a copy in buf, which Write grows as
// needed and returns for reuse.
func Write(w io.Writer, opcode byte, payload, mask, buf []byte) ([]byte, error) {
	buf = buf[:0]
	buf = append(buf, 0x80|opcode)
	maskBit := byte(0)
	if mask != nil {
		maskBit = 0x80
	}
	n := len(payload)
	switch {
	case n < 126:
		buf = append(buf, maskBit|byte(n))
	case n <= 0xFFFF:
		buf = append(buf, maskBit|126)
		buf = binary.BigEndian.AppendUint16(buf, uint16(n))
	default:
		buf = append(buf, maskBit|127)
		buf = binary.BigEndian.AppendUint64(buf, uint64(n))
	}
	if mask != nil {
		buf = append(buf, mask[:4]...)
		start := len(buf)
		buf = append(buf, payload...)
		for i := range payload {
			buf[start+i] ^= mask[i&3]
		}
	} else {
		buf = append(buf, payload...)
	}
	if _, err := w.Write(buf); err != nil {
		return buf, fmt.Errorf("writing frame: %w", err)
	}
	return buf, nil
}

// Read reads one frame and unmasks its payload into buf (grown as needed);
// the returned Frame's Payload aliases buf until the next call.
func Read(r io.Reader, buf []byte) (Frame, []byte, error) {
	var hdr [14]byte
	if _, err := io.ReadFull(r, hdr[:2]); err != nil {
		return Frame{}, buf, err
	}
	f := Frame{Fin: hdr[0]&0x80 != 0, Opcode: hdr[0] & 0x0F}
	masked := hdr[1]&0x80 != 0
	n := uint64(hdr[1] & 0x7F)
	switch n {
	case 126:
		if _, err := io.ReadFull(r, hdr[2:4]); err != nil {
			return f, buf, fmt.Errorf("reading frame length: %w", err)
		}
		n = uint64(binary.BigEndian.Uint16(hdr[2:4]))
	case 127:
		if _, err := io.ReadFull(r, hdr[2:10]); err != nil {
			return f, buf, fmt.Errorf("reading frame length: %w", err)
		}
		n = binary.BigEndian.Uint64(hdr[2:10])
	}
	if n > MaxPayload {
		return f, buf, ErrTooLarge
	}
	var mask [4]byte
	if masked {
		if _, err := io.ReadFull(r, mask[:]); err != nil {
			return f, buf, fmt.Errorf("reading frame mask: %w", err)
		}
	}
	if uint64(cap(buf)) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := io.ReadFull(r, buf); err != nil {
		return f, buf, fmt.Errorf("reading frame payload: %w", err)
	}
	if masked {
		for i := range buf {
			buf[i] ^= mask[i&3]
		}
	}
	f.Payload = buf
	return f, buf, nil
}
