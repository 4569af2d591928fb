package host

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/esesnap/esesnap/protocol"
)

func TestSetName(t *testing.T) {
	tests := []struct {
		reported string
		want     string // "" means rejected
	}{
		{`C:\Windows\System32\sru\SRUDB.dat`, "SRUDB.dat"},
		{"/x/y/SRUDB.dat", "SRUDB.dat"},
		{"edb00001.log", "edb00001.log"},
		{"../../etc/passwd", "passwd"},
		{"/abs", "abs"},
		{`C:\x\..\..\y`, "y"},
		{"a/b", "b"},
		{`a\b/c`, "c"},
		{"ünïcode.edb", "ünïcode.edb"},
		{"", ""},
		{".", ""},
		{"..", ""},
		{"a/..", ""},
		{`x\..`, ""},
		{"dir/", ""},
		{`dir\`, ""},
		{"manifest.json", ""},
		{"MANIFEST.JSON", ""},
		{"/set/manifest.json", ""},
		{"x.edb.partial", ""},
		{"C:", ""},
		{`C:\`, ""},
		{"c:evil", ""},
		{"nul\x00byte", ""},
		{"tab\there", ""},
		{"bell\a", ""},
		{"del\x7f", ""},
		{"c1\u0085", ""},
		{"star*", ""},
		{"what?", ""},
		{"pipe|", ""},
		{`quote"`, ""},
		{"<angle>", ""},
		{"trailing.", ""},
		{"trailing ", ""},
		{"CON", ""},
		{"con.log", ""},
		{"COM1.edb", ""},
		{"lpt9", ""},
		{"CONSOLE.edb", "CONSOLE.edb"},
		{"COMX", "COMX"},
		{"bad\xffutf8", ""},
		{strings.Repeat("a", 255), strings.Repeat("a", 255)},
		{strings.Repeat("a", 256), ""},
	}
	for _, tt := range tests {
		got, err := SetName(tt.reported)
		if tt.want == "" {
			if err == nil {
				t.Errorf("SetName(%q) = %q, want an error", tt.reported, got)
			} else if !strings.Contains(err.Error(), "invalid name") {
				t.Errorf("SetName(%q) error %q does not say the name is invalid", tt.reported, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("SetName(%q) = %q, %v; want %q", tt.reported, got, err, tt.want)
		}
	}
}

func TestNameSetFoldsCase(t *testing.T) {
	s := nameSet{}
	if err := s.add("SRUDB.dat"); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"SRUDB.dat", "srudb.DAT"} {
		err := s.add(n)
		if err == nil || !strings.Contains(err.Error(), "SRUDB.dat") {
			t.Errorf("add(%q) = %v, want a duplicate error naming the first", n, err)
		}
	}
	if err := s.add("SRU.log"); err != nil {
		t.Errorf("add(SRU.log) = %v", err)
	}
}

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
		{[]string{"dup.edb", "sub/DUP.EDB"}, ""},
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
			sink, err := NewDirSink(setDir)
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
			want := []string{ManifestName, tt.stored}
			slices.Sort(want)
			if got := names(entries); !slices.Equal(got, want) {
				t.Fatalf("set holds %v, want %v", got, want)
			}
			if _, err := Verify(context.Background(), setDir); err != nil {
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
