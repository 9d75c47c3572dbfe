package pgcluster

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"strconv"
	"strings"
)

// serverUser is the system user the servers run as when the test runs as
// root; Debian's postgresql-common package creates it.
const serverUser = "postgres"

// errNoServerUser reports that the test runs as root and serverUser does not
// exist; like missing binaries, it skips the test (or fails it under CI=true).
var errNoServerUser = errors.New("pgcluster: running as root and no " + serverUser + " user exists")

// account is the operating-system user the PostgreSQL processes run as.
type account struct {
	name string // user name, for messages
	uid  int    // numeric user id; meaningful only when switched
	gid  int    // primary group id; meaningful only when switched
	home string // home directory, given to the tools as $HOME when switched

	// switched is true when the test runs as root and the tools run as
	// serverUser instead, because initdb and postgres refuse to run as root.
	// Then every directory the servers write is chowned to uid and gid.
	switched bool
}

// currentAccount returns the account the tools run as: the current user,
// unless that is root.
func currentAccount() (account, error) {
	if os.Geteuid() != 0 || !canSwitchUser {
		name := strconv.Itoa(os.Geteuid())
		if u, err := user.Current(); err == nil {
			name = u.Username
		}
		return account{name: name}, nil
	}
	u, err := user.Lookup(serverUser)
	if err != nil {
		var unknown user.UnknownUserError
		if errors.As(err, &unknown) {
			return account{}, errNoServerUser
		}
		return account{}, fmt.Errorf("pgcluster: looking up user %s: %w", serverUser, err)
	}
	uid, err := strconv.Atoi(u.Uid)
	if err != nil {
		return account{}, fmt.Errorf("pgcluster: parsing uid %q of %s: %w", u.Uid, serverUser, err)
	}
	gid, err := strconv.Atoi(u.Gid)
	if err != nil {
		return account{}, fmt.Errorf("pgcluster: parsing gid %q of %s: %w", u.Gid, serverUser, err)
	}
	return account{name: u.Username, uid: uid, gid: gid, home: u.HomeDir, switched: true}, nil
}

// mkdir creates dir with mode 0700 and, when a is switched, hands it to a.
func (a account) mkdir(dir string) error {
	if err := os.Mkdir(dir, 0o700); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	return a.own(dir)
}

// own hands path to a when a is switched; otherwise it does nothing.
func (a account) own(path string) error {
	if !a.switched {
		return nil
	}
	if err := os.Chown(path, a.uid, a.gid); err != nil {
		return fmt.Errorf("handing %s to %s: %w", path, a.name, err)
	}
	return nil
}

// environ returns the environment for the tools: this process's, without the
// libpq variables (PGHOST, PGPORT, PGDATA, PGOPTIONS, ...) that would redirect
// or reconfigure them, and with $HOME set to a's home when switched, so libpq
// never looks for root's ~/.pgpass.
func (a account) environ() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PG") || (a.switched && strings.HasPrefix(kv, "HOME=")) {
			continue
		}
		env = append(env, kv)
	}
	if a.switched {
		env = append(env, "HOME="+a.home)
	}
	return env
}
