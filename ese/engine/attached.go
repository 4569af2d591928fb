package engine

import (
	"path/filepath"
	"strings"

	"github.com/esesnap/esesnap/ese/format"
)

// attested is a database the instance's own attach information names: an
// ATTACHINFO entry of the checkpoint (when its fVersion says the list is
// valid) or of the current log's header.
type attested struct {
	recorded string           // the path as the engine recorded it, e.g. C:\Windows\system32\SRU\SRUDB.dat
	source   string           // which file recorded it, for messages
	signDb   format.Signature // the database's signature as recorded
	path     string           // the file under the source, or where it should be
	found    bool             // path exists
}

// recordedDir pairs a directory the engine recorded (DBMS_PARAM's log or
// system path) with the directory this instance was configured with.
type recordedDir struct{ recorded, local string }

// attestedDatabases lists the databases named by the attach lists of the
// checkpoint and of the current log header, each mapped to a file under the
// configured directories. ls or cp may be nil.
func (in *Instance) attestedDatabases(ls *logSet, cp *format.Checkpoint, cpPath string) []attested {
	var out []attested
	seen := map[string]bool{}
	add := func(list []format.AttachInfo, p format.DBMSParam, source string) {
		dirs := []recordedDir{{p.LogPath, in.cfg.LogDir}, {p.SystemPath, in.cfg.SystemDir}}
		for _, a := range list {
			if a.Path == "" {
				continue
			}
			path, found := in.mapRecordedPath(a.Path, dirs)
			if seen[pathKey(path)] {
				continue
			}
			seen[pathKey(path)] = true
			out = append(out, attested{recorded: a.Path, source: source, signDb: a.SignDb, path: path, found: found})
		}
	}
	if ls != nil && ls.currentHdr != nil {
		add(ls.currentHdr.Attach, ls.currentHdr.DBMSParam, filepath.Base(ls.currentPath))
	}
	if cp != nil && cp.Version&format.CheckpointAttachPresent != 0 {
		add(cp.Attach, cp.DBMSParam, filepath.Base(cpPath))
	}
	return out
}

// splitRecorded splits a recorded path at either separator, dropping empty
// and "." components; a ".." component drops everything before it, so a
// suffix never climbs out of the directory it is looked up in.
func splitRecorded(p string) []string {
	var out []string
	for _, c := range strings.FieldsFunc(p, func(r rune) bool { return r == '\\' || r == '/' }) {
		switch c {
		case ".":
		case "..":
			out = out[:0]
		default:
			out = append(out, c)
		}
	}
	return out
}

// mapRecordedPath maps a database path recorded by the engine (a Windows
// path of the machine that wrote it) to a file under this instance's
// directories. First the principled way: when the path lies under the log or
// system directory recorded in the same header (components compared
// case-insensitively, as Windows does), it is the same relative path under
// the configured LogDir or SystemDir. Else the longest suffix of the path
// that exists under LogDir or SystemDir. found is false when neither exists;
// path is then where the database was expected.
func (in *Instance) mapRecordedPath(recorded string, dirs []recordedDir) (path string, found bool) {
	comps := splitRecorded(recorded)
	if len(comps) == 0 {
		return filepath.Join(in.cfg.LogDir, recorded), false
	}
	expected := ""
	for _, d := range dirs {
		dc := splitRecorded(d.recorded)
		if len(dc) == 0 || len(dc) >= len(comps) || !equalFoldAll(dc, comps[:len(dc)]) {
			continue
		}
		rel := comps[len(dc):]
		if p, ok := in.resolveFold(d.local, rel); ok {
			return p, true
		}
		if expected == "" {
			expected = filepath.Join(append([]string{d.local}, rel...)...)
		}
	}
	for n := len(comps); n >= 1; n-- {
		for _, local := range []string{in.cfg.LogDir, in.cfg.SystemDir} {
			if p, ok := in.resolveFold(local, comps[len(comps)-n:]); ok {
				return p, true
			}
		}
	}
	if expected == "" {
		expected = filepath.Join(in.cfg.LogDir, comps[len(comps)-1])
	}
	return expected, false
}

func equalFoldAll(a, b []string) bool {
	for i := range a {
		if !strings.EqualFold(a[i], b[i]) {
			return false
		}
	}
	return true
}

// resolveFold finds the regular file dir/rel[0]/.../rel[n-1], matching each
// component exactly or else case-insensitively (a file system that keeps
// case may hold a Windows instance copied as SRU/srudb.dat).
func (in *Instance) resolveFold(dir string, rel []string) (string, bool) {
	cur := dir
	for i, c := range rel {
		next := filepath.Join(cur, c)
		if _, err := in.fs.Stat(next); err != nil {
			entries, err := in.fs.ReadDir(cur)
			if err != nil {
				return "", false
			}
			next = ""
			for _, e := range entries {
				if strings.EqualFold(e.Name(), c) {
					next = filepath.Join(cur, e.Name())
					break
				}
			}
			if next == "" {
				return "", false
			}
		}
		cur = next
		if i == len(rel)-1 {
			st, err := in.fs.Stat(cur)
			return cur, err == nil && st.Mode().IsRegular()
		}
	}
	return "", false
}
