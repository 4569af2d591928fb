package host

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/esesnap/esesnap/ese"
	"github.com/esesnap/esesnap/ese/format"
	"github.com/esesnap/esesnap/protocol"
)

// headBytes is how much of the start of each file Backup keeps for the ESE
// metadata: one log header, which also covers a database header.
const headBytes = format.LogHeaderSize

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
	info    ESEInfo
	dbs     int
	logs    int
	notESE  error
	signLog *format.Signature

	// What Verify needs of each database and log, gathered while they
	// stream (see write), so that check can judge the set before it is
	// committed.
	cur  streamedFile
	seen map[string]*observed
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
	head    []byte // database: the first dbHeadBytes
	tail    []byte // database: the last dbTailBytes
	log     []byte // log: every byte, unless tooBig
	tooBig  bool
	written int64
}

// write takes the chunk of the streamed file at offset off (chunks come in
// order; offset 0 starts a new file). Databases keep their ends, logs their
// whole content, for Verify's checks.
func (c *eseCollector) write(role protocol.Role, off int64, data []byte) {
	f := &c.cur
	if off == 0 {
		*f = streamedFile{role: role, head: f.head[:0], tail: f.tail[:0], log: f.log[:0]}
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

// observe runs Verify's check of one database or log (checkESEFile) on what
// write kept of it and records the verdict for check. A database is checked
// as the stream of its two header snapshots, one blank data page and its
// trailer: its pages were verified by the plugin as it read them, and the
// header and trailer checks do not depend on the pages between.
func (c *eseCollector) observe(f *ManifestFile) {
	sf := &c.cur
	if sf.role != f.Role || sf.written != f.Size {
		return // not seen through write (a caller without the hook)
	}
	o := &observed{size: f.Size, sum: f.SHA256}
	var r io.ReaderAt
	switch f.Role {
	case protocol.RoleDatabase:
		r = sparseStream{head: sf.head, tail: sf.tail, size: f.Size}
		if ps := int64(f.PageSize); ps > 0 && f.Size%ps == 0 && f.Size > 4*ps && len(sf.head) >= int(2*ps) && len(sf.tail) >= int(ps) {
			o.size = 4 * ps
			r = sparseStream{head: sf.head[:2*ps], tail: sf.tail[len(sf.tail)-int(ps):], size: o.size}
		}
	case protocol.RoleLog:
		if sf.tooBig {
			o.checked = true
			o.logErr = &ese.Error{Code: ese.ErrLogFileSizeMismatch, Op: "verify log", File: f.Name,
				Err: fmt.Errorf("%d bytes, more than the %d a log of ESE can have", f.Size, maxCheckedLog)}
			o.dbErr = notDatabase(f.Name)
			c.keep(f.Name, o)
			return
		}
		r = bytes.NewReader(sf.log)
	default:
		return
	}
	// checkESEFile returns only cancellation, which the backup notices
	// itself.
	_ = checkESEFile(context.Background(), o, r, f.Name, f.Role)
	o.size = f.Size
	c.keep(f.Name, o)
}

func (c *eseCollector) keep(name string, o *observed) {
	if c.seen == nil {
		c.seen = map[string]*observed{}
	}
	c.seen[name] = o
}

// check applies Verify's checks of a set (checkSet: every file, every
// database's header snapshots and trailer, every log, the generations the
// manifest and the databases need, one chain of one log stream) to the set
// described by m as it was streamed, so that a backup fails, before its
// manifest is committed, exactly where the set would not verify, and with
// the errors Verify would report. Page deltas are judged on the whole
// databases that streamed through the host.
func (c *eseCollector) check(ctx context.Context, m *Manifest) error {
	if m.ESE == nil {
		return nil
	}
	mc := *m
	mc.Files = slices.Clone(m.Files)
	listed := map[string]bool{}
	seen := map[string]*observed{}
	for i := range mc.Files {
		f := &mc.Files[i]
		f.Delta = nil
		listed[f.Name] = true
		if o := c.seen[f.Name]; o != nil {
			seen[f.Name] = o
		} else {
			seen[f.Name] = &observed{size: f.Size, sum: f.SHA256}
		}
	}
	rep := &VerifyReport{Manifest: &mc}
	problems := checkSet(ctx, rep, seen, listed)
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

// add reads the header at the start of file f (head holds its first bytes)
// and fills in f's page size and generation when the plugin left them 0.
func (c *eseCollector) add(f *ManifestFile, head []byte) {
	if c.notESE != nil {
		return
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
		c.info.Databases = append(c.info.Databases, ESEDatabase{
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
			// checked against them by Verify.
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

// result returns the ESE section, or nil with the reason the set is not an
// ESE set (nil reason when it simply has no databases or logs).
func (c *eseCollector) result() (*ESEInfo, error) {
	if c.notESE != nil {
		return nil, c.notESE
	}
	if c.dbs == 0 && c.logs == 0 {
		return nil, nil
	}
	info := c.info
	if c.signLog != nil {
		st := signatureText(*c.signLog)
		info.SignLog = &st
	}
	return &info, nil
}
