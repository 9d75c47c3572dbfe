// Package config owns the app node's config.json: the Mattermost-format
// settings a node needs ([ServiceSettings], [SqlSettings], [ClusterSettings],
// [TeamSettings], [EmailSettings], [PasswordSettings]), their defaults
// ([DefaultConfig]), loading with environment overrides ([Load]),
// validation ([Config.Validate]) and the copy without secrets that
// GET /api/v4/config shows ([Config.Sanitized]).
//
// The JSON names are Mattermost's, so an operator can keep using the
// config.json sections and MM_<SECTION>_<FIELD> variables they know; sections
// and fields Chorus does not use are ignored when read.
//
// This package owns no I/O beyond reading the one config file named by the
// caller, and it never writes that file: environment overrides live only in
// memory and are listed by [Config.EnvOverrides]. It must not import any other
// Chorus package; every other node package may import it.
package config
