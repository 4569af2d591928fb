package host

import (
	"github.com/esesnap/esesnap/ese"
	"github.com/esesnap/esesnap/protocol"
)

// The host speaks ESE: a JET_err from a plugin in another process comes
// back as *ese.Error (ese.FromRemote), so that errors.As(err, **ese.Error)
// and errors.Is(err, ese.ErrBackupAbortByServer) work on what host.Backup,
// verify and restore return, exactly as with an in-process plugin. The
// plugin client adapter stays generic: it rebuilds a *protocol.Error, and
// this decoder turns those of domain "jet" into *ese.Error.
func init() {
	protocol.RegisterDecoder(ese.Domain, ese.FromRemote)
}
