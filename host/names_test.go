package host

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/esesnap/esesnap/backupset"
	"github.com/esesnap/esesnap/protocol"
)

// TestHostileNamesStayInside runs backups whose plugin reports hostile names
// into a set directory inside an otherwise empty parent, and checks that
// nothing is ever written outside the set, that rejected names fail before
// the file is created and that the session ends aborted.
func TestHostileNamesStayInside(t *testing.T) {
	tests := []struct {
		names  []string
		stored string // the name in the set when accepted; "" when rejected
	}{
		{[]string{"../../etc/passwd"}, "passwd"},
		{[]string{"/abs"}, "abs"},
		{[]string{`C:\x\..\..\y`}, "y"},
		{[]string{"a/b"}, "b"},
		{[]string{`..\..\..\win.ini`}, "win.ini"},
		{[]string{""}, ""},
		{[]string{".."}, ""},
		{[]string{"../.."}, ""},
		{[]string{"manifest.json"}, ""},
		{[]string{"../manifest.json"}, ""},
		{[]string{"x:y"}, ""},
		{[]string{"new\nline"}, ""},
		{[]string{"dup.edb", "DUP.EDB"}, ""},
		{[]string{"sub/x.edb", "sub/x.edb"}, ""},
		{[]string{"a.edb", "a.edb.partial"}, ""},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.names, ","), func(t *testing.T) {
			parent := t.TempDir()
			setDir := filepath.Join(parent, "set")
			f := newFake(t)
			var batch []fakeFile
			for _, n := range tt.names {
				batch = append(batch, fakeFile{protocol.File{Name: n, Role: protocol.RoleDatabase, Size: 5}, []byte("hello")})
			}
			f.batches = [][]fakeFile{batch}
			sink, err := backupset.NewDirSink(setDir)
			if err != nil {
				t.Fatal(err)
			}
			_, err = Backup(context.Background(), f, BackupRequest{Kind: protocol.KindFull}, sink)
			if tt.stored == "" {
				if err == nil {
					t.Fatal("backup accepted a hostile name")
				}
				f.wantOneEnd(t, protocol.OutcomeAborted, false)
				// The aborted set is gone, and the parent is as it was.
				if entries, _ := os.ReadDir(parent); len(entries) != 0 {
					t.Fatalf("parent holds %v after an aborted backup", names(entries))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if entries, _ := os.ReadDir(parent); len(entries) != 1 || entries[0].Name() != "set" {
				t.Fatalf("parent holds %v, want only the set", names(entries))
			}
			entries, _ := os.ReadDir(setDir)
			want := []string{backupset.ManifestName, tt.stored}
			slices.Sort(want)
			if got := names(entries); !slices.Equal(got, want) {
				t.Fatalf("set holds %v, want %v", got, want)
			}
			if _, err := backupset.Verify(context.Background(), setDir); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func names(entries []os.DirEntry) []string {
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}
