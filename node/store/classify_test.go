package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/seed331fb32b/chorus/node/config"
)

func TestIsConnError(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("getting channel x: %w", err) }
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"no rows", sql.ErrNoRows, false},
		{"not found", wrap(ErrNotFound), false},
		{"query timeout", wrap(context.DeadlineExceeded), false},
		{"caller cancelled", wrap(context.Canceled), false},
		{"bad conn", wrap(driver.ErrBadConn), true},
		{"mysql invalid connection", wrap(mysql.ErrInvalidConn), true},
		{"unexpected EOF", wrap(io.ErrUnexpectedEOF), true},
		{"pgx conn closed", wrap(pgconn.ErrConnClosed), true},
		{"connection refused", wrap(&net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}), true},
		{"connection reset", wrap(&net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}), true},
		{"postgres shutting down", wrap(&pgconn.PgError{Code: "57P01"}), true},
		{"postgres starting up", wrap(&pgconn.PgError{Code: "57P03"}), true},
		{"postgres connection exception", wrap(&pgconn.PgError{Code: "08006"}), true},
		{"postgres syntax error", wrap(&pgconn.PgError{Code: "42601"}), false},
		{"postgres unique violation", wrap(&pgconn.PgError{Code: "23505"}), false},
		{"mysql server shutdown", wrap(&mysql.MySQLError{Number: 1053}), true},
		{"mysql duplicate entry", wrap(&mysql.MySQLError{Number: 1062}), false},
		{"text only", errors.New("dial tcp 127.0.0.1:1: connect: connection refused"), true},
		{"other", errors.New("boom"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := isConnError(tt.err); got != tt.want {
				t.Errorf("isConnError(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

// TestDriversConnErrorsAreRecognised connects each server driver to a port
// nothing listens on and checks the real error is a connection error.
func TestDriversConnErrorsAreRecognised(t *testing.T) {
	for _, driverName := range []string{config.DriverPostgres, config.DriverMySQL} {
		t.Run(driverName, func(t *testing.T) {
			d, err := dialectFor(driverName)
			if err != nil {
				t.Fatal(err)
			}
			dsn, err := d.dsn(unreachableDSN(driverName))
			if err != nil {
				t.Fatal(err)
			}
			db, err := sql.Open(d.driver(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			err = db.PingContext(ctx)
			if !isConnError(err) {
				t.Errorf("isConnError(%v) = false", err)
			}
		})
	}
}

func TestIsUniqueViolationAndRetryable(t *testing.T) {
	tests := []struct {
		name              string
		err               error
		unique, retryable bool
	}{
		{"postgres unique", &pgconn.PgError{Code: "23505"}, true, false},
		{"postgres deadlock", &pgconn.PgError{Code: "40P01"}, false, true},
		{"postgres serialization", &pgconn.PgError{Code: "40001"}, false, true},
		{"mysql duplicate", &mysql.MySQLError{Number: 1062}, true, false},
		{"mysql deadlock", &mysql.MySQLError{Number: 1213}, false, true},
		{"mysql lock wait timeout", &mysql.MySQLError{Number: 1205}, false, false},
		{"other", errors.New("boom"), false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := fmt.Errorf("saving: %w", tt.err)
			if got := isUniqueViolation(err); got != tt.unique {
				t.Errorf("isUniqueViolation = %v, want %v", got, tt.unique)
			}
			if got := isRetryableTx(err); got != tt.retryable {
				t.Errorf("isRetryableTx = %v, want %v", got, tt.retryable)
			}
		})
	}
}
