package main

import (
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// importsTestingAllowed are the packages outside this module that may
// import testing in the production binaries: hashicorp/go-plugin has
// test helpers (its testing.go) in its main package, so every go-plugin
// binary lists testing among its dependencies. No package of this module
// may be among them.
var importsTestingAllowed = []string{"github.com/hashicorp/go-plugin"}

// TestProductionBinariesLinkNoTestCode lists the dependencies of esesnap
// and esesnap-plugin, for Linux and Windows, with go list, and fails when
// the synthetic-set generator, the go test adapter of the conformance suite,
// or any package importing testing (but go-plugin's) is among them.
func TestProductionBinariesLinkNoTestCode(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatal("go list needs the go command:", err)
	}
	for _, pkg := range []string{"github.com/esesnap/esesnap/host/cmd/esesnap", "github.com/esesnap/esesnap/plugin/cmd/esesnap-plugin"} {
		for _, goos := range []string{"linux", "windows"} {
			t.Run(pkg[strings.LastIndex(pkg, "/")+1:]+"/"+goos, func(t *testing.T) {
				cmd := exec.Command(gobin, "list", "-deps", "-f", `{{.ImportPath}}{{"\t"}}{{join .Imports " "}}`, pkg)
				cmd.Env = append(os.Environ(), "GOOS="+goos, "GOARCH=amd64", "CGO_ENABLED=0")
				out, err := cmd.Output()
				if err != nil {
					t.Fatalf("go list -deps %s (GOOS=%s): %v", pkg, goos, err)
				}
				var deps int
				for line := range strings.Lines(string(out)) {
					path, imports, _ := strings.Cut(strings.TrimSpace(line), "\t")
					deps++
					switch {
					case path == "github.com/esesnap/esesnap/ese/synth":
						t.Errorf("%s links the test-data generator %s", pkg, path)
					case path == "github.com/esesnap/esesnap/conformance/conformancetest" || strings.HasSuffix(path, "/conformancetest"):
						t.Errorf("%s links the go test adapter %s", pkg, path)
					case path == "github.com/esesnap/esesnap/internal/samples" || path == "github.com/esesnap/esesnap/internal/wine":
						t.Errorf("%s links the test helper %s", pkg, path)
					}
					if slices.Contains(strings.Fields(imports), "testing") && !slices.Contains(importsTestingAllowed, path) {
						t.Errorf("%s links %s, which imports testing", pkg, path)
					}
				}
				// The list is real: it holds the binary itself and the
				// packages it is built from.
				if deps < 50 || !strings.Contains(string(out), pkg+"\t") || !strings.Contains(string(out), "github.com/esesnap/esesnap/plugin\t") {
					t.Fatalf("go list -deps %s (GOOS=%s) listed %d packages, not the binary's:\n%s", pkg, goos, deps, out)
				}
			})
		}
	}
}
