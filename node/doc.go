// Package node is the Chorus app node: [Run] loads config.json, opens and
// migrates the database, builds the app and its HTTP API, serves
// ServiceSettings.ListenAddress until its context ends, then shuts down
// gracefully.
//
// node owns only this wiring and the process lifecycle. It imports its
// subpackages and nothing imports it but cmd/. The layering below it is
// one-way, and layering_test.go enforces it:
//
//	node/api (HTTP, and node/ws, the WebSocket hub) → node/app (rules) → node/store (SQL)
//	node/bind adapts node/store to node/app's store interfaces
//	every layer may use node/config.
//
// node/app must not import net/http or database/sql, node/api must not
// import node/store or database/sql, node/ws must not import node/app,
// node/api or node/store, and only the wiring here (and tests) import
// node/bind.
package node
