package main

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/esesnap/esesnap/ese"
	"github.com/esesnap/esesnap/ese/driver"
	"github.com/esesnap/esesnap/ese/engine"
	"github.com/esesnap/esesnap/ese/format"
	"github.com/esesnap/esesnap/internal/samples"
	"github.com/esesnap/esesnap/protocol"
)

// endFaultPrefix selects the end-fault double: ESESNAP_TEST_FAULT is
// "end-fails:<JET_err number>".
const endFaultPrefix = "end-fails:"

// endFaultCodes are the return codes of JetEndExternalBackupInstance2 as
// Microsoft documents them.
var endFaultCodes = []ese.Code{
	ese.ErrBackupAbortByCaller,
	ese.ErrBackupAbortByServer,
	ese.ErrClientRequestToStopJetService,
	ese.ErrInstanceUnavailable,
	ese.ErrNoBackup,
	ese.ErrNotInitialized,
	ese.ErrRestoreInProgress,
	ese.ErrRunningInMultiInstanceMode,
	ese.ErrTermInProgress,
}

// endFaultFS is a test double file system: once block is set its reads
// never return, once failWrites is set its writes fail.
type endFaultFS struct {
	blockingReads
	failWrites *atomic.Bool
}

func (f endFaultFS) OpenRW(name string) (engine.File, error) {
	file, err := engine.OSFS{}.OpenRW(name)
	if err != nil || !f.failWrites.Load() {
		return file, err
	}
	return failingFile{file}, nil
}

// endFaultDouble is a test double around a real engine instance: the host
// has read every file (and the driver truncated the logs when asked), and
// at JetEndExternalBackupInstance2(Normal) the double puts the instance into
// the state in which the engine's own End returns the chosen code, as a
// running application would: it stops the backup or the service, ends the
// session itself, terminates the instance (with a call still in flight),
// starts a restore, makes the instance fail, or calls End through the
// legacy single-instance API. JET_errBackupAbortByCaller is the one code
// ESE's source never returns from End (ESENT of Windows XP did); the double
// injects it after ending the session aborted.
type endFaultDouble struct {
	*engine.Instance
	rt   *engine.Runtime
	code ese.Code
	fs   endFaultFS
	src  string
}

func (f *endFaultDouble) EndExternalBackup(grbit ese.Grbit) error {
	if grbit&ese.BackupEndNormal == 0 {
		return f.Instance.EndExternalBackup(grbit)
	}
	in := f.Instance
	switch f.code {
	case ese.ErrBackupAbortByCaller:
		in.EndExternalBackup(ese.BackupEndAbort)
		return &ese.Error{Code: ese.ErrBackupAbortByCaller, Op: "JetEndExternalBackupInstance2",
			Err: errors.New("injected by the end-fault test double")}
	case ese.ErrBackupAbortByServer:
		in.StopBackup() // End succeeds, records nothing: the driver says -801
	case ese.ErrClientRequestToStopJetService:
		in.StopService()
	case ese.ErrNoBackup:
		in.EndExternalBackup(ese.BackupEndAbort)
	case ese.ErrNotInitialized:
		in.Term(ese.TermAbrupt)
	case ese.ErrRunningInMultiInstanceMode:
		return f.rt.Legacy().EndExternalBackup(grbit)
	case ese.ErrTermInProgress:
		names, _, _ := in.GetLogInfo()
		h, _, _ := in.OpenFile(names[0])
		f.fs.armed.Store(true)
		go in.ReadFile(h, ese.AlignedBuffer(1<<20)) // held in the file system: a call in flight
		time.Sleep(100 * time.Millisecond)
		go in.Term(ese.TermAbrupt) // waits for that call
		waitState(in, engine.StateTerminating)
	case ese.ErrRestoreInProgress:
		in.EndExternalBackup(ese.BackupEndAbort)
		f.fs.armed.Store(true)
		gen := archivedGeneration(f.src)
		go in.ExternalRestore(ese.RestoreRequest{BackupLogDir: f.src, LogInfo: ese.LogInfo{GenLow: gen, GenHigh: gen, BaseName: in.BaseName()}})
		waitState(in, engine.StateRestoring)
	case ese.ErrInstanceUnavailable:
		in.EndExternalBackup(ese.BackupEndAbort)
		f.fs.failWrites.Store(true)
		fullBackupInside(in) // its header write fails: the instance is unavailable
	}
	return in.EndExternalBackup(grbit)
}

// openEndFault opens the instance behind the end-fault double.
func openEndFault(fault string, src protocol.Source) (*driver.Instance, error) {
	var code ese.Code
	for _, c := range endFaultCodes {
		if strings.TrimPrefix(fault, endFaultPrefix) == c.Name() {
			code = c
		}
	}
	if code == 0 {
		return nil, &ese.Error{Code: ese.ErrInvalidParameter, Op: "test double", Err: errors.New("unknown end fault " + fault)}
	}
	fs := endFaultFS{blockingReads{armed: new(atomic.Bool)}, new(atomic.Bool)}
	cfg := engine.Config{LogDir: src.Location, Writable: src.Options["writable"] == "true", FS: fs}
	rt := engine.NewRuntime()
	in, err := rt.NewInstance(cfg)
	if err != nil {
		return nil, err
	}
	if err := in.Init(); err != nil {
		return nil, err
	}
	dbl := &endFaultDouble{Instance: in, rt: rt, code: code, fs: fs, src: src.Location}
	return &driver.Instance{API: dbl, RecordsBackups: cfg.Writable, Close: func() error { return in.Term(ese.TermAbrupt) }}, nil
}

// TestEndFailsAfterCommit: every return code of JetEndExternalBackupInstance2
// arises from End itself, in a real plugin process, after every file was
// read and the set committed, both without truncation and after TruncateLog
// deleted logs. esesnap keeps the committed set (directory or tar), exits 4,
// and tells the truth: where the set is, End's JET_err, which logs were
// truncated or that nothing was, and that the headers do not record the
// backup. The source keeps every log that was not reported truncated.
func TestEndFailsAfterCommit(t *testing.T) {
	for _, code := range endFaultCodes {
		for _, truncate := range []bool{false, true} {
			name := code.Name() + "/before-truncate"
			if truncate {
				name = code.Name() + "/after-truncate"
			}
			t.Run(name, func(t *testing.T) {
				src := samples.CopySet(t, "srum-win10-dirty")
				before := logsIn(t, src)
				out := filepath.Join(t.TempDir(), "set")
				target := []string{"--out", out}
				if truncate {
					out += ".tar" // the tar sink, whose committed file the CLI once deleted
					target = []string{"--tar", out}
				}
				args := []string{"backup", "--plugin", os.Args[0], "--plugin-env", testPluginEnv + "=1",
					"--plugin-env", testFaultEnv + "=" + endFaultPrefix + code.Name(), "--source", src, "--writable"}
				if truncate {
					args = append(args, "--truncate-logs")
				}
				stdout, stderr, exit := cli(t, append(args, target...)...)
				if exit != ExitEndFailed {
					t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", exit, ExitEndFailed, stdout, stderr)
				}
				for _, want := range []string{
					"the backup set is stored at " + out,
					"Ending the ESE session failed with " + code.String(),
					"the database headers do not record this backup",
				} {
					if !strings.Contains(stderr, want) {
						t.Errorf("stderr lacks %q:\n%s", want, stderr)
					}
				}
				// The committed set is kept and verifies.
				if _, verr, vcode := cli(t, "verify", out); vcode != 0 {
					t.Fatalf("the kept set does not verify (exit %d): %s", vcode, verr)
				}
				after := logsIn(t, src)
				gone := slices.DeleteFunc(slices.Clone(before), func(l string) bool { return slices.Contains(after, l) })
				if truncate {
					if len(gone) == 0 || !strings.Contains(stderr, "log(s) were truncated from the source") || !strings.Contains(stderr, gone[0]) {
						t.Fatalf("truncated %v; the report must name them:\n%s", gone, stderr)
					}
				} else if len(gone) != 0 || !strings.Contains(stderr, "nothing was truncated") {
					t.Fatalf("logs %v gone without truncation; report:\n%s", gone, stderr)
				}
				if h := sourceHeader(t, filepath.Join(src, "SRUDB.dat")); h.BKInfoFullPrev.GenLow != 0 || h.BKInfoCopyPrev.GenLow != 0 {
					t.Fatalf("the source header records the backup: full %+v copy %+v", h.BKInfoFullPrev, h.BKInfoCopyPrev)
				}
			})
		}
	}
}

func logsIn(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var logs []string
	for _, e := range entries {
		if strings.EqualFold(filepath.Ext(e.Name()), ".log") {
			logs = append(logs, e.Name())
		}
	}
	return logs
}

func sourceHeader(t *testing.T, path string) *format.DBHeader {
	t.Helper()
	hr, err := format.ReadDBHeaderFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return hr.Header
}

// TestResticEndFailsAfterCommit: with restic as the sink, a failed End
// after truncation keeps the snapshot restic saved (it holds the only copy
// of the truncated logs), exits 4 and names the snapshot; the snapshot
// restores.
func TestResticEndFailsAfterCommit(t *testing.T) {
	env, bin, repo := resticEnv(t)
	src := samples.CopySet(t, "srum-win10-dirty")
	args := []string{"backup", "--kind", "full", "--writable", "--truncate-logs", "--plugin", os.Args[0],
		"--plugin-env", testPluginEnv + "=1", "--plugin-env", testFaultEnv + "=" + endFaultPrefix + ese.ErrTermInProgress.Name(),
		"--restic", bin, "--restic-repo", repo, "--source", src}
	_, stderr, code := cliEnv(t, env, args...)
	if code != ExitEndFailed {
		t.Fatalf("exit %d, want %d:\n%s", code, ExitEndFailed, stderr)
	}
	snaps := resticSnapshots(t, env, bin, repo)
	if len(snaps) != 1 {
		t.Fatalf("%d snapshots, want the one the backup stored", len(snaps))
	}
	id, _ := snaps[0]["short_id"].(string)
	if id == "" || !strings.Contains(stderr, "restic snapshot "+id) || !strings.Contains(stderr, "log(s) were truncated") {
		t.Fatalf("the report must name snapshot %q and the truncated logs:\n%s", id, stderr)
	}
	to := t.TempDir()
	if _, rerr, rcode := cliEnv(t, env, "restore", "--restic-repo", repo, "--restic", bin, "--plugin", os.Args[0],
		"--plugin-env", testPluginEnv+"=1", "--snapshot", id, "--to", to); rcode != 0 {
		t.Fatalf("restore of the kept snapshot: exit %d\n%s", rcode, rerr)
	}
}
