// Package bind adapts node/store's accessors to the store interfaces
// node/app declares ([app.Stores]): it converts store rows to the app's
// models and back (JSON columns to maps), and store errors to the app's
// ([app.ErrNotFound], [app.ErrConflict]). [Stores] is its entry point; the
// node wires it, and tests of node/api use it to build a real App.
//
// bind holds no rules and writes no SQL. It may import node/app and
// node/store, and nothing may import it but the node's wiring and tests:
// node/app must never see node/store, nor node/store node/app.
package bind
