package main

import (
	"strings"
	"testing"
)

func TestTableAlignsByRunesNotBytes(t *testing.T) {
	var tb table
	tb.add("target", "×nginx", "notes")
	tb.title("section")
	tb.add("chorus", "1.25×", "ok")
	var b strings.Builder
	tb.write(&b)
	want := "  target  ×nginx  notes\nsection\n  chorus   1.25×  ok\n"
	if b.String() != want {
		t.Fatalf("got\n%q\nwant\n%q", b.String(), want)
	}
}
