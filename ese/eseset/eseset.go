// Package eseset is the "ese" backup-set format of package host: it
// registers itself (backupset.RegisterFormat) in init, so that a program that
// imports it, even blank, backs up ESE sets with their metadata in the
// manifest's "ese" section and verifies them by hashes, every database
// page, every log, the generations the set needs and the log chain. It
// also assembles chains of full and incremental sets (AssembleChain).
package eseset

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/esesnap/esesnap/backupset"
	"github.com/esesnap/esesnap/ese"
	"github.com/esesnap/esesnap/ese/format"
	"github.com/esesnap/esesnap/protocol"
)

// opVerifySet is the Op of the *ese.Error values the set checks build.
const opVerifySet = "verify backup set"

// headBytes is how much of the start of each file the ESE format reads
// for the manifest's metadata and for sniffing tar entries: one log header,
// which also covers a database header.
const headBytes = format.LogHeaderSize

// eseFormat is the "ese" set format: every database's pages, every log,
// the generations and the log chain (see backupset.Verify).
type eseFormat struct{}

func init() { backupset.RegisterFormat(Kind, eseFormat{}) }

// NewSection implements backupset.Format: the "ese" section is an Info.
func (eseFormat) NewSection() any { return new(Info) }

// NewCollector implements backupset.Format.
func (eseFormat) NewCollector() backupset.Collector { return &eseCollector{} }

// HeadSize implements backupset.Format.
func (eseFormat) HeadSize() int { return headBytes }

// eseVerdict is what the ESE checks found of one file: the database check
// and the log check (only one of db and log is set).
type eseVerdict struct {
	db     *format.StreamedDB
	dbErr  error
	log    *format.LogCheck
	logErr error
}

// signatureText renders a signature for the manifest.
func signatureText(s format.Signature) SignatureText {
	var b [format.SignatureSize]byte
	s.Put(b[:])
	return SignatureText{Hex: hex.EncodeToString(b[:]), Text: s.String()}
}

// parseSignatureText decodes the Hex form of a manifest signature.
func parseSignatureText(t SignatureText) (format.Signature, error) {
	b, err := hex.DecodeString(t.Hex)
	if err != nil || len(b) != format.SignatureSize {
		return format.Signature{}, fmt.Errorf("signature %q is not %d hex-encoded bytes", t.Hex, format.SignatureSize)
	}
	return format.ParseSignature(b), nil
}

// eseCollector gathers the ESE metadata of a backup set from the first bytes
// of each streamed file. Plugins are not all ESE plugins: a set whose
// databases and logs do not all start with ESE headers gets no ESE section,
// and the reason becomes a warning.
type eseCollector struct {
	info    Info
	dbs     int
	logs    int
	notESE  error
	signLog *format.Signature

	// What backupset.Verify needs of each database and log, gathered while they
	// stream (see write), so that check can judge the set before it is
	// committed.
	cur  streamedFile
	seen map[string]*eseVerdict
}

// Bounds of what the collector keeps of a streamed file: the two header
// snapshots and the trailer of a database (at the largest page size), and a
// whole log up to maxCheckedLog bytes.
const (
	dbHeadBytes   = 2 * format.MaxPageSize
	dbTailBytes   = format.MaxPageSize
	maxCheckedLog = 64 << 20
)

// streamedFile is what the collector keeps of the file being streamed.
type streamedFile struct {
	role    protocol.Role
	first   []byte // the first headBytes, for the manifest's metadata
	head    []byte // database: the first dbHeadBytes
	tail    []byte // database: the last dbTailBytes
	log     []byte // log: every byte, unless tooBig
	tooBig  bool
	written int64
}

// Write implements backupset.Collector: it takes the chunk of the streamed file
// at offset off (chunks come in order; offset 0 starts a new file).
// Databases keep their ends, logs their whole content, for the checks.
func (c *eseCollector) Write(role protocol.Role, off int64, data []byte) {
	f := &c.cur
	if off == 0 {
		*f = streamedFile{role: role, first: f.first[:0], head: f.head[:0], tail: f.tail[:0], log: f.log[:0]}
	}
	if n := headBytes - len(f.first); n > 0 {
		f.first = append(f.first, data[:min(n, len(data))]...)
	}
	f.written += int64(len(data))
	switch role {
	case protocol.RoleDatabase:
		if n := dbHeadBytes - len(f.head); n > 0 {
			f.head = append(f.head, data[:min(n, len(data))]...)
		}
		if len(data) >= dbTailBytes {
			f.tail = append(f.tail[:0], data[len(data)-dbTailBytes:]...)
		} else {
			f.tail = append(f.tail, data...)
			if extra := len(f.tail) - dbTailBytes; extra > 0 {
				copy(f.tail, f.tail[extra:])
				f.tail = f.tail[:dbTailBytes]
			}
		}
	case protocol.RoleLog:
		if f.tooBig {
			return
		}
		if len(f.log)+len(data) > maxCheckedLog {
			f.tooBig, f.log = true, nil
			return
		}
		f.log = append(f.log, data...)
	}
}

// observe runs Verify's check of one database or log (checkESEFile) on
// what Write kept of it and records the verdict for Check. A database is checked
// as the stream of its two header snapshots, one blank data page and its
// trailer: its pages were verified by the plugin as it read them, and the
// header and trailer checks do not depend on the pages between.
func (c *eseCollector) observe(f *backupset.ManifestFile) {
	sf := &c.cur
	if sf.role != f.Role || sf.written != f.Size {
		return // not seen through write (a caller without the hook)
	}
	size := f.Size
	var r io.ReaderAt
	switch f.Role {
	case protocol.RoleDatabase:
		r = sparseStream{head: sf.head, tail: sf.tail, size: f.Size}
		if ps := int64(f.PageSize); ps > 0 && f.Size%ps == 0 && f.Size > 4*ps && len(sf.head) >= int(2*ps) && len(sf.tail) >= int(ps) {
			size = 4 * ps
			r = sparseStream{head: sf.head[:2*ps], tail: sf.tail[len(sf.tail)-int(ps):], size: size}
		}
	case protocol.RoleLog:
		if sf.tooBig {
			c.keep(f.Name, &eseVerdict{
				logErr: &ese.Error{Code: ese.ErrLogFileSizeMismatch, Op: "verify log", File: f.Name,
					Err: fmt.Errorf("%d bytes, more than the %d a log of ESE can have", f.Size, maxCheckedLog)},
				dbErr: notDatabase(f.Name),
			})
			return
		}
		r = bytes.NewReader(sf.log)
	default:
		return
	}
	// checkESEFile returns only cancellation, which the backup notices
	// itself.
	v, _ := checkESEFile(context.Background(), r, size, f.Name, f.Role)
	c.keep(f.Name, v)
}

func (c *eseCollector) keep(name string, v *eseVerdict) {
	if c.seen == nil {
		c.seen = map[string]*eseVerdict{}
	}
	c.seen[name] = v
}

// Check implements backupset.Collector: it applies Verify's checks of a set
// (CheckSet: every database's header snapshots and trailer, every log, the
// generations the manifest and the databases need, one chain of one log
// stream) to the set described by m as it was streamed, so that a backup
// fails, before its manifest is committed, exactly where the set would not
// verify, and with the errors Verify would report. Page deltas are judged
// on the whole databases that streamed through the backupset.
func (c *eseCollector) Check(ctx context.Context, m *backupset.Manifest) error {
	if InfoOf(m) == nil {
		return nil
	}
	rep := &backupset.VerifyReport{Manifest: m}
	verdicts := map[string]any{}
	for _, f := range m.Files {
		rep.Files = append(rep.Files, backupset.FileReport{Name: f.Name, Role: f.Role, Size: f.Size, SHA256: f.SHA256, OK: true})
		if v := c.seen[f.Name]; v != nil {
			verdicts[f.Name] = v
		}
	}
	problems := eseFormat{}.CheckSet(ctx, rep, verdicts)
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("backup cancelled: %w", err)
	}
	if len(problems) == 0 {
		return nil
	}
	return errors.Join(problems...)
}

// sparseStream is a streamed database of size bytes of which only the
// start (head) and the end (tail) are known; the bytes between read as
// zeros, which the page check counts as uninitialized pages.
type sparseStream struct {
	head, tail []byte
	size       int64
}

// ReadAt implements io.ReaderAt.
func (s sparseStream) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("negative offset")
	}
	if off >= s.size {
		return 0, io.EOF
	}
	n := len(p)
	var err error
	if rest := s.size - off; int64(n) > rest {
		n, err = int(rest), io.EOF
	}
	tailAt := s.size - int64(len(s.tail))
	for i := range n {
		at := off + int64(i)
		switch {
		case at < int64(len(s.head)):
			p[i] = s.head[at]
		case at >= tailAt:
			p[i] = s.tail[at-tailAt]
		default:
			p[i] = 0
		}
	}
	return n, err
}

// FileDone implements backupset.Collector: it reads the header at the start of file
// f and fills in f's page size and generation when the plugin left them 0.
func (c *eseCollector) FileDone(f *backupset.ManifestFile) {
	if c.notESE != nil {
		return
	}
	head := c.cur.first
	if c.cur.written != f.Size {
		head = nil // not seen through Write
	}
	switch f.Role {
	case protocol.RoleDatabase:
		h, err := format.ParseDBHeader(head)
		if err != nil {
			c.notESE = fmt.Errorf("database %s has no ESE header: %w", f.Name, err)
			return
		}
		if f.PageSize == 0 {
			f.PageSize = h.CbPage()
		}
		if c.info.PageSize == 0 {
			c.info.PageSize = h.CbPage()
		}
		if c.signLog == nil {
			s := h.SignLog
			c.signLog = &s
		}
		c.info.Databases = append(c.info.Databases, Database{
			Name:         f.Name,
			SignDb:       signatureText(h.SignDb),
			SignLog:      signatureText(h.SignLog),
			BackupGenLow: h.BKInfoFullCur.GenLow,
			State:        h.State.String(),
		})
		c.dbs++
	case protocol.RoleLog:
		h, err := format.ParseLogHeader(head)
		if err != nil {
			c.notESE = fmt.Errorf("log %s has no ESE log header: %w", f.Name, err)
			return
		}
		if f.Generation == 0 {
			f.Generation = h.Generation
		}
		if f.PageSize == 0 {
			f.PageSize = h.PageSize()
		}
		if c.info.PageSize == 0 {
			c.info.PageSize = h.PageSize()
		}
		if c.logs == 0 {
			// The logs define the stream; a database's copy of signLog is
			// checked against them by backupset.Verify.
			s := h.SignLog
			c.signLog = &s
		}
		if c.logs == 0 || h.Generation < c.info.GenLow {
			c.info.GenLow = h.Generation
		}
		if h.Generation > c.info.GenHigh {
			c.info.GenHigh = h.Generation
		}
		if c.info.BaseName == "" {
			if ln, ok := format.ParseLogName(f.Name); ok && ln.Base != "" {
				c.info.BaseName = ln.Base
			}
		}
		c.logs++
	}
	c.observe(f)
}

// Finish implements backupset.Collector: it sets the ESE section of m, or leaves it
// nil with the reason the set is not an ESE set (nil reason when it simply
// has no databases or logs).
func (c *eseCollector) Finish(m *backupset.Manifest) error {
	if c.notESE != nil {
		return fmt.Errorf("the manifest has no ESE metadata: %w", c.notESE)
	}
	if c.dbs == 0 && c.logs == 0 {
		return nil
	}
	info := c.info
	if c.signLog != nil {
		st := signatureText(*c.signLog)
		info.SignLog = &st
	}
	m.SetSection(Kind, &info)
	return nil
}

// looksLikeDatabase reports whether head starts with an ESE database header.
func looksLikeDatabase(head []byte) bool {
	return len(head) >= 8 && binary.LittleEndian.Uint32(head[4:]) == format.DBMagic
}

func notDatabase(name string) error {
	return &ese.Error{Code: ese.ErrDatabaseCorrupted, Op: "verify streamed database", File: name,
		Err: errors.New("the file does not start with a database header")}
}

// checkESEFile runs the ESE check for role on r (size bytes): the database
// check, the log check, or for RoleUnspecified (a tar entry whose role is
// not known yet) whichever the first bytes call for. Only cancellation is
// returned as an error; the verdict says what the checks found.
func checkESEFile(ctx context.Context, r io.ReaderAt, size int64, name string, role protocol.Role) (*eseVerdict, error) {
	o := &eseVerdict{}
	if role == protocol.RoleUnspecified {
		var head [8]byte
		n, _ := r.ReadAt(head[:], 0)
		if looksLikeDatabase(head[:n]) {
			role = protocol.RoleDatabase
		} else {
			role = protocol.RoleLog
		}
	}
	switch role {
	case protocol.RoleDatabase:
		o.db, o.dbErr = format.VerifyStreamedDatabase(ctx, r, size, name)
		if o.dbErr != nil && ctx.Err() != nil {
			return nil, fmt.Errorf("verify: %w", ctx.Err())
		}
		o.logErr = &ese.Error{Code: ese.ErrFileInvalidType, Op: "verify log", File: name, Err: errors.New("the file is a database")}
	case protocol.RoleLog:
		o.log, o.logErr = format.VerifyLog(r, size, name)
		o.dbErr = notDatabase(name)
	}
	return o, nil
}

// Sniff implements backupset.Format: a tar entry that starts with a database or a
// log header is checked; any other gets the verdict of a file that is
// neither.
func (eseFormat) Sniff(name string, head []byte) (bool, any) {
	_, logErr := format.ParseLogHeader(head)
	if looksLikeDatabase(head) || logErr == nil {
		return true, nil
	}
	return false, &eseVerdict{
		dbErr:  notDatabase(name),
		logErr: &ese.Error{Code: ese.ErrLogFileCorrupt, Op: "verify log", File: name, Err: logErr},
	}
}

// CheckFile implements backupset.Format: databases and logs get their ESE check,
// other files none.
func (eseFormat) CheckFile(ctx context.Context, r io.ReaderAt, size int64, name string, role protocol.Role) (any, error) {
	if role != protocol.RoleUnspecified && role != protocol.RoleDatabase && role != protocol.RoleLog {
		return nil, nil
	}
	v, err := checkESEFile(ctx, r, size, name, role)
	if err != nil || v == nil {
		return nil, err
	}
	return v, nil
}

// CheckSet implements backupset.Format: each database's and log's verdict, what the
// manifest says against the files' headers (checkManifestMeaning), and the
// set as a whole (checkESESet).
func (eseFormat) CheckSet(ctx context.Context, rep *backupset.VerifyReport, verdicts map[string]any) []error {
	m := rep.Manifest
	r := &Report{}
	rep.Details = r
	var problems []error
	var links []format.ChainLink
	seen := map[string]*eseVerdict{}
	logsOK := true
	for i, f := range m.Files {
		v, _ := verdicts[f.Name].(*eseVerdict)
		if v == nil {
			if f.Role == protocol.RoleLog && i < len(rep.Files) && rep.Files[i].Size < 0 {
				logsOK = false // missing
			}
			continue
		}
		seen[f.Name] = v
		switch f.Role {
		case protocol.RoleDatabase:
			if v.dbErr != nil {
				problems = append(problems, v.dbErr)
				rep.Files[i].OK = false
				break
			}
			r.Databases = append(r.Databases, DatabaseReport{
				Name: f.Name, PageSize: v.db.PageSize, Pages: v.db.Pages,
				OKPages: v.db.Tally.OK, Uninitialized: v.db.Tally.Uninitialized,
				GenLow: v.db.Header.BKInfoFullCur.GenLow, GenHigh: v.db.Trailer.BKInfo.GenHigh,
			})
		case protocol.RoleLog:
			if v.logErr != nil {
				problems = append(problems, v.logErr)
				rep.Files[i].OK = false
				logsOK = false
				break
			}
			links = append(links, format.ChainLink{Name: f.Name, Check: v.log})
		}
	}
	if ctx.Err() == nil {
		problems = append(problems, checkManifestMeaning(m, seen)...)
		problems = append(problems, checkESESet(rep, seen, links, logsOK)...)
	}
	return problems
}

// checkESESet checks the databases and logs of an ESE set together: one
// log stream, every needed generation present, one chain.
func checkESESet(rep *backupset.VerifyReport, seen map[string]*eseVerdict, links []format.ChainLink, logsOK bool) []error {
	m, r := rep.Manifest, ReportOf(rep)
	var problems []error
	fail := func(code ese.Code, file string, format string, args ...any) {
		problems = append(problems, &ese.Error{Code: code, Op: opVerifySet, File: file, Err: fmt.Errorf(format, args...)})
	}

	// The log stream: the databases' signLog, else the manifest's.
	var signLog *format.Signature
	signFrom := ""
	for _, d := range r.Databases {
		s := seen[d.Name].db.Header.SignLog
		if signLog == nil {
			signLog, signFrom = &s, d.Name
		} else if s != *signLog {
			fail(ese.ErrDatabaseLogSetMismatch, d.Name, "log signature %s, %s has %s", s, signFrom, *signLog)
		}
	}
	if InfoOf(m).SignLog != nil {
		want, err := parseSignatureText(*InfoOf(m).SignLog)
		switch {
		case err != nil:
			problems = append(problems, fmt.Errorf("manifest: sign_log: %w", err))
		case signLog == nil:
			signLog, signFrom = &want, backupset.ManifestName
		case *signLog != want:
			fail(ese.ErrDatabaseLogSetMismatch, signFrom, "log signature %s, the manifest says %s", *signLog, want)
		}
	}

	slices.SortFunc(links, func(a, b format.ChainLink) int {
		return cmp.Compare(a.Check.Header.Generation, b.Check.Header.Generation)
	})
	have := map[uint32]bool{}
	for _, l := range links {
		have[l.Check.Header.Generation] = true
	}
	r.Logs = len(links)
	if len(links) > 0 {
		r.GenLow, r.GenHigh = links[0].Check.Header.Generation, links[len(links)-1].Check.Header.Generation
	}
	// Generations the set must hold: the manifest's range and each
	// database's range. Only judged when every log verified, so that a
	// damaged log is not reported a second time as missing.
	if logsOK {
		namer := missingLogNamer(m, links)
		need := func(lo, hi uint32, who string) {
			if lo == 0 || hi < lo {
				return
			}
			var missing []string
			for g := lo; g <= hi && len(missing) < 10; g++ {
				if !have[g] {
					missing = append(missing, namer(g))
				}
			}
			if len(missing) > 0 {
				fail(ese.ErrMissingLogFile, who, "log generations %#x to %#x are needed, missing %s", lo, hi, strings.Join(missing, ", "))
			}
		}
		need(InfoOf(m).GenLow, InfoOf(m).GenHigh, backupset.ManifestName)
		for _, d := range r.Databases {
			need(d.GenLow, d.GenHigh, d.Name)
		}
		if len(links) > 0 && (r.GenLow != InfoOf(m).GenLow || r.GenHigh != InfoOf(m).GenHigh) {
			fail(ese.ErrInvalidLogSequence, backupset.ManifestName, "the set's logs span generations %#x to %#x, the manifest says %#x to %#x",
				r.GenLow, r.GenHigh, InfoOf(m).GenLow, InfoOf(m).GenHigh)
		}
		if err := format.CheckChain(links, signLog); err != nil {
			problems = append(problems, err)
		}
	}
	return problems
}

// missingLogNamer returns a function naming generation g as the set's logs
// are named (base name, extension, digits), or as a bare generation.
func missingLogNamer(m *backupset.Manifest, links []format.ChainLink) func(uint32) string {
	for _, l := range links {
		if ln, ok := format.ParseLogName(l.Name); ok && ln.Kind == format.LogArchived {
			return func(g uint32) string {
				return fmt.Sprintf("%#x (%s)", g, format.LogFileName(ln.Base, g, ln.Ext, ln.Digits == 8))
			}
		}
	}
	if InfoOf(m).BaseName != "" {
		return func(g uint32) string {
			return fmt.Sprintf("%#x (%s)", g, format.LogFileName(InfoOf(m).BaseName, g, ".log", false))
		}
	}
	return func(g uint32) string { return fmt.Sprintf("%#x", g) }
}

// checkManifestMeaning cross-checks what the manifest says about each
// file of an ESE set with what the file's headers say: the kind (full and
// copy sets stream databases, incremental and differential sets logs
// only), each file's name against its original name, page sizes,
// generations (the manifest's, the log header's and the file name's), the
// log base name, and for every database its signature, log signature,
// backup generation and state. Files that failed their own ESE check are
// skipped here: their damage is already reported.
func checkManifestMeaning(m *backupset.Manifest, seen map[string]*eseVerdict) []error {
	var problems []error
	bad := func(name, format string, args ...any) {
		problems = append(problems, fmt.Errorf("%s: %w: %s", name, backupset.ErrManifestMismatch, fmt.Sprintf(format, args...)))
	}
	dbs := 0
	headPageSize := 0 // the page size of the first file with a header, as Backup records it
	var dbFiles []string
	for _, f := range m.Files {
		if f.OriginalName != "" && !backupset.NameFits(f.Name, f.OriginalName) {
			bad(f.Name, "the original name %q has the base name %q", f.OriginalName, backupset.BaseName(f.OriginalName))
		}
		o := seen[f.Name]
		switch f.Role {
		case protocol.RoleDatabase:
			dbs++
			dbFiles = append(dbFiles, f.Name)
			if o == nil || o.dbErr != nil {
				continue
			}
			if headPageSize == 0 {
				headPageSize = o.db.PageSize
			}
			if f.PageSize != o.db.PageSize {
				bad(f.Name, "the manifest says page size %d, the database header %d", f.PageSize, o.db.PageSize)
			}
		case protocol.RoleLog:
			ln, named := format.ParseLogName(f.Name)
			if !named || ln.Kind != format.LogArchived {
				bad(f.Name, "a log of a backup set is named for its generation (<base>XXXXX.log)")
			} else if InfoOf(m).BaseName != "" && !strings.EqualFold(ln.Base, InfoOf(m).BaseName) {
				bad(f.Name, "the manifest says log base name %q", InfoOf(m).BaseName)
			}
			if o == nil || o.logErr != nil {
				continue
			}
			h := o.log.Header
			if headPageSize == 0 {
				headPageSize = h.PageSize()
			}
			if f.Generation != h.Generation {
				bad(f.Name, "the manifest says generation %#x, the log header %#x", f.Generation, h.Generation)
			}
			if named && ln.Kind == format.LogArchived && ln.Gen != h.Generation {
				bad(f.Name, "the name says generation %#x, the log header %#x", ln.Gen, h.Generation)
			}
			if f.PageSize != 0 && f.PageSize != h.PageSize() {
				bad(f.Name, "the manifest says page size %d, the log header %d", f.PageSize, h.PageSize())
			}
		}
	}
	switch m.Kind {
	case protocol.KindFull, protocol.KindCopy:
		if dbs == 0 {
			bad(backupset.ManifestName, "a %s backup streams the databases, the set holds none", m.Kind)
		}
	case protocol.KindIncremental, protocol.KindDifferential:
		if dbs > 0 {
			bad(backupset.ManifestName, "an %s backup streams logs only, the set holds %d database(s)", m.Kind, dbs)
		}
	}
	if headPageSize != 0 && InfoOf(m).PageSize != headPageSize {
		bad(backupset.ManifestName, "ese.page_size is %d, the files' headers say %d", InfoOf(m).PageSize, headPageSize)
	}

	// The ESE section's databases are the set's databases, in order, and
	// say what their header snapshots say.
	var eseNames []string
	for _, d := range InfoOf(m).Databases {
		eseNames = append(eseNames, d.Name)
	}
	if !slices.Equal(eseNames, dbFiles) {
		bad(backupset.ManifestName, "ese.databases lists %q, the set's databases are %q", eseNames, dbFiles)
	}
	for _, d := range InfoOf(m).Databases {
		o := seen[d.Name]
		if o == nil || o.dbErr != nil || o.db == nil {
			continue
		}
		h := o.db.Header
		for _, sig := range []struct {
			what string
			text SignatureText
			have format.Signature
		}{{"sign_db", d.SignDb, h.SignDb}, {"sign_log", d.SignLog, h.SignLog}} {
			want, err := parseSignatureText(sig.text)
			if err != nil {
				bad(d.Name, "ese.databases %s: %v", sig.what, err)
			} else if want != sig.have {
				bad(d.Name, "the manifest says %s %s, the database header %s", sig.what, want, sig.have)
			}
		}
		if d.BackupGenLow != h.BKInfoFullCur.GenLow {
			bad(d.Name, "the manifest says backup_gen_low %#x, the database header %#x", d.BackupGenLow, h.BKInfoFullCur.GenLow)
		}
		if d.State != h.State.String() {
			bad(d.Name, "the manifest says state %q, the database header %q", d.State, h.State.String())
		}
	}
	return problems
}
