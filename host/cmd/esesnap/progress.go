package main

import (
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"time"

	"github.com/esesnap/esesnap/backupset"
	"github.com/esesnap/esesnap/protocol"
	"golang.org/x/term"
)

// The progress line is drawn by hand rather than with a progress bar
// library (schollz/progressbar): its speed and remaining time come from its
// own clock and start, which cannot be faked in a test and made a set of a
// few megabytes read "143 GB/s"; its total is one number, while a backup's
// total is only known as far as the plugin has listed files (an ESE plugin
// lists the logs after the databases are read).

// Progress line timing: it is redrawn at most every progressRedraw; the
// rate is measured over the last rateWindow, and shown (with the time left)
// only once rateMinTime has passed and rateMinBytes were stored, so that
// the first chunks, which arrive as fast as memory, are not taken for the
// speed of the backup.
const (
	progressRedraw = 200 * time.Millisecond
	rateWindow     = 5 * time.Second
	rateMinTime    = time.Second
	rateMinBytes   = 8 << 20
)

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// newProgress returns a progress display on w for mode auto (only when w is
// a terminal), always or never; nil means quiet.
func newProgress(w io.Writer, mode string) *setProgress {
	switch mode {
	case "never":
		return nil
	case "always":
	default:
		if !isTerminal(w) {
			return nil
		}
	}
	width := 80
	if f, ok := w.(*os.File); ok {
		if cols, _, err := term.GetSize(int(f.Fd())); err == nil && cols > 20 {
			width = cols
		}
	}
	return &setProgress{w: w, now: time.Now, width: width}
}

// setProgress is the progress of a whole backup set on one line: bytes
// stored of the bytes listed so far, the rate over the last seconds, the
// time left, and the file being read. It implements host.Progress.
type setProgress struct {
	w     io.Writer
	now   func() time.Time
	width int // of the terminal, in columns

	start   time.Time
	listed  int64 // sizes of the files listed so far
	unsized int   // listed files of unknown size
	stored  int64 // bytes of the files done
	current int64 // bytes of the file being read
	name    string
	sized   bool             // the current file's size is in listed
	samples []progressSample // within rateWindow, oldest first
	drawn   time.Time        // when the line was last drawn
	length  int              // of the line drawn, to blank it
}

type progressSample struct {
	at    time.Time
	bytes int64
}

// FilesListed adds a batch of files to the total.
func (p *setProgress) FilesListed(batch []protocol.File) {
	for _, f := range batch {
		if f.Size > 0 {
			p.listed += f.Size
		} else {
			p.unsized++
		}
	}
}

// FileStarted shows the file now read.
func (p *setProgress) FileStarted(f protocol.File, name string) {
	p.name, p.current, p.sized = name, 0, f.Size > 0
	p.update()
}

// FileBytes counts the bytes of the current file stored so far.
func (p *setProgress) FileBytes(name string, done int64) {
	p.current = done
	p.update()
}

// FileDone adds a stored file to the bytes done.
func (p *setProgress) FileDone(f backupset.ManifestFile) {
	p.stored += f.Size
	p.current = 0
	if p.unsized > 0 && f.Size > 0 {
		// A file of unknown size is in the total once it is stored.
		p.listed += f.Size
		p.unsized--
	}
	p.update()
}

// finish blanks the line, so that the summary starts on a clean one.
func (p *setProgress) finish() {
	if p.length > 0 {
		fmt.Fprintf(p.w, "\r%s\r", strings.Repeat(" ", p.length))
		p.length = 0
	}
}

// update records the bytes done and redraws the line when it is due.
func (p *setProgress) update() {
	now := p.now()
	done := p.stored + p.current
	if p.start.IsZero() {
		p.start = now
	}
	p.samples = append(p.samples, progressSample{now, done})
	i := 0
	for i < len(p.samples)-1 && now.Sub(p.samples[i+1].at) >= rateWindow {
		i++ // keep one sample at or beyond the window's start
	}
	p.samples = p.samples[i:]
	if !p.drawn.IsZero() && now.Sub(p.drawn) < progressRedraw {
		return
	}
	p.drawn = now
	line := p.line(now)
	if r := []rune(line); len(r) > p.width-1 {
		line = string(r[:p.width-1])
	}
	pad := ""
	if n := len([]rune(line)); n < p.length {
		pad = strings.Repeat(" ", p.length-n)
	}
	fmt.Fprintf(p.w, "\r%s%s", line, pad)
	p.length = len([]rune(line))
}

// rate is the bytes per second over the last rateWindow, or 0 while too
// little time has passed or too few bytes were stored to tell.
func (p *setProgress) rate(now time.Time) float64 {
	done := p.stored + p.current
	if now.Sub(p.start) < rateMinTime || done < rateMinBytes || len(p.samples) < 2 {
		return 0
	}
	first := p.samples[0]
	span := now.Sub(first.at)
	if span <= 0 {
		return 0
	}
	return float64(done-first.bytes) / span.Seconds()
}

// line renders the progress: "37% 380.0 MiB / 1.0 GiB listed, 52.0 MiB/s,
// 12s left  name". The total says "listed": the plugin may list more files
// (the logs after the databases), and then it grows.
func (p *setProgress) line(now time.Time) string {
	done := p.stored + p.current
	total := p.listed
	if !p.sized {
		total += p.current // a file of unknown size is as big as what was read of it so far
	}
	total = max(total, done)
	var b strings.Builder
	if total > 0 {
		fmt.Fprintf(&b, "%3d%% ", done*100/total)
	}
	fmt.Fprintf(&b, "%s / %s listed", byteSize(done), byteSize(total))
	if p.unsized > 0 {
		fmt.Fprintf(&b, " + %d file(s) of unknown size", p.unsized)
	}
	if r := p.rate(now); r > 0 {
		fmt.Fprintf(&b, ", %s/s", byteSize(int64(r)))
		if left := total - done; left > 0 && p.unsized == 0 {
			secs := math.Ceil(float64(left) / r) // "1s left" rather than "0s left" while anything is
			fmt.Fprintf(&b, ", %s left", time.Duration(secs)*time.Second)
		}
	}
	if p.name != "" {
		b.WriteString("  " + p.name)
	}
	return b.String()
}
