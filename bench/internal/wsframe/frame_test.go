package wsframe

import (
	"bytes"
	"errors"
	"testing"
)

func TestAcceptKeyMatchesRFCExample(t *testing.T) {
	// RFC 6455 §1.3's worked example.
	if got, want := AcceptKey("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="; got != want {
		t.Fatalf("AcceptKey = %q, want %q", got, want)
	}
}

func TestFrameRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name   string
		size   int
		mask   []byte
		opcode byte
	}{
		{"short unmasked frame", 5, nil, OpText},
		{"short masked frame", 125, []byte{1, 2, 3, 4}, OpBinary},
		{"16-bit length", 126, []byte{9, 8, 7, 6}, OpBinary},
		{"64-bit length", 70000, nil, OpBinary},
		{"empty close frame", 0, []byte{1, 1, 1, 1}, OpClose},
	} {
		t.Run(tc.name, func(t *testing.T) {
			payload := bytes.Repeat([]byte("abcdefg"), tc.size/7+1)[:tc.size]
			orig := append([]byte(nil), payload...)
			var wire bytes.Buffer
			if _, err := Write(&wire, tc.opcode, payload, tc.mask, nil); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(payload, orig) {
				t.Fatal("Write modified the caller's payload")
			}
			f, _, err := Read(&wire, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !f.Fin || f.Opcode != tc.opcode || !bytes.Equal(f.Payload, orig) {
				t.Fatalf("read back fin=%v opcode=%d len=%d, want fin opcode=%d len=%d", f.Fin, f.Opcode, len(f.Payload), tc.opcode, len(orig))
			}
			if wire.Len() != 0 {
				t.Fatalf("%d bytes left over", wire.Len())
			}
		})
	}
}

func TestReadRefusesOversizedFrame(t *testing.T) {
	wire := []byte{0x82, 127, 0, 0, 0, 0, 0x10, 0, 0, 0} // 256 MiB
	if _, _, err := Read(bytes.NewReader(wire), nil); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
}
