package host

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/esesnap/esesnap/backupset"
	"github.com/esesnap/esesnap/ese/eseset"
)

// TestHostImportsNoESE checks that the generic parts are generic: the
// runner, the set format, the protocol, the plugin glue, the conformance
// suite, the catalog and the non-ESE example plugin have nothing of the ese
// tree among their dependencies; the ESE set checks are plugged in by
// ese/eseset and JET_err decoding by the program.
func TestHostImportsNoESE(t *testing.T) {
	for _, pkg := range []string{"github.com/esesnap/esesnap/host", "github.com/esesnap/esesnap/backupset", "github.com/esesnap/esesnap/protocol",
		"github.com/esesnap/esesnap/plugin", "github.com/esesnap/esesnap/conformance", "github.com/esesnap/esesnap/host/catalog",
		"github.com/esesnap/esesnap/examples/dirsnap/cmd/dirsnap-plugin"} {
		out, err := exec.Command("go", "list", "-deps", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
		}
		deps := strings.Fields(string(out))
		if len(deps) < 5 {
			t.Fatalf("go list -deps %s lists only %q", pkg, deps)
		}
		for _, d := range deps {
			if d == "github.com/esesnap/esesnap/ese" || strings.HasPrefix(d, "github.com/esesnap/esesnap/ese/") {
				t.Errorf("package %s depends on %s", pkg, d)
			}
		}
	}
}

// TestRegisterFormatTwicePanics: two packages cannot claim one kind.
func TestRegisterFormatTwicePanics(t *testing.T) {
	esef, _ := backupset.LookupFormat(eseset.Kind)
	defer func() {
		if recover() == nil {
			t.Fatal("registering the ESE format twice did not panic")
		}
	}()
	backupset.RegisterFormat(eseset.Kind, esef)
}
