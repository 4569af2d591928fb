package main

import (
	"io"
	"os"

	"github.com/esesnap/esesnap/backupset"
	"github.com/esesnap/esesnap/protocol"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// barProgress shows one progress bar per file on stderr.
type barProgress struct {
	w   io.Writer
	bar *progressbar.ProgressBar
}

// newProgress returns a progress display for mode auto (only when w is a
// terminal), always or never; nil means quiet.
func newProgress(w io.Writer, mode string) *barProgress {
	switch mode {
	case "never":
		return nil
	case "always":
	default:
		f, ok := w.(*os.File)
		if !ok || !term.IsTerminal(int(f.Fd())) {
			return nil
		}
	}
	return &barProgress{w: w}
}

func (p *barProgress) FileStarted(f protocol.File, name string) {
	p.finish()
	size := f.Size
	if size <= 0 {
		size = -1
	}
	p.bar = progressbar.NewOptions64(size,
		progressbar.OptionSetWriter(p.w),
		progressbar.OptionSetDescription(name),
		progressbar.OptionShowBytes(true),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100_000_000),
		progressbar.OptionClearOnFinish(),
	)
}

func (p *barProgress) FileBytes(name string, done int64) {
	if p.bar != nil {
		p.bar.Set64(done)
	}
}

func (p *barProgress) FileDone(f backupset.ManifestFile) { p.finish() }

func (p *barProgress) finish() {
	if p.bar != nil {
		p.bar.Finish()
		p.bar = nil
	}
}
