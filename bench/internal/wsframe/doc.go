// Package wsframe is the little of RFC 6455 (WebSocket) that the benchmark
// needs: the opening handshake's accept key, and reading and writing single
// frames. The bench backend uses it to echo, the load tool to send and time
// messages. It supports no extensions and no fragmentation beyond passing
// frames through as they are; it is test equipment, not a WebSocket library.
//
// It must not import anything of Chorus: the benchmark measures the front
// door from outside.
//
// Entry points: [AcceptKey], [Write], [Read].
package wsframe
