package engine

import (
	"errors"
	"fmt"
	"time"

	"github.com/esesnap/esesnap/ese"
	"github.com/esesnap/esesnap/ese/format"
)

// dbStream produces the streamed form of a database (§3.2 of the API
// notes): two header snapshots with bkinfoFullCur, pages 1..pgnoLast read
// and verified, then the trailer page.
type dbStream struct {
	db       *database
	f        File
	pageSize int
	pgnoLast uint32
	hdr      *format.DBHeader
	snap     []byte // header snapshot, one page
	bk       format.BKInfo
	pos      int64 // bytes produced so far
	size     int64
}

func (in *Instance) openDatabase(op string, d *dbSession) (*dbStream, error) {
	hr, err := in.readDBHeader(op, d.db.path)
	if err != nil {
		return nil, err
	}
	f, err := in.fs.Open(d.db.path)
	if err != nil {
		return nil, &ese.Error{Code: ioCode(err), Op: op, File: d.db.path, Err: err}
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, &ese.Error{Code: ese.ErrDiskIO, Op: op, File: d.db.path, Err: err}
	}
	ps := hr.PageSize
	pages := st.Size() / int64(ps)
	if pages < 2 {
		f.Close()
		return nil, &ese.Error{Code: ese.ErrDatabaseCorrupted, Op: op, File: d.db.path, Err: errShortFile}
	}
	in.mu.Lock()
	s := in.sess
	var bk format.BKInfo
	if s != nil {
		bk = format.BKInfo{Mark: s.mark, MarkTime: s.markTime, GenLow: s.copyMic}
	}
	in.mu.Unlock()
	ds := &dbStream{db: d.db, f: f, pageSize: ps, pgnoLast: uint32(pages - 2), hdr: hr.Header, bk: bk,
		snap: make([]byte, ps)}
	format.StreamHeaderPage(ds.snap, hr.Page, bk)
	ds.size = (int64(ds.pgnoLast) + 3) * int64(ps)
	return ds, nil
}

func (d *dbStream) name() string { return d.db.path }
func (d *dbStream) done() bool   { return d.pos == d.size }
func (d *dbStream) close()       { d.f.Close() }

func (d *dbStream) read(in *Instance, buf []byte) (int, error) {
	const op = "JetReadFileInstance"
	ps := int64(d.pageSize)
	if d.pos == 0 && int64(len(buf)) <= 2*ps {
		return 0, &ese.Error{Code: ese.ErrInvalidParameter, Op: op, File: d.db.path,
			Err: fmt.Errorf("the first read of a database needs at least 3 pages (%d bytes), got %d", 3*ps, len(buf))}
	}
	if len(buf) == 0 {
		return 0, &ese.Error{Code: ese.ErrInvalidParameter, Op: op, File: d.db.path, Err: errors.New("empty buffer")}
	}
	n := int64(0)
	for n < int64(len(buf)) && d.pos < d.size {
		k := d.pos / ps // stream page index
		out := buf[n : n+ps]
		switch {
		case k < 2:
			copy(out, d.snap)
			n += ps
			d.pos += ps
		case k < int64(d.pgnoLast)+2:
			// A run of data pages straight into the caller's buffer.
			first := uint32(k - 1)
			count := min((int64(len(buf))-n)/ps, int64(d.pgnoLast)+2-k)
			run := buf[n : n+count*ps]
			if err := d.readPages(in, run, first); err != nil {
				return 0, err
			}
			n += count * ps
			d.pos += count * ps
		default:
			tr := format.TrailerFor(d.hdr, d.bk, in.currentGeneration())
			tr.Encode(out)
			n += ps
			d.pos += ps
		}
	}
	return int(n), nil
}

// readPages reads pages first..first+len(run)/pageSize-1 into run and
// verifies each, re-reading a failing page up to ReadRetries times.
func (d *dbStream) readPages(in *Instance, run []byte, first uint32) error {
	const op = "JetReadFileInstance"
	ps := d.pageSize
	if _, err := d.f.ReadAt(run, (int64(first)+1)*int64(ps)); err != nil {
		return &ese.Error{Code: ioCode(err), Op: op, File: d.db.path, Page: int64(first), Err: err}
	}
	for i := 0; i < len(run); i += ps {
		pgno := first + uint32(i/ps)
		page := run[i : i+ps]
		c := format.VerifyPage(page, pgno)
		for try := 1; c.Status == format.PageBad && try <= in.cfg.ReadRetries; try++ {
			time.Sleep(time.Duration(try) * in.cfg.RetryDelay)
			if _, err := d.f.ReadAt(page, (int64(pgno)+1)*int64(ps)); err != nil {
				return &ese.Error{Code: ioCode(err), Op: op, File: d.db.path, Page: int64(pgno), Err: err}
			}
			c = format.VerifyPage(page, pgno)
		}
		if c.Status == format.PageBad {
			err := c.Err(d.db.path, pgno)
			var ee *ese.Error
			if errors.As(err, &ee) {
				ee.Op = op
			}
			return err
		}
	}
	return nil
}

// currentGeneration is the generation of the current log right now, for
// the trailer's genHigh: without a current log (at rest, after a roll that
// was not followed by a new log) the newest archived generation, as the
// virtual roll of prepareLogs counts it; 0 if the directory cannot be read.
func (in *Instance) currentGeneration() uint32 {
	ls, err := in.scanLogs("JetReadFileInstance")
	if err != nil {
		return 0
	}
	if ls.current == 0 {
		return ls.newest
	}
	return ls.current
}

// logStream serves one log generation, verified before its first byte goes
// out and chained to the previous generation of the session.
type logStream struct {
	listed   string // the name the client opened
	path     string // the file read (the current log for the virtual roll)
	gen      uint32
	f        File
	size     int64
	pos      int64
	verified bool
}

func (in *Instance) openLog(op, listed, path string, gen uint32) (*logStream, error) {
	f, err := in.fs.Open(path)
	if err != nil {
		code := ioCode(err)
		if code == ese.ErrFileNotFound {
			code = ese.ErrMissingFileToBackup
		}
		return nil, &ese.Error{Code: code, Op: op, File: path, Err: err}
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, &ese.Error{Code: ese.ErrDiskIO, Op: op, File: path, Err: err}
	}
	return &logStream{listed: listed, path: path, gen: gen, f: f, size: st.Size()}, nil
}

func (l *logStream) name() string { return l.listed }
func (l *logStream) done() bool   { return l.pos == l.size }
func (l *logStream) close()       { l.f.Close() }

func (l *logStream) read(in *Instance, buf []byte) (int, error) {
	const op = "JetReadFileInstance"
	if l.pos == 0 && len(buf) < 2*in.pageSize {
		return 0, &ese.Error{Code: ese.ErrInvalidParameter, Op: op, File: l.listed,
			Err: fmt.Errorf("the first read of a log needs at least 2 pages (%d bytes), got %d", 2*in.pageSize, len(buf))}
	}
	if !l.verified {
		if err := in.verifyLog(l); err != nil {
			return 0, err
		}
		l.verified = true
	}
	if l.pos >= l.size {
		return 0, nil
	}
	want := min(int64(len(buf)), l.size-l.pos)
	n, err := l.f.ReadAt(buf[:want], l.pos)
	if int64(n) != want {
		return 0, &ese.Error{Code: ese.ErrLogReadVerifyFailure, Op: op, File: l.path, Err: fmt.Errorf("read at %d: %w", l.pos, err)}
	}
	l.pos += want
	return int(want), nil
}

// verifyLog checks the whole generation (header, every segment), that it is
// the generation its name says, that it belongs to the instance's log stream,
// and that it chains to the previous generation served in this session.
func (in *Instance) verifyLog(l *logStream) error {
	const op = "JetReadFileInstance"
	lc, err := format.VerifyLog(l.f, l.size, l.path)
	if err != nil {
		var ee *ese.Error
		if errors.As(err, &ee) {
			return &ese.Error{Code: ee.Code, Op: op, File: l.path, Err: ee.Err}
		}
		return &ese.Error{Code: ese.ErrLogReadVerifyFailure, Op: op, File: l.path, Err: err}
	}
	if lc.Header.Generation != l.gen {
		return &ese.Error{Code: ese.ErrLogGenerationMismatch, Op: op, File: l.path,
			Err: fmt.Errorf("the header says generation %d, the name %d", lc.Header.Generation, l.gen)}
	}
	in.mu.Lock()
	s := in.sess
	var prev *format.ChainLink
	var sign format.Signature
	if s != nil {
		prev, sign = s.prevLog, s.signLog
	}
	in.mu.Unlock()
	link := format.ChainLink{Name: l.path, Check: lc}
	chain := []format.ChainLink{link}
	if prev != nil && prev.Check.Header.Generation+1 == l.gen {
		chain = []format.ChainLink{*prev, link}
	}
	if err := format.CheckChain(chain, &sign); err != nil {
		var ee *ese.Error
		if errors.As(err, &ee) {
			return &ese.Error{Code: ee.Code, Op: op, File: l.path, Err: ee.Err}
		}
		return &ese.Error{Code: ese.ErrLogReadVerifyFailure, Op: op, File: l.path, Err: err}
	}
	in.mu.Lock()
	if in.sess == s && s != nil {
		s.prevLog = &link
	}
	in.mu.Unlock()
	return nil
}
