package format

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/esesnap/esesnap/ese"
)

// ChainLink is one verified log generation handed to CheckChain.
type ChainLink struct {
	Name  string    // file name (or path); an archived name's hex must match the generation
	Check *LogCheck // result of VerifyLog
}

// chainError builds the error of a broken chain at link name.
func chainError(code ese.Code, name string, format string, args ...any) error {
	return &ese.Error{Code: code, Op: "check log chain", File: name, Err: fmt.Errorf(format, args...)}
}

// CheckChain checks that logs, sorted by generation, form one contiguous log
// stream (ese-format.md §5.4), and that it is signLog's stream when signLog
// is not nil. The codes are those ESE's recovery and esentutl's log dump
// (logredo.cxx, logdump.cxx, logstream.cxx) raise for the same fault:
//
//   - a log of another stream: JET_errBadLogSignature;
//   - an archived name whose hex differs from lGeneration: JET_errLogGenerationMismatch;
//   - a missing generation: JET_errMissingLogFile, naming the missing ones;
//   - generations out of order or repeated, or tmPrevGen not equal to the
//     previous tmCreate: JET_errInvalidLogSequence;
//   - checksumPrevLogAllSegments (v8, update-minor >= 13) not equal to the
//     previous log's segment checksums: JET_errLogSequenceChecksumMismatch;
//   - a different sector size: JET_errLogSectorSizeMismatch; file size:
//     JET_errLogFileSizeMismatch; database page size: JET_errPageSizeMismatch.
//
// The first fault found is returned. Header checksums and file types are
// already checked by VerifyLog.
func CheckChain(logs []ChainLink, signLog *Signature) error {
	// Names and order first, so that a misnamed or shuffled list is not
	// reported as a gap.
	for i, l := range logs {
		if l.Check == nil || l.Check.Header == nil {
			return chainError(ese.ErrLogFileCorrupt, l.Name, "log %d of the chain has not been verified", i)
		}
		if ln, ok := ParseLogName(filepath.Base(l.Name)); ok && ln.Kind == LogArchived && ln.Gen != l.Check.Header.Generation {
			return chainError(ese.ErrLogGenerationMismatch, l.Name, "file name says generation %#x, header says %#x", ln.Gen, l.Check.Header.Generation)
		}
		if i > 0 {
			if g, pg := l.Check.Header.Generation, logs[i-1].Check.Header.Generation; g <= pg {
				return chainError(ese.ErrInvalidLogSequence, l.Name, "generation %#x follows generation %#x (%s): logs not sorted or repeated", g, pg, logs[i-1].Name)
			}
		}
	}
	var prev *LogHeader
	var prevCheck *LogCheck
	prevName := ""
	for _, l := range logs {
		h := l.Check.Header
		switch {
		case signLog != nil && h.SignLog != *signLog:
			return chainError(ese.ErrBadLogSignature, l.Name, "generation %#x has log signature %s, want %s", h.Generation, h.SignLog, *signLog)
		case prev != nil && h.SignLog != prev.SignLog:
			return chainError(ese.ErrBadLogSignature, l.Name, "generation %#x has log signature %s, %s has %s", h.Generation, h.SignLog, prevName, prev.SignLog)
		}
		if prev != nil {
			if err := checkLink(prev, prevCheck, prevName, h, l.Name); err != nil {
				return err
			}
		}
		prev, prevCheck, prevName = h, l.Check, l.Name
	}
	return nil
}

// checkLink applies the rules between consecutive generations.
func checkLink(prev *LogHeader, prevCheck *LogCheck, prevName string, h *LogHeader, name string) error {
	switch {
	case h.Generation != prev.Generation+1:
		return chainError(ese.ErrMissingLogFile, name, "missing %s between %s and %s", missingRange(prev.Generation+1, h.Generation-1, prevName), prevName, name)
	case h.CbSec != prev.CbSec:
		return chainError(ese.ErrLogSectorSizeMismatch, name, "sector size %d, %s has %d", h.CbSec, prevName, prev.CbSec)
	case h.CsecLGFile != prev.CsecLGFile:
		return chainError(ese.ErrLogFileSizeMismatch, name, "file size %d sectors, %s has %d", h.CsecLGFile, prevName, prev.CsecLGFile)
	case h.PageSize() != prev.PageSize():
		return chainError(ese.ErrPageSizeMismatch, name, "database page size %d, %s has %d", h.PageSize(), prevName, prev.PageSize())
	case h.PrevGen != prev.Create:
		return chainError(ese.ErrInvalidLogSequence, name, "tmPrevGen %s does not match tmCreate %s of generation %#x (%s)", h.PrevGen, prev.Create, prev.Generation, prevName)
	case h.HasPrevLogChecksum() && !prev.Legacy() && h.ChecksumPrevLogAllSegments != prevCheck.AllSegmentsXOR:
		return chainError(ese.ErrLogSequenceChecksumMismatch, name, "checksumPrevLogAllSegments %#016x, segments of %s XOR to %#016x", h.ChecksumPrevLogAllSegments, prevName, prevCheck.AllSegmentsXOR)
	}
	return nil
}

// missingRange names the missing generations lo..hi, with the archived file
// name they would have when the neighbour's name gives base and extension.
func missingRange(lo, hi uint32, neighbour string) string {
	var ln LogName
	named := false
	if n, ok := ParseLogName(filepath.Base(neighbour)); ok && (n.Kind == LogArchived || n.Kind == LogCurrent) {
		ln, named = n, true
	}
	file := func(g uint32) string {
		if !named {
			return ""
		}
		return " (" + LogFileName(ln.Base, g, ln.Ext, ln.Digits == 8) + ")"
	}
	if lo == hi {
		return fmt.Sprintf("generation %#x%s", lo, file(lo))
	}
	return fmt.Sprintf("generations %#x%s to %#x%s", lo, file(lo), hi, file(hi))
}

// LogFile is one file found by ScanLogDir.
type LogFile struct {
	LogName
	Path string // dir joined with the file name as found on disk
}

// LogDir is what ScanLogDir found in a log directory for one base name.
type LogDir struct {
	Dir  string
	Base string
	Ext  string // extension of the stream's logs: ".log" or ".jtx"
	// Archived lists the archived generations, sorted by generation.
	Archived []LogFile
	// Current is the current log (<base>.log), nil if there is none;
	// CurrentGen is its generation, read from its header.
	Current    *LogFile
	CurrentGen uint32
	// Tmp and Reserve are the pre-formatted and reserve logs; they are never
	// part of the chain, even when they hold a valid header.
	Tmp, Reserve []LogFile
	// Other lists logs with the other extension (.jtx beside .log or the
	// reverse); ESE uses one extension per stream.
	Other []LogFile
	// Checkpoint is the path of <base>.chk (or .jcp), "" if absent.
	Checkpoint string
}

// ScanLogDir lists the log files of base in dir. Archived logs are sorted by
// generation; the current log's generation is read from its header, whose
// failure is JET_errLogFileCorrupt (or the header's own code). Two archived
// files of one generation (5- and 8-digit names) are
// JET_errLogGenerationMismatch.
func ScanLogDir(dir, base string) (*LogDir, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		code := ese.ErrInvalidLogDirectory
		if !errors.Is(err, fs.ErrNotExist) {
			code = ese.ErrDiskIO
		}
		return nil, &ese.Error{Code: code, Op: "scan log directory", File: dir, Err: err}
	}
	d := &LogDir{Dir: dir, Base: base}
	var logs []LogFile // archived and current, both extensions
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		ln, ok := ParseLogNameBase(e.Name(), base)
		if !ok {
			continue
		}
		f := LogFile{LogName: ln, Path: filepath.Join(dir, e.Name())}
		switch ln.Kind {
		case LogArchived, LogCurrent:
			logs = append(logs, f)
		case LogTmp:
			d.Tmp = append(d.Tmp, f)
		case LogReserve:
			d.Reserve = append(d.Reserve, f)
		case LogCheckpoint:
			if d.Checkpoint == "" || ln.Ext == ".chk" {
				d.Checkpoint = f.Path
			}
		}
	}
	// ESE looks for its default extension first and falls back to the
	// other one only when no log has the default (logstream.cxx).
	d.Ext = ".log"
	if !slices.ContainsFunc(logs, func(f LogFile) bool { return f.Ext == ".log" }) && len(logs) > 0 {
		d.Ext = ".jtx"
	}
	for _, f := range logs {
		switch {
		case f.Ext != d.Ext:
			d.Other = append(d.Other, f)
		case f.Kind == LogCurrent:
			cur := f
			d.Current = &cur
		default:
			d.Archived = append(d.Archived, f)
		}
	}
	slices.SortFunc(d.Archived, func(a, b LogFile) int {
		if c := cmp.Compare(a.Gen, b.Gen); c != 0 {
			return c
		}
		return strings.Compare(a.Path, b.Path)
	})
	for i := 1; i < len(d.Archived); i++ {
		if d.Archived[i].Gen == d.Archived[i-1].Gen {
			return nil, &ese.Error{Code: ese.ErrLogGenerationMismatch, Op: "scan log directory", File: d.Archived[i].Path,
				Err: fmt.Errorf("generation %#x also in %s", d.Archived[i].Gen, filepath.Base(d.Archived[i-1].Path))}
		}
	}
	if d.Current != nil {
		gen, err := readLogGeneration(d.Current.Path)
		if err != nil {
			return nil, err
		}
		d.CurrentGen = gen
	}
	return d, nil
}

// readLogGeneration reads the header of the log at path and returns its generation.
func readLogGeneration(path string) (uint32, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, &ese.Error{Code: ese.ErrDiskIO, Op: "read log header", File: path, Err: err}
	}
	defer f.Close()
	buf := make([]byte, LogHeaderSize)
	if err := readAt(f, buf, 0); err != nil {
		return 0, &ese.Error{Code: ese.ErrLogFileCorrupt, Op: "read log header", File: path, Err: err}
	}
	h, err := ParseLogHeader(buf)
	if err != nil {
		var e *ese.Error
		if errors.As(err, &e) {
			e.File = path
		}
		return 0, err
	}
	return h.Generation, nil
}

// Chain returns the files of the log stream in generation order: the
// archived logs, then the current log. Tmp, reserve and other-extension
// files are never included.
func (d *LogDir) Chain() []LogFile {
	out := slices.Clone(d.Archived)
	if d.Current != nil {
		cur := *d.Current
		cur.Gen = d.CurrentGen
		out = append(out, cur)
	}
	return out
}

// VerifyChain runs VerifyLog on every file of d.Chain() and then
// CheckChain, with signLog as the expected stream signature when not nil.
// It returns the verified links (also on a chain error, for reporting).
func (d *LogDir) VerifyChain(signLog *Signature) ([]ChainLink, error) {
	files := d.Chain()
	links := make([]ChainLink, 0, len(files))
	for _, f := range files {
		c, err := VerifyLogFile(f.Path)
		if err != nil {
			return links, err
		}
		links = append(links, ChainLink{Name: f.Path, Check: c})
	}
	return links, CheckChain(links, signLog)
}

// VerifyLogFile opens the log at path and runs VerifyLog on it.
func VerifyLogFile(path string) (*LogCheck, error) {
	f, err := os.Open(path)
	if err != nil {
		code := ese.ErrDiskIO
		if errors.Is(err, fs.ErrNotExist) {
			code = ese.ErrMissingLogFile
		}
		return nil, &ese.Error{Code: code, Op: "verify log", File: path, Err: err}
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, &ese.Error{Code: ese.ErrDiskIO, Op: "verify log", File: path, Err: err}
	}
	return VerifyLog(f, st.Size(), path)
}
