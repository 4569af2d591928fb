//go:build windows

package main

import (
	"github.com/esesnap/esesnap/ese"
	"github.com/esesnap/esesnap/ese/driver"
	"github.com/esesnap/esesnap/ese/engine"
	"github.com/esesnap/esesnap/ese/esent"
)

// defaultBackend on Windows is ESENT.DLL itself.
const defaultBackend = "esent"

// openESENT opens the instance through ESENT.DLL, attaching the databases
// the source names; JET_wrn results go to the log. ESENT records every
// normal backup in the database headers.
func openESENT(cfg engine.Config) (*driver.Instance, error) {
	warn := func(w *ese.Error) {
		cfg.Logger.Warn("ESENT warning", "op", w.Op, "file", w.File, "jet_wrn", w.Code.String())
	}
	in, err := esent.Open(esent.Config{Name: "esesnap", LogDir: cfg.LogDir, SystemDir: cfg.SystemDir, BaseName: cfg.BaseName, Databases: cfg.Databases, Warn: warn})
	if err != nil {
		return nil, err
	}
	return &driver.Instance{API: in, RecordsBackups: true, Close: func() error { return in.Close(ese.TermAbrupt) }}, nil
}
