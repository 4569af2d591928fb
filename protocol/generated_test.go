package protocol

import (
	"os/exec"
	"testing"
)

// TestGeneratedCodeIsCurrent regenerates protocol/snapshotv1 from
// snapshot.proto with the pinned buf and protoc plugins (check-generated.sh
// installs them with go install) and fails when the committed code differs.
func TestGeneratedCodeIsCurrent(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: regenerating needs buf and the protoc plugins; the full suite runs it")
	}
	if _, err := exec.LookPath("bash"); err != nil {
		t.Fatalf("bash is needed to run check-generated.sh: %v", err)
	}
	out, err := exec.Command("bash", "check-generated.sh").CombinedOutput()
	if err != nil {
		t.Fatalf("generated code is stale or cannot be regenerated (run protocol/generate.sh; it installs buf with go install): %v\n%s", err, out)
	}
}
