package ese

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// tsvRow is one data row of a tab-separated table, keyed by column name.
type tsvRow map[string]string

// readTSV reads a table whose first non-comment line names the columns.
// Lines starting with '#' and blank lines are skipped.
func readTSV(t *testing.T, path string) []tsvRow {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	var cols []string
	var rows []tsvRow
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSuffix(line, "\r")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if cols == nil {
			cols = f
			continue
		}
		if len(f) != len(cols) {
			t.Fatalf("%s:%d: %d columns, header has %d", path, i+1, len(f), len(cols))
		}
		r := make(tsvRow, len(cols))
		for j, c := range cols {
			r[c] = f[j]
		}
		rows = append(rows, r)
	}
	return rows
}

// value parses the row's value column as a Code.
func (r tsvRow) value(t *testing.T) Code {
	t.Helper()
	v, err := strconv.ParseInt(r["value"], 10, 32)
	if err != nil {
		t.Fatalf("%s: value %q: %v", r["name"], r["value"], err)
	}
	return Code(v)
}

// moduleRoot walks up from the package directory to the directory holding go.mod.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the package directory")
		}
		dir = parent
	}
}

// TestCodesTSVCoversJetErr checks codes.tsv against the shared reference
// table: every err, wrn and internal row must be present with the same value,
// kind and alias, and codes.tsv must hold nothing else.
func TestCodesTSVCoversJetErr(t *testing.T) {
	ref := filepath.Join(filepath.Dir(moduleRoot(t)), "shared", "docs", "jet-err.tsv")
	if _, err := os.Stat(ref); err != nil {
		t.Fatalf("reference table %s: %v (the shared/ folder must sit beside the repository)", ref, err)
	}
	ours := make(map[string]tsvRow)
	for _, r := range readTSV(t, "codes.tsv") {
		ours[r["name"]] = r
	}
	n := 0
	for _, r := range readTSV(t, ref) {
		kind := r["kind"]
		if kind != "err" && kind != "wrn" && kind != "internal" {
			continue
		}
		n++
		name := r["name"]
		o, ok := ours[name]
		if !ok {
			t.Errorf("%s (%s) is missing from codes.tsv", name, r["value"])
			continue
		}
		if got, want := o.value(t), r.value(t); got != want {
			t.Errorf("%s: codes.tsv value %d, reference %d", name, got, want)
		}
		if o["kind"] != kind {
			t.Errorf("%s: codes.tsv kind %q, reference %q", name, o["kind"], kind)
		}
		wantAlias := ""
		if a, ok := strings.CutPrefix(r["note"], "alias of "); ok {
			wantAlias = a
		}
		if o["alias_of"] != wantAlias {
			t.Errorf("%s: codes.tsv alias_of %q, reference note %q", name, o["alias_of"], r["note"])
		}
	}
	if n < 600 {
		t.Errorf("reference table has only %d code rows; wrong file?", n)
	}
	if len(ours) != n {
		t.Errorf("codes.tsv has %d rows, reference has %d code rows", len(ours), n)
	}
}

// TestTableMatchesTSV checks the generated tables against codes.tsv from
// inside package ese (the byte-for-byte check is in internal/gencodes).
func TestTableMatchesTSV(t *testing.T) {
	rows := readTSV(t, "codes.tsv")
	byName := make(map[string]tsvRow, len(rows))
	for _, r := range rows {
		byName[r["name"]] = r
	}
	owners := make(map[Code]string) // value -> canonical ESE name
	for _, r := range rows {
		if r["alias_of"] != "" {
			continue
		}
		c := r.value(t)
		if prev, ok := owners[c]; ok && strings.HasPrefix(prev, "JET_") {
			continue // a JET_ code keeps the value over an internal one
		}
		owners[c] = r["name"]
	}
	for _, r := range rows {
		c := r.value(t)
		want := owners[c]
		if r["alias_of"] != "" {
			want = r["alias_of"]
		}
		if got := c.Name(); got != want {
			t.Errorf("Code(%d).Name() = %q, want %q", c, got, want)
		}
		if got, wantDesc := c.Description(), byName[want]["description"]; got != wantDesc {
			t.Errorf("Code(%d).Description() = %q, want %q", c, got, wantDesc)
		}
	}
	if len(codeByValue) != len(owners) {
		t.Errorf("codeByValue has %d entries, codes.tsv has %d distinct values", len(codeByValue), len(owners))
	}
	for c, ci := range codeByValue {
		if ci.code != c {
			t.Errorf("codeByValue[%d].code = %d", c, ci.code)
		}
	}
	if !slices.IsSorted(allCodes) || len(slices.Compact(slices.Clone(allCodes))) != len(allCodes) {
		t.Error("allCodes is not strictly ascending")
	}
	if len(allCodes) != len(codeByValue) {
		t.Errorf("allCodes has %d codes, codeByValue %d", len(allCodes), len(codeByValue))
	}
}

// TestDescriptions requires a short, non-empty description on every row and
// distinct descriptions on codes that are not aliases of each other.
func TestDescriptions(t *testing.T) {
	seen := make(map[string]string)
	for _, r := range readTSV(t, "codes.tsv") {
		d := r["description"]
		if n := len(strings.Fields(d)); n < 3 || n > 12 {
			t.Errorf("%s: description has %d words, want 3-12: %q", r["name"], n, d)
		}
		if strings.TrimSpace(d) != d || strings.HasSuffix(d, ".") {
			t.Errorf("%s: description %q has surrounding space or a final period", r["name"], d)
		}
		if r["alias_of"] != "" {
			continue
		}
		if prev, dup := seen[d]; dup {
			t.Errorf("%s and %s share the description %q", prev, r["name"], d)
		}
		seen[d] = r["name"]
	}
}

func TestCodeString(t *testing.T) {
	tests := []struct {
		code    Code
		name    string
		str     string
		known   bool
		warning bool
	}{
		{ErrNoBackup, "JET_errNoBackup", "JET_errNoBackup (-520)", true, false},
		{ErrSuccess, "JET_errSuccess", "JET_errSuccess (0)", true, false},
		{WrnTargetInstanceRunning, "JET_wrnTargetInstanceRunning", "JET_wrnTargetInstanceRunning (578)", true, true},
		{ErrDatabaseInconsistent, "JET_errDatabaseDirtyShutdown", "JET_errDatabaseDirtyShutdown (-550)", true, false},
		{WrnRecordFoundLess, "JET_wrnSeekNotEqual", "JET_wrnSeekNotEqual (1039)", true, true},
		{ErrBackupAbortByCaller, "errBackupAbortByCaller", "errBackupAbortByCaller (-800)", true, false},
		{Code(-12345), "JET_err(-12345)", "JET_err(-12345) (-12345)", false, false},
		{Code(12345), "JET_wrn(12345)", "JET_wrn(12345) (12345)", false, true},
		{Code(-2147483648), "JET_err(-2147483648)", "JET_err(-2147483648) (-2147483648)", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.str, func(t *testing.T) {
			if got := tt.code.Name(); got != tt.name {
				t.Errorf("Name() = %q, want %q", got, tt.name)
			}
			if got := tt.code.String(); got != tt.str {
				t.Errorf("String() = %q, want %q", got, tt.str)
			}
			if got := tt.code.Known(); got != tt.known {
				t.Errorf("Known() = %v, want %v", got, tt.known)
			}
			if got := tt.code.IsWarning(); got != tt.warning {
				t.Errorf("IsWarning() = %v, want %v", got, tt.warning)
			}
			d := tt.code.Description()
			if (d != "") != tt.known {
				t.Errorf("Description() = %q; known code %v", d, tt.known)
			}
			msg := tt.code.Error()
			if !strings.HasPrefix(msg, tt.str) || !strings.Contains(msg, d) {
				t.Errorf("Error() = %q, want %q and the description", msg, tt.str)
			}
			if !tt.known && msg != tt.str {
				t.Errorf("Error() of unknown code = %q, want %q", msg, tt.str)
			}
		})
	}
}

// TestCodes checks that Codes covers every distinct value once, round-trips
// through Name and String, and hands out a copy.
func TestCodes(t *testing.T) {
	cs := Codes()
	if len(cs) != len(codeByValue) {
		t.Fatalf("Codes() has %d codes, table has %d values", len(cs), len(codeByValue))
	}
	if cs[0] != ErrClientSpaceEnd || cs[len(cs)-1] != Code(4010) {
		t.Errorf("Codes() runs %v .. %v, want JET_errClientSpaceEnd .. wrnIOSlow", cs[0], cs[len(cs)-1])
	}
	if !slices.Contains(cs, ErrNoBackup) || slices.Contains(cs, Code(-12345)) {
		t.Error("Codes() membership is wrong")
	}
	names := make(map[string]bool, len(cs))
	for _, c := range cs {
		n := c.Name()
		if !c.Known() || names[n] || strings.Contains(n, "(") {
			t.Errorf("code %d: Known %v, name %q (repeated %v)", int32(c), c.Known(), n, names[n])
		}
		names[n] = true
		if want := n + " (" + strconv.Itoa(int(c)) + ")"; c.String() != want {
			t.Errorf("String() = %q, want %q", c.String(), want)
		}
	}
	cs[0] = ErrNoBackup
	if Codes()[0] != ErrClientSpaceEnd {
		t.Error("Codes() returned the table itself instead of a copy")
	}
}
