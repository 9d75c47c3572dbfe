package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/spf13/cobra"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/seed331fb32b/chorus/node"
)

func init() {
	caddycmd.RegisterCommand(caddycmd.Command{
		Name:  "node",
		Usage: "--config <config.json>",
		Short: "Runs one Chorus app node",
		Long: `
Runs one Chorus app node: the Mattermost-compatible chat server, configured
by a config.json in Mattermost's format. MM_<SECTION>_<FIELD> environment
variables override the file (and are never written back to it).

SIGTERM or SIGINT shuts the node down gracefully: it stops accepting
connections, lets requests in flight finish, and closes its database.`,
		CobraFunc: func(cmd *cobra.Command) {
			cmd.Flags().StringP("config", "c", "config.json", "the node's config.json")
			cmd.Args = cobra.NoArgs
			cmd.RunE = runE("node", runNode)
		},
	})
}

func runNode(cmd *cobra.Command, _ []string) error {
	path, _ := cmd.Flags().GetString("config")
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	return node.Run(ctx, path, newLogger())
}

// newLogger is the app node's structured log on stderr.
func newLogger() *zap.Logger {
	cfg := zap.NewProductionConfig()
	cfg.EncoderConfig.EncodeTime = zapcore.ISO8601TimeEncoder
	cfg.Sampling = nil
	log, err := cfg.Build()
	if err != nil {
		return zap.NewNop()
	}
	return log
}
