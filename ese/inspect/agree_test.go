package inspect

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/esesnap/esesnap/ese"
	"github.com/esesnap/esesnap/ese/engine"
	"github.com/esesnap/esesnap/ese/format"
)

// TestInspectAgreesWithBackup damages copies of real instances and checks
// the one rule: inspect reports an error exactly when a full backup by the
// engine fails (with the JET_err inspect reports among its errors), and a
// backup that goes through leaves inspect with warnings at most.
func TestInspectAgreesWithBackup(t *testing.T) {
	sample := func(set, file string) string { return filepath.Join(samplesDir(t), set, file) }
	copyOver := func(t *testing.T, src, dst string) {
		t.Helper()
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mv := func(t *testing.T, dir, from, to string) {
		t.Helper()
		if err := os.Rename(filepath.Join(dir, from), filepath.Join(dir, to)); err != nil {
			t.Fatal(err)
		}
	}
	truncate := func(t *testing.T, path string, size int64) {
		t.Helper()
		if err := os.Truncate(path, size); err != nil {
			t.Fatal(err)
		}
	}
	type damage func(t *testing.T, dir string, logs []string)
	cases := []struct {
		name   string
		damage damage
	}{
		{"none", func(*testing.T, string, []string) {}},
		{"current log missing", func(t *testing.T, dir string, _ []string) { os.Remove(filepath.Join(dir, "SRU.log")) }},
		{"oldest archived log missing", func(t *testing.T, dir string, logs []string) { os.Remove(filepath.Join(dir, logs[0])) }},
		{"newest archived log missing", func(t *testing.T, dir string, logs []string) { os.Remove(filepath.Join(dir, logs[len(logs)-1])) }},
		{"two newest archived logs exchanged", func(t *testing.T, dir string, logs []string) {
			a, b := logs[len(logs)-2], logs[len(logs)-1]
			mv(t, dir, a, "x.tmp")
			mv(t, dir, b, a)
			mv(t, dir, "x.tmp", b)
		}},
		{"current log and newest archived exchanged", func(t *testing.T, dir string, logs []string) {
			b := logs[len(logs)-1]
			mv(t, dir, "SRU.log", "x.tmp")
			mv(t, dir, b, "SRU.log")
			mv(t, dir, "x.tmp", b)
		}},
		{"log of another stream above the current one", func(t *testing.T, dir string, _ []string) {
			copyOver(t, sample("srum-win11-dirty", "SRU0005B.log"), filepath.Join(dir, "SRU0005B.log"))
		}},
		{"checkpoint of another instance", func(t *testing.T, dir string, _ []string) {
			copyOver(t, sample("srum-win11-dirty", "SRU.chk"), filepath.Join(dir, "SRU.chk"))
		}},
		{"checkpoint of 4 KiB", func(t *testing.T, dir string, _ []string) { truncate(t, filepath.Join(dir, "SRU.chk"), 4096) }},
		{"checkpoint with both copies damaged", func(t *testing.T, dir string, _ []string) {
			modify(t, filepath.Join(dir, "SRU.chk"), func(b []byte) []byte {
				b[100] ^= 1
				b[4096+100] ^= 1
				return b
			})
		}},
		{"current log truncated", func(t *testing.T, dir string, _ []string) { truncate(t, filepath.Join(dir, "SRU.log"), 32<<10) }},
		{"oldest archived log truncated", func(t *testing.T, dir string, logs []string) { truncate(t, filepath.Join(dir, logs[0]), 32<<10) }},
		{"newest archived log truncated", func(t *testing.T, dir string, logs []string) {
			truncate(t, filepath.Join(dir, logs[len(logs)-1]), 32<<10)
		}},
	}
	fails, passes := 0, 0
	for _, set := range []string{"srum-win10-clean", "srum-win10-dirty"} {
		for _, tc := range cases {
			t.Run(set+"/"+tc.name, func(t *testing.T) {
				dir := copyDir(t, filepath.Join(samplesDir(t), set))
				tc.damage(t, dir, archived(t, dir))
				r := mustInspect(t, dir, Options{})
				err := fullBackup(t, dir)
				switch {
				case err == nil && !r.OK:
					t.Fatalf("the backup goes through but inspect fails the instance: %v", r.Errors)
				case err != nil && r.OK:
					t.Fatalf("inspect passes the instance but the backup fails: %v", err)
				case err != nil:
					fails++
					// A missing generation is JET_errMissingFileToBackup to
					// the backup and JET_errMissingLogFile to the chain check.
					code, _ := ese.CodeOf(err)
					same := func(p Problem) bool {
						missing := []int32{int32(ese.ErrMissingFileToBackup), int32(ese.ErrMissingLogFile)}
						return p.JetErr == int32(code) || slices.Contains(missing, p.JetErr) && slices.Contains(missing, int32(code))
					}
					if !slices.ContainsFunc(r.Errors, same) {
						t.Errorf("the backup fails with %v, inspect reports %v", err, r.Errors)
					}
				default:
					passes++
				}
			})
		}
	}
	if fails+passes == 2*len(cases) && (fails == 0 || passes == 0) {
		t.Fatalf("%d failures and %d passes: the cases do not cover both verdicts", fails, passes)
	}
}

// fullBackup runs a whole read-only full backup of the instance in dir
// with the engine and returns its first error.
func fullBackup(t *testing.T, dir string) error {
	t.Helper()
	in, err := engine.Open(engine.Config{LogDir: dir})
	if err != nil {
		return err
	}
	defer in.Term(ese.TermAbrupt)
	if err := in.BeginExternalBackup(0); err != nil {
		return err
	}
	defer in.EndExternalBackup(ese.BackupEndAbort)
	read := func(name string) error {
		h, _, err := in.OpenFile(name)
		if err != nil {
			return err
		}
		buf := ese.AlignedBuffer(256 << 10)
		for {
			n, err := in.ReadFile(h, buf)
			if err != nil {
				return err
			}
			if n == 0 {
				return in.CloseFile(h)
			}
		}
	}
	dbs, err := in.GetAttachInfo()
	if err != nil {
		return err
	}
	for _, db := range dbs {
		if err := read(db); err != nil {
			return err
		}
	}
	logs, _, err := in.GetLogInfo()
	if err != nil {
		return err
	}
	for _, l := range logs {
		if err := read(l); err != nil {
			return err
		}
	}
	return nil
}

// archived lists the archived logs of dir, sorted.
func archived(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var logs []string
	for _, e := range entries {
		if ln, ok := format.ParseLogName(e.Name()); ok && ln.Kind == format.LogArchived {
			logs = append(logs, e.Name())
		}
	}
	slices.Sort(logs)
	return logs
}
