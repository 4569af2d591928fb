package host

import (
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/esesnap/esesnap/protocol"
)

// TestHostImportsNoESEFormat checks that package host is generic: the ESE
// on-disk format and the ESE set checks are plugged in by ese/eseset,
// which host does not import.
func TestHostImportsNoESEFormat(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/esesnap/esesnap/host").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 5 {
		t.Fatalf("go list -deps lists only %q", deps)
	}
	for _, d := range deps {
		if d == "github.com/esesnap/esesnap/ese/format" || d == "github.com/esesnap/esesnap/ese/eseset" {
			t.Errorf("package host depends on %s", d)
		}
	}
}

// TestUnregisteredFormatFailsVerify verifies an ESE set in a program
// without the "ese" format: it must not pass on hashes alone, and passes
// again once the format is back.
func TestUnregisteredFormatFailsVerify(t *testing.T) {
	esef, ok := LookupFormat(FormatESE)
	if !ok {
		t.Fatal("the test binary registers no ESE format (host/eseset_test.go)")
	}
	dir := filepath.Join(t.TempDir(), "set")
	sink, err := NewDirSink(dir)
	if err != nil {
		t.Fatal(err)
	}
	req := BackupRequest{Kind: protocol.KindFull, Source: protocol.Source{Location: dirtySet(t).Dir}}
	if _, err := Backup(context.Background(), engineDriver(t), req, sink); err != nil {
		t.Fatal(err)
	}

	formats.Lock()
	delete(formats.m, FormatESE)
	formats.Unlock()
	_, err = Verify(context.Background(), dir)
	formats.Lock()
	formats.m[FormatESE] = esef
	formats.Unlock()
	if !errors.Is(err, ErrUnknownFormat) || !strings.Contains(err.Error(), `format "ese"`) {
		t.Fatalf("Verify without the ESE format: %v, want ErrUnknownFormat naming \"ese\"", err)
	}

	rep, err := Verify(context.Background(), dir)
	if err != nil || len(rep.Databases) != 1 || rep.Logs == 0 {
		t.Fatalf("Verify with the ESE format: %v, report %+v", err, rep)
	}
}

// TestRegisterFormatTwicePanics: two packages cannot claim one kind.
func TestRegisterFormatTwicePanics(t *testing.T) {
	esef, _ := LookupFormat(FormatESE)
	defer func() {
		if recover() == nil {
			t.Fatal("registering the ESE format twice did not panic")
		}
	}()
	RegisterFormat(FormatESE, esef)
}
