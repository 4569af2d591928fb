package host

import (
	"context"
	"io"
	"testing"

	"github.com/esesnap/esesnap/backupset"
	"github.com/esesnap/esesnap/protocol"
)

// benchFake serves one 64 MiB database in 1 MiB chunks.
func benchFake(b *testing.B) *fakeSnapshotter {
	f := newFake(b)
	data := make([]byte, 64<<20)
	for i := range data {
		data[i] = byte(i * 7)
	}
	f.chunk = 1 << 20
	f.batches = [][]fakeFile{{{protocol.File{Name: "big.edb", Role: protocol.RoleDatabase, Size: int64(len(data))}, data}}}
	return f
}

// BenchmarkBackup measures the host's hot path (chunk → checks → sha256 →
// sink) without a plugin or disk in the way.
func BenchmarkBackup(b *testing.B) {
	for _, bc := range []struct {
		name string
		sink func() backupset.Sink
	}{
		{"null", func() backupset.Sink { return &backupset.NullSink{} }},
		{"tar-discard", func() backupset.Sink { return backupset.NewTarSink(io.Discard) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			f := benchFake(b)
			b.SetBytes(64 << 20)
			b.ReportAllocs()
			for b.Loop() {
				f.next = 0
				f.ends = nil
				f.endCtxs = nil
				f.events = &eventLog{}
				if _, err := Backup(context.Background(), f, BackupRequest{Kind: protocol.KindCopy}, bc.sink()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
