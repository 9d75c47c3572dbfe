package store

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/seed331fb32b/chorus/node/config"
)

func TestTrace(t *testing.T) {
	for _, trace := range []bool{true, false} {
		t.Run(map[bool]string{true: "on", false: "off"}[trace], func(t *testing.T) {
			settings := testSettings(t, config.DriverSQLite)
			settings.Trace = trace
			core, logs := observer.New(zapcore.DebugLevel)
			s, err := Open(t.Context(), settings, zap.New(core))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if err := s.System().SaveOrUpdate(t.Context(), "traced", "hunter2"); err != nil {
				t.Fatal(err)
			}
			if err := s.Posts().Save(t.Context(), &Post{ID: "p", ChannelID: "c", Message: "hunter2"}); err != nil {
				t.Fatal(err)
			}
			entries := logs.FilterMessage("SQL trace").All()
			if !trace {
				if len(entries) != 0 {
					t.Errorf("Trace off logged %d statements", len(entries))
				}
				return
			}
			var queries []string
			for _, e := range entries {
				fields := e.ContextMap()
				if fields["data_source"] != "SqlSettings.DataSource" {
					t.Errorf("trace entry data_source = %v", fields["data_source"])
				}
				queries = append(queries, fields["query"].(string))
				for k, v := range fields {
					if s, ok := v.(string); ok && strings.Contains(s, "hunter2") {
						t.Errorf("trace field %s holds an argument: %q", k, s)
					}
				}
			}
			joined := strings.Join(queries, "\n")
			for _, want := range []string{"INSERT INTO Systems", "transaction", "INSERT INTO Posts", "UPDATE Channels"} {
				if !strings.Contains(joined, want) {
					t.Errorf("trace lacks %q; traced:\n%s", want, joined)
				}
			}
		})
	}
}

// TestTransactionRetriesADeadlock makes two transactions lock two rows in
// opposite orders on their first attempt. The server kills one of them as
// a deadlock; inTx runs it again and both succeed.
func TestTransactionRetriesADeadlock(t *testing.T) {
	for _, driver := range []string{config.DriverPostgres, config.DriverMySQL} {
		t.Run(driver, func(t *testing.T) {
			t.Parallel()
			s := openTest(t, driver)
			for _, name := range []string{"a", "b"} {
				if err := s.System().SaveOrUpdate(t.Context(), name, "0"); err != nil {
					t.Fatal(err)
				}
			}
			var attempts atomic.Int32
			locked := map[string]chan struct{}{"a": make(chan struct{}), "b": make(chan struct{})}
			var once [2]sync.Once
			lockBoth := func(i int, first, second string) error {
				return s.inTx(t.Context(), func(tx *txn) error {
					n := attempts.Add(1)
					if _, err := tx.exec("UPDATE Systems SET Value = ? WHERE Name = ?", fmt.Sprint(n), first); err != nil {
						return err
					}
					once[i].Do(func() {
						close(locked[first])
						<-locked[second] // both hold one row: each now waits for the other
					})
					_, err := tx.exec("UPDATE Systems SET Value = ? WHERE Name = ?", fmt.Sprint(n), second)
					return err
				})
			}
			var wg sync.WaitGroup
			errs := make([]error, 2)
			wg.Go(func() { errs[0] = lockBoth(0, "a", "b") })
			wg.Go(func() { errs[1] = lockBoth(1, "b", "a") })
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Errorf("transaction %d: %v", i, err)
				}
			}
			if n := attempts.Load(); n != 3 {
				t.Errorf("%d attempts, want 3 (one deadlock victim run again)", n)
			}
		})
	}
}
