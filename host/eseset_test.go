package host_test

import (
	"github.com/esesnap/esesnap/ese"
	_ "github.com/esesnap/esesnap/ese/eseset"
	"github.com/esesnap/esesnap/protocol"
)

// The tests of package host back up and verify real ESE sets through real
// plugin processes, so the test binary does what the esesnap CLI does:
// it registers the "ese" set format and decodes the "jet" error domain
// into *ese.Error. Package host itself imports nothing of the ese tree
// (TestHostImportsNoESE).
func init() {
	protocol.RegisterDecoder(ese.Domain, ese.FromRemote)
}
