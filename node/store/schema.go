package store

import (
	"fmt"
	"regexp"
	"strconv"
)

// SchemaVersion is a Chorus database schema version, major.minor. Every
// migration belongs to one minor version (its file's first line says which,
// "-- schema 1.1"); a release's migrations share one. The database records
// the highest version applied in the Systems row [SchemaVersionKey].
//
// Migrations are additive (see the package doc), so a node keeps working
// on a schema one minor version newer than its own: a rolling upgrade runs
// old and new nodes side by side on the new schema. A schema two or more
// minor versions newer, or of another major version, may lack what an old
// node relies on in ways it cannot know, and [Open] refuses it with a
// [*SchemaVersionError].
type SchemaVersion struct {
	Major, Minor int
}

// String returns "major.minor".
func (v SchemaVersion) String() string { return fmt.Sprintf("%d.%d", v.Major, v.Minor) }

// less reports whether v comes before w.
func (v SchemaVersion) less(w SchemaVersion) bool {
	return v.Major < w.Major || v.Major == w.Major && v.Minor < w.Minor
}

// SchemaVersionKey is the name of the Systems row recording the database's
// schema version, e.g. "1.1". Chorus does not write Mattermost's own
// "Version" row.
const SchemaVersionKey = "ChorusSchemaVersion"

var schemaVersionRE = regexp.MustCompile(`^(\d+)\.(\d+)$`)

// parseSchemaVersion parses "major.minor".
func parseSchemaVersion(s string) (SchemaVersion, error) {
	m := schemaVersionRE.FindStringSubmatch(s)
	if m == nil {
		return SchemaVersion{}, fmt.Errorf("schema version %q is not major.minor", s)
	}
	major, err1 := strconv.Atoi(m[1])
	minor, err2 := strconv.Atoi(m[2])
	if err1 != nil || err2 != nil {
		return SchemaVersion{}, fmt.Errorf("schema version %q is out of range", s)
	}
	return SchemaVersion{Major: major, Minor: minor}, nil
}

// SchemaVersionError is the error of [Open] (and [Store.Recycle]) when the
// database's schema is too new for this node: another major version, or
// more than one minor version ahead. Test for it with errors.As.
type SchemaVersionError struct {
	// Database is the version the database records.
	Database SchemaVersion
	// Node is the newest version this node's migrations know.
	Node SchemaVersion
}

// Error says what is wrong and what to do.
func (e *SchemaVersionError) Error() string {
	if e.Database.Major != e.Node.Major {
		return fmt.Sprintf("the database schema is version %s, of another major version than this node's schema %s: "+
			"run a Chorus release whose schema is %d.x", e.Database, e.Node, e.Database.Major)
	}
	return fmt.Sprintf("the database schema is version %s but this node only knows schema %s: "+
		"a node may run at most one minor version behind the schema; "+
		"upgrade this node to a Chorus release with schema %d.%d or newer",
		e.Database, e.Node, e.Database.Major, max(e.Database.Minor-1, 0))
}

// checkSchema returns a [*SchemaVersionError] when a node knowing schema
// node must not run on a database at schema db.
func checkSchema(db, node SchemaVersion) error {
	if db.Major != node.Major || db.Minor > node.Minor+1 {
		return &SchemaVersionError{Database: db, Node: node}
	}
	return nil
}

var _ error = (*SchemaVersionError)(nil)
