// Package e2e holds the multi-process tests of Chorus: they build the
// chorus binary once and run it as real processes on loopback addresses
// (127.0.0.x), the way an operator does. It has no production code and
// imports nothing of Chorus; it talks to the processes over HTTP and
// signals only.
package e2e
