package restic

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/esesnap/esesnap/host"
)

// Sink is a host.Sink that streams the backup set as a tar into
// `restic backup --stdin`. Commit returns only after restic exited 0 and
// reported the snapshot id, so the plugin records the backup and truncates
// logs only once the snapshot exists. Abort kills restic before closing its
// stdin, so no truncated stream becomes a snapshot.
type Sink struct {
	run     *Backup
	tar     *host.TarSink
	Summary *Summary // set by a successful Commit
}

var _ host.Sink = (*Sink)(nil)

// NewSink starts restic for one backup set.
func NewSink(ctx context.Context, o Options, b BackupOptions) (*Sink, error) {
	run, err := StartBackup(ctx, o, b)
	if err != nil {
		return nil, err
	}
	return &Sink{run: run, tar: host.NewTarSink(run.Writer())}, nil
}

// Create starts the next file of the tar stream.
func (s *Sink) Create(e host.Entry) (io.WriteCloser, error) { return s.tar.Create(e) }

// Commit ends the tar stream with the manifest, closes restic's input and
// waits for the snapshot.
func (s *Sink) Commit(ctx context.Context, manifest []byte, modTime time.Time) error {
	if err := s.tar.Commit(ctx, manifest, modTime); err != nil {
		s.run.Kill()
		return fmt.Errorf("stream the backup set to restic: %w", err)
	}
	sum, err := s.run.Finish(ctx)
	if err != nil {
		return err
	}
	s.Summary = sum
	return nil
}

// Abort kills restic first, then drops the stream.
func (s *Sink) Abort() error {
	kerr := s.run.Kill()
	return errors.Join(kerr, s.tar.Abort())
}
