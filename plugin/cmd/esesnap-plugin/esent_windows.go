//go:build windows

package main

import (
	"os"
	"path/filepath"

	"github.com/esesnap/esesnap/ese"
	"github.com/esesnap/esesnap/ese/driver"
	"github.com/esesnap/esesnap/ese/engine"
	"github.com/esesnap/esesnap/ese/esent"
	"github.com/esesnap/esesnap/internal/durable"
	"github.com/hashicorp/go-hclog"
)

// defaultBackend on Windows is ESENT.DLL itself.
const defaultBackend = "esent"

// openESENT opens the instance through ESENT.DLL, attaching the databases
// the source names; JET_wrn results go to the log. ESENT records every
// normal backup in the database headers, so only a writable source is
// opened (esent.RequireWritable).
func openESENT(cfg engine.Config) (*driver.Instance, error) {
	warn := func(w *ese.Error) {
		cfg.Logger.Warn("ESENT warning", "op", w.Op, "file", w.File, "jet_wrn", w.Code.String())
	}
	in, err := esent.Open(esent.Config{Name: "esesnap", LogDir: cfg.LogDir, SystemDir: cfg.SystemDir, BaseName: cfg.BaseName, Databases: cfg.Databases, Writable: cfg.Writable, Warn: warn})
	if err != nil {
		return nil, err
	}
	return &driver.Instance{API: in, RecordsBackups: true, Close: func() error { return in.Close(ese.TermAbrupt) }}, nil
}

// restoreESENT is a hard recovery by ESENT itself: the database copies are
// placed at their new paths (new files; nothing is overwritten), then
// JetExternalRestore2W replays genLow..genHigh from the backup set into
// them, leaving clean databases.
func restoreESENT(req ese.RestoreRequest, log hclog.Logger) error {
	placed := req
	placed.Map = nil
	for _, m := range req.Map {
		if err := copyNew(m.DatabaseName, m.NewDatabaseName); err != nil {
			return &ese.Error{Code: ese.ErrFileAccessDenied, Op: "JetExternalRestore2W", File: m.NewDatabaseName, Err: err}
		}
		placed.Map = append(placed.Map, ese.RstMap{DatabaseName: m.NewDatabaseName, NewDatabaseName: m.NewDatabaseName})
	}
	warn := func(w *ese.Error) { log.Warn("ESENT warning", "op", w.Op, "jet_wrn", w.Code.String()) }
	return esent.ExternalRestore(placed, warn)
}

// copyNew copies src to a file dst that must not exist yet (durable.CopyFile:
// synced, no partial dst left on failure), creating dst's directory.
func copyNew(src, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	return durable.CopyFile(src, dst)
}
