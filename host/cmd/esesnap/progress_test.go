package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/esesnap/esesnap/backupset"
	"github.com/esesnap/esesnap/internal/samples"
	"github.com/esesnap/esesnap/protocol"
)

// fakeClock is a clock the test moves by hand.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

// lastLine is the last line drawn with carriage returns, without padding.
func lastLine(out string) string {
	i := strings.LastIndex(out, "\r")
	return strings.TrimRight(out[i+1:], " ")
}

// TestProgressLine drives the progress display with a fake clock through a
// backup of a database and then two logs: the total is the whole set as far
// as it is listed (and grows when the logs are listed), the rate appears
// only after a second and 8 MiB, is measured over the last five seconds
// (not since the start), and the time left follows from it; the line is
// redrawn at most five times a second, and blanked at the end.
func TestProgressLine(t *testing.T) {
	const MiB = 1 << 20
	clock := &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	var out bytes.Buffer
	p := &setProgress{w: &out, now: clock.now, width: 200}

	p.FilesListed([]protocol.File{{Name: `C:\db\ntds.dit`, Size: 100 * MiB, Role: protocol.RoleDatabase}})
	p.FileStarted(protocol.File{Size: 100 * MiB}, "ntds.dit")
	// A small set's first chunk arrives at memory speed: no rate yet.
	clock.advance(time.Millisecond)
	p.FileBytes("ntds.dit", 4*MiB)
	if got := lastLine(out.String()); got != "  0% 0 B / 100.0 MiB listed  ntds.dit" {
		t.Fatalf("first line %q", got) // drawn at the start; 1 ms later is too soon to redraw
	}
	clock.advance(300 * time.Millisecond)
	p.FileBytes("ntds.dit", 6*MiB)
	if got := lastLine(out.String()); got != "  6% 6.0 MiB / 100.0 MiB listed  ntds.dit" {
		t.Fatalf("before a second has passed: %q", got)
	}
	// 10 MiB/s for 5 s, then 20 MiB/s for 2 s: the 5 s window sees
	// 3 s at 10 and 2 s at 20 MiB/s, 14 MiB/s; since the start it would be
	// about 12.9.
	done := int64(6 * MiB)
	for range 50 {
		clock.advance(100 * time.Millisecond)
		done += MiB
		p.FileBytes("ntds.dit", done)
	}
	for range 20 {
		clock.advance(100 * time.Millisecond)
		done += 2 * MiB
		p.FileBytes("ntds.dit", done)
	}
	if done != 96*MiB {
		t.Fatalf("test arithmetic: %d", done)
	}
	// 4 MiB left at 14 MiB/s: 0.29 s, rounded up.
	if got := lastLine(out.String()); got != " 96% 96.0 MiB / 100.0 MiB listed, 14.0 MiB/s, 1s left  ntds.dit" {
		t.Fatalf("rate over the window: %q", got)
	}
	clock.advance(time.Second)
	p.FileDone(backupset.ManifestFile{Name: "ntds.dit", Size: 100 * MiB})
	// The logs are listed after the database: the total grows.
	p.FilesListed([]protocol.File{{Name: "edb00001.log", Size: 100 * MiB}, {Name: "edb00002.log", Size: 100 * MiB}})
	clock.advance(300 * time.Millisecond)
	p.FileStarted(protocol.File{Size: 100 * MiB}, "edb00001.log")
	got := lastLine(out.String())
	if !strings.HasPrefix(got, " 33% 100.0 MiB / 300.0 MiB listed, ") || !strings.HasSuffix(got, " left  edb00001.log") {
		t.Fatalf("after the logs were listed: %q", got)
	}

	// Redraws are throttled: 100 updates within 100 ms draw nothing.
	before := strings.Count(out.String(), "\r")
	for i := range 100 {
		clock.advance(time.Millisecond)
		p.FileBytes("edb00001.log", int64(i)*1000)
	}
	if n := strings.Count(out.String(), "\r") - before; n != 0 {
		t.Fatalf("%d redraws within 100 ms", n)
	}
	p.finish()
	if !strings.HasSuffix(out.String(), "\r"+strings.Repeat(" ", len([]rune(got)))+"\r") {
		t.Fatalf("finish does not blank the line: %q", out.String()[max(0, out.Len()-200):])
	}
}

// TestProgressUnknownSizes: files of unknown size are named as such, and no
// time left is guessed while they are.
func TestProgressUnknownSizes(t *testing.T) {
	clock := &fakeClock{t: time.Unix(0, 0)}
	var out bytes.Buffer
	p := &setProgress{w: &out, now: clock.now, width: 200}
	p.FilesListed([]protocol.File{{Name: "a", Size: 0}, {Name: "b", Size: 64 << 20}})
	p.FileStarted(protocol.File{}, "a")
	for range 30 {
		clock.advance(100 * time.Millisecond)
		p.FileBytes("a", p.current+1<<20)
	}
	got := lastLine(out.String())
	if got != " 31% 30.0 MiB / 94.0 MiB listed + 1 file(s) of unknown size, 10.0 MiB/s  a" {
		t.Fatalf("unknown size: %q", got)
	}
}

// TestProgressOnlyOnTerminal runs a real backup with stderr a pipe: the
// default progress (auto) writes nothing there, and --progress always does.
func TestProgressOnlyOnTerminal(t *testing.T) {
	src := samples.Path(t, "srum-win10-dirty") // read-only: a backup without --writable never writes
	_, stderr, code := cli(t, "backup", "--plugin", os.Args[0], "--plugin-env", testPluginEnv+"=1", "--kind", "copy", "--source", src, "--out", t.TempDir()+"/set")
	if code != ExitOK {
		t.Fatalf("backup: exit %d\n%s", code, stderr)
	}
	if strings.Contains(stderr, "\r") || strings.Contains(stderr, "listed") {
		t.Fatalf("progress written to a pipe:\n%q", stderr)
	}
	_, stderr, code = cli(t, "backup", "--plugin", os.Args[0], "--plugin-env", testPluginEnv+"=1", "--kind", "copy", "--source", src, "--out", t.TempDir()+"/set", "--progress", "always")
	if code != ExitOK || !strings.Contains(stderr, "\r") || !strings.Contains(stderr, " listed") {
		t.Fatalf("--progress always: exit %d, no progress:\n%q", code, stderr)
	}
}
