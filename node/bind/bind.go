package bind

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/seed331fb32b/chorus/node/app"
	"github.com/seed331fb32b/chorus/node/store"
)

// Stores returns the app's store interfaces over st, reads that must be
// fresh going to its master (store.WithMaster).
func Stores(st *store.Store) app.Stores {
	return app.Stores{
		Users:    users{st.Users()},
		Sessions: sessions{st.Sessions()},
		Teams:    teams{st.Teams()},
		Channels: channels{st.Channels()},
		Posts:    posts{st.Posts()},
		Statuses: statuses{st.Status()},
		Master:   store.WithMaster,
	}
}

// translate wraps store errors the app acts on with the app's sentinels,
// keeping the store's error in the chain.
func translate(err error) error {
	var conflict *store.ConflictError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("%w: %w", app.ErrNotFound, err)
	case errors.As(err, &conflict):
		return fmt.Errorf("%w: %w", app.ErrConflict, err)
	}
	return err
}

// encodeJSON returns v as a JSON column value; nil maps and slices as
// empty.
func encodeJSON[T any](v T, empty string) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	if string(b) == "null" {
		return empty, nil
	}
	return string(b), nil
}

// decodeJSON reads a JSON column into a new T; an empty column is the zero
// T.
func decodeJSON[T any](column, name string) (T, error) {
	var v T
	if column == "" {
		return v, nil
	}
	if err := json.Unmarshal([]byte(column), &v); err != nil {
		return v, fmt.Errorf("decoding the %s column: %w", name, err)
	}
	return v, nil
}
