package app_test

import (
	"context"
	"fmt"

	"github.com/seed331fb32b/chorus/node/app"
	"github.com/seed331fb32b/chorus/node/config"
)

// memSystem is an in-memory Systems table.
type memSystem map[string]string

func (m memSystem) SaveOrUpdate(_ context.Context, name, value string) error {
	m[name] = value
	return nil
}

func (m memSystem) PermanentDeleteByName(_ context.Context, name string) error {
	delete(m, name)
	return nil
}

func ExampleApp_Healthy() {
	rows := memSystem{}
	a := app.New(app.Deps{Config: config.DefaultConfig(), System: rows})

	st := a.Healthy(context.Background(), true)
	fmt.Println(st.Status, st.DatabaseStatus, len(rows))
	// Output: OK OK 0
}
