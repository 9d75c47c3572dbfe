package node

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestLayering enforces the one-way layering of the node packages with
// go list: Mattermost held it by convention only and later filed tickets to
// undo api→store calls. Only Chorus packages' own imports are checked, so a
// library's use of net/http (zap has an HTTP level handler) does not count.
func TestLayering(t *testing.T) {
	tests := []struct {
		pkg       string
		forbidden []string
	}{
		{"./app", []string{"net/http", "database/sql", module + "/node/store", module + "/node/api"}},
		{"./api", []string{"database/sql", module + "/node/store"}},
		{"./store", []string{"net/http", module + "/node/app", module + "/node/api"}},
		{"./config", []string{"net/http", "database/sql", module + "/node/app", module + "/node/api", module + "/node/store"}},
		{"./ws", []string{"database/sql", module + "/node/app", module + "/node/api", module + "/node/store"}},
		{"./bind", []string{"net/http", module + "/node/api", module + "/node/ws"}},
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not found")
	}
	for _, tt := range tests {
		t.Run(tt.pkg, func(t *testing.T) {
			out, err := exec.CommandContext(t.Context(), goBin, "list", "-deps",
				"-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, tt.pkg).Output()
			if err != nil {
				t.Fatalf("go list: %v", err)
			}
			for line := range strings.Lines(string(out)) {
				fields := strings.Fields(line)
				if len(fields) == 0 || !strings.HasPrefix(fields[0], module+"/") {
					continue // not Chorus code
				}
				for _, imp := range fields[1:] {
					if slices.Contains(tt.forbidden, imp) {
						t.Errorf("%s (a dependency of %s) imports %s", fields[0], tt.pkg, imp)
					}
				}
			}
		})
	}
}

// module is the Chorus module path.
const module = "github.com/seed331fb32b/chorus"
