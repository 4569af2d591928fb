// Package conformancetest runs the conformance checks under `go test`, one
// subtest per check. It is the only part of the suite that imports testing,
// so that production code (`esesnap plugin-test`) can use package
// conformance without linking the test framework.
package conformancetest

import (
	"errors"
	"testing"

	"github.com/esesnap/esesnap/conformance"
)

// Run runs every check of conformance.Checks against tgt as a subtest of t,
// for plugin authors' own tests. A check that does not apply (an error
// wrapping conformance.ErrSkip) skips its subtest; any other error fails it.
//
//	func TestConformance(t *testing.T) {
//		conformancetest.Run(t, conformance.Target{
//			Snapshotter: myplugin.New(logger),
//			Source:      protocol.Source{Location: copyOfTestData(t)},
//		})
//	}
func Run(t *testing.T, tgt conformance.Target) {
	t.Helper()
	if tgt.Snapshotter == nil {
		t.Fatal("conformance: Target.Snapshotter is nil")
	}
	for _, c := range conformance.Checks() {
		t.Run(c.Name, func(t *testing.T) {
			err := c.Run(t.Context(), tgt)
			switch {
			case errors.Is(err, conformance.ErrSkip):
				t.Skip(err)
			case err != nil:
				t.Fatal(err)
			}
		})
	}
}
