// Package node is the Chorus app node: [Run] loads config.json, opens and
// migrates the database, builds the app and its HTTP API, serves
// ServiceSettings.ListenAddress until its context ends, then shuts down
// gracefully.
//
// node owns only this wiring and the process lifecycle. It imports its
// subpackages and nothing imports it but cmd/. The layering below it is
// one-way, and layering_test.go enforces it:
//
//	node/api (HTTP) → node/app (rules) → node/store (SQL)
//	every layer may use node/config.
//
// node/app must not import net/http or database/sql, and node/api must not
// import node/store or database/sql.
package node
