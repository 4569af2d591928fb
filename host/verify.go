package host

import (
	"archive/tar"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/esesnap/esesnap/ese"
	"github.com/esesnap/esesnap/ese/format"
	"github.com/esesnap/esesnap/protocol"
)

// Errors Verify reports about the files of a set (with ErrIncomplete); each
// comes wrapped with the name of the file concerned. Damage found by the
// ESE checks is reported as *ese.Error instead.
var (
	ErrChecksumMismatch = errors.New("sha256 does not match the manifest")
	ErrSizeMismatch     = errors.New("size does not match the manifest")
	ErrMissingFile      = errors.New("file listed in the manifest is missing")
	ErrExtraFile        = errors.New("file is not listed in the manifest")
)

// opVerifySet is the Op of the *ese.Error values Verify builds itself.
const opVerifySet = "verify backup set"

// hashBufferSize is the read size of Verify's hashing, large enough to keep
// sha256 and the disk busy.
const hashBufferSize = 1 << 20

// VerifyReport describes a backup set Verify checked. Verify fills it as far
// as it got, also when it returns an error.
type VerifyReport struct {
	// Path is the directory or tar file checked ("" for VerifyTar).
	Path string
	// Tar is true for a tar stream, false for a directory.
	Tar bool
	// Manifest is the set's manifest, nil when it is missing or unreadable.
	Manifest *Manifest
	// Files has one entry per file of the manifest, in manifest order.
	Files []FileReport
	// Databases has one entry per database that passed the ESE checks.
	Databases []DatabaseReport
	// Logs is the number of logs that passed the ESE checks, GenLow and
	// GenHigh their generation range (0 when none).
	Logs            int
	GenLow, GenHigh uint32
}

// FileReport is the verdict on one file of the manifest.
type FileReport struct {
	Name string
	Role protocol.Role
	// Size and SHA256 are what the file holds (Size -1 when it is missing).
	Size   int64
	SHA256 string
	// OK is true when the file is present with the manifest's size and
	// hash and passed its ESE check, if any.
	OK bool
}

// DatabaseReport is what the ESE check of one streamed database found.
type DatabaseReport struct {
	Name     string
	PageSize int
	// Pages is the number of data pages; OKPages and Uninitialized split
	// them (a streamed database that passes has no bad pages).
	Pages         uint32
	OKPages       int64
	Uninitialized int64
	// GenLow and GenHigh are the log generations a restore of this copy
	// needs, from its header snapshot and trailer.
	GenLow, GenHigh uint32
}

// observed is what Verify saw of one file of a set.
type observed struct {
	size    int64
	sum     string
	checked bool // the ESE checks ran (db/dbErr, log/logErr are set)
	db      *format.StreamedDB
	dbErr   error
	log     *format.LogCheck
	logErr  error
}

// Verify checks the backup set at path, a directory or a tar file: that the
// manifest is present and complete, that the set holds exactly the files
// it lists with their sizes and SHA-256, and, when the manifest has ESE
// metadata, that every database is a complete streamed database whose pages
// verify (format.VerifyStreamedDatabase), that every log verifies
// (format.VerifyLog), that every generation from gen_low to gen_high and
// every generation the databases need is present, and that the logs form one
// chain (format.CheckChain) of the databases' log stream.
//
// It does not stop at the first damaged file: the error joins one error per
// problem found (errors.Is and errors.As see each of them). Set-level
// problems wrap ErrIncomplete, ErrChecksumMismatch, ErrSizeMismatch,
// ErrMissingFile or ErrExtraFile; ESE damage is an *ese.Error naming the
// file and, for a bad page, the page.
func Verify(ctx context.Context, path string) (*VerifyReport, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	if fi.IsDir() {
		return verifyDir(ctx, path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	defer f.Close()
	rep, err := VerifyTar(ctx, f)
	if rep != nil {
		rep.Path = path
	}
	return rep, namePath(path, err)
}

// namePath prefixes path to the problems of err that concern the whole
// tar file (its manifest, its end), which name no file of the set.
func namePath(path string, err error) error {
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	var out []error
	for _, e := range errs {
		if errors.Is(e, ErrBadManifest) || errors.Is(e, ErrTarTruncated) {
			e = fmt.Errorf("%s: %w", path, e)
		}
		out = append(out, e)
	}
	if len(out) == 1 {
		return out[0]
	}
	return errors.Join(out...)
}

// VerifyTar is Verify for a tar stream read from r (a file, stdin, the
// output of restic dump). It reads the stream once; each database and log
// is copied to a temporary file (under os.TempDir) while it is hashed,
// because the ESE checks need random access, and deleted after its check,
// so the space needed is that of the largest file.
func VerifyTar(ctx context.Context, r io.Reader) (*VerifyReport, error) {
	rep := &VerifyReport{Tar: true}
	tmpDir, err := os.MkdirTemp("", "esesnap-verify-*")
	if err != nil {
		return rep, fmt.Errorf("verify: %w", err)
	}
	defer os.RemoveAll(tmpDir)

	var problems []error
	seen := map[string]*observed{}
	names := nameSet{}
	buf := make([]byte, hashBufferSize)
	tail := newTarTail(r)
	tr := tar.NewReader(tail)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			if err := tail.end(); err != nil {
				problems = append(problems, err)
			}
			break
		}
		if err != nil {
			if rep.Manifest == nil {
				return rep, fmt.Errorf("%w: tar stream ends without a manifest: %w", ErrIncomplete, err)
			}
			return rep, fmt.Errorf("verify: read tar stream: %w", err)
		}
		if rep.Manifest != nil {
			problems = append(problems, fmt.Errorf("%s: %w: it follows the manifest", hdr.Name, ErrExtraFile))
			continue
		}
		if hdr.Typeflag != tar.TypeReg {
			problems = append(problems, fmt.Errorf("%s: %w: not a regular file (tar type %q)", hdr.Name, ErrExtraFile, hdr.Typeflag))
			continue
		}
		if hdr.Name == ManifestName {
			m, err := ReadManifest(tr)
			if err != nil {
				return rep, fmt.Errorf("verify: %s of the tar stream: %w", ManifestName, err)
			}
			rep.Manifest = m
			continue
		}
		if err := ValidateName(hdr.Name); err != nil {
			problems = append(problems, fmt.Errorf("%w: %w", ErrExtraFile, err))
			continue
		}
		if err := names.add(hdr.Name); err != nil {
			problems = append(problems, fmt.Errorf("%w: %w", ErrExtraFile, err))
			continue
		}
		o, err := observeTarEntry(ctx, tr, hdr.Name, tmpDir, buf)
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return rep, fmt.Errorf("%w: the tar stream is cut short in %s: %w", ErrIncomplete, hdr.Name, err)
		}
		if err != nil {
			return rep, err
		}
		seen[hdr.Name] = o
	}
	if rep.Manifest == nil {
		return rep, fmt.Errorf("%w: the tar stream has no %s", ErrIncomplete, ManifestName)
	}
	problems = append(problems, checkSet(ctx, rep, seen, nil)...)
	return rep, errors.Join(problems...)
}

// observeTarEntry hashes one entry and, when it starts like an ESE database
// or log, runs the ESE checks on a temporary copy.
func observeTarEntry(ctx context.Context, r io.Reader, name, tmpDir string, buf []byte) (*observed, error) {
	head := make([]byte, headBytes)
	n, err := readUpTo(r, head)
	if err != nil {
		return nil, fmt.Errorf("verify: read %s: %w", name, err)
	}
	head = head[:n]
	isDB := looksLikeDatabase(head)
	_, logErr := format.ParseLogHeader(head)
	o := &observed{}
	h := sha256.New()
	h.Write(head)
	if !isDB && logErr != nil {
		// Not ESE: hash only, and record why the ESE checks cannot pass.
		rest, err := copyCtx(ctx, h, r, buf)
		if err != nil {
			return nil, fmt.Errorf("verify: read %s: %w", name, err)
		}
		o.size = int64(n) + rest
		o.sum = hex.EncodeToString(h.Sum(nil))
		o.checked = true
		o.dbErr = notDatabase(name)
		o.logErr = &ese.Error{Code: ese.ErrLogFileCorrupt, Op: "verify log", File: name, Err: logErr}
		return o, nil
	}
	tmp, err := os.CreateTemp(tmpDir, "entry-*")
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	defer func() {
		tmp.Close()
		os.Remove(tmp.Name())
	}()
	if _, err := tmp.Write(head); err != nil {
		return nil, fmt.Errorf("verify: extract %s: %w", name, err)
	}
	rest, err := copyCtx(ctx, io.MultiWriter(h, tmp), r, buf)
	if err != nil {
		return nil, fmt.Errorf("verify: extract %s: %w", name, err)
	}
	o.size = int64(n) + rest
	o.sum = hex.EncodeToString(h.Sum(nil))
	if err := checkESEFile(ctx, o, tmp, name, protocol.RoleUnspecified); err != nil {
		return nil, err
	}
	return o, nil
}

// readUpTo fills b from r until b is full or r reports io.EOF, which is
// not an error here: a tar entry may be shorter than b. A stream cut short
// is io.ErrUnexpectedEOF from the tar reader.
func readUpTo(r io.Reader, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		k, err := r.Read(b[n:])
		n += k
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// looksLikeDatabase reports whether head starts with an ESE database header.
func looksLikeDatabase(head []byte) bool {
	return len(head) >= 8 && binary.LittleEndian.Uint32(head[4:]) == format.DBMagic
}

func notDatabase(name string) error {
	return &ese.Error{Code: ese.ErrDatabaseCorrupted, Op: "verify streamed database", File: name,
		Err: errors.New("the file does not start with a database header")}
}

// checkESEFile runs the ESE check for role on r (o.size bytes): the database
// check, the log check, or for RoleUnspecified (a tar entry whose role is not
// known yet) whichever the first bytes call for. Only cancellation is
// returned; verdicts go into o.
func checkESEFile(ctx context.Context, o *observed, r io.ReaderAt, name string, role protocol.Role) error {
	o.checked = true
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
		o.db, o.dbErr = format.VerifyStreamedDatabase(ctx, r, o.size, name)
		if o.dbErr != nil && ctx.Err() != nil {
			return fmt.Errorf("verify: %w", ctx.Err())
		}
		o.logErr = &ese.Error{Code: ese.ErrFileInvalidType, Op: "verify log", File: name, Err: errors.New("the file is a database")}
	case protocol.RoleLog:
		o.log, o.logErr = format.VerifyLog(r, o.size, name)
		o.dbErr = notDatabase(name)
	}
	return nil
}

// copyCtx copies r to w through buf, checking ctx between reads.
func copyCtx(ctx context.Context, w io.Writer, r io.Reader, buf []byte) (int64, error) {
	var n int64
	for {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		k, err := r.Read(buf)
		if k > 0 {
			if _, werr := w.Write(buf[:k]); werr != nil {
				return n, werr
			}
			n += int64(k)
		}
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// verifyDir is Verify for a directory.
func verifyDir(ctx context.Context, dir string) (*VerifyReport, error) {
	rep := &VerifyReport{Path: dir}
	mf, err := os.Open(filepath.Join(dir, ManifestName))
	if errors.Is(err, fs.ErrNotExist) {
		return rep, fmt.Errorf("%w: %s has no %s", ErrIncomplete, dir, ManifestName)
	}
	if err != nil {
		return rep, fmt.Errorf("verify: %w", err)
	}
	m, err := ReadManifest(mf)
	mf.Close()
	if err != nil {
		return rep, fmt.Errorf("verify %s: %w", dir, err)
	}
	rep.Manifest = m

	var problems []error
	listed := map[string]bool{}
	for _, f := range m.Files {
		listed[f.Name] = true
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return rep, fmt.Errorf("verify: %w", err)
	}
	for _, e := range entries {
		if e.Name() == ManifestName {
			continue
		}
		if !listed[e.Name()] || !e.Type().IsRegular() {
			problems = append(problems, fmt.Errorf("%s: %w", e.Name(), ErrExtraFile))
		}
	}

	seen := map[string]*observed{}
	buf := make([]byte, hashBufferSize)
	for _, f := range m.Files {
		o, err := observeDirFile(ctx, filepath.Join(dir, f.Name), f, m.ESE != nil, buf)
		if err != nil {
			return rep, err
		}
		if o != nil {
			seen[f.Name] = o
		}
	}
	problems = append(problems, checkSet(ctx, rep, seen, listed)...)
	return rep, errors.Join(problems...)
}

// observeDirFile hashes one file of a directory set and runs its ESE check;
// it returns nil for a file that is missing or not a regular file.
func observeDirFile(ctx context.Context, path string, f ManifestFile, eseChecks bool, buf []byte) (*observed, error) {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) || (err == nil && !fi.Mode().IsRegular()) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	file, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	defer file.Close()
	h := sha256.New()
	n, err := copyCtx(ctx, h, file, buf)
	if err != nil {
		return nil, fmt.Errorf("verify: read %s: %w", f.Name, err)
	}
	o := &observed{size: n, sum: hex.EncodeToString(h.Sum(nil))}
	if eseChecks && (f.Role == protocol.RoleDatabase || f.Role == protocol.RoleLog) {
		if err := checkESEFile(ctx, o, file, f.Name, f.Role); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// checkSet compares what was seen with the manifest and runs the set-level
// ESE checks. listed is nil for tar input, where extra entries are found
// here.
func checkSet(ctx context.Context, rep *VerifyReport, seen map[string]*observed, listed map[string]bool) []error {
	m := rep.Manifest
	var problems []error
	for _, f := range m.Files {
		if d := f.Delta; d != nil {
			return []error{fmt.Errorf("%w: the set stores %s as a page delta (%s) against base %s; restore it (esesnap restore --restic-repo), which rebuilds and verifies the whole set", ErrDeltaSet, f.Name, d.Entry, d.Base)}
		}
	}
	if listed == nil {
		listed = map[string]bool{}
		for _, f := range m.Files {
			listed[f.Name] = true
		}
		var extra []string
		for name := range seen {
			if !listed[name] {
				extra = append(extra, name)
			}
		}
		slices.Sort(extra)
		for _, name := range extra {
			problems = append(problems, fmt.Errorf("%s: %w", name, ErrExtraFile))
		}
	}

	var links []format.ChainLink
	logsOK := true
	for _, f := range m.Files {
		fr := FileReport{Name: f.Name, Role: f.Role, Size: -1}
		o := seen[f.Name]
		if o == nil {
			problems = append(problems, fmt.Errorf("%s: %w", f.Name, ErrMissingFile))
			rep.Files = append(rep.Files, fr)
			if f.Role == protocol.RoleLog {
				logsOK = false
			}
			continue
		}
		fr.Size, fr.SHA256 = o.size, o.sum
		fr.OK = true
		if o.size != f.Size {
			problems = append(problems, fmt.Errorf("%s: %w: %d bytes, manifest says %d", f.Name, ErrSizeMismatch, o.size, f.Size))
			fr.OK = false
		} else if o.sum != f.SHA256 {
			problems = append(problems, fmt.Errorf("%s: %w: %s, manifest says %s", f.Name, ErrChecksumMismatch, o.sum, f.SHA256))
			fr.OK = false
		}
		if m.ESE != nil && o.checked {
			switch f.Role {
			case protocol.RoleDatabase:
				if o.dbErr != nil {
					problems = append(problems, o.dbErr)
					fr.OK = false
					break
				}
				rep.Databases = append(rep.Databases, DatabaseReport{
					Name: f.Name, PageSize: o.db.PageSize, Pages: o.db.Pages,
					OKPages: o.db.Tally.OK, Uninitialized: o.db.Tally.Uninitialized,
					GenLow: o.db.Header.BKInfoFullCur.GenLow, GenHigh: o.db.Trailer.BKInfo.GenHigh,
				})
			case protocol.RoleLog:
				if o.logErr != nil {
					problems = append(problems, o.logErr)
					fr.OK = false
					logsOK = false
					break
				}
				links = append(links, format.ChainLink{Name: f.Name, Check: o.log})
			}
		}
		rep.Files = append(rep.Files, fr)
	}
	if m.ESE != nil && ctx.Err() == nil {
		problems = append(problems, checkManifestMeaning(m, seen)...)
		problems = append(problems, checkESESet(rep, seen, links, logsOK)...)
	}
	return problems
}

// checkESESet checks the databases and logs of an ESE set together: one
// log stream, every needed generation present, one chain.
func checkESESet(rep *VerifyReport, seen map[string]*observed, links []format.ChainLink, logsOK bool) []error {
	m := rep.Manifest
	var problems []error
	fail := func(code ese.Code, file string, format string, args ...any) {
		problems = append(problems, &ese.Error{Code: code, Op: opVerifySet, File: file, Err: fmt.Errorf(format, args...)})
	}

	// The log stream: the databases' signLog, else the manifest's.
	var signLog *format.Signature
	signFrom := ""
	for _, d := range rep.Databases {
		s := seen[d.Name].db.Header.SignLog
		if signLog == nil {
			signLog, signFrom = &s, d.Name
		} else if s != *signLog {
			fail(ese.ErrDatabaseLogSetMismatch, d.Name, "log signature %s, %s has %s", s, signFrom, *signLog)
		}
	}
	if m.ESE.SignLog != nil {
		want, err := parseSignatureText(*m.ESE.SignLog)
		switch {
		case err != nil:
			problems = append(problems, fmt.Errorf("manifest: sign_log: %w", err))
		case signLog == nil:
			signLog, signFrom = &want, ManifestName
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
	rep.Logs = len(links)
	if len(links) > 0 {
		rep.GenLow, rep.GenHigh = links[0].Check.Header.Generation, links[len(links)-1].Check.Header.Generation
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
		need(m.ESE.GenLow, m.ESE.GenHigh, ManifestName)
		for _, d := range rep.Databases {
			need(d.GenLow, d.GenHigh, d.Name)
		}
		if len(links) > 0 && (rep.GenLow != m.ESE.GenLow || rep.GenHigh != m.ESE.GenHigh) {
			fail(ese.ErrInvalidLogSequence, ManifestName, "the set's logs span generations %#x to %#x, the manifest says %#x to %#x",
				rep.GenLow, rep.GenHigh, m.ESE.GenLow, m.ESE.GenHigh)
		}
		if err := format.CheckChain(links, signLog); err != nil {
			problems = append(problems, err)
		}
	}
	return problems
}

// missingLogNamer returns a function naming generation g as the set's logs
// are named (base name, extension, digits), or as a bare generation.
func missingLogNamer(m *Manifest, links []format.ChainLink) func(uint32) string {
	for _, l := range links {
		if ln, ok := format.ParseLogName(l.Name); ok && ln.Kind == format.LogArchived {
			return func(g uint32) string {
				return fmt.Sprintf("%#x (%s)", g, format.LogFileName(ln.Base, g, ln.Ext, ln.Digits == 8))
			}
		}
	}
	if m.ESE.BaseName != "" {
		return func(g uint32) string {
			return fmt.Sprintf("%#x (%s)", g, format.LogFileName(m.ESE.BaseName, g, ".log", false))
		}
	}
	return func(g uint32) string { return fmt.Sprintf("%#x", g) }
}

// ErrManifestMismatch means the manifest says something about a file that
// the file's own bytes contradict: a generation, page size, signature,
// database state, name or kind that is not what the headers hold.
var ErrManifestMismatch = errors.New("the manifest does not match the files")

// checkManifestMeaning cross-checks what the manifest says about each
// file of an ESE set with what the file's headers say: the kind (full and
// copy sets stream databases, incremental and differential sets logs
// only), each file's name against its original name, page sizes,
// generations (the manifest's, the log header's and the file name's), the
// log base name, and for every database its signature, log signature,
// backup generation and state. Files that failed their own ESE check are
// skipped here: their damage is already reported.
func checkManifestMeaning(m *Manifest, seen map[string]*observed) []error {
	var problems []error
	bad := func(name, format string, args ...any) {
		problems = append(problems, fmt.Errorf("%s: %w: %s", name, ErrManifestMismatch, fmt.Sprintf(format, args...)))
	}
	dbs := 0
	headPageSize := 0 // the page size of the first file with a header, as Backup records it
	var dbFiles []string
	for _, f := range m.Files {
		if f.OriginalName != "" && !nameFits(f.Name, f.OriginalName) {
			bad(f.Name, "the original name %q has the base name %q", f.OriginalName, BaseName(f.OriginalName))
		}
		o := seen[f.Name]
		switch f.Role {
		case protocol.RoleDatabase:
			dbs++
			dbFiles = append(dbFiles, f.Name)
			if o == nil || !o.checked || o.dbErr != nil {
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
			} else if m.ESE.BaseName != "" && !strings.EqualFold(ln.Base, m.ESE.BaseName) {
				bad(f.Name, "the manifest says log base name %q", m.ESE.BaseName)
			}
			if o == nil || !o.checked || o.logErr != nil {
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
			bad(ManifestName, "a %s backup streams the databases, the set holds none", m.Kind)
		}
	case protocol.KindIncremental, protocol.KindDifferential:
		if dbs > 0 {
			bad(ManifestName, "an %s backup streams logs only, the set holds %d database(s)", m.Kind, dbs)
		}
	}
	if headPageSize != 0 && m.ESE.PageSize != headPageSize {
		bad(ManifestName, "ese.page_size is %d, the files' headers say %d", m.ESE.PageSize, headPageSize)
	}

	// The ESE section's databases are the set's databases, in order, and
	// say what their header snapshots say.
	var eseNames []string
	for _, d := range m.ESE.Databases {
		eseNames = append(eseNames, d.Name)
	}
	if !slices.Equal(eseNames, dbFiles) {
		bad(ManifestName, "ese.databases lists %q, the set's databases are %q", eseNames, dbFiles)
	}
	for _, d := range m.ESE.Databases {
		o := seen[d.Name]
		if o == nil || !o.checked || o.dbErr != nil || o.db == nil {
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
