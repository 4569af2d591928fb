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
type faultyAPI struct {
	*engine.Instance
	fault string
	reads int
}

func (f *faultyAPI) BeginExternalBackup(grbit ese.Grbit) error {
	if err := f.Instance.BeginExternalBackup(grbit); err != nil {
		return err
	}
	switch f.fault {
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
