package inspect

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/esesnap/esesnap/ese"
)

// inventoryDB holds the facts INVENTORY.md states for one database sample.
type inventoryDB struct {
	file            string
	pageSize        int
	format          string // version,updateMajor,updateMinor
	created         string
	state           uint32
	stateName       string
	dbtime          uint64
	genMin, genMax  uint32
	lgposConsistent string
	ok, bad, uninit int64
}

var inventoryDBs = []inventoryDB{
	{"srum-win10-clean/SRUDB.dat", 4096, "0x620,110,240", "0x620,20", 3, "CleanShutdown", 2712, 0, 0, "(9,6,36)", 104, 0, 86},
	{"srum-win10-dirty/SRUDB.dat", 4096, "0x620,20,0", "0x620,20", 2, "DirtyShutdown", 25653, 81, 81, "(51,8,0)", 647, 0, 135},
	{"srum-win11-dirty/SRUDB.dat", 4096, "0x620,200,440", "0x620,20", 2, "DirtyShutdown", 43851, 92, 92, "(5C,7,36)", 482, 0, 124},
	{"bits-qmgr-win11-16k/qmgr.db", 16384, "0x620,300,620", "0x620,20", 2, "DirtyShutdown", 41141, 23, 23, "(17,1F,78B)", 43, 0, 35},
	{"dissect-basic-4k/basic.edb", 4096, "0x620,20,0", "0x620,20", 3, "CleanShutdown", 403, 0, 0, "(1,16,0)", 23, 0, 231},
	{"dissect-large-32k/large.edb.gz", 32768, "0x620,20,0", "0x620,20", 3, "CleanShutdown", 196235, 0, 0, "(5,1B1,0)", 381, 0, 385},
	{"dissect-srudb-badtail/SRUDB.dat", 4096, "0x620,20,0", "0x620,20", 3, "CleanShutdown", 1714, 0, 0, "(5,9,E5C)", 79, 16, 63},
	{"ntds-2012r2-tempdb/temp.edb", 8192, "0x620,20,0", "0x620,20", 1, "JustCreated", 64, 0, 0, "(0,0,0)", 0, 234, 22},
}

// inventoryLog holds INVENTORY.md's facts for one log with a valid header.
type inventoryLog struct {
	file             string
	gen              uint32
	version          string
	created, prevGen string
	role             string
}

var inventoryLogs = []inventoryLog{
	{"srum-win10-clean/SRU.log", 9, "8.4000.60.140", "2022-02-05 19:30:30.435Z", "2022-02-05 19:30:30.389Z", RoleCurrent},
	{"srum-win10-clean/SRU00003.log", 3, "8.4000.60.140", "2022-02-05 22:18:49.148Z", "2022-02-05 22:17:47.958Z", RoleArchived},
	{"srum-win10-clean/SRU00004.log", 4, "8.4000.60.140", "2022-02-05 19:30:29.951Z", "2022-02-05 22:18:49.148Z", RoleArchived},
	{"srum-win10-clean/SRU00005.log", 5, "8.4000.60.140", "2022-02-05 19:30:29.967Z", "2022-02-05 19:30:29.951Z", RoleArchived},
	{"srum-win10-clean/SRU00006.log", 6, "8.4000.60.140", "2022-02-05 19:30:30.139Z", "2022-02-05 19:30:29.967Z", RoleArchived},
	{"srum-win10-clean/SRU00007.log", 7, "8.4000.60.140", "2022-02-05 19:30:30.248Z", "2022-02-05 19:30:30.139Z", RoleArchived},
	{"srum-win10-clean/SRU00008.log", 8, "8.4000.60.140", "2022-02-05 19:30:30.389Z", "2022-02-05 19:30:30.248Z", RoleArchived},
	{"srum-win10-dirty/SRU.log", 0x52, "8.4000.60.140", "2022-02-20 03:34:33.861Z", "2021-02-14 02:32:43.303Z", RoleCurrent},
	{"srum-win10-dirty/SRU0004E.log", 0x4E, "8.4000.5.16", "2021-02-10 19:50:40.248Z", "2021-02-10 20:14:41.338Z", RoleArchived},
	{"srum-win10-dirty/SRU0004F.log", 0x4F, "8.4000.5.16", "2021-02-10 19:56:02.998Z", "2021-02-10 19:50:40.248Z", RoleArchived},
	{"srum-win10-dirty/SRU00050.log", 0x50, "8.4000.5.16", "2021-02-10 19:56:03.045Z", "2021-02-10 19:56:02.998Z", RoleArchived},
	{"srum-win10-dirty/SRU00051.log", 0x51, "8.4000.5.16", "2021-02-14 02:32:43.303Z", "2021-02-10 19:56:03.045Z", RoleArchived},
	{"srum-win11-dirty/SRU.log", 0x5C, "8.4000.90.200", "2022-07-03 02:10:42.308Z", "2022-07-03 02:05:58.609Z", RoleCurrent},
	{"srum-win11-dirty/SRU00059.log", 0x59, "8.4000.90.200", "2022-07-03 02:05:58.202Z", "2022-07-03 02:05:57.968Z", RoleArchived},
	{"srum-win11-dirty/SRU0005A.log", 0x5A, "8.4000.90.200", "2022-07-03 02:05:58.453Z", "2022-07-03 02:05:58.202Z", RoleArchived},
	{"srum-win11-dirty/SRU0005B.log", 0x5B, "8.4000.90.200", "2022-07-03 02:05:58.609Z", "2022-07-03 02:05:58.453Z", RoleArchived},
	// The recycled tmp log: a valid header of an old generation, never chained.
	{"srum-win11-dirty/SRUtmp.log", 0x50, "8.4000.90.200", "2022-07-03 02:05:56.624Z", "2022-07-03 02:05:56.562Z", RoleTmp},
}

// inventoryEmpty lists the all-zero log slots.
var inventoryEmpty = []string{
	"srum-win10-clean/SRUres00001.jrs",
	"srum-win10-dirty/SRUres00001.jrs",
	"srum-win10-dirty/SRUres00002.jrs",
	"srum-win10-dirty/SRUtmp.log",
	"srum-win11-dirty/SRUres00001.jrs",
}

var inventoryCheckpoints = map[string]string{
	"srum-win10-clean/SRU.chk":   "(9,9,0)",
	"srum-win10-dirty/SRU.chk":   "(51,9,0)",
	"srum-win11-dirty/SRU.chk":   "(5C,8,0)",
	"ntds-2012r2-tempdb/edb.chk": "(3,2F3,0)",
}

var inventoryStreams = map[string][2]uint32{ // dir -> first, last generation
	"srum-win10-clean": {3, 9},
	"srum-win10-dirty": {0x4E, 0x52},
	"srum-win11-dirty": {0x59, 0x5C},
}

func TestInventoryDatabases(t *testing.T) {
	r := allSamples(t)
	if len(r.Databases) != len(inventoryDBs) {
		t.Errorf("%d databases, want %d", len(r.Databases), len(inventoryDBs))
	}
	for _, w := range inventoryDBs {
		t.Run(w.file, func(t *testing.T) {
			d := findDB(t, r, w.file)
			got := fmt.Sprintf("page %d; format %s (created %s); state %d (%s); dbtime %d; logReq %d-%d; lgposConsistent %s; pages ok %d/bad %d/uninit %d; total %d",
				d.PageSize, d.Format, d.CreatedFormat, d.State, d.StateName, d.DBTime, d.GenMinRequired, d.GenMaxRequired,
				d.LgposConsistent.Text, d.PagesOK, d.PagesBad, d.PagesUninitialized, d.PagesTotal)
			want := fmt.Sprintf("page %d; format %s (created %s); state %d (%s); dbtime %d; logReq %d-%d; lgposConsistent %s; pages ok %d/bad %d/uninit %d; total %d",
				w.pageSize, w.format, w.created, w.state, w.stateName, w.dbtime, w.genMin, w.genMax,
				w.lgposConsistent, w.ok, w.bad, w.uninit, w.ok+w.bad+w.uninit)
			if got != want {
				t.Errorf("\n got %s\nwant %s", got, want)
			}
			if d.PagesTotal != d.Size/int64(d.PageSize)-2 {
				t.Errorf("pages_total %d, file has %d data pages", d.PagesTotal, d.Size/int64(d.PageSize)-2)
			}
			if !d.HeaderPrimaryOK || !d.HeaderShadowOK || !d.HeaderIdentical {
				t.Errorf("header copies: primary %t shadow %t identical %t, want all true", d.HeaderPrimaryOK, d.HeaderShadowOK, d.HeaderIdentical)
			}
			if d.StreamedCopy || d.Temp || !d.PagesVerified {
				t.Errorf("streamed %t temp %t verified %t", d.StreamedCopy, d.Temp, d.PagesVerified)
			}
			if gz := strings.HasSuffix(w.file, ".gz"); d.Gunzipped != gz {
				t.Errorf("gunzipped = %t, want %t", d.Gunzipped, gz)
			}
		})
	}
}

func TestBadTailPages(t *testing.T) {
	r := allSamples(t)
	d := findDB(t, r, "dissect-srudb-badtail/SRUDB.dat")
	var pages []uint32
	for _, b := range d.BadPages {
		pages = append(pages, b.Page)
		if b.JetErr != int32(ese.ErrReadVerifyFailure) {
			t.Errorf("page %d: jet_err %d, want %d", b.Page, b.JetErr, ese.ErrReadVerifyFailure)
		}
	}
	want := []uint32{}
	for p := uint32(143); p <= 158; p++ {
		want = append(want, p)
	}
	if !slices.Equal(pages, want) {
		t.Errorf("bad pages %v, want 143..158", pages)
	}
	// One error per bad page, naming the file and the page.
	n := 0
	for _, e := range r.Errors {
		if e.File == d.File {
			n++
			line := e.String()
			if e.Page < 143 || e.Page > 158 || !strings.Contains(line, fmt.Sprintf("SRUDB.dat page %d: JET_errReadVerifyFailure (-1018)", e.Page)) {
				t.Errorf("error line %q", line)
			}
		}
	}
	if n != 16 {
		t.Errorf("%d errors for %s, want 16", n, d.File)
	}
}

func TestTempDBCountsAsFailure(t *testing.T) {
	r := allSamples(t)
	d := findDB(t, r, "ntds-2012r2-tempdb/temp.edb")
	// Its header says database (file type 1), not temp database (5): the
	// unchecksummed pages are failures.
	if d.FileType != 1 || d.Temp {
		t.Errorf("file type %d temp %t, want 1 false", d.FileType, d.Temp)
	}
	var pageErrs, summary int
	for _, e := range r.Errors {
		if e.File != d.File {
			continue
		}
		if e.Page != 0 {
			pageErrs++
		} else if strings.Contains(e.Message, "134 more bad pages") {
			summary++
		}
	}
	if pageErrs != maxPageErrors || summary != 1 {
		t.Errorf("%d page errors and %d summaries, want %d and 1", pageErrs, summary, maxPageErrors)
	}
	if len(d.BadPages) != 234 {
		t.Errorf("%d bad pages listed, want 234", len(d.BadPages))
	}
}

func TestInventoryLogs(t *testing.T) {
	r := allSamples(t)
	for _, w := range inventoryLogs {
		t.Run(w.file, func(t *testing.T) {
			l := findLog(t, r, w.file)
			if !l.HeaderOK || !l.Verified {
				t.Fatalf("header ok %t verified %t", l.HeaderOK, l.Verified)
			}
			got := fmt.Sprintf("gen %d %s created %s prev %s role %s cbSec %d", l.Generation, l.Version, l.Created, l.PrevGen, l.Role, l.CbSec)
			want := fmt.Sprintf("gen %d %s created %s prev %s role %s cbSec %d", w.gen, w.version, w.created, w.prevGen, w.role, 4096)
			if got != want {
				t.Errorf("\n got %s\nwant %s", got, want)
			}
			inChain := w.role != RoleTmp
			if l.InChain != inChain {
				t.Errorf("in_chain %t, want %t", l.InChain, inChain)
			}
			if inChain && (l.Chain != "ok" || l.ChainErrorCode != 0) {
				t.Errorf("chain %q code %d, want ok", l.Chain, l.ChainErrorCode)
			}
			if !inChain && !strings.HasPrefix(l.Chain, "not in chain: tmp log") {
				t.Errorf("chain %q, want not in chain", l.Chain)
			}
			if l.SegmentsOK+l.SegmentsEmpty+l.SegmentsShadow != int(l.Size/4096)-1 {
				t.Errorf("segments ok %d empty %d shadow %d do not add up to the %d segments of the file",
					l.SegmentsOK, l.SegmentsEmpty, l.SegmentsShadow, l.Size/4096-1)
			}
		})
	}
	for _, f := range inventoryEmpty {
		l := findLog(t, r, f)
		if !l.Empty || l.InChain || l.HeaderOK {
			t.Errorf("%s: empty %t in_chain %t header_ok %t, want an unused slot", f, l.Empty, l.InChain, l.HeaderOK)
		}
	}
	// srures00002.jrs holds non-log bytes: reported as not a valid log, as
	// a warning (reserve logs are never replayed).
	l := findLog(t, r, "srum-win10-clean/srures00002.jrs")
	if l.HeaderOK || l.Empty || l.InChain || l.Role != RoleReserve {
		t.Errorf("srures00002.jrs: header_ok %t empty %t in_chain %t role %s", l.HeaderOK, l.Empty, l.InChain, l.Role)
	}
	found := false
	for _, w := range r.Warnings {
		if w.File == l.File && strings.Contains(w.Message, "not a valid log header") && w.JetErr == int32(ese.ErrLogFileCorrupt) {
			found = true
		}
	}
	if !found {
		t.Errorf("no warning saying srures00002.jrs is not a valid log; warnings: %v", r.Warnings)
	}
	for _, e := range r.Errors {
		if e.File == l.File {
			t.Errorf("srures00002.jrs reported as error: %s", e)
		}
	}
}

func TestInventoryStreams(t *testing.T) {
	r := allSamples(t)
	if len(r.Streams) != len(inventoryStreams) {
		t.Errorf("%d streams, want %d", len(r.Streams), len(inventoryStreams))
	}
	for _, s := range r.Streams {
		dir := rel(t, s.Dir)
		want, ok := inventoryStreams[dir]
		if !ok {
			t.Errorf("unexpected stream %s in %s", s.Base, dir)
			continue
		}
		if s.FirstGen != want[0] || s.LastGen != want[1] || s.Logs != int(want[1]-want[0]+1) {
			t.Errorf("%s: generations %#x-%#x in %d logs, want %#x-%#x", dir, s.FirstGen, s.LastGen, s.Logs, want[0], want[1])
		}
		if s.Chain != "ok" || s.ChainErrorCode != 0 {
			t.Errorf("%s: chain %q", dir, s.Chain)
		}
		if len(s.Databases) != 1 || filepath.Base(s.Databases[0]) != "SRUDB.dat" {
			t.Errorf("%s: databases %v, want SRUDB.dat", dir, s.Databases)
		}
		if filepath.Base(s.Checkpoint) != "SRU.chk" {
			t.Errorf("%s: checkpoint %q", dir, s.Checkpoint)
		}
		d := findDB(t, r, dir+"/SRUDB.dat")
		if d.LogStream != "SRU" {
			t.Errorf("%s: database log_stream %q", dir, d.LogStream)
		}
		if !d.Consistent && !strings.HasPrefix(d.RequiredLogs, "present") {
			t.Errorf("%s: required logs %q", dir, d.RequiredLogs)
		}
	}
}

func TestInventoryCheckpoints(t *testing.T) {
	r := allSamples(t)
	if len(r.Checkpoints) != len(inventoryCheckpoints) {
		t.Errorf("%d checkpoints, want %d", len(r.Checkpoints), len(inventoryCheckpoints))
	}
	for _, c := range r.Checkpoints {
		f := rel(t, c.File)
		want, ok := inventoryCheckpoints[f]
		if !ok {
			t.Errorf("unexpected checkpoint %s", f)
			continue
		}
		if c.Checkpoint.Text != want || !c.PrimaryOK || !c.ShadowOK {
			t.Errorf("%s: checkpoint %s primary %t shadow %t, want %s and both ok", f, c.Checkpoint.Text, c.PrimaryOK, c.ShadowOK, want)
		}
		wantStream := "ok"
		if strings.HasPrefix(f, "ntds") {
			wantStream = "no logs of base edb next to the checkpoint"
		}
		if c.Stream != wantStream {
			t.Errorf("%s: stream %q, want %q", f, c.Stream, wantStream)
		}
	}
}

func TestInventoryFlushMapsAndOthers(t *testing.T) {
	r := allSamples(t)
	if len(r.FlushMaps) != 3 {
		t.Errorf("%d flush maps, want 3", len(r.FlushMaps))
	}
	for _, m := range r.FlushMaps {
		if !m.HeaderOK || m.PagesOK != 1 || m.PagesBad != 0 {
			t.Errorf("%s: header ok %t pages ok %d bad %d", m.File, m.HeaderOK, m.PagesOK, m.PagesBad)
		}
	}
	for _, o := range r.Others {
		f := rel(t, o.File)
		if f != "INVENTORY.md" && !strings.HasPrefix(f, "LICENSES/") {
			t.Errorf("unexpected other file %s (%s)", f, o.Note)
		}
	}
	// Exactly the two known bad databases make the report fail.
	files := map[string]bool{}
	for _, e := range r.Errors {
		files[rel(t, e.File)] = true
	}
	if len(files) != 2 || !files["dissect-srudb-badtail/SRUDB.dat"] || !files["ntds-2012r2-tempdb/temp.edb"] || r.OK {
		t.Errorf("errors in %v (ok %t), want only badtail and temp.edb", files, r.OK)
	}
}

func TestCleanSetsPass(t *testing.T) {
	dir := samplesDir(t)
	for _, sub := range []string{"srum-win10-clean", "srum-win10-dirty", "srum-win11-dirty", "dissect-basic-4k", "dissect-large-32k", "bits-qmgr-win11-16k"} {
		r, err := Inspect(context.Background(), filepath.Join(dir, sub), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if !r.OK || len(r.Errors) != 0 {
			t.Errorf("%s: ok %t, errors %v", sub, r.OK, r.Errors)
		}
	}
}

func TestSingleFile(t *testing.T) {
	dir := samplesDir(t)
	r, err := Inspect(context.Background(), filepath.Join(dir, "srum-win11-dirty", "SRUDB.dat"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Databases) != 1 || !r.OK || len(r.Warnings) != 0 {
		t.Fatalf("databases %d ok %t warnings %v", len(r.Databases), r.OK, r.Warnings)
	}
	if got := r.Databases[0].RequiredLogs; !strings.Contains(got, "not checked (a single file was inspected)") {
		t.Errorf("required logs %q", got)
	}
	if _, err := Inspect(context.Background(), filepath.Join(dir, "no-such-file"), Options{}); err == nil {
		t.Error("Inspect of a missing path succeeded")
	} else if c, _ := ese.CodeOf(err); c != ese.ErrFileNotFound {
		t.Errorf("missing path: %v, want JET_errFileNotFound", err)
	}
}

func TestNoVerify(t *testing.T) {
	dir := samplesDir(t)
	r, err := Inspect(context.Background(), filepath.Join(dir, "srum-win10-clean"), Options{NoVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	if r.Verified || !r.OK {
		t.Errorf("verified %t ok %t", r.Verified, r.OK)
	}
	d := r.Databases[0]
	if d.PagesVerified || d.PagesTotal != 0 || d.Format != "0x620,110,240" {
		t.Errorf("pages verified %t total %d format %s", d.PagesVerified, d.PagesTotal, d.Format)
	}
	// The chain is still checked on the header rules.
	if len(r.Streams) != 1 || r.Streams[0].Chain != "ok" || r.Streams[0].Logs != 7 {
		t.Errorf("streams %+v", r.Streams)
	}
	// Headers only: a bad page goes unnoticed, as asked.
	r, err = Inspect(context.Background(), filepath.Join(dir, "dissect-srudb-badtail"), Options{NoVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK {
		t.Errorf("--no-verify reported errors: %v", r.Errors)
	}
}

func TestPageRuns(t *testing.T) {
	dir := samplesDir(t)
	r, err := Inspect(context.Background(), filepath.Join(dir, "dissect-srudb-badtail", "SRUDB.dat"), Options{Pages: true})
	if err != nil {
		t.Fatal(err)
	}
	d := r.Databases[0]
	next := uint32(1)
	count := map[string]int64{}
	for i, run := range d.PageRuns {
		if run.First != next || run.Last < run.First {
			t.Fatalf("run %d %+v does not follow page %d", i, run, next-1)
		}
		if i > 0 && d.PageRuns[i-1].Status == run.Status {
			t.Errorf("runs %d and %d have the same status %s", i-1, i, run.Status)
		}
		count[run.Status] += int64(run.Last - run.First + 1)
		next = run.Last + 1
	}
	if int64(next-1) != d.PagesTotal || count["ok"] != d.PagesOK || count["bad"] != d.PagesBad || count["uninitialized"] != d.PagesUninitialized {
		t.Errorf("runs cover %d pages %v; tally %d/%d/%d of %d", next-1, count, d.PagesOK, d.PagesBad, d.PagesUninitialized, d.PagesTotal)
	}
	last := d.PageRuns[len(d.PageRuns)-1]
	if last.First != 143 || last.Last != 158 || last.Status != "bad" {
		t.Errorf("last run %+v, want 143-158 bad", last)
	}
}

func TestJSONFields(t *testing.T) {
	r := allSamples(t)
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"schema_version", "ok", "databases", "logs", "checkpoints", "flush_maps", "streams", "others", "errors", "warnings"} {
		if _, ok := m[k]; !ok {
			t.Errorf("report lacks %q", k)
		}
	}
	db := m["databases"].([]any)[0].(map[string]any)
	for _, k := range []string{"file", "page_size", "state", "state_name", "format", "db_time", "sign_db", "sign_log",
		"gen_min_required", "gen_max_required", "gen_max_committed", "lgpos_consistent", "bkinfo_full_prev",
		"pages_total", "pages_ok", "pages_bad", "pages_uninitialized", "bad_pages", "streamed_copy"} {
		if _, ok := db[k]; !ok {
			t.Errorf("database entry lacks %q", k)
		}
	}
	lg := m["logs"].([]any)[0].(map[string]any)
	for _, k := range []string{"file", "generation", "version", "cb_sec", "created", "prev_gen", "segments_ok",
		"segments_empty", "segments_shadow", "chain", "chain_error_code"} {
		if _, ok := lg[k]; !ok {
			t.Errorf("log entry lacks %q", k)
		}
	}
	e := m["errors"].([]any)[0].(map[string]any)
	for _, k := range []string{"file", "op", "jet_err", "name", "page", "message"} {
		if _, ok := e[k]; !ok {
			t.Errorf("error entry lacks %q", k)
		}
	}
}

func TestWriteText(t *testing.T) {
	r := allSamples(t)
	var b strings.Builder
	if err := WriteText(&b, r); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"Format: 0x620,110,240 (created 0x620,20)",
		"LgposConsistent: (9,6,36)",
		"GenMaxCommitted: 81 (0x51)",
		"BKInfoFullPrev: none",
		"Generation: 92 (0x5C)",
		"Checkpoint: (5C,8,0)",
		"SRUDB.dat page 143: JET_errReadVerifyFailure (-1018)",
		"large.edb.gz (gunzipped to a temporary file for inspection)",
		"Pages: 190: 104 ok, 0 bad, 86 uninitialized",
		"Chain: not in chain: tmp log",
		"... and 134 more bad pages",
		"Summary: ",
		": FAILED",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text output lacks %q", want)
		}
	}
}
