package config

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// SettingError is one setting with a value a node cannot run with.
type SettingError struct {
	// Setting is the path of the setting, e.g. "SqlSettings.DriverName".
	Setting string
	// Problem says what is wrong, in lower case.
	Problem string
}

// Error returns "Setting: Problem".
func (e *SettingError) Error() string { return e.Setting + ": " + e.Problem }

// settingErrors is every problem Validate found. Its message stays on one
// line ("; " between problems) so a node's fatal log line shows all of them.
type settingErrors []error

func (e settingErrors) Error() string {
	msgs := make([]string, len(e))
	for i, err := range e {
		msgs[i] = err.Error()
	}
	return strings.Join(msgs, "; ")
}

func (e settingErrors) Unwrap() []error { return e }

// Validate reports the settings a node cannot start with: an unknown
// SqlSettings.DriverName, an empty SqlSettings.DataSource, a
// ServiceSettings.ListenAddress that is not host:port, and
// ClusterSettings.Enable without a ClusterSettings.ClusterName. The error
// names every bad setting (each a [*SettingError] reachable with errors.As)
// and never includes the DataSource. Validate changes nothing.
func (c *Config) Validate() error {
	var errs settingErrors
	add := func(setting, format string, args ...any) {
		errs = append(errs, &SettingError{Setting: setting, Problem: fmt.Sprintf(format, args...)})
	}

	if err := checkListenAddress(c.ServiceSettings.ListenAddress); err != "" {
		add("ServiceSettings.ListenAddress", "%s", err)
	}
	switch c.SqlSettings.DriverName {
	case DriverSQLite, DriverPostgres, DriverMySQL:
		if c.SqlSettings.DataSource == "" {
			add("SqlSettings.DataSource", "empty; the %s driver needs a data source", c.SqlSettings.DriverName)
		}
	default:
		add("SqlSettings.DriverName", "unknown driver %q (want %q, %q or %q)",
			c.SqlSettings.DriverName, DriverSQLite, DriverPostgres, DriverMySQL)
	}
	if c.ClusterSettings.Enable && c.ClusterSettings.ClusterName == "" {
		// An unnamed cluster lets HTTP work through the balancer while events
		// never reach the other nodes (mattermost/mattermost#17762).
		add("ClusterSettings.ClusterName", "empty; required when ClusterSettings.Enable is true")
	}

	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errs[0]
	}
	return errs
}

// checkListenAddress returns what is wrong with addr, or "" if it is a
// host:port with a numeric port, the form net.Listen("tcp", addr) takes.
func checkListenAddress(addr string) string {
	if addr == "" {
		return "empty; want host:port such as \":8065\""
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Sprintf("%q is not host:port such as \":8065\"", addr)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Sprintf("%q has an invalid port %q", addr, port)
	}
	return ""
}
