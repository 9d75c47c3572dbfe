package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// This file sorts driver errors into the few kinds the store acts on. Like
// dialect.go, it is where the three drivers' differences live; each
// function handles all three, since an error carries its driver's type.

// isConnError reports whether err means the connection to the database
// server was lost or could not be made, rather than that the query failed:
// the errors on which a read replica is taken out of rotation and the read
// retried on the master (Mattermost's sqlxDBWrapper.checkErr, which looks
// for a *net.OpError, widened to what pgx and go-sql-driver return when a
// server shuts down under an open connection).
//
// Timeouts and cancellations are not connection errors: the caller's
// deadline may be the cause, and a retry would double the wait.
func isConnError(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	switch {
	case errors.Is(err, driver.ErrBadConn), // database/sql gave up on its retries
		errors.Is(err, mysql.ErrInvalidConn),
		errors.Is(err, pgconn.ErrConnClosed),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF),
		errors.Is(err, net.ErrClosed),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.ECONNABORTED), errors.Is(err, syscall.EPIPE),
		errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return true
	}
	var connectErr *pgconn.ConnectError
	if errors.As(err, &connectErr) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		// Class 08 is "connection exception"; 57P01-57P03 are the server
		// shutting down (admin_shutdown, crash_shutdown) or not accepting
		// connections yet or any more (cannot_connect_now).
		return strings.HasPrefix(pgErr.Code, "08") ||
			pgErr.Code == "57P01" || pgErr.Code == "57P02" || pgErr.Code == "57P03"
	}
	var myErr *mysql.MySQLError
	if errors.As(err, &myErr) {
		// 1053 ER_SERVER_SHUTDOWN, 1927 ER_CONNECTION_KILLED (MariaDB).
		return myErr.Number == 1053 || myErr.Number == 1927
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		return !opErr.Timeout()
	}
	// Last resort for drivers that flatten the cause into text.
	return strings.Contains(err.Error(), "connection refused")
}

// isUniqueViolation reports whether err is a primary key or unique index
// violation: PostgreSQL 23505, MySQL 1062 (ER_DUP_ENTRY), SQLite
// SQLITE_CONSTRAINT_UNIQUE or SQLITE_CONSTRAINT_PRIMARYKEY.
func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505"
	}
	var myErr *mysql.MySQLError
	if errors.As(err, &myErr) {
		return myErr.Number == 1062
	}
	var liteErr *sqlite.Error
	if errors.As(err, &liteErr) {
		code := liteErr.Code()
		return code == sqlite3.SQLITE_CONSTRAINT_UNIQUE || code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// isRetryableTx reports whether a transaction failed only because it lost
// a race with another one and may succeed if run again: PostgreSQL
// serialization_failure (40001) or deadlock_detected (40P01), MySQL
// deadlock (1213), SQLite busy or locked. Lock wait timeouts are not
// retried: the wait already took its full time.
func isRetryableTx(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "40001" || pgErr.Code == "40P01"
	}
	var myErr *mysql.MySQLError
	if errors.As(err, &myErr) {
		return myErr.Number == 1213
	}
	return isSQLiteBusy(err)
}
