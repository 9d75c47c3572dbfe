package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// runE adapts a Chorus subcommand to cobra: a failure prints one line,
// "chorus <command>: <error>", on stderr and exits 1. (Caddy's own wrapper
// would print a JSON log line instead.)
func runE(name string, f func(cmd *cobra.Command, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		err := f(cmd, args)
		if err != nil {
			fmt.Fprintf(os.Stderr, "chorus %s: %v\n", name, err)
			cmd.SilenceErrors = true
		}
		return err
	}
}
