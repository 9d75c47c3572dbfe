// Command wsload measures what open WebSockets cost a proxy: it opens N
// concurrent WebSockets through the proxy to the bench backend's echo
// endpoint, reads the proxy's resident memory (VmRSS of the process and its
// children, from /proc) before dialing and with every socket open, times an
// echo round trip on a bounded sample of sockets, then closes them all.
//
// Everything is bounded: at most -conns sockets, -dial-concurrency
// handshakes in flight, -rounds echo rounds of at most -sample messages
// each, an overall -timeout, and dialing stops early once errors pile up
// (for instance when a file-descriptor limit is reached).
//
// Sockets are spread over several loopback source addresses (-src) so that
// the 28k ephemeral ports of one address never run short.
//
// Usage:
//
//	wsload -url ws://127.0.0.1:PORT/api/v4/websocket -conns 10000 -pid PROXYPID
//
// The result is one JSON object on standard output (see [result]); progress
// goes to standard error.
package main
