package config

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// envPrefix starts every environment override, as in Mattermost
// (server/config/environment.go).
const envPrefix = "MM_"

// applyEnv overrides cfg's settings from environ ("NAME=value" entries, as
// os.Environ returns them). A setting's variable is MM_ followed by its path
// with "_" between the parts, for example MM_SQLSETTINGS_MAXOPENCONNS; names
// match case-insensitively, and when two variables differ only in case the
// later one in environ wins. Values parse as in Mattermost: strings as is,
// bools with strconv.ParseBool, ints in base 10, string lists split on single
// spaces (an empty value is an empty list). Unlike Mattermost, which ignores
// a value it cannot parse, applyEnv returns an error naming the variable.
//
// It returns the overridden settings as sorted "Section.Field" paths.
func applyEnv(cfg *Config, environ []string) ([]string, error) {
	vars := make(map[string]string)
	for _, kv := range environ {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || len(name) < len(envPrefix) || !strings.EqualFold(name[:len(envPrefix)], envPrefix) {
			continue
		}
		vars[strings.ToUpper(name)] = value
	}
	if len(vars) == 0 {
		return nil, nil
	}
	var overridden []string
	err := walkSettings(reflect.ValueOf(cfg).Elem(), nil, func(path []string, field reflect.Value) error {
		name := envPrefix + strings.ToUpper(strings.Join(path, "_"))
		value, ok := vars[name]
		if !ok {
			return nil
		}
		if err := setFromEnv(field, value); err != nil {
			return fmt.Errorf("environment variable %s: %w", name, err)
		}
		overridden = append(overridden, strings.Join(path, "."))
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.Sort(overridden)
	return overridden, nil
}

// walkSettings calls fn for every exported non-struct field under v, with the
// field's path of Go field names (which are the JSON names).
func walkSettings(v reflect.Value, path []string, fn func(path []string, field reflect.Value) error) error {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		p := append(slices.Clip(path), f.Name)
		if f.Type.Kind() == reflect.Struct {
			if err := walkSettings(v.Field(i), p, fn); err != nil {
				return err
			}
			continue
		}
		if err := fn(p, v.Field(i)); err != nil {
			return err
		}
	}
	return nil
}

// setFromEnv parses value into field according to the field's kind. The
// value is not echoed in errors for strings, the only kind that can hold a
// DSN with a password, because strings never fail to parse.
func setFromEnv(field reflect.Value, value string) error {
	switch field.Kind() {
	case reflect.String:
		field.SetString(value)
	case reflect.Bool:
		b, err := strconv.ParseBool(value)
		if err != nil {
			return fmt.Errorf("invalid boolean %q (want true or false)", value)
		}
		field.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(value, 10, field.Type().Bits())
		if err != nil {
			return fmt.Errorf("invalid integer %q", value)
		}
		field.SetInt(n)
	case reflect.Slice:
		if field.Type().Elem().Kind() != reflect.String {
			return fmt.Errorf("unsupported setting type %s", field.Type())
		}
		list := []string{}
		if value != "" {
			// Mattermost splits on a single space, so "a  b" has an empty
			// element; kept for compatibility.
			list = strings.Split(value, " ")
		}
		field.Set(reflect.ValueOf(list))
	default:
		return fmt.Errorf("unsupported setting type %s", field.Type())
	}
	return nil
}
