package inspect

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/esesnap/esesnap/ese/format"
)

// esedbinfoRejects lists the samples on which Debian's esedbinfo
// (libesedb 20181229) fails: it sums only the first 668 bytes of the header
// page, so any header with non-zero bytes from offset 668 on (here
// logtimeGenMaxRequired at 672) gets a "mismatch in file header checksum".
// ESE itself, and our reader, sum the whole page (ese-format.md §2.2).
var esedbinfoRejects = map[string]bool{
	"srum-win11-dirty/SRUDB.dat":  true,
	"bits-qmgr-win11-16k/qmgr.db": true,
}

// esedbinfo 20181229 takes time that grows faster than the file size on
// 32 KiB pages (about 85 s for the 24 MiB large.edb, 0.2 s for its first
// 40 pages). The fields compared here come from the header page, and the
// first 40 pages of that sample also hold its whole catalog, so esedbinfo
// still opens the prefix without error; files above esedbinfoMaxSize are
// therefore checked through a copy of their first esedbinfoPrefixPages pages.
const (
	esedbinfoMaxSize     = 4 << 20
	esedbinfoPrefixPages = 40
)

// prefixCopy writes the first n bytes of path into dir and returns the copy.
func prefixCopy(t *testing.T, path, dir string, n int64) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "prefix-"+filepath.Base(path))
	if err := os.WriteFile(out, b[:min(n, int64(len(b)))], 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

// esedbinfoFields runs esedbinfo on path and returns its header lines
// ("File type", "Created in format", "Current format", "Page size").
func esedbinfoFields(t *testing.T, path string) (map[string]string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := exec.Command("esedbinfo", path)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	fields := map[string]string{}
	for _, line := range strings.Split(out.String(), "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok {
			continue
		}
		switch k {
		case "File type", "Created in format", "Current format", "Page size":
			fields[k] = strings.TrimSpace(v)
		}
	}
	return fields, out.String() + errOut.String(), err
}

// TestEsedbinfoCrossCheck compares the header fields libesedb's esedbinfo
// prints with the report, for every database sample.
func TestEsedbinfoCrossCheck(t *testing.T) {
	if _, err := exec.LookPath("esedbinfo"); err != nil {
		t.Fatal("esedbinfo not found; install it: apt-get install libesedb-utils")
	}
	dir := samplesDir(t)
	tmp := t.TempDir()
	for _, w := range inventoryDBs {
		t.Run(w.file, func(t *testing.T) {
			path := filepath.Join(dir, filepath.FromSlash(w.file))
			if strings.HasSuffix(path, ".gz") {
				path = gunzipSample(t, path, tmp) // esedbinfo reads plain files only
			}
			r, err := Inspect(context.Background(), path, Options{NoVerify: true})
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Databases) != 1 || r.Databases[0].Header == nil {
				t.Fatalf("no database header in the report: %v", r.Errors)
			}
			d := r.Databases[0]
			if fi, err := os.Stat(path); err != nil {
				t.Fatal(err)
			} else if fi.Size() > esedbinfoMaxSize {
				path = prefixCopy(t, path, tmp, esedbinfoPrefixPages*int64(d.PageSize))
			}
			fields, out, err := esedbinfoFields(t, path)
			if esedbinfoRejects[w.file] {
				if err == nil || !strings.Contains(out, "mismatch in file header checksum") {
					t.Fatalf("esedbinfo accepted %s (err %v); INVENTORY says it fails:\n%s", w.file, err, out)
				}
				checkShortChecksumWrong(t, path, d)
				return
			}
			if err != nil {
				t.Fatalf("esedbinfo failed: %v\n%s", err, out)
			}
			h := d.Header
			want := map[string]string{
				"File type":         fileTypeName(h),
				"Created in format": fmt.Sprintf("%#x,%d", h.CreateVersion, h.CreateUpdate),
				"Current format":    fmt.Sprintf("%#x,%d", h.Version, h.UpdateMajor),
				"Page size":         fmt.Sprintf("%d bytes", d.PageSize),
			}
			for k, v := range want {
				if fields[k] != v {
					t.Errorf("%s: esedbinfo says %q, report says %q", k, fields[k], v)
				}
			}
			if d.CreatedFormat != want["Created in format"] || !strings.HasPrefix(d.Format, want["Current format"]+",") {
				t.Errorf("report format %s created %s, esedbinfo %v", d.Format, d.CreatedFormat, fields)
			}
		})
	}
}

// fileTypeName is how libesedb names the header's attrib field (offset
// 12), which it calls file type; our report also gives the type at 667.
func fileTypeName(h *format.DBHeader) string {
	switch {
	case h.Attrib == 0 && h.FileType == format.FileTypeDatabase:
		return "Database"
	case h.Attrib == 1:
		return "Streaming file"
	}
	return fmt.Sprintf("attrib %d, file type %d", h.Attrib, h.FileType)
}

// checkShortChecksumWrong shows why esedbinfo rejects a header we accept:
// the whole-page XOR checksum matches the stored value, the checksum over
// only the first 668 bytes does not, and the header has data past 668.
func checkShortChecksumWrong(t *testing.T, path string, d Database) {
	t.Helper()
	if !d.HeaderPrimaryOK || !d.HeaderShadowOK {
		t.Errorf("our reader rejects the header: primary %t shadow %t", d.HeaderPrimaryOK, d.HeaderShadowOK)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	page := b[:d.PageSize]
	stored := binary.LittleEndian.Uint32(page)
	if got := format.HeaderChecksum(page); got != stored {
		t.Errorf("whole-page checksum %#x, stored %#x", got, stored)
	}
	short := make([]byte, 668)
	copy(short, page)
	if got := format.HeaderChecksum(short); got == stored {
		t.Errorf("the 668-byte checksum matches (%#x): esedbinfo should have accepted the file", got)
	}
	if d.Header.LogtimeGenMaxRequired.IsZero() {
		t.Error("logtimeGenMaxRequired (offset 672) is zero; expected the field that defeats the 668-byte rule")
	}
}
