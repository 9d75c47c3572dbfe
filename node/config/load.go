package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
)

// Load reads the config.json at path and returns the settings a node runs
// with: DefaultConfig, overlaid with the fields present in the file, overlaid
// with MM_<SECTION>_<FIELD> environment variables, then checked by
// [Config.Validate]. Sections and fields Chorus does not know are ignored, so
// a full Mattermost config.json loads.
//
// Load never writes the file; the settings taken from the environment are
// listed by [Config.EnvOverrides]. Errors name the file (a malformed file as
// "path:line:column: message", see [FileError]), the environment variable, or
// the setting that is wrong.
func Load(path string) (*Config, error) {
	return load(path, os.Environ())
}

// load is Load with the environment passed in, so tests need not touch the
// process environment.
func load(path string, environ []string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		// os.PathError already names the file: "open /x/config.json: no such file or directory".
		return nil, fmt.Errorf("reading config: %w", err)
	}
	cfg, dataSourceInFile, err := decode(path, data)
	if err != nil {
		return nil, err
	}
	overridden, err := applyEnv(cfg, environ)
	if err != nil {
		return nil, err
	}
	cfg.envOverrides = overridden
	if !dataSourceInFile && !slices.Contains(overridden, "SqlSettings.DataSource") &&
		cfg.SqlSettings.DriverName != DriverSQLite {
		// The default DataSource is a SQLite file path; handing it to the
		// PostgreSQL or MySQL driver would fail with a confusing parse error,
		// so leave it empty for Validate to name.
		cfg.SqlSettings.DataSource = ""
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// decode parses data over DefaultConfig, so a field missing from the file
// keeps its default, and reports whether the file sets SqlSettings.DataSource.
func decode(path string, data []byte) (cfg *Config, dataSourceInFile bool, err error) {
	cfg = DefaultConfig()
	if err := json.Unmarshal(data, cfg); err != nil {
		return nil, false, newFileError(path, data, err)
	}
	var present struct{ SqlSettings struct{ DataSource *string } }
	if err := json.Unmarshal(data, &present); err != nil {
		return nil, false, newFileError(path, data, err)
	}
	return cfg, present.SqlSettings.DataSource != nil, nil
}

// FileError is a config file that is not valid JSON or has a value of the
// wrong type. Its message is "path:line:column: message", as compilers write
// them, so editors can jump to the spot.
type FileError struct {
	// Path is the file as given to Load.
	Path string
	// Line and Column are 1-based. For a syntax error they point at the
	// offending byte; for a wrong type, at the last byte of the value.
	Line, Column int
	// Err is the *json.SyntaxError or *json.UnmarshalTypeError.
	Err error
}

// Error returns "path:line:column: message".
func (e *FileError) Error() string {
	msg := e.Err.Error()
	var typeErr *json.UnmarshalTypeError
	if errors.As(e.Err, &typeErr) && typeErr.Field != "" {
		// json's own text reads "Go struct field .SqlSettings.MaxOpenConns";
		// name the setting the way the operator wrote it instead.
		msg = fmt.Sprintf("%s: cannot use %s as %s", typeErr.Field, typeErr.Value, typeErr.Type)
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.Path, e.Line, e.Column, msg)
}

// Unwrap returns the JSON error.
func (e *FileError) Unwrap() error { return e.Err }

// newFileError locates a JSON decoding error in data. Errors without an
// offset are wrapped with the file name only.
func newFileError(path string, data []byte, err error) error {
	var offset int64
	var syntaxErr *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntaxErr):
		offset = syntaxErr.Offset
	case errors.As(err, &typeErr):
		offset = typeErr.Offset
	default:
		return fmt.Errorf("%s: %w", path, err)
	}
	line, col := position(data, offset)
	return &FileError{Path: path, Line: line, Column: col, Err: err}
}

// position converts a json error offset ("after reading offset bytes") into
// the 1-based line and column of the byte at offset-1, the last byte read.
// Columns count bytes, not runes.
func position(data []byte, offset int64) (line, col int) {
	pos := int(offset) - 1
	if pos < 0 {
		pos = 0
	}
	if pos > len(data) {
		pos = len(data)
	}
	before := data[:pos]
	line = 1 + bytes.Count(before, []byte("\n"))
	col = pos - bytes.LastIndexByte(before, '\n')
	return line, col
}
