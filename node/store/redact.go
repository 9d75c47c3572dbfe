package store

import (
	"net/url"
	"regexp"
	"strings"
)

// redacted replaces a DSN password in error messages.
const redacted = "xxxxx"

// redactedError is an error whose message had a password removed. Unwrap
// keeps errors.Is and errors.As working; the wrapped error's own message
// still holds the password, so it must not be printed on its own.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// redact returns err with every secret removed from its message, or err
// itself when its message holds none.
func redact(err error, secrets []string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	changed := false
	for _, s := range secrets {
		if s != "" && strings.Contains(msg, s) {
			msg = strings.ReplaceAll(msg, s, redacted)
			changed = true
		}
	}
	if !changed {
		return err
	}
	return &redactedError{msg: msg, err: err}
}

var (
	// urlPassword finds "scheme://user:password@", up to the last "@", in
	// URLs too broken for url.Parse. It may take more than the password,
	// which only hides more.
	urlPassword = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.-]*://[^:@/]*:(.*)@`)
	// mysqlPassword finds "user:password@" in go-sql-driver DSNs, whose
	// password may hold any character and ends at the last "@".
	mysqlPassword = regexp.MustCompile(`^[^:@/]*:(.*)@`)
	// keywordPassword finds password=... in PostgreSQL keyword/value DSNs,
	// quoted or not, and in URL query strings.
	keywordPassword = regexp.MustCompile(`(?i)password\s*=\s*('(?:[^'\\]|\\.)*'|[^\s&]+)`)
)

// dsnSecrets returns the passwords a DSN may carry, in the forms an error
// message may show them (as written and URL-decoded). It parses loosely on
// purpose: a DSN a driver cannot parse must still not leak its password.
func dsnSecrets(dsn string) []string {
	var out []string
	add := func(s string) {
		if s == "" {
			return
		}
		out = append(out, s)
		if dec, err := url.PathUnescape(s); err == nil && dec != s {
			out = append(out, dec)
		}
	}
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		if p, ok := u.User.Password(); ok {
			add(p)
		}
	}
	re := mysqlPassword
	if strings.Contains(dsn, "://") {
		re = urlPassword
	}
	if m := re.FindStringSubmatch(dsn); m != nil {
		add(m[1])
	}
	for _, m := range keywordPassword.FindAllStringSubmatch(dsn, -1) {
		add(m[1])
		add(strings.Trim(m[1], "'"))
	}
	return out
}
