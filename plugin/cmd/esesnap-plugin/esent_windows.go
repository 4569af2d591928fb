//go:build windows

package main

import (
	"github.com/esesnap/esesnap/ese"
	"github.com/esesnap/esesnap/ese/driver"
	"github.com/esesnap/esesnap/ese/engine"
	"github.com/esesnap/esesnap/ese/esent"
)

// openESENT opens the instance through ESENT.DLL. ESENT records every
// normal backup in the database headers.
func openESENT(cfg engine.Config) (*driver.Instance, error) {
	in, err := esent.Open(esent.Config{Name: "esesnap", LogDir: cfg.LogDir, SystemDir: cfg.SystemDir, BaseName: cfg.BaseName})
	if err != nil {
		return nil, err
	}
	return &driver.Instance{API: in, RecordsBackups: true, Close: func() error { return in.Close(ese.TermAbrupt) }}, nil
}
