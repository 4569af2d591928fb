package backupset

import (
	"strings"
	"testing"
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
	s := Names{}
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

// TestNameSetAssign: files of one base name in different directories get
// distinct set names; the first keeps its base name, as every single-
// database set has always had it.
func TestNameSetAssign(t *testing.T) {
	tests := []struct {
		name     string
		reported []string
		want     []string
	}{
		{"single database", []string{`C:\Windows\system32\SRU\SRUDB.dat`, `C:\Windows\system32\SRU\SRU00009.log`},
			[]string{"SRUDB.dat", "SRU00009.log"}},
		{"catroot2", []string{`C:\cr2\{F750E6C3-38EE-11D1-85E5-00C04FC295EE}\catdb`, `C:\cr2\{127D0A1D-4EF2-11D1-8608-00C04FC295EE}\catdb`},
			[]string{"catdb", "{127D0A1D-4EF2-11D1-8608-00C04FC295EE}_catdb"}},
		{"unix paths, case folded", []string{"/i/a/x.edb", "/i/b/X.EDB"}, []string{"x.edb", "b_X.EDB"}},
		{"parent name taken too", []string{"/i/a/x.edb", "/j/a/x.edb", "/k/a/x.edb"}, []string{"x.edb", "a_x.edb", "x~2.edb"}},
		{"unsafe parent", []string{"/i/x.edb", "/i/a:b*/x.edb"}, []string{"x.edb", "a_b__x.edb"}},
		{"number when the parent name is taken", []string{"/i/a/x.edb", "/i/b/a_x.edb", "/j/a/x.edb"}, []string{"x.edb", "a_x.edb", "x~2.edb"}},
		{"device parent", []string{"/i/x", "/i/con/x"}, []string{"x", "con_x"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := Names{}
			for i, r := range tc.reported {
				got, err := s.Assign(r)
				if err != nil || got != tc.want[i] {
					t.Fatalf("assign(%q) = %q, %v; want %q", r, got, err, tc.want[i])
				}
				if err := ValidateName(got); err != nil {
					t.Fatalf("assigned name %q does not validate: %v", got, err)
				}
				if !NameFits(got, r) {
					t.Fatalf("verify would not accept %q as the name of %q", got, r)
				}
			}
		})
	}
	refused := []struct {
		name     string
		reported []string
	}{
		{"invalid name", []string{"../.."}},
		{"one path twice", []string{"/i/a/x.edb", "/i/a/x.edb"}},
		{"one path twice, case differs", []string{`C:\I\x.edb`, `c:\i\X.EDB`}},
		{"bare name twice", []string{"x.edb", "X.edb"}},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			s := Names{}
			var err error
			for _, r := range tc.reported {
				if _, err = s.Assign(r); err != nil {
					break
				}
			}
			if err == nil {
				t.Fatalf("assign accepted %q", tc.reported)
			}
		})
	}
}

func TestNameFits(t *testing.T) {
	for _, tc := range []struct {
		name, original string
		want           bool
	}{
		{"SRUDB.dat", `C:\Windows\system32\SRU\SRUDB.dat`, true},
		{"{G2}_catdb", "/i/{G2}/catdb", true},
		{"catdb~2", "/i/{G2}/catdb", true},
		{"x~12.edb", "/i/a/x.edb", true},
		{"y.edb", "/i/a/x.edb", false},
		{"a_y.edb", "/i/a/x.edb", false},
		{"b_x.edb", "/i/a/x.edb", false},
		{"x~0.edb", "/i/a/x.edb", false},
		{"x~2a.edb", "/i/a/x.edb", false},
		{"x~.edb", "/i/a/x.edb", false},
	} {
		if got := NameFits(tc.name, tc.original); got != tc.want {
			t.Errorf("NameFits(%q, %q) = %v, want %v", tc.name, tc.original, got, tc.want)
		}
	}
}
