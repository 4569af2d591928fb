package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestInspectCleanSet(t *testing.T) {
	dir := filepath.Join(samplesDir(t), "srum-win10-clean")
	out, errOut, code := cli(t, "inspect", dir)
	if code != ExitOK {
		t.Fatalf("exit %d, want 0\nstderr: %s", code, errOut)
	}
	for _, want := range []string{
		"Format: 0x620,110,240 (created 0x620,20)",
		"Generation: 9 (0x9)",
		"Checkpoint: (9,9,0)",
		"Chain: ok",
		"srures00002.jrs: JET_errLogFileCorrupt (-501): not a valid log header",
		": OK",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q", want)
		}
	}
	if !strings.Contains(errOut, "[INFO]") || !strings.Contains(errOut, "Summary:") {
		t.Errorf("stderr lacks the summary log line: %q", errOut)
	}
}

func TestInspectBadPages(t *testing.T) {
	dir := filepath.Join(samplesDir(t), "dissect-srudb-badtail")
	out, errOut, code := cli(t, "inspect", dir)
	if code != ExitVerifyFailed {
		t.Fatalf("exit %d, want %d", code, ExitVerifyFailed)
	}
	for p := 143; p <= 158; p++ {
		line := fmt.Sprintf("SRUDB.dat page %d: JET_errReadVerifyFailure (-1018)", p)
		if !strings.Contains(out, line) {
			t.Errorf("stdout lacks %q", line)
		}
	}
	if !strings.Contains(errOut, "SRUDB.dat page 143: JET_errReadVerifyFailure (-1018)") || !strings.Contains(errOut, "verification failed") {
		t.Errorf("stderr does not name the bad page:\n%s", errOut)
	}
	if !strings.Contains(out, ": FAILED") {
		t.Error("summary does not say FAILED")
	}

	// Headers only: the bad pages are not looked at.
	if _, errOut, code := cli(t, "inspect", "--no-verify", dir); code != ExitOK {
		t.Errorf("--no-verify: exit %d, want 0\n%s", code, errOut)
	}
	// --pages lists every page as runs.
	out, _, _ = cli(t, "inspect", "--pages", filepath.Join(dir, "SRUDB.dat"))
	if !strings.Contains(out, "Page status:") || !strings.Contains(out, "143-158: bad") {
		t.Errorf("--pages output lacks the page runs")
	}
}

func TestInspectTempDB(t *testing.T) {
	path := filepath.Join(samplesDir(t), "ntds-2012r2-tempdb", "temp.edb")
	out, _, code := cli(t, "inspect", path)
	if code != ExitVerifyFailed {
		t.Errorf("exit %d, want %d", code, ExitVerifyFailed)
	}
	if !strings.Contains(out, "Pages: 256: 0 ok, 234 bad, 22 uninitialized") {
		t.Error("temp.edb tally differs from INVENTORY.md")
	}
}

func TestInspectGzip(t *testing.T) {
	path := filepath.Join(samplesDir(t), "dissect-large-32k", "large.edb.gz")
	tmp := t.TempDir()
	out, errOut, code := cli(t, "inspect", "--temp-dir", tmp, path)
	if code != ExitOK {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	if !strings.Contains(out, "large.edb.gz (gunzipped to a temporary file for inspection)") ||
		!strings.Contains(out, "Pages: 766: 381 ok, 0 bad, 385 uninitialized") {
		t.Errorf("stdout:\n%s", out)
	}
	if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

// jsonReport mirrors the fields of the JSON schema the tests rely on.
type jsonReport struct {
	OK        bool `json:"ok"`
	Databases []struct {
		File               string `json:"file"`
		PageSize           *int   `json:"page_size"`
		State              *int   `json:"state"`
		StateName          string `json:"state_name"`
		PagesOK            *int   `json:"pages_ok"`
		PagesBad           *int   `json:"pages_bad"`
		PagesUninitialized *int   `json:"pages_uninitialized"`
		StreamedCopy       *bool  `json:"streamed_copy"`
	} `json:"databases"`
	Logs []struct {
		File           string  `json:"file"`
		Generation     *uint32 `json:"generation"`
		Chain          string  `json:"chain"`
		ChainErrorCode *int    `json:"chain_error_code"`
		InChain        bool    `json:"in_chain"`
	} `json:"logs"`
	Errors []struct {
		File   string `json:"file"`
		JetErr int    `json:"jet_err"`
		Name   string `json:"name"`
		Page   int    `json:"page"`
	} `json:"errors"`
}

func TestInspectJSON(t *testing.T) {
	dir := samplesDir(t)
	out, errOut, code := cli(t, "inspect", "--json", dir)
	if code != ExitVerifyFailed {
		t.Fatalf("exit %d, want %d (badtail and temp.edb fail)\n%s", code, ExitVerifyFailed, errOut)
	}
	var r jsonReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("stdout is not JSON: %v", err)
	}
	if r.OK || len(r.Databases) != 8 {
		t.Errorf("ok %t, %d databases", r.OK, len(r.Databases))
	}
	want := map[string][5]int{ // page size, state, ok, bad, uninit (INVENTORY.md)
		"SRUDB.dat@srum-win10-clean":      {4096, 3, 104, 0, 86},
		"SRUDB.dat@srum-win11-dirty":      {4096, 2, 482, 0, 124},
		"qmgr.db@bits-qmgr-win11-16k":     {16384, 2, 43, 0, 35},
		"SRUDB.dat@dissect-srudb-badtail": {4096, 3, 79, 16, 63},
		"large.edb.gz@dissect-large-32k":  {32768, 3, 381, 0, 385},
	}
	for _, d := range r.Databases {
		if d.PageSize == nil || d.State == nil || d.StateName == "" || d.PagesOK == nil || d.PagesBad == nil || d.PagesUninitialized == nil || d.StreamedCopy == nil {
			t.Errorf("%s: a required field is missing", d.File)
			continue
		}
		key := filepath.Base(d.File) + "@" + filepath.Base(filepath.Dir(d.File))
		if w, ok := want[key]; ok {
			got := [5]int{*d.PageSize, *d.State, *d.PagesOK, *d.PagesBad, *d.PagesUninitialized}
			if got != w {
				t.Errorf("%s: %v, want %v", key, got, w)
			}
		}
	}
	chained := 0
	for _, l := range r.Logs {
		if l.Generation == nil || l.ChainErrorCode == nil || l.Chain == "" {
			t.Errorf("%s: generation or chain missing", l.File)
			continue
		}
		if l.InChain {
			chained++
			if l.Chain != "ok" || *l.ChainErrorCode != 0 {
				t.Errorf("%s: chain %q", l.File, l.Chain)
			}
		}
		if filepath.Base(l.File) == "SRUtmp.log" && l.InChain {
			t.Errorf("%s is in a chain", l.File)
		}
	}
	if chained != 16 { // 7 + 5 + 4 logs in the three SRUM streams
		t.Errorf("%d chained logs, want 16", chained)
	}
	found := false
	for _, e := range r.Errors {
		if filepath.Base(e.File) == "SRUDB.dat" && e.Page == 143 && e.JetErr == -1018 && e.Name == "JET_errReadVerifyFailure" {
			found = true
		}
	}
	if !found {
		t.Error("no JSON error for SRUDB.dat page 143")
	}

	out, _, code = cli(t, "inspect", "--json", filepath.Join(dir, "srum-win11-dirty"))
	if code != ExitOK {
		t.Errorf("srum-win11-dirty: exit %d", code)
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil || !r.OK {
		t.Errorf("srum-win11-dirty: ok %t, err %v", r.OK, err)
	}
}

func TestInspectIOErrors(t *testing.T) {
	_, errOut, code := cli(t, "inspect", filepath.Join(t.TempDir(), "missing"))
	if code != ExitError || !strings.Contains(errOut, "JET_errFileNotFound") {
		t.Errorf("missing path: exit %d, stderr %q", code, errOut)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "x.edb.gz"), []byte{0x1f, 0x8b, 8, 0, 9, 9}, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, errOut, code := cli(t, "inspect", dir); code != ExitError {
		t.Errorf("unreadable gzip: exit %d, want %d\n%s", code, ExitError, errOut)
	}
}
