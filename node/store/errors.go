package store

import "errors"

// ErrNotFound is returned, wrapped, when a lookup matches no row. Test for it
// with errors.Is.
var ErrNotFound = errors.New("store: not found")
