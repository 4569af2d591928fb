package inspect

import (
	"bufio"
	"fmt"
	"io"
	"reflect"
	"strings"

	"github.com/esesnap/esesnap/ese"
	"github.com/esesnap/esesnap/ese/format"
)

// MaxTextBadPages is how many bad pages WriteText lists per database before
// it only gives the count.
const MaxTextBadPages = 100

// WriteText prints the report for a person, in the spirit of esentutl's
// /mh, /ml and /mk dumps: every database header field by name, log and
// checkpoint headers, the chain verdict of each log, bad pages, then
// warnings, errors and a summary line.
func WriteText(w io.Writer, r *Report) error {
	bw := bufio.NewWriter(w)
	p := &printer{w: bw}
	mode := "headers, page checksums, log segments and chains"
	if !r.Verified {
		mode = "headers only (--no-verify)"
	}
	p.f("esesnap inspect %s\nchecked: %s\n", r.Path, mode)
	for i := range r.Databases {
		p.database(&r.Databases[i])
	}
	for i := range r.FlushMaps {
		p.flushMap(&r.FlushMaps[i])
	}
	for i := range r.Checkpoints {
		p.checkpoint(&r.Checkpoints[i])
	}
	for i := range r.Logs {
		p.log(&r.Logs[i])
	}
	for i := range r.Streams {
		p.stream(&r.Streams[i])
	}
	if len(r.Others) > 0 {
		p.f("\n== Other files\n")
		for _, o := range r.Others {
			p.f("   %s: %s\n", o.File, o.Note)
		}
	}
	if len(r.Warnings) > 0 {
		p.f("\nWarnings (%d):\n", len(r.Warnings))
		for _, x := range r.Warnings {
			p.f("   %s\n", x)
		}
	}
	if len(r.Errors) > 0 {
		p.f("\nErrors (%d):\n", len(r.Errors))
		for _, x := range r.Errors {
			p.f("   %s\n", x)
		}
	}
	p.f("\n%s\n", Summary(r))
	if p.err != nil {
		return p.err
	}
	return bw.Flush()
}

// Summary is the one-line verdict of a report: what was found, the page
// and log tallies, the number of errors and warnings, and OK or FAILED.
func Summary(r *Report) string {
	var ok, bad, uninit int64
	for _, d := range r.Databases {
		ok += d.PagesOK
		bad += d.PagesBad
		uninit += d.PagesUninitialized
	}
	chainOK := 0
	for _, l := range r.Logs {
		if l.Chain == "ok" {
			chainOK++
		}
	}
	verdict := "OK"
	if !r.OK {
		verdict = "FAILED"
	}
	return fmt.Sprintf("Summary: %s; %d database(s) (pages: %d ok, %d bad, %d uninitialized), %d log(s) (%d chained ok) in %d stream(s), %d checkpoint(s), %d flush map(s), %d other file(s); %d error(s), %d warning(s): %s",
		r.Path, len(r.Databases), ok, bad, uninit, len(r.Logs), chainOK, len(r.Streams), len(r.Checkpoints),
		len(r.FlushMaps), len(r.Others), len(r.Errors), len(r.Warnings), verdict)
}

// printer writes formatted text and keeps the first write error.
type printer struct {
	w   io.Writer
	err error
}

func (p *printer) f(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, args...)
	}
}

// field prints one "name: value" line with the name right-aligned.
func (p *printer) field(name, format string, args ...any) {
	p.f("%30s: %s\n", name, fmt.Sprintf(format, args...))
}

func gunzipNote(gz bool) string {
	if gz {
		return " (gunzipped to a temporary file for inspection)"
	}
	return ""
}

func (p *printer) database(d *Database) {
	kind := "Database"
	if d.Temp {
		kind = "Temp database"
	}
	p.f("\n== %s: %s%s\n", kind, d.File, gunzipNote(d.Gunzipped))
	if d.Header == nil {
		p.f("   no readable header\n")
		return
	}
	p.field("Page size", "%d", d.PageSize)
	p.field("Format", "%s (created %s)", d.Format, d.CreatedFormat)
	p.field("State", "%d (%s)", d.State, d.StateName)
	p.field("Header copies", "%s", headerCopies(d))
	if d.StreamedCopy {
		t := d.Trailer
		p.field("Streamed backup copy", "yes: trailer ok=%t, log range %#x-%#x, mark %s", t.OK, t.GenLow, t.GenHigh, t.Mark.Text)
	}
	p.f("   Header fields:\n")
	dumpStruct(p, reflect.ValueOf(d.Header).Elem())
	if d.PagesVerified || d.PagesTotal > 0 {
		p.field("Pages", "%d: %d ok, %d bad, %d uninitialized", d.PagesTotal, d.PagesOK, d.PagesBad, d.PagesUninitialized)
	} else {
		p.field("Pages", "not verified")
	}
	if d.PagesBad > 0 {
		n := min(len(d.BadPages), MaxTextBadPages)
		p.f("   Bad pages (%d, first %d listed):\n", d.PagesBad, n)
		for _, b := range d.BadPages[:n] {
			p.f("      page %d: %s (%d): %s%s\n", b.Page, b.Name, b.JetErr, b.Reason, badPageDetail(b))
		}
		if d.PagesBad > int64(n) {
			p.f("      ... and %d more bad pages\n", d.PagesBad-int64(n))
		}
	}
	if len(d.PageRuns) > 0 {
		p.f("   Page status:\n")
		for _, r := range d.PageRuns {
			if r.First == r.Last {
				p.f("      %d: %s\n", r.First, r.Status)
			} else {
				p.f("      %d-%d: %s\n", r.First, r.Last, r.Status)
			}
		}
	}
	stream := d.LogStream
	if stream == "" {
		stream = "none found"
	}
	p.field("Log stream", "%s", stream)
	p.field("Required logs", "%s", d.RequiredLogs)
}

func headerCopies(d *Database) string {
	ok := func(b bool) string {
		if b {
			return "ok"
		}
		return "BAD"
	}
	s := fmt.Sprintf("primary %s, shadow %s", ok(d.HeaderPrimaryOK), ok(d.HeaderShadowOK))
	switch {
	case d.HeaderIdentical:
		s += ", identical"
	case d.HeaderUsedShadow:
		s += ", shadow used"
	}
	return s
}

func badPageDetail(b BadPage) string {
	var s []string
	if b.Block > 0 {
		s = append(s, fmt.Sprintf("block %d", b.Block))
	}
	if b.Bit >= 0 {
		s = append(s, fmt.Sprintf("single-bit error at byte %d bit %d", b.Bit/8, b.Bit%8))
	}
	if b.ActualPgno != 0 {
		s = append(s, fmt.Sprintf("data belongs to page %d", b.ActualPgno))
	}
	if len(s) == 0 {
		return ""
	}
	return " [" + strings.Join(s, "; ") + "]"
}

func (p *printer) flushMap(m *FlushMap) {
	p.f("\n== Flush map: %s%s\n", m.File, gunzipNote(m.Gunzipped))
	p.field("Header", "%s", okText(m.HeaderOK))
	p.field("Map pages", "%d: %d ok, %d bad, %d uninitialized", m.PagesTotal, m.PagesOK, m.PagesBad, m.PagesUninitialized)
}

func okText(b bool) string {
	if b {
		return "ok"
	}
	return "BAD"
}

func (p *printer) checkpoint(c *Checkpoint) {
	p.f("\n== Checkpoint: %s%s\n", c.File, gunzipNote(c.Gunzipped))
	if c.Value == nil {
		p.f("   unreadable\n")
		return
	}
	v := c.Value
	p.field("Checkpoint", "%s", v.LgposCheckpoint)
	p.field("Log signature", "%s", sigText(v.SignLog))
	p.field("Copies", "primary %s, shadow %s", okText(c.PrimaryOK), okText(c.ShadowOK))
	p.field("Last full backup checkpoint", "%s", v.LgposLastFullBackupCheckpoint)
	p.field("Full backup", "%s at %s", v.LgposFullBackup, v.LogtimeFullBackup)
	p.field("Incremental backup", "%s at %s", v.LgposIncBackup, v.LogtimeIncBackup)
	p.field("DB consistency", "%s", v.LgposDbConsistency)
	p.field("Log file size", "%d sectors", v.LcsecLGFile)
	p.field("System path", "%q", v.SystemPath)
	p.field("Log path", "%q", v.LogPath)
	p.field("Attach list", "%s", attachText(c.AttachPresent, c.Attached))
	p.field("Stream", "%s", c.Stream)
}

func attachText(present bool, list []Attached) string {
	if !present && len(list) == 0 {
		return "none"
	}
	var s []string
	for _, a := range list {
		s = append(s, fmt.Sprintf("dbid %d %q consistent %s", a.DBID, a.Path, a.LgposConsistent.Text))
	}
	if len(s) == 0 {
		return "empty"
	}
	return strings.Join(s, "; ")
}

func sigText(s format.Signature) string {
	return fmt.Sprintf("Create time:%s Rand:%d (0x%08X) Computer:%q", s.Created, s.Random, s.Random, cstr(s.Computer[:]))
}

func (p *printer) log(l *Log) {
	p.f("\n== Log: %s%s [%s]\n", l.File, gunzipNote(l.Gunzipped), l.Role)
	switch {
	case l.Empty:
		p.f("   all zero bytes (unused slot)\n")
	case !l.HeaderOK:
		p.f("   not a valid log header\n")
	default:
		h := l.Header
		p.field("Generation", "%d (0x%X)", h.Generation, h.Generation)
		p.field("Version", "%s", h.Version())
		p.field("Created", "%s", h.Create)
		p.field("Previous generation created", "%s", h.PrevGen)
		p.field("Log signature", "%s", sigText(h.SignLog))
		p.field("Sector size", "%d", h.CbSec)
		p.field("File size", "%d sectors (%d header)", h.CsecLGFile, h.CsecHeader)
		p.field("Database page size", "%d", h.PageSize())
		p.field("Checkpoint at creation", "%s", h.LgposCheckpoint)
		p.field("Flags", "0x%02X (circular logging %t)", h.Flags, l.CircularLogging)
		if h.HasPrevLogChecksum() {
			p.field("Prev. log segment checksum", "0x%016X", h.ChecksumPrevLogAllSegments)
		}
		p.field("Attached databases", "%s", attachText(len(l.Attached) > 0, l.Attached))
		switch {
		case l.Verified && h.Legacy():
			p.field("Body", "ok: %d LRCHECKSUM records", l.Records)
		case l.Verified:
			p.field("Segments", "%d ok, %d empty, %d shadow; last used segment %d", l.SegmentsOK, l.SegmentsEmpty, l.SegmentsShadow, l.LastSegment)
		default:
			p.field("Body", "not verified")
		}
	}
	if l.Chain != "" {
		p.field("Chain", "%s", l.Chain)
	}
}

func (p *printer) stream(s *Stream) {
	p.f("\n== Log stream %s in %s\n", s.Base, s.Dir)
	p.field("Generations", "%d (0x%X) - %d (0x%X), %d log file(s)", s.FirstGen, s.FirstGen, s.LastGen, s.LastGen, s.Logs)
	p.field("Chain", "%s", s.Chain)
	if s.Checkpoint != "" {
		p.field("Checkpoint", "%s at generation 0x%X", s.Checkpoint, s.CheckpointGen)
	}
	if len(s.Databases) > 0 {
		p.field("Databases", "%s", strings.Join(s.Databases, ", "))
	}
}

// Types printed by dumpStruct in a form of their own.
var (
	typeLogTime   = reflect.TypeFor[format.LogTime]()
	typeLGPos     = reflect.TypeFor[format.LGPos]()
	typeSignature = reflect.TypeFor[format.Signature]()
	typeBKInfo    = reflect.TypeFor[format.BKInfo]()
	typeBKType    = reflect.TypeFor[ese.BKInfoType]()
)

// dumpStruct prints every exported field of the struct v by name, so that
// a header dump stays complete when the format package grows new fields.
func dumpStruct(p *printer, v reflect.Value) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		fv := v.Field(i)
		if sf.Anonymous && fv.Kind() == reflect.Struct {
			dumpStruct(p, fv)
			continue
		}
		p.field(sf.Name, "%s", valueText(fv))
	}
}

// valueText formats one header field.
func valueText(v reflect.Value) string {
	switch v.Type() {
	case typeLogTime:
		return v.Interface().(format.LogTime).String()
	case typeLGPos:
		return v.Interface().(format.LGPos).String()
	case typeSignature:
		return sigText(v.Interface().(format.Signature))
	case typeBKInfo:
		b := v.Interface().(format.BKInfo)
		if b.IsZero() {
			return "none"
		}
		return fmt.Sprintf("log gen %d-%d (0x%X-0x%X), mark %s at %s", b.GenLow, b.GenHigh, b.GenLow, b.GenHigh, b.Mark, b.MarkTime)
	case typeBKType:
		return fmt.Sprintf("%d", v.Uint())
	}
	if s, ok := v.Interface().(fmt.Stringer); ok && v.CanUint() {
		// DBState, FileType: number and name.
		return fmt.Sprintf("%d (%s)", v.Uint(), s)
	}
	switch v.Kind() {
	case reflect.Uint8, reflect.Uint16:
		return fmt.Sprintf("%d", v.Uint())
	case reflect.Uint32, reflect.Uint64:
		return fmt.Sprintf("%d (0x%X)", v.Uint(), v.Uint())
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Int:
		return fmt.Sprintf("%d", v.Int())
	case reflect.String:
		return fmt.Sprintf("%q", v.String())
	case reflect.Slice:
		return fmt.Sprintf("%d entries", v.Len())
	case reflect.Bool:
		return fmt.Sprintf("%t", v.Bool())
	}
	return fmt.Sprintf("%v", v.Interface())
}
