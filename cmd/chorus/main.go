// Command chorus is the one Chorus binary: Caddy's command line (run, adapt,
// reload, list-modules, version, …) with Caddy's standard modules and the
// Chorus front-door modules compiled in, plus the Chorus subcommands "node"
// (one app node) and "demo" (a local cluster behind the front door).
package main

import (
	"os"
	_ "time/tzdata"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	_ "github.com/caddyserver/caddy/v2/modules/standard"

	_ "github.com/seed331fb32b/chorus/caddymodule"
)

func main() {
	tuneRuntime(os.Args[1:], os.LookupEnv)
	caddycmd.Main()
}
