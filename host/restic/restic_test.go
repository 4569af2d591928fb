package restic

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// testRepo returns Options for a fresh repository in a temporary directory,
// run by the real restic binary.
func testRepo(t *testing.T) Options {
	t.Helper()
	bin, err := exec.LookPath("restic")
	if err != nil {
		gobin := filepath.Join(os.Getenv("HOME"), "go", "bin", "restic")
		if out, gerr := exec.Command("go", "env", "GOPATH").Output(); gerr == nil {
			gobin = filepath.Join(string(bytes.TrimSpace(out)), "bin", "restic")
		}
		if _, serr := os.Stat(gobin); serr != nil {
			t.Fatalf("the real restic binary is needed: go install github.com/restic/restic/cmd/restic@v0.18.1 (and put $(go env GOPATH)/bin on PATH)")
		}
		bin = gobin
	}
	o := Options{
		Binary:   bin,
		Repo:     filepath.Join(t.TempDir(), "repo"),
		Env:      append(os.Environ(), "RESTIC_PASSWORD=esesnap-test", "RESTIC_CACHE_DIR="+t.TempDir()),
		CacheDir: t.TempDir(),
	}
	if err := Init(context.Background(), o); err != nil {
		t.Fatalf("restic init: %v", err)
	}
	return o
}

func TestBackupSnapshotDump(t *testing.T) {
	o := testRepo(t)
	ctx := context.Background()
	b, err := StartBackup(ctx, o, BackupOptions{Filename: "set.tar", Tags: []string{"esesnap", "esesnap:kind=full"}})
	if err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte("esesnap restic sink test "), 40000)
	if _, err := b.Writer().Write(data); err != nil {
		t.Fatal(err)
	}
	sum, err := b.Finish(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sum.SnapshotID == "" || sum.TotalBytesProcessed != int64(len(data)) {
		t.Fatalf("summary %+v", sum)
	}
	snaps, err := Snapshots(ctx, o, "esesnap")
	if err != nil {
		t.Fatal(err)
	}
	if len(snaps) != 1 || snaps[0].ID != sum.SnapshotID || snaps[0].Tag("esesnap:kind=") != "full" {
		t.Fatalf("snapshots %+v", snaps)
	}
	var out bytes.Buffer
	if err := Dump(ctx, o, sum.SnapshotID, "/set.tar", &out); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), data) {
		t.Fatal("restic dump returned other bytes")
	}
}

// TestStopSavesNoSnapshot: a stream stopped before its end never becomes a
// snapshot.
func TestStopSavesNoSnapshot(t *testing.T) {
	o := testRepo(t)
	ctx := context.Background()
	b, err := StartBackup(ctx, o, BackupOptions{Filename: "set.tar", Tags: []string{"esesnap"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Writer().Write(bytes.Repeat([]byte{1}, 1<<20)); err != nil {
		t.Fatal(err)
	}
	b.Stop()
	if _, err := b.Finish(ctx); err == nil {
		t.Fatal("Finish after Stop reported success")
	}
	snaps, err := Snapshots(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(snaps) != 0 {
		t.Fatalf("a killed backup left %d snapshot(s)", len(snaps))
	}
}

func TestWrongPassword(t *testing.T) {
	o := testRepo(t)
	o.Env = append(o.Env, "RESTIC_PASSWORD=not-the-password")
	_, err := Snapshots(context.Background(), o)
	var ee *ExitError
	if !errors.As(err, &ee) || ee.Code != 12 {
		t.Fatalf("want exit code 12 (wrong password), got %v", err)
	}
	b, err := StartBackup(context.Background(), o, BackupOptions{Filename: "x"})
	if err != nil {
		t.Fatal(err)
	}
	b.Writer().Write([]byte("data"))
	_, err = b.Finish(context.Background())
	if !errors.As(err, &ee) || ee.Code != 12 {
		t.Fatalf("backup with a wrong password: want exit code 12, got %v", err)
	}
}

// TestStopReachesWrappedRestic: the restic binary is a wrapper script that
// runs the real restic as its child (here in the background, so its stdin
// is /dev/null). Stopping the backup must stop that child too: an orphaned
// restic reads end-of-stream and saves a snapshot of what it got.
func TestStopReachesWrappedRestic(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("process groups are a Unix feature; Windows kills restic itself")
	}
	o := testRepo(t)
	wrapper := filepath.Join(t.TempDir(), "restic-wrapper")
	// Without job control a shell gives its background job /dev/null as
	// stdin before any redirection of the job's own (POSIX), so the real
	// stdin is kept on fd 3 first: restic must read the pipe, so that only
	// an orphan that outlives Stop ever sees its end and saves a snapshot.
	// (With /dev/null, restic saved an empty snapshot on its own whenever
	// it got that far before Stop: the test was flaky under load.)
	script := "#!/bin/sh\nexec 3<&0\n\"" + o.Binary + "\" \"$@\" <&3 3<&- &\nwait $!\n"
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	w := o
	w.Binary = wrapper
	b, err := StartBackup(context.Background(), w, BackupOptions{Filename: "set.tar"})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond) // the wrapper has started its restic
	killed := make(chan struct{})
	go func() { b.Stop(); close(killed) }()
	select {
	case <-killed:
	case <-time.After(20 * time.Second):
		// Stop waits for restic's output to end; a restic that outlived
		// the kill still holds it.
		t.Fatal("Stop did not return: the wrapper's restic outlived the stop of its process group")
	}
	for range 8 { // an orphaned restic would save its snapshot within seconds
		time.Sleep(time.Second)
		snaps, err := Snapshots(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		if len(snaps) != 0 {
			t.Fatalf("killing the wrapper left %d snapshot(s)", len(snaps))
		}
	}
}

// TestCheckLocal: a local location without a repository is found before
// restic runs; a repository, and a location restic reaches over the
// network, pass.
func TestCheckLocal(t *testing.T) {
	o := testRepo(t)
	empty := t.TempDir()
	cases := []struct {
		name string
		repo string
		env  []string
		want error
	}{
		{"repository", o.Repo, nil, nil},
		{"repository by RESTIC_REPOSITORY", "", []string{"RESTIC_REPOSITORY=" + o.Repo}, nil},
		{"empty directory", empty, nil, ErrNotARepository},
		{"missing directory", filepath.Join(empty, "nope"), nil, ErrNotARepository},
		{"missing by RESTIC_REPOSITORY", "", []string{"RESTIC_REPOSITORY=" + filepath.Join(empty, "nope")}, ErrNotARepository},
		{"remote", "rest:http://127.0.0.1:1/", nil, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := Options{Repo: tc.repo, Env: tc.env}
			if err := c.CheckLocal(); !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("CheckLocal: %v, want %v", err, tc.want)
			}
		})
	}
}
