package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/esesnap/esesnap/ese"
	"github.com/esesnap/esesnap/ese/driver"
	"github.com/esesnap/esesnap/ese/engine"
	"github.com/esesnap/esesnap/plugin"
	"github.com/esesnap/esesnap/protocol"
	"github.com/hashicorp/go-hclog"
)

// The test binary doubles as a fault-injecting plugin: with
// ESESNAP_TEST_PLUGIN=1 (passed by the CLI with --plugin-env) TestMain serves
// the ESE driver over the real engine, with the engine instance put into the
// state ESESNAP_TEST_FAULT names. Every JET_err below is produced by the
// engine itself; the doubles only drive it there at the right moment.
const (
	testPluginEnv = "ESESNAP_TEST_PLUGIN"
	testFaultEnv  = "ESESNAP_TEST_FAULT"
	// testStallEnv names the marker file of the stall faults: the double
	// creates it when it stalls and goes on once it is removed.
	testStallEnv = "ESESNAP_TEST_STALL"
)

func servePluginDouble() {
	logger := hclog.New(&hclog.LoggerOptions{Output: os.Stderr, JSONFormat: true, Level: hclog.Warn})
	fault := os.Getenv(testFaultEnv)
	var impl protocol.Snapshotter = driver.New(driver.Config{
		Name: "esesnap-test-double", Version: "0",
		Open: func(ctx context.Context, src protocol.Source) (*driver.Instance, error) {
			return openFaulty(fault, src)
		},
		Restore: func(ctx context.Context, req ese.RestoreRequest) error {
			if err := engine.ExternalRestore(req, logger); err != nil {
				return err
			}
			if fault == "refuse-restore-after-staging" {
				// As ESE's JetExternalRestore2 failing its replay after it
				// placed the files: the host must take the staging back.
				return &ese.Error{Code: ese.ErrRecoveredWithErrors, Op: "JetExternalRestore2", Err: errors.New("faultDouble: recovery refused after staging")}
			}
			return nil
		},
		Logger: logger,
	})
	if fault == "hostile-name" {
		impl = hostileNames{impl}
	}
	plugin.Serve(impl, logger)
}

func openFaulty(fault string, src protocol.Source) (*driver.Instance, error) {
	if fault == "refuse-restic-env" {
		// The plugin must never see restic's repository or password.
		for _, kv := range os.Environ() {
			if strings.HasPrefix(kv, "RESTIC_") {
				k, _, _ := strings.Cut(kv, "=")
				return nil, fmt.Errorf("faultDouble: the plugin's environment holds %s", k)
			}
		}
	}
	if strings.HasPrefix(fault, endFaultPrefix) {
		return openEndFault(fault, src)
	}
	cfg := engine.Config{LogDir: src.Location, Writable: src.Options["writable"] == "true"}
	wrap := func(in *engine.Instance, api ese.BackupAPI) *driver.Instance {
		return &driver.Instance{API: api, RecordsBackups: cfg.Writable, Close: func() error { return in.Term(ese.TermAbrupt) }}
	}
	switch fault {
	case "not-initialized":
		in, err := engine.NewRuntime().NewInstance(cfg)
		if err != nil {
			return nil, err
		}
		return wrap(in, in), nil
	case "multi-instance":
		rt := engine.NewRuntime()
		in, err := rt.NewInstance(cfg)
		if err != nil {
			return nil, err
		}
		return wrap(in, rt.Legacy()), nil
	case "instance-unavailable":
		cfg.Writable, cfg.FS = true, failingWrites{}
		in, err := engine.Open(cfg)
		if err != nil {
			return nil, err
		}
		fullBackupInside(in) // its header write fails: the instance is unavailable
		return wrap(in, in), nil
	case "backup-in-progress":
		other, err := engine.Open(cfg)
		if err != nil {
			return nil, err
		}
		if err := other.BeginExternalBackup(0); err != nil {
			return nil, err
		}
		in, err := engine.Open(cfg)
		if err != nil {
			return nil, err
		}
		return wrap(in, in), nil
	case "term-in-progress":
		block := blockingReads{armed: new(atomic.Bool)}
		cfg.FS = block
		in, err := engine.Open(cfg)
		if err != nil {
			return nil, err
		}
		in.BeginExternalBackup(0)
		dbs, _ := in.GetAttachInfo()
		h, _, _ := in.OpenFile(dbs[0])
		block.armed.Store(true)
		go in.ReadFile(h, ese.AlignedBuffer(1<<20)) // blocks in the file system
		time.Sleep(100 * time.Millisecond)
		go in.Term(ese.TermAbrupt) // waits for that read
		waitState(in, engine.StateTerminating)
		return wrap(in, in), nil
	case "restore-in-progress":
		block := blockingReads{armed: new(atomic.Bool)}
		cfg.FS = block
		in, err := engine.Open(cfg)
		if err != nil {
			return nil, err
		}
		block.armed.Store(true)
		gen := archivedGeneration(src.Location)
		go in.ExternalRestore(ese.RestoreRequest{BackupLogDir: src.Location, LogInfo: ese.LogInfo{GenLow: gen, GenHigh: gen, BaseName: in.BaseName()}})
		waitState(in, engine.StateRestoring)
		return wrap(in, in), nil
	}
	in, err := engine.Open(cfg)
	if err != nil {
		return nil, err
	}
	return wrap(in, &faultyAPI{Instance: in, fault: fault}), nil
}

// faultyAPI is a test double around a real engine instance that, at one
// moment of the sequence, makes the engine (or the process) do what a
// running application would: stop the backup, stop the service, end the
// session behind the host's back, or die.
//
// The stall faults hold the backup at one point, so that a test can
// interrupt esesnap exactly there: stall-begin right after Begin (nothing
// streamed yet), stall-mid-db at the second read of the first database
// (its first chunk sent), stall-mid-logs at the first read of the second
// log (the first one sent), stall-after-last-log once
// the last log is closed (every byte streamed, the manifest and the commit
// still to come).
type faultyAPI struct {
	*engine.Instance
	fault string
	reads int

	logHandles map[ese.Handle]bool // open handles of logs
	logRead    bool                // stall-mid-logs stalled
	logs       int                 // logs GetLogInfo listed
	logsClosed int
}

// stall creates the marker file named by ESESNAP_TEST_STALL and waits
// (at most two minutes) until the test removes it.
func stall() {
	mark := os.Getenv(testStallEnv)
	if mark == "" {
		return
	}
	os.WriteFile(mark, nil, 0o644)
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if _, err := os.Stat(mark); errors.Is(err, os.ErrNotExist) {
			return
		}
	}
}

func (f *faultyAPI) OpenFile(name string) (ese.Handle, int64, error) {
	h, size, err := f.Instance.OpenFile(name)
	if err == nil && strings.EqualFold(filepath.Ext(name), ".log") {
		if f.logHandles == nil {
			f.logHandles = map[ese.Handle]bool{}
		}
		f.logHandles[h] = true
	}
	return h, size, err
}

func (f *faultyAPI) GetLogInfo() ([]string, ese.LogInfo, error) {
	names, li, err := f.Instance.GetLogInfo()
	f.logs = len(names)
	return names, li, err
}

func (f *faultyAPI) CloseFile(h ese.Handle) error {
	err := f.Instance.CloseFile(h)
	if f.logHandles[h] {
		delete(f.logHandles, h)
		f.logsClosed++
		if f.fault == "stall-after-last-log" && f.logsClosed == f.logs {
			stall()
		}
	}
	return err
}

func (f *faultyAPI) BeginExternalBackup(grbit ese.Grbit) error {
	if err := f.Instance.BeginExternalBackup(grbit); err != nil {
		return err
	}
	switch f.fault {
	case "stall-begin":
		stall()
	case "stop-service":
		f.Instance.StopService()
	case "end-session":
		f.Instance.EndExternalBackup(ese.BackupEndAbort)
	}
	return nil
}

func (f *faultyAPI) ReadFile(h ese.Handle, buf []byte) (int, error) {
	n, err := f.Instance.ReadFile(h, buf)
	f.reads++
	switch {
	case f.fault == "stall-mid-db" && f.reads == 2 && n > 0 && !f.logHandles[h]:
		stall()
	case f.fault == "stall-mid-logs" && !f.logRead && n > 0 && f.logHandles[h] && f.logsClosed > 0:
		f.logRead = true
		stall()
	}
	if f.reads == 1 && n > 0 {
		switch f.fault {
		case "stop-backup":
			f.Instance.StopBackup()
		case "die-mid-stream":
			os.Exit(7)
		}
	}
	return n, err
}

// fullBackupInside runs a whole backup on the instance, ended normally.
func fullBackupInside(in *engine.Instance) {
	in.BeginExternalBackup(0)
	buf := ese.AlignedBuffer(1 << 20)
	copyAll := func(names []string) {
		for _, n := range names {
			h, _, err := in.OpenFile(n)
			if err != nil {
				continue
			}
			for {
				k, err := in.ReadFile(h, buf)
				if err != nil || k == 0 {
					break
				}
			}
			in.CloseFile(h)
		}
	}
	dbs, _ := in.GetAttachInfo()
	copyAll(dbs)
	logs, _, _ := in.GetLogInfo()
	copyAll(logs)
	in.EndExternalBackup(ese.BackupEndNormal)
}

func waitState(in *engine.Instance, st engine.State) {
	for deadline := time.Now().Add(10 * time.Second); in.State() != st && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
}

func archivedGeneration(dir string) uint32 {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		var gen uint32
		if _, err := fmt.Sscanf(strings.ToUpper(e.Name()), "SRU%05X.LOG", &gen); err == nil {
			return gen
		}
	}
	return 1
}

// failingWrites is a test double file system whose writes fail.
type failingWrites struct{ engine.OSFS }

func (failingWrites) OpenRW(name string) (engine.File, error) {
	f, err := engine.OSFS{}.OpenRW(name)
	if err != nil {
		return nil, err
	}
	return failingFile{f}, nil
}

type failingFile struct{ engine.File }

func (failingFile) WriteAt([]byte, int64) (int, error) {
	return 0, errors.New("injected write error (test double)")
}

// blockingReads is a test double file system whose reads never return
// once it is armed.
type blockingReads struct {
	engine.OSFS
	armed *atomic.Bool
}

func (b blockingReads) Open(name string) (engine.File, error) {
	f, err := engine.OSFS{}.Open(name)
	if err != nil {
		return f, err
	}
	return blockingFile{f, b.armed}, nil
}

type blockingFile struct {
	engine.File
	armed *atomic.Bool
}

func (f blockingFile) ReadAt(p []byte, off int64) (int, error) {
	if f.armed.Load() {
		select {} // held until the process exits
	}
	return f.File.ReadAt(p, off)
}

// hostileNames is a test double plugin that reports file names trying to
// escape the backup set.
type hostileNames struct{ protocol.Snapshotter }

func (h hostileNames) Files(ctx context.Context, session string) ([]protocol.File, error) {
	files, err := h.Snapshotter.Files(ctx, session)
	for i := range files {
		files[i].Name = "../../" + filepath.Base(files[i].Name) + "/.."
	}
	return files, err
}
